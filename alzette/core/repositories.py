"""The two repositories of Alzette and which Django app stores in which.

Alzette keeps data about natural persons (the *personal* repository) strictly
apart from data about the territory (the *territory* repository). This module
is the single map of that split: the database router, the schema test and the
system checks all read it, so adding an app means adding one line here.
"""

from __future__ import annotations

PERSONAL = "personal"
TERRITORY = "territory"
REPOSITORIES = (PERSONAL, TERRITORY)
#: The tamper-evident ledger has a database of its own: it is neither personal nor
#: territory data, it is public, append-only and backed up on its own terms.
LEDGER = "ledger"
DATABASE_ALIASES = (PERSONAL, TERRITORY, LEDGER)

#: app label -> repository (database alias). Every installed app that has
#: models must appear here exactly once; a system check enforces it.
APP_REPOSITORY: dict[str, str] = {
    # Django and library apps that hold accounts, sessions or audit of persons.
    "auth": PERSONAL,
    "contenttypes": PERSONAL,
    "sessions": PERSONAL,
    "admin": PERSONAL,
    "account": PERSONAL,  # django-allauth e-mail addresses and confirmations
    "mfa": PERSONAL,  # django-allauth second factors (TOTP secrets, recovery codes)
    "django_cache": PERSONAL,  # DatabaseCache table: rate-limit counters keyed by IP/account
    # Alzette apps, personal side.
    "accounts": PERSONAL,
    "identity": PERSONAL,
    "mydata": PERSONAL,
    "sso": PERSONAL,
    "dashboard": PERSONAL,
    "procedures": PERSONAL,  # citizens' files and their instruction
    "store": PERSONAL,  # service store: its catalogue sits beside the consents that cite it
    "files": PERSONAL,  # attachments: what people upload is personal data
    "payments": PERSONAL,  # payments of persons, kept (unlinked) for the accounts
    "households": PERSONAL,  # households, their bins and badges, lifts counted, bills
    "homewater": PERSONAL,  # households' water meters, their readings and warnings
    "oauth2_provider": PERSONAL,  # django-oauth-toolkit: clients, grants and tokens of persons
    # Alzette apps, territory side.
    "geo": TERRITORY,
    "territory_events": TERRITORY,  # anonymised events and aggregates, from the bridge
    "onem2m": TERRITORY,  # the oneM2M resource tree of devices and applications
    "ngsild": TERRITORY,  # the NGSI-LD context: entities, their history, subscriptions
    "documents": TERRITORY,  # documents about the territory, linked to entities
    "catalogue": TERRITORY,  # open-data catalogue: publishers and datasets
    "partners": TERRITORY,  # communities, sharing grants, partner apps and their keys
    "supervision": TERRITORY,  # device health, quarantined messages, alert rules and alerts
    "hypervision": TERRITORY,  # agents' boards (owner by pseudonym), live map
    "waste": TERRITORY,  # waste assets' operations: lifts per bin, openings, centre passages
    "waste_rounds": TERRITORY,  # collection rounds: trucks, depots, computed routes
    "waste_dumping": TERRITORY,  # illegal dumping: agents' reports, hot spots, interventions
    "lighting": TERRITORY,  # street lighting policies and calendar overrides
    "lighting_commands": TERRITORY,  # commands sent to streetlights and each lamp's state
    "lighting_energy": TERRITORY,  # streetlights' energy per day, against full power
    "lighting_repairs": TERRITORY,  # broken streetlights and their repairs
    "water": TERRITORY,  # water districts, meters' anonymous state, leak detection
    # The ledger (no personal data: pseudonyms and salted commitments only).
    "ledger": LEDGER,
}


def repository_of(app_label: str) -> str | None:
    """Return the repository (database alias) an app stores in, or None if unmapped."""
    return APP_REPOSITORY.get(app_label)


def apps_in(repository: str) -> list[str]:
    """Return the app labels that store in ``repository``."""
    return [label for label, repo in APP_REPOSITORY.items() if repo == repository]
