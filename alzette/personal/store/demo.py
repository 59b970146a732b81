"""The demo's service store: providers of every kind and a few services.

Idempotent (``alzette demo`` runs it on every start). Needs the organisational
units and the demo partner organisation (``accounts.services.ensure_demo_accounts``).
The web addresses are placeholders under ``example.org``; the services that sign
people in get a real OpenID Connect client of the platform, so activating them
gives a real consent, recorded in the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from alzette.core.repositories import PERSONAL
from alzette.personal.accounts.models import OrganisationalUnit, PartnerOrganisation
from alzette.personal.accounts.services import DEMO_PARTNER
from alzette.personal.sso.services import register_client
from alzette.personal.store.models import Provider, ProviderKind, Service, Status, Theme


@dataclass(frozen=True)
class DemoService:
    slug: str
    provider: str
    theme: str
    name: dict[str, str]
    summary: dict[str, str]
    description: dict[str, str]
    web_url: str
    communes: tuple[str, ...] = ()
    scopes: tuple[str, ...] | None = None  # None: a link, no single sign-on
    status: str = Status.PUBLISHED
    android_url: str = ""
    extra: dict[str, str] = field(default_factory=dict)


PROVIDERS = (
    # slug, name, kind, unit code, partner organisation, description (fr, en)
    ("ccphva", "Communauté de communes Pays Haut Val d'Alzette", ProviderKind.EPCI, "CCPHVA", ""),
    ("audun-le-tiche", "Ville d'Audun-le-Tiche", ProviderKind.COMMUNE, "57038", ""),
    ("villerupt", "Ville de Villerupt", ProviderKind.COMMUNE, "54580", ""),
    ("alzette-labs", DEMO_PARTNER, ProviderKind.PRIVATE_GENERAL_INTEREST, "", DEMO_PARTNER),
    ("repair-cafe-val", "Repair Café du Val", ProviderKind.ASSOCIATION, "", ""),
)

PROVIDER_TEXTS = {
    "alzette-labs": {
        "fr": "Jeune entreprise du territoire : applications de mobilité partagée entre "
        "le Pays Haut et le Luxembourg.",
        "de": "Junges Unternehmen aus der Region: Apps für geteilte Mobilität zwischen "
        "dem Pays Haut und Luxemburg.",
        "en": "A young local company: shared-mobility apps between the Pays Haut and Luxembourg.",
    },
    "repair-cafe-val": {
        "fr": "Association de bénévoles qui réparent avec vous vos objets du quotidien.",
        "en": "Volunteers who repair your everyday objects with you.",
    },
}

SERVICES = (
    DemoService(
        "collecte-dechets",
        "ccphva",
        Theme.WASTE,
        {
            "fr": "Collecte des déchets",
            "de": "Abfallabfuhr",
            "lb": "Offallsammlung",
            "en": "Waste collection",
            "pt": "Recolha de resíduos",
        },
        {
            "fr": "Jours de collecte, badge de déchèterie et demandes de bac.",
            "de": "Abholtage, Wertstoffhof-Ausweis und Tonnenanträge.",
            "en": "Collection days, recycling-centre badge and bin requests.",
            "pt": "Dias de recolha, cartão do ecocentro e pedidos de contentor.",
        },
        {
            "fr": "Consultez les jours de collecte de votre rue, demandez un bac neuf ou "
            "réparé et suivez vos passages en déchèterie.",
            "de": "Abholtage Ihrer Straße, neue oder reparierte Tonne beantragen, "
            "Besuche im Wertstoffhof verfolgen.",
            "en": "See your street's collection days, ask for a new or repaired bin and "
            "follow your visits to the recycling centre.",
        },
        "https://dechets.example.org/",
    ),
    DemoService(
        "mediatheque-audun",
        "audun-le-tiche",
        Theme.CULTURE,
        {"fr": "Médiathèque d'Audun-le-Tiche", "en": "Audun-le-Tiche media library"},
        {
            "fr": "Réservez des livres et des films avec votre compte Alzette.",
            "de": "Bücher und Filme mit Ihrem Alzette-Konto reservieren.",
            "en": "Reserve books and films with your Alzette account.",
        },
        {
            "fr": "Le catalogue de la médiathèque, vos prêts et vos réservations. "
            "Connexion avec votre compte Alzette.",
            "en": "The media library's catalogue, your loans and reservations. "
            "Sign in with your Alzette account.",
        },
        "https://mediatheque-audun.example.org/",
        communes=("57038",),
        scopes=("openid", "profile", "email"),
    ),
    DemoService(
        "cantine-villerupt",
        "villerupt",
        Theme.CHILDHOOD,
        {"fr": "Cantine scolaire de Villerupt", "en": "Villerupt school canteen"},
        {
            "fr": "Menus de la semaine et inscriptions à la cantine.",
            "en": "This week's menus and canteen registration.",
        },
        {"fr": "Les menus des écoles de Villerupt et le calendrier des inscriptions."},
        "https://cantine.villerupt.example.org/",
        communes=("54580",),
    ),
    DemoService(
        "covoiturage-frontalier",
        "alzette-labs",
        Theme.MOBILITY,
        {
            "fr": "Covoiturage frontalier",
            "de": "Grenzgänger-Fahrgemeinschaften",
            "lb": "Frontalier-Covoiturage",
            "en": "Cross-border car sharing",
            "pt": "Boleias transfronteiriças",
        },
        {
            "fr": "Partagez vos trajets vers le Luxembourg avec vos voisins.",
            "de": "Teilen Sie Ihre Fahrten nach Luxemburg mit Ihren Nachbarn.",
            "en": "Share your trips to Luxembourg with your neighbours.",
            "pt": "Partilhe as suas viagens para o Luxemburgo com os seus vizinhos.",
        },
        {
            "fr": "Trouvez un équipage pour Esch-sur-Alzette, Belval ou Luxembourg-ville, "
            "aux horaires des frontaliers. Connexion avec votre compte Alzette.",
            "en": "Find a crew to Esch-sur-Alzette, Belval or Luxembourg City at "
            "cross-border commuters' hours. Sign in with your Alzette account.",
        },
        "https://covoiturage.example.org/",
        scopes=("openid", "profile"),
        android_url="https://play.example.org/store/apps/details?id=org.example.covoiturage",
    ),
    DemoService(
        "repair-cafe",
        "repair-cafe-val",
        Theme.ENVIRONMENT,
        {"fr": "Repair Café", "en": "Repair Café"},
        {
            "fr": "Un samedi par mois, on répare ensemble plutôt que de jeter.",
            "en": "One Saturday a month, we repair together instead of throwing away.",
        },
        {"fr": "Calendrier des ateliers de réparation dans les communes du Val."},
        "https://repaircafe.example.org/",
    ),
    DemoService(
        "parking-belval",
        "alzette-labs",
        Theme.MOBILITY,
        {"fr": "Parkings relais vers Belval", "en": "Park and ride to Belval"},
        {
            "fr": "Places libres en temps réel dans les parkings relais.",
            "en": "Free spaces in park-and-ride car parks, live.",
        },
        {"fr": "Disponibilité des parkings relais du Pays Haut vers Belval."},
        "https://parkings.example.org/",
        status=Status.SUBMITTED,
    ),
)


def _provider(slug: str, name: str, kind: str, unit_code: str, organisation: str) -> Provider:
    defaults = {
        "name": name,
        "kind": kind,
        "description": PROVIDER_TEXTS.get(slug, {}),
        "unit": OrganisationalUnit.objects.filter(code=unit_code).first() if unit_code else None,
        "organisation": (
            PartnerOrganisation.objects.filter(name=organisation).first() if organisation else None
        ),
    }
    return Provider.objects.update_or_create(slug=slug, defaults=defaults)[0]


def _service(spec: DemoService, provider: Provider) -> Service:
    service = Service.objects.filter(slug=spec.slug).first()
    if service is not None:
        return service  # keep what people did with it since the last start
    service = Service(
        slug=spec.slug,
        provider=provider,
        theme=spec.theme,
        name=spec.name,
        summary=spec.summary,
        description=spec.description,
        web_url=spec.web_url,
        android_url=spec.android_url,
        status=spec.status,
    )
    if spec.scopes is not None:
        callback = spec.web_url.rstrip("/") + "/oidc/callback"
        service.redirect_uris = callback
        service.requested_scopes = " ".join(s for s in spec.scopes if s != "openid")
        if spec.status == Status.PUBLISHED:
            service.application = register_client(
                spec.name["fr"], [callback], scopes=spec.scopes
            ).application
    service.save()
    service.communes.set(OrganisationalUnit.objects.filter(code__in=spec.communes))
    return service


def ensure_demo_catalogue() -> int:
    """Create the demo providers and services that are missing; return the number of
    published services."""
    with transaction.atomic(using=PERSONAL):
        providers = {spec[0]: _provider(*spec) for spec in PROVIDERS}
        for spec in SERVICES:
            _service(spec, providers[spec.provider])
    return Service.objects.published().count()
