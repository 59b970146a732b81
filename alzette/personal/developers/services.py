"""The person behind a portal page, as the territory side's ``Actor``; registering an
organisation on both sides."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.text import slugify

from alzette.personal.accounts.models import PartnerOrganisation, Role
from alzette.territory.catalogue.models import Organisation
from alzette.territory.partners.authz import Actor, actor_of


def actor_for(user: Any) -> Actor:
    """What the territory side needs to know about ``user``: no name, no address."""
    return actor_of(user)


def may_register(user: Any) -> bool:
    return (
        getattr(user, "is_authenticated", False)
        and user.role in (Role.CITIZEN, Role.PARTNER)
        and not _linked(user)
    )


def _linked(user: Any) -> bool:
    partner = user.partner_organisation if user.partner_organisation_id else None
    return partner is not None and bool(partner.organisation_slug)


def register_organisation(
    user: Any,
    *,
    name: str,
    kind: str,
    siret: str = "",
    description: str = "",
    url: str = "",
    contact_email: str = "",
) -> Organisation:
    """Create the organisation on the territory side and make ``user`` its manager.

    Two databases: the territory row is written first and removed again if the
    personal side fails, so neither side is left half-registered.
    """
    organisation = Organisation(
        slug=_free_slug(name),
        name=name.strip(),
        kind=kind,
        description=description,
        url=url,
        contact_email=contact_email,
    )
    organisation.save(using="territory")
    try:
        with transaction.atomic(using="personal"):
            partner = PartnerOrganisation(
                name=name.strip(), siret=siret or None, organisation_slug=organisation.slug
            )
            partner.save(using="personal")
            user.partner_organisation = partner
            user.role = Role.PARTNER
            user.save(update_fields=["partner_organisation", "role"])
    except Exception:
        organisation.delete(using="territory")
        raise
    return organisation


def _free_slug(name: str) -> str:
    base = slugify(name)[:90] or "organisation"
    slug, n = base, 1
    while Organisation.objects.using("territory").filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug
