"""Who may do what in the service store: the one source of truth.

Pages, the API and the tests ask ``Service.get_abilities`` (built here) and
``provider_abilities``; nothing else decides.

- Providers' services are managed by the provider's people: the agents whose
  scope covers the provider's organisational unit (the EPCI, a commune), or the
  members of the provider's partner organisation. Administrators manage all.
- An agent moderates a submitted service when their scope covers every commune
  it serves (the whole territory: agents of the EPCI), never their own submission.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alzette.personal.accounts.authz import unit_scope
from alzette.personal.accounts.models import OrganisationalUnit, Role, UnitKind

if TYPE_CHECKING:
    from alzette.personal.store.models import Provider, Service

EDITABLE = frozenset({"draft", "rejected", "withdrawn"})


def _authenticated(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False))


def manages(actor: Any, provider: Provider) -> bool:
    """May ``actor`` write and submit services for ``provider``?"""
    if not _authenticated(actor):
        return False
    if actor.role == Role.ADMINISTRATOR:
        return True
    if actor.role == Role.AGENT and provider.unit_id is not None:
        return provider.unit.code in unit_scope(actor)
    if actor.role == Role.PARTNER and provider.organisation_id is not None:
        return actor.partner_organisation_id == provider.organisation_id
    return False


def covers(actor: Any, service: Service) -> bool:
    """Does ``actor``'s scope cover every commune ``service`` serves?"""
    scope = unit_scope(actor)
    served = {unit.code for unit in service.communes.all()}
    if not served:  # the whole territory
        served = set(
            OrganisationalUnit.objects.filter(kind=UnitKind.COMMUNE).values_list("code", flat=True)
        )
    return bool(served) and served <= scope


def moderates(actor: Any) -> bool:
    """Is ``actor`` someone who moderates the store at all (for the queue's link)?"""
    return _authenticated(actor) and actor.role in (Role.AGENT, Role.ADMINISTRATOR)


def service_abilities(service: Service, actor: Any) -> dict[str, bool]:
    managed = manages(actor, service.provider)
    published = service.status == "published"
    own = _authenticated(actor) and service.submitted_by_id == actor.pk
    may_moderate = (
        moderates(actor) and service.status == "submitted" and not own and covers(actor, service)
    )
    return {
        "view": published or managed or may_moderate,
        "activate": published and _authenticated(actor),
        "edit": managed and service.status in EDITABLE,
        "submit": managed and service.status in EDITABLE,
        "withdraw": managed and service.status in ("submitted", "published"),
        "moderate": may_moderate,
        "credentials": managed and service.signs_in,
    }


def provider_abilities(provider: Provider, actor: Any) -> dict[str, bool]:
    return {"view": True, "manage": manages(actor, provider)}
