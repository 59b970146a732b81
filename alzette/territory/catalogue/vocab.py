"""Controlled vocabularies of the catalogue: licences, themes, frequencies, access.

Themes, frequencies and access rights are the EU Publications Office authority
tables that DCAT-AP 3 requires; licences are those French and Luxembourg public
bodies publish under, with their canonical URIs and SPDX identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

EU = "http://publications.europa.eu/resource/authority"


@dataclass(frozen=True)
class Licence:
    id: str
    title: str
    url: str
    spdx: str
    open: bool = True


LICENCES: dict[str, Licence] = {
    licence.id: licence
    for licence in (
        Licence("etalab-2.0", "Licence Ouverte / Open Licence version 2.0",
                "https://www.etalab.gouv.fr/licence-ouverte-open-licence/", "etalab-2.0"),
        Licence("odbl-1.0", "Open Database License (ODbL) 1.0",
                "https://opendatacommons.org/licenses/odbl/1-0/", "ODbL-1.0"),
        Licence("cc-by-4.0", "Creative Commons Attribution 4.0 International",
                "https://creativecommons.org/licenses/by/4.0/", "CC-BY-4.0"),
        Licence("cc-by-sa-4.0", "Creative Commons Attribution-ShareAlike 4.0 International",
                "https://creativecommons.org/licenses/by-sa/4.0/", "CC-BY-SA-4.0"),
        Licence("cc0-1.0", "Creative Commons Zero 1.0 Universal",
                "https://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0"),
        Licence("other-closed", "Shared on terms agreed with the publisher",
                "https://alzette.eu/licences/shared", "LicenseRef-shared", open=False),
    )
}  # fmt: skip

#: EU data themes (http://publications.europa.eu/resource/authority/data-theme).
THEMES: dict[str, object] = {
    "AGRI": _("Agriculture, fisheries, forestry and food"),
    "ECON": _("Economy and finance"),
    "EDUC": _("Education, culture and sport"),
    "ENER": _("Energy"),
    "ENVI": _("Environment"),
    "GOVE": _("Government and public sector"),
    "HEAL": _("Health"),
    "INTR": _("International issues"),
    "JUST": _("Justice, legal system and public safety"),
    "REGI": _("Regions and cities"),
    "SOCI": _("Population and society"),
    "TECH": _("Science and technology"),
    "TRAN": _("Transport"),
}

#: EU frequencies (http://publications.europa.eu/resource/authority/frequency).
FREQUENCIES: dict[str, object] = {
    "CONT": _("Continuously updated"),
    "HOURLY": _("Hourly"),
    "DAILY": _("Daily"),
    "WEEKLY": _("Weekly"),
    "MONTHLY": _("Monthly"),
    "QUARTERLY": _("Quarterly"),
    "ANNUAL": _("Annual"),
    "IRREG": _("Irregular"),
    "UNKNOWN": _("Unknown"),
}

#: Seconds between refreshes for the frequencies a schedule can keep.
DAY = 86400
REFRESH_SECONDS = {"CONT": 300, "HOURLY": 3600, "DAILY": DAY, "WEEKLY": 7 * DAY,
                   "MONTHLY": 30 * DAY, "QUARTERLY": 91 * DAY, "ANNUAL": 365 * DAY}  # fmt: skip

#: Access levels, and the EU access-right each maps to.
ACCESS = {"open": "PUBLIC", "community": "RESTRICTED", "restricted": "NON_PUBLIC"}

LANGUAGES = ("fr", "de", "lb", "en", "pt")


def theme_uri(code: str) -> str:
    return f"{EU}/data-theme/{code}"


def frequency_uri(code: str) -> str:
    return f"{EU}/frequency/{code}"


def access_uri(level: str) -> str:
    return f"{EU}/access-right/{ACCESS[level]}"
