"""Demo partners, territory side: the demo partner's organisation, the sandbox, a
community and a dataset shared with it (run by ``alzette demo``; idempotent).

The person side (linking the demo partner account to the organisation) is
``alzette.personal.developers.demo``: the personal repository must not reach the
catalogue's sources, which read the bridge's tables.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from alzette.territory.catalogue import services as catalogue
from alzette.territory.catalogue.models import Dataset, Organisation
from alzette.territory.ngsild.demo import WASTE_CONTEXT
from alzette.territory.partners import sandbox, services
from alzette.territory.partners.models import Community, Grant

DB = "territory"
SLUG = "alzette-labs"
NAME = "Alzette Labs"
COMMUNITY = "mobilite-transfrontaliere"
SHARED = "conteneurs-releves-detailles"


def ensure_demo_partners() -> int:
    """The demo partner's organisation, the sandbox, one shared dataset; the sandbox
    entities created."""
    labs, _ = Organisation.objects.using(DB).get_or_create(
        slug=SLUG, defaults={"name": NAME, "kind": Organisation.Kind.STARTUP}
    )
    created = sandbox.seed()
    community = Community.objects.using(DB).filter(slug=COMMUNITY).first()
    if community is None:
        community = services.create_community(
            COMMUNITY, "Mobilité transfrontalière", members=[labs], actor="system:demo"
        )
    ccphva = Organisation.objects.using(DB).get(slug="ccphva")
    dataset = Dataset.objects.using(DB).filter(identifier=SHARED).first() or _publish(ccphva)
    if not Grant.objects.using(DB).filter(dataset=dataset, community=community).exists():
        services.share(
            ccphva, dataset=dataset, community=community, actor="system:demo",
            purpose="Optimisation des tournées de collecte",
            ends_at=timezone.now() + timedelta(days=365),
        )  # fmt: skip
    return created


def _publish(ccphva: Organisation) -> Dataset:
    return catalogue.publish(
        ccphva, SHARED,
        title={"fr": "Conteneurs : historique des remplissages",
               "en": "Containers: filling history"},
        description={"fr": "Chaque relevé de remplissage des conteneurs connectés, partagé "
                           "avec les partenaires de la collecte."},
        themes=["ENVI"], licence="etalab-2.0", source="ngsild-history",
        source_options={"type": "WasteContainer", "attribute": "fillingLevel",
                        "context": WASTE_CONTEXT},
        access=Dataset.Access.COMMUNITY, frequency="HOURLY", actor="system:demo",
    )  # fmt: skip
