"""Demo catalogue: the intercommunality publishes its communes, the waste containers
of the context, the events of the territory and the procedures' statistics.

Run by ``alzette demo`` after the context is filled; idempotent.
"""

from __future__ import annotations

from alzette.territory.catalogue import services
from alzette.territory.catalogue.models import Dataset, Organisation
from alzette.territory.ngsild.demo import WASTE_CONTEXT

_CONTACT = "opendata@ccphva.example"
DATASETS = {
    "communes-ccphva": dict(
        title={"fr": "Communes du Pays Haut Val d'Alzette",
               "en": "Municipalities of the Pays Haut Val d'Alzette",
               "de": "Gemeinden des Pays Haut Val d'Alzette"},
        description={"fr": "Les huit communes de la communauté de communes et leurs limites.",
                     "en": "The eight municipalities of the intercommunality and their "
                           "boundaries."},
        themes=["REGI", "GOVE"], keywords=["communes", "limites administratives"],
        frequency="ANNUAL", source="communes", source_options={},
    ),
    "conteneurs-dechets": dict(
        title={"fr": "Conteneurs à déchets et leur taux de remplissage",
               "en": "Waste containers and how full they are"},
        description={"fr": "Chaque conteneur connecté, sa position et son dernier taux "
                           "de remplissage.",
                     "en": "Every connected container, its position and its latest filling level."},
        themes=["ENVI"], keywords=["déchets", "collecte", "capteurs"],
        frequency="CONT", source="ngsild-entities",
        source_options={"type": "WasteContainer", "context": WASTE_CONTEXT},
    ),
    "depots-sauvages": dict(
        title={"fr": "Dépôts sauvages signalés", "en": "Reported illegal dumping"},
        description={"fr": "Signalements anonymisés : nature, commune, jour, position "
                           "à dix mètres près.",
                     "en": "Anonymised reports: kind, municipality, day, position to ten metres."},
        themes=["ENVI", "JUST"], keywords=["déchets", "signalements"],
        frequency="DAILY", source="territory-events", source_options={"kind": "illegal_dump"},
    ),
    "demarches-en-ligne": dict(
        title={"fr": "Démarches en ligne par commune et par mois",
               "en": "Online procedures per municipality and month"},
        description={"fr": "Dossiers déposés, instruits et acceptés, délai moyen.",
                     "en": "Files filed, decided and accepted, mean delay."},
        themes=["GOVE"], keywords=["démarches", "services publics"],
        frequency="MONTHLY", source="procedure-statistics", source_options={},
    ),
}  # fmt: skip


def ensure_demo_datasets() -> int:
    """Publish the demo datasets that are missing and refresh them all; their count."""
    organisation, _ = Organisation.objects.using("territory").get_or_create(
        slug="ccphva",
        defaults={"name": "Communauté de communes Pays Haut Val d'Alzette",
                  "url": "https://www.ccphva.fr", "contact_email": _CONTACT},
    )  # fmt: skip
    existing = set(Dataset.objects.using("territory").values_list("identifier", flat=True))
    for identifier, fields in DATASETS.items():
        if identifier not in existing:
            services.publish(organisation, identifier, licence="etalab-2.0",
                             contact_email=_CONTACT, communes=_communes(),
                             actor="system:demo", **fields)  # fmt: skip
    for dataset in Dataset.objects.using("territory").filter(identifier__in=DATASETS):
        services.refresh(dataset)
    return len(DATASETS)


def _communes() -> list[str]:
    from alzette.territory.geo.models import TerritorialUnit, UnitKind

    units = TerritorialUnit.objects.using("territory").filter(kind=UnitKind.COMMUNE)
    return sorted(units.values_list("code", flat=True))
