"""Legal populations of the communes of the Pays Haut Val d'Alzette.

INSEE, "populations légales 2018" in force from 1 January 2021, *population
municipale* (usual residents), per commune. The figures were read from the
communes' pages quoting INSEE and should be checked against INSEE's table
(https://www.insee.fr/fr/statistiques/6011070) when they are updated. Indicators
divide by the sum of the eight.
"""

from __future__ import annotations

SOURCE = "INSEE, populations légales 2018 (en vigueur au 1er janvier 2021), population municipale"
YEAR = 2018

POPULATIONS: dict[str, int] = {
    "54521": 1_914,  # Thil
    "54580": 9_827,  # Villerupt
    "57038": 6_976,  # Audun-le-Tiche
    "57041": 2_325,  # Aumetz
    "57096": 2_485,  # Boulange
    "57529": 3_074,  # Ottange
    "57565": 995,  # Rédange
    "57603": 1_279,  # Russange
}


def population(commune: str | None = None) -> int:
    """The legal population of ``commune``, or of the whole territory (None)."""
    if commune is None:
        return sum(POPULATIONS.values())
    return POPULATIONS[commune]
