"""Demo identities, with the claim formats of the real services.

Everyone here is fictitious. Formats follow the providers' documentation:

FranceConnect (the *identité pivot*, civil-status data):
- ``given_name``: every given name, separated by spaces;
- ``family_name``: birth name; ``preferred_username``: usage name, only when
  the person has one;
- ``birthdate``: ``YYYY-MM-DD``; ``gender``: ``male`` or ``female``;
- ``birthplace``: 5-character INSEE (COG) code of the commune of birth, empty
  for people born abroad; ``birthcountry``: 5-character INSEE (COG) code of the
  country of birth, ``99100`` for France.

ProConnect (professional identity, from the agent's identity provider):
- ``given_name``, ``usual_name`` (usage family name), ``email`` (professional);
- ``uid``: the agent's identifier at their identity provider;
- ``siret``: 14 digits without spaces (establishment of the organisation);
- ``phone_number``, ``organizational_unit``, ``belonging_population``:
  optional, absent when the identity provider does not know them;
- ``idp_id``: the identity provider used.

The commune SIRETs are built as communes' SIREN numbers are ("21", the
department, "0", the commune's number, a Luhn check digit) with a made-up
establishment number; the company's SIRET is made up. All pass the Luhn check.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Citizen:
    """A FranceConnect identity."""

    key: str
    given_name: str
    family_name: str
    birthdate: str
    gender: str
    birthplace: str
    birthcountry: str
    email: str
    preferred_username: str = ""

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.preferred_username or self.family_name}"

    @property
    def born_abroad(self) -> bool:
        return self.birthcountry != FRANCE

    def claims(self) -> dict[str, str]:
        """Every claim the person has (``preferred_username`` only when set)."""
        claims = {
            "given_name": self.given_name,
            "family_name": self.family_name,
            "birthdate": self.birthdate,
            "gender": self.gender,
            "birthplace": self.birthplace,
            "birthcountry": self.birthcountry,
            "email": self.email,
        }
        if self.preferred_username:
            claims["preferred_username"] = self.preferred_username
        return claims


@dataclass(frozen=True)
class Agent:
    """A ProConnect identity."""

    key: str
    given_name: str
    usual_name: str
    email: str
    uid: str
    siret: str
    idp_id: str
    organization: str
    organizational_unit: str = ""
    belonging_population: str = ""
    phone_number: str = ""

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.usual_name}"

    def claims(self) -> dict[str, str]:
        """Every claim the agent has (optional ones only when known)."""
        claims = {
            "given_name": self.given_name,
            "usual_name": self.usual_name,
            "email": self.email,
            "uid": self.uid,
            "siret": self.siret,
            "idp_id": self.idp_id,
        }
        for name in ("organizational_unit", "belonging_population", "phone_number"):
            if value := getattr(self, name):
                claims[name] = value
        return claims


# INSEE (COG) codes.
FRANCE = "99100"
LUXEMBOURG = "99137"
PORTUGAL = "99139"
VILLERUPT = "54580"
METZ = "57463"
AUDUN_LE_TICHE = "57038"

CITIZENS: tuple[Citizen, ...] = (
    Citizen(
        key="camille-muller",
        given_name="Camille Louise Marie",
        family_name="MULLER",
        birthdate="1988-03-14",
        gender="female",
        birthplace=VILLERUPT,
        birthcountry=FRANCE,
        email="camille.muller@example.org",
    ),
    Citizen(
        key="jean-luc-schmitt",
        given_name="Jean-Luc Pierre",
        family_name="SCHMITT",
        birthdate="1957-11-02",
        gender="male",
        birthplace=METZ,
        birthcountry=FRANCE,
        email="jl.schmitt@example.org",
    ),
    Citizen(
        key="maria-da-silva",
        given_name="Maria Fernanda",
        family_name="DA SILVA",
        preferred_username="MARTINS",
        birthdate="1979-06-30",
        gender="female",
        birthplace="",  # born abroad: no commune code
        birthcountry=PORTUGAL,
        email="maria.martins@example.org",
    ),
    Citizen(
        key="tom-wagner",
        given_name="Tom Nicolas",
        family_name="WAGNER",
        birthdate="1995-01-20",
        gender="male",
        birthplace="",
        birthcountry=LUXEMBOURG,
        email="tom.wagner@example.org",
    ),
)

# Simulated identity providers behind ProConnect.
IDP_PROCONNECT_IDENTITE = "71144ab3-ee1a-4401-b7b3-79b44f7daeeb"

AGENTS: tuple[Agent, ...] = (
    Agent(
        key="claire-marchetti",
        given_name="Claire",
        usual_name="MARCHETTI",
        email="claire.marchetti@mairie-villerupt.fr",
        uid="vlr-0042",
        siret="21540580400018",
        idp_id=IDP_PROCONNECT_IDENTITE,
        organization="Commune de Villerupt",
        organizational_unit="Services techniques",
        belonging_population="agent",
        phone_number="+33 3 82 00 00 01",
    ),
    Agent(
        key="marc-weber",
        given_name="Marc Antoine",
        usual_name="WEBER",
        email="marc.weber@mairie-audun-le-tiche.fr",
        uid="alt-0007",
        siret="21570038600018",
        idp_id=IDP_PROCONNECT_IDENTITE,
        organization="Commune d'Audun-le-Tiche",
        organizational_unit="État civil",
        belonging_population="agent",
    ),
    Agent(
        key="julie-lambert",
        given_name="Julie",
        usual_name="LAMBERT",
        # A private contractor: not a domain of the territory's communes.
        email="julie.lambert@numeria-conseil.fr",
        uid="nc-1138",
        siret="91234567500017",
        idp_id=IDP_PROCONNECT_IDENTITE,
        organization="Numeria Conseil",
        belonging_population="prestataire",
    ),
)
