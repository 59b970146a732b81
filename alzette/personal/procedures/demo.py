"""The six procedures of the demo, their forms and instructor groups.

Idempotent (``alzette demo`` runs it on every start): a procedure that exists is
left as agents changed it. Needs the organisational units and the demo agents.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from alzette.core.repositories import PERSONAL
from alzette.personal.accounts.models import OrganisationalUnit, Role, User
from alzette.personal.procedures.models import InstructorGroup, Procedure, ProcedureVersion


def t(fr: str, en: str, de: str = "", pt: str = "") -> dict[str, str]:
    """A label in French and English (and German, Portuguese when given)."""
    texts = {"fr": fr, "en": en, "de": de, "pt": pt}
    return {code: text for code, text in texts.items() if text}


IMAGES = ["image/jpeg", "image/png", "image/webp"]
DOCUMENTS = ["application/pdf", *IMAGES]


def _identity(prefilled: bool = True) -> list[dict[str, Any]]:
    return [
        {"key": "identity", "type": "section", "label": t("Vous", "You", "Sie", "Você")},
        {
            "key": "given_name",
            "type": "text",
            "label": t("Prénom", "Given name", "Vorname", "Nome próprio"),
            "required": True,
            **({"prefill": "given_name"} if prefilled else {}),
        },
        {
            "key": "family_name",
            "type": "text",
            "label": t("Nom", "Family name", "Nachname", "Apelido"),
            "required": True,
            **({"prefill": "family_name"} if prefilled else {}),
        },
        {
            "key": "phone",
            "type": "phone",
            "label": t("Téléphone", "Phone", "Telefon", "Telefone"),
            "help": t(
                "Un numéro français ou luxembourgeois (+352).",
                "A French or Luxembourg (+352) number.",
            ),
        },
        {
            "key": "address",
            "type": "address",
            "label": t("Adresse", "Address", "Adresse", "Morada"),
            "required": True,
            "routing": True,
        },
    ]


CRECHE = [
    *_identity(),
    {"key": "child", "type": "section", "label": t("L'enfant", "The child", "Das Kind")},
    {
        "key": "child_name",
        "type": "text",
        "label": t("Prénom de l'enfant", "Child's given name"),
        "required": True,
    },
    {
        "key": "born",
        "type": "yesno",
        "label": t("L'enfant est-il né ?", "Is the child born?", "Ist das Kind geboren?"),
        "required": True,
    },
    {
        "key": "birthdate",
        "type": "date",
        "label": t("Date de naissance", "Date of birth", "Geburtsdatum"),
        "required": True,
        "validation": {"max": "today", "min": "2020-01-01"},
        "condition": {"all": [{"field": "born", "op": "is_true"}]},
    },
    {
        "key": "expected_date",
        "type": "date",
        "label": t("Date de naissance prévue", "Expected date of birth"),
        "required": True,
        "validation": {"min": "today"},
        "condition": {"all": [{"field": "born", "op": "is_false"}]},
    },
    {
        "key": "days",
        "type": "multichoice",
        "label": t("Jours d'accueil souhaités", "Days of care wanted", "Gewünschte Betreuungstage"),
        "required": True,
        "choices": [
            {"value": day, "label": label}
            for day, label in (
                ("mon", t("Lundi", "Monday", "Montag")),
                ("tue", t("Mardi", "Tuesday", "Dienstag")),
                ("wed", t("Mercredi", "Wednesday", "Mittwoch")),
                ("thu", t("Jeudi", "Thursday", "Donnerstag")),
                ("fri", t("Vendredi", "Friday", "Freitag")),
            )
        ],
    },
    {
        "key": "start",
        "type": "date",
        "label": t("Date d'entrée souhaitée", "Wished start date"),
        "required": True,
        "validation": {"min": "today"},
    },
    {
        "key": "cross_border",
        "type": "yesno",
        "label": t(
            "Un des parents travaille-t-il au Luxembourg ?",
            "Does a parent work in Luxembourg?",
            "Arbeitet ein Elternteil in Luxemburg?",
        ),
    },
]

CANTEEN = [
    *_identity(),
    {"key": "children", "type": "section", "label": t("Les enfants", "The children", "Die Kinder")},
    {
        "key": "pupils",
        "type": "block",
        "label": t("Enfant inscrit", "Child registered", "Angemeldetes Kind"),
        "required": True,
        "validation": {"min_items": 1, "max_items": 6},
        "fields": [
            {
                "key": "pupil_name",
                "type": "text",
                "label": t("Prénom et nom", "Full name"),
                "required": True,
            },
            {
                "key": "school",
                "type": "choice",
                "label": t("École", "School", "Schule"),
                "required": True,
                "choices": [
                    {"value": "jean-moulin", "label": t("École Jean-Moulin", "Jean-Moulin school")},
                    {"value": "pasteur", "label": t("École Pasteur", "Pasteur school")},
                    {
                        "value": "les-tilleuls",
                        "label": t("École des Tilleuls", "Les Tilleuls school"),
                    },
                ],
            },
            {
                "key": "diet",
                "type": "choice",
                "label": t("Régime", "Diet", "Ernährung"),
                "required": True,
                "choices": [
                    {"value": "standard", "label": t("Standard", "Standard")},
                    {"value": "no-meat", "label": t("Sans viande", "No meat", "Ohne Fleisch")},
                    {"value": "allergy", "label": t("Allergie (PAI)", "Allergy (care plan)")},
                ],
            },
        ],
    },
    {
        "key": "rules",
        "type": "yesno",
        "label": t(
            "J'accepte le règlement de la cantine",
            "I accept the canteen rules",
            "Ich akzeptiere die Kantinenordnung",
        ),
        "required": True,
    },
]

BIN = [
    *_identity(),
    {
        "key": "request",
        "type": "section",
        "label": t("Votre demande", "Your request", "Ihr Antrag"),
    },
    {
        "key": "reason",
        "type": "choice",
        "label": t("Motif", "Reason", "Grund"),
        "required": True,
        "choices": [
            {"value": "new", "label": t("Nouveau logement", "New home", "Neue Wohnung")},
            {"value": "broken", "label": t("Bac cassé", "Broken bin", "Tonne beschädigt")},
            {"value": "stolen", "label": t("Bac volé", "Stolen bin", "Tonne gestohlen")},
        ],
    },
    {
        "key": "size",
        "type": "choice",
        "label": t("Volume", "Size", "Größe"),
        "required": True,
        "choices": [
            {
                "value": "120",
                "label": t("120 litres (1 à 2 personnes)", "120 litres (1 to 2 people)"),
            },
            {
                "value": "240",
                "label": t("240 litres (3 personnes et plus)", "240 litres (3 people or more)"),
            },
        ],
    },
    {
        "key": "photo",
        "type": "file",
        "label": t("Photo du bac cassé", "Photo of the broken bin"),
        "accept": IMAGES,
        "max_size": 5 * 1024 * 1024,
        "condition": {"any": [{"field": "reason", "op": "equals", "value": "broken"}]},
    },
]

DUMP = [
    {
        "key": "intro",
        "type": "help",
        "label": t(
            "Signalez un dépôt sauvage. Vous pouvez rester anonyme ; "
            "la photo n'est jamais publiée.",
            "Report an illegal dump. You may stay anonymous; the photo is never published.",
        ),
    },
    {
        "key": "where",
        "type": "point",
        "label": t("Où ? Placez le point sur la carte", "Where? Place the point on the map"),
        "required": True,
    },
    {
        "key": "commune",
        "type": "choice",
        "label": t("Commune", "Commune", "Gemeinde"),
        "required": True,
        "routing": True,
        "choices": [],  # filled with the communes at start-up (see _dump_form)
    },
    {
        "key": "kind",
        "type": "multichoice",
        "label": t("Nature des déchets", "Kind of waste", "Art der Abfälle"),
        "required": True,
        "choices": [
            {"value": "bulky", "label": t("Encombrants", "Bulky items", "Sperrmüll")},
            {"value": "rubble", "label": t("Gravats", "Rubble", "Bauschutt")},
            {"value": "green", "label": t("Déchets verts", "Green waste", "Grünabfall")},
            {"value": "hazardous", "label": t("Produits dangereux", "Hazardous products")},
        ],
    },
    {
        "key": "photo",
        "type": "file",
        "label": t("Photo", "Photo", "Foto"),
        "accept": IMAGES,
        "max_size": 8 * 1024 * 1024,
    },
    {"key": "details", "type": "textarea", "label": t("Précisions", "Details", "Einzelheiten")},
]

LIGHT = [
    {
        "key": "intro",
        "type": "help",
        "label": t(
            "Signalez un lampadaire en panne. Vous pouvez rester anonyme ; "
            "ni votre commentaire ni la photo ne sont transmis aux équipes techniques.",
            "Report a broken streetlight. You may stay anonymous; neither your comment nor "
            "the photo is passed on to the technical teams.",
        ),
    },
    {
        "key": "lamp",
        "type": "text",
        "label": t("Numéro inscrit sur le mât", "Number on the pole", "Nummer am Mast"),
        "help": t(
            "Par exemple 57038-001 : le code de la commune et le numéro du lampadaire.",
            "For example 57038-001: the commune's code and the lamp's number.",
        ),
        "required": True,
        "validation": {
            "max_length": 20,
            "pattern": r"\s*[0-9][0-9AB][0-9]{3}\s*[- ]\s*[0-9]{1,4}\s*",
            "pattern_message": t(
                "Format 57038-001 (commune, puis numéro).", "Format 57038-001 (commune, number)."
            ),
            "asset": "Streetlight",
            "asset_message": t(
                "Aucun lampadaire ne porte ce numéro. Vérifiez le numéro sur le mât.",
                "No streetlight has this number. Check the number on the pole.",
            ),
        },
    },
    {
        "key": "problem",
        "type": "choice",
        "label": t("Que se passe-t-il ?", "What is wrong?", "Was ist los?"),
        "required": True,
        "choices": [
            {"value": "off", "label": t("Éteint la nuit", "Off at night", "Nachts aus")},
            {"value": "flickering", "label": t("Clignote", "Flickering", "Flackert")},
            {"value": "on-by-day", "label": t("Allumé le jour", "On by day", "Tagsüber an")},
            {"value": "damaged", "label": t("Mât ou lanterne abîmé", "Pole or lantern damaged")},
        ],
    },
    {
        "key": "photo",
        "type": "file",
        "label": t("Photo", "Photo", "Foto"),
        "accept": IMAGES,
        "max_size": 8 * 1024 * 1024,
    },
    {"key": "details", "type": "textarea", "label": t("Commentaire", "Comment", "Kommentar")},
]

PARKING = [
    *_identity(),
    {"key": "vehicle", "type": "section", "label": t("Le véhicule", "The vehicle", "Das Fahrzeug")},
    {
        "key": "plate",
        "type": "text",
        "label": t("Immatriculation", "Registration number", "Kennzeichen"),
        "required": True,
        "validation": {
            "pattern": "[A-Z]{2}-[0-9]{3}-[A-Z]{2}",
            "pattern_message": t("Format AA-123-AA.", "Format AA-123-AA."),
        },
    },
    {
        "key": "proof",
        "type": "file",
        "label": t("Justificatif de domicile", "Proof of address", "Wohnsitznachweis"),
        "required": True,
        "accept": DOCUMENTS,
        "max_size": 5 * 1024 * 1024,
    },
    {
        "key": "second_car",
        "type": "yesno",
        "label": t("Second véhicule du foyer ?", "Second vehicle of the household?"),
    },
]

PROCEDURES = (
    # slug, title, summary, unit, prefix, fee, days, silent, anonymous, form
    (
        "preinscription-creche",
        t(
            "Pré-inscription en crèche",
            "Crèche pre-registration",
            "Krippen-Voranmeldung",
            "Pré-inscrição na creche",
        ),
        t(
            "Demandez une place en crèche intercommunale.",
            "Ask for a place in an intercommunal crèche.",
        ),
        "CCPHVA",
        "CRE",
        0,
        60,
        False,
        False,
        CRECHE,
    ),
    (
        "inscription-cantine",
        t(
            "Inscription à la cantine scolaire",
            "School canteen registration",
            "Anmeldung zur Schulkantine",
        ),
        t(
            "Inscrivez vos enfants à la cantine (frais de dossier 5 €).",
            "Register your children for the canteen (€5 fee).",
        ),
        "54580",
        "CAN",
        500,
        15,
        True,
        False,
        CANTEEN,
    ),
    (
        "demande-bac",
        t("Demande de bac à déchets", "Waste bin request", "Antrag auf eine Mülltonne"),
        t(
            "Un bac neuf, ou le remplacement d'un bac cassé ou volé.",
            "A new bin, or a broken or stolen one replaced.",
        ),
        "CCPHVA",
        "BAC",
        0,
        15,
        False,
        False,
        BIN,
    ),
    (
        "signalement-depot-sauvage",
        t("Signaler un dépôt sauvage", "Report an illegal dump", "Illegale Müllablagerung melden"),
        t(
            "Photo et point sur la carte ; anonyme possible.",
            "Photo and map point; anonymous allowed.",
        ),
        "CCPHVA",
        "DEP",
        0,
        10,
        False,
        True,
        DUMP,
    ),
    (
        "signalement-eclairage",
        t(
            "Signaler un lampadaire en panne",
            "Report a broken streetlight",
            "Defekte Straßenlaterne melden",
        ),
        t(
            "Le numéro inscrit sur le mât ; anonyme possible.",
            "The number on the pole; anonymous allowed.",
        ),
        "CCPHVA",
        "ECL",
        0,
        10,
        False,
        True,
        LIGHT,
    ),
    (
        "permis-stationnement-resident",
        t("Permis de stationnement résident", "Residential parking permit", "Anwohnerparkausweis"),
        t("Stationnez près de chez vous (20 € par an).", "Park near your home (€20 a year)."),
        "57038",
        "PKG",
        2000,
        30,
        False,
        False,
        PARKING,
    ),
)


def _dump_form(form: list[dict[str, Any]]) -> list[dict[str, Any]]:
    communes = OrganisationalUnit.objects.filter(kind="commune").order_by("name")
    result = []
    for definition in form:
        if definition["key"] == "commune":
            definition = {
                **definition,
                "choices": [{"value": unit.code, "label": {"fr": unit.name}} for unit in communes],
            }
        result.append(definition)
    return result


def _groups(procedure: Procedure) -> None:
    """One group per commune with demo agents, and one at the owner unit."""
    agents = User.objects.filter(role=Role.AGENT, unit__isnull=False).select_related("unit")
    units = {procedure.unit, *[agent.unit for agent in agents]}
    for unit in units:
        group, _created = InstructorGroup.objects.get_or_create(
            procedure=procedure, unit=unit, defaults={"name": f"{unit.name}"}
        )
        group.members.add(*[agent for agent in agents if agent.unit_id == unit.pk])


def ensure_demo_procedures() -> int:
    with transaction.atomic(using=PERSONAL):
        for slug, title, summary, unit, prefix, fee, days, silent, anonymous, form in PROCEDURES:
            if Procedure.objects.filter(slug=slug).exists():
                continue
            procedure = Procedure.objects.create(
                slug=slug,
                title=title,
                summary=summary,
                unit=OrganisationalUnit.objects.get(code=unit),
                reference_prefix=prefix,
                fee_cents=fee,
                instruction_days=days,
                silent_acceptance=silent,
                allow_anonymous=anonymous,
                published=True,
                decision_template=t(
                    "Madame, Monsieur, votre demande a été examinée.",
                    "Dear applicant, your request has been examined.",
                ),
            )
            from django.utils import timezone

            ProcedureVersion.objects.create(
                procedure=procedure,
                number=1,
                schema=_dump_form(form) if slug.startswith("signalement") else form,
                published_at=timezone.now(),
            )
            _groups(procedure)
    return Procedure.objects.filter(published=True).count()
