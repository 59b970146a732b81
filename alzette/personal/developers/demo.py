"""Demo partners, person side: the demo partner account manages the demo partner's
organisation (``alzette.territory.partners.demo`` creates it)."""

from __future__ import annotations

from alzette.personal.accounts.models import PartnerOrganisation
from alzette.personal.accounts.services import DEMO_PARTNER

SLUG = "alzette-labs"  # alzette.territory.partners.demo.SLUG


def link_demo_partner() -> int:
    """Link the demo partner organisation to its territory side; rows changed."""
    return PartnerOrganisation.objects.filter(name=DEMO_PARTNER).update(organisation_slug=SLUG)
