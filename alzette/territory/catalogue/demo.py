"""Demo catalogue: the intercommunality publishes its communes, the waste containers
of the context, the events of the territory, the procedures' statistics and an
uploaded file of carpooling places checked against the national schema.

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
    "aires-covoiturage": dict(
        title={"fr": "Lieux de covoiturage du Pays Haut Val d'Alzette",
               "en": "Carpooling places of the Pays Haut Val d'Alzette",
               "de": "Mitfahrparkplätze im Pays Haut Val d'Alzette"},
        description={"fr": "Aires et parkings de covoiturage des huit communes, au format "
                           "national « Lieux de covoiturage » (schema.data.gouv.fr).",
                     "en": "Carpooling areas and car parks of the eight municipalities, in the "
                           "French national format."},
        themes=["TRAN"], keywords=["covoiturage", "mobilité", "frontaliers"],
        frequency="IRREG", source="uploaded-file",
        source_options={"schema": "schema-lieux-covoiturage"},
    ),
}  # fmt: skip

#: The carpooling places uploaded for "aires-covoiturage" (schema-lieux-covoiturage 0.3.0).
CARPOOLING_COLUMNS = ("id_local", "nom_lieu", "ad_lieu", "com_lieu", "insee", "type", "date_maj",
                      "ouvert", "source", "Xlong", "Ylat", "nbre_pl", "nbre_pmr", "duree",
                      "horaires", "proprio", "lumiere", "comm")  # fmt: skip
CARPOOLING = (
    ("AUD-01", "Gare d'Audun-le-Tiche", "Rue de la Gare", "Audun-le-Tiche", "57038",
     "Parking relais", "5.9561", "49.4712", "60", "2", "true", "Bus vers Esch-sur-Alzette"),
    ("VIL-01", "Place Jeanne d'Arc", "Place Jeanne d'Arc", "Villerupt", "54580", "Parking",
     "5.9287", "49.4671", "25", "1", "true", ""),
    ("AUM-01", "Aire de la D16", "Route départementale 16", "Aumetz", "57041",
     "Aire de covoiturage", "5.9418", "49.4167", "30", "2", "true", ""),
    ("BOU-01", "Entrée nord de Boulange", "Rue de Metz", "Boulange", "57096",
     "Aire de covoiturage", "5.9537", "49.3861", "16", "1", "false", ""),
    ("OTT-01", "Parking de la mairie", "Rue de la Mairie", "Ottange", "57529", "Parking",
     "6.0166", "49.4402", "12", "1", "true", "Places libres le week-end"),
    ("RED-01", "Frontière de Rédange", "Rue de Belvaux", "Rédange", "57565", "Parking relais",
     "5.9191", "49.4937", "40", "2", "true", "À cinq minutes de la gare de Belvaux-Soleuvre"),
    ("RUS-01", "Place de Russange", "Rue Principale", "Russange", "57603", "Parking",
     "5.9504", "49.4884", "10", "0", "false", ""),
    ("THI-01", "Parking du Mémorial", "Rue du Mémorial", "Thil", "54521", "Parking",
     "5.9046", "49.4719", "14", "1", "false", ""),
)  # fmt: skip


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
    carpooling = Dataset.objects.using("territory").get(identifier="aires-covoiturage")
    if not carpooling.files.using("territory").exists():
        services.upload(carpooling, "lieux-covoiturage-ccphva.csv", carpooling_csv(),
                        actor="system:demo")  # fmt: skip
    for dataset in Dataset.objects.using("territory").filter(identifier__in=DATASETS):
        services.refresh(dataset)
    return len(DATASETS)


def carpooling_csv() -> bytes:
    """The demo places as a CSV file that follows the national schema."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CARPOOLING_COLUMNS)
    for (key, name, street, commune, insee, kind, lon, lat, places, reduced, light,
         note) in CARPOOLING:  # fmt: skip
        writer.writerow([key, name, street, commune, insee, kind, "2026-09-01", "true", "",
                         lon, lat, places, reduced, "", "", "CCPHVA", light, note])  # fmt: skip
    return out.getvalue().encode()


def _communes() -> list[str]:
    from alzette.territory.geo.models import TerritorialUnit, UnitKind

    units = TerritorialUnit.objects.using("territory").filter(kind=UnitKind.COMMUNE)
    return sorted(units.values_list("code", flat=True))
