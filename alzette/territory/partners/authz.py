"""Who may do what with organisations, communities, grants and applications.

The one source of truth for the portal pages, the command line and the tests. The
person behind a request is known only on the personal side, which describes them
here as an ``Actor``: the organisations they manage, and whether they are a
municipal agent (who acts for the public bodies and runs the communities).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alzette.territory.catalogue.models import Dataset, Organisation
from alzette.territory.partners.models import App, Grant


@dataclass(frozen=True)
class Actor:
    organisations: frozenset[str] = field(default_factory=frozenset)
    agent: bool = False
    #: The ledger's name for them (a pseudonym), never an e-mail address.
    ref: str = "system:partners"


def actor_of(user: Any) -> Actor:
    """The territory's view of a signed-in person, read by attributes (the territory
    never imports the accounts app): their role, their pseudonym, and the
    organisation their partner organisation is on this side."""
    if not getattr(user, "is_authenticated", False):
        return Actor()
    partner = getattr(user, "partner_organisation", None)
    slug = getattr(partner, "organisation_slug", None) if partner is not None else None
    return Actor(
        organisations=frozenset({slug}) if slug else frozenset(),
        agent=getattr(user, "role", "") in ("agent", "administrator"),
        ref=getattr(user, "pseudonym", "") or "system:partners",
    )


def acts_for(actor: Actor, organisation: Organisation) -> bool:
    if organisation.slug in actor.organisations:
        return True
    return actor.agent and organisation.kind == Organisation.Kind.PUBLIC


def organisation_abilities(actor: Actor, organisation: Organisation) -> dict[str, bool]:
    mine = acts_for(actor, organisation)
    return {
        "manage_apps": mine,
        "share": mine,
        "see_accesses": mine,
    }


def community_abilities(actor: Actor) -> dict[str, bool]:
    # Communities gather organisations across the territory: the EPCI's agents run them.
    return {"create": actor.agent, "change_members": actor.agent}


def grant_abilities(actor: Actor, grant: Grant) -> dict[str, bool]:
    mine = acts_for(actor, grant.granted_by)
    return {"view": mine, "revoke": mine and grant.revoked_at is None}


def app_abilities(actor: Actor, app: App) -> dict[str, bool]:
    mine = acts_for(actor, app.organisation) and app.revoked_at is None
    return {
        "view": acts_for(actor, app.organisation),
        "issue_key": mine,
        "revoke_key": mine,
        "rotate_secret": mine,
        "revoke": mine,
        # Going live means reading real shared data: an agent decides it.
        "go_live": actor.agent and mine,
        "change_quotas": actor.agent,
    }


def may_share_dataset(actor: Actor, dataset: Dataset) -> bool:
    return acts_for(actor, dataset.organisation) and dataset.access != Dataset.Access.OPEN
