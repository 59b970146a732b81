"""The two simulated providers: what each one supports and how it shapes claims."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from alzette.devidp.clients import FRANCECONNECT, PROCONNECT
from alzette.devidp.identities import AGENTS, CITIZENS, Agent, Citizen

Identity = Citizen | Agent

# Both services ask for a random state and nonce of at least 32 characters.
MIN_STATE_LENGTH = 32
MIN_NONCE_LENGTH = 32


@dataclass(frozen=True)
class Provider:
    slug: str
    name: str
    algorithm: str
    acr_values: tuple[str, ...]
    acr_required: bool
    subject_type: str
    # RFC 9207: FranceConnect v2 adds `iss` to the authorization response.
    returns_iss: bool
    # scope -> the claims it grants (besides `sub`, which `openid` grants).
    scope_claims: dict[str, tuple[str, ...]]
    identities: tuple[Identity, ...]
    # Claims sent whatever the scopes.
    always_claims: tuple[str, ...] = field(default=())

    @property
    def scopes_supported(self) -> list[str]:
        return ["openid", *self.scope_claims]

    @property
    def claims_supported(self) -> list[str]:
        names = ["sub", *self.always_claims]
        for claims in self.scope_claims.values():
            names += [claim for claim in claims if claim not in names]
        return names

    @property
    def default_acr(self) -> str:
        return self.acr_values[0]

    def identity(self, key: str) -> Identity | None:
        return next((identity for identity in self.identities if identity.key == key), None)

    def subject(self, identity: Identity, client_id: str) -> str:
        """The `sub` claim: opaque and stable.

        FranceConnect gives each service provider its own identifier for a
        person (pairwise); ProConnect's identifier depends on the agent and
        their identity provider, not on the service provider.
        """
        if self.subject_type == "pairwise":
            material = f"{self.slug}:{identity.key}:{client_id}"
        else:
            material = f"{self.slug}:{identity.idp_id}:{identity.uid}"
        return hashlib.sha256(material.encode()).hexdigest()

    def granted_claims(self, scopes: list[str]) -> list[str]:
        names = list(self.always_claims)
        for scope in scopes:
            names += [claim for claim in self.scope_claims.get(scope, ()) if claim not in names]
        return names

    def user_claims(self, identity: Identity, scopes: list[str]) -> dict[str, str]:
        """The identity's claims that ``scopes`` grant (absent values stay absent)."""
        available = identity.claims()
        return {name: available[name] for name in self.granted_claims(scopes) if name in available}


FRANCECONNECT_PROVIDER = Provider(
    slug=FRANCECONNECT,
    name="FranceConnect",
    algorithm="ES256",
    acr_values=("eidas1", "eidas2", "eidas3"),
    acr_required=True,
    subject_type="pairwise",
    returns_iss=True,
    scope_claims={
        "given_name": ("given_name",),
        "family_name": ("family_name",),
        "birthdate": ("birthdate",),
        "gender": ("gender",),
        "birthplace": ("birthplace",),
        "birthcountry": ("birthcountry",),
        "email": ("email",),
        "preferred_username": ("preferred_username",),
        # The shortcut for the civil-status identity (without preferred_username since v2).
        "identite_pivot": (
            "given_name",
            "family_name",
            "birthdate",
            "gender",
            "birthplace",
            "birthcountry",
        ),
    },
    identities=CITIZENS,
)

PROCONNECT_PROVIDER = Provider(
    slug=PROCONNECT,
    name="ProConnect",
    algorithm="RS256",
    acr_values=("eidas1",),
    acr_required=False,
    subject_type="public",
    returns_iss=False,
    scope_claims={
        "email": ("email",),
        "given_name": ("given_name",),
        "usual_name": ("usual_name",),
        "uid": ("uid",),
        "siret": ("siret",),
        "phone": ("phone_number",),
        "organizational_unit": ("organizational_unit",),
        "belonging_population": ("belonging_population",),
        "idp_id": ("idp_id",),
    },
    # ProConnect always tells the service provider which identity provider was used.
    always_claims=("idp_id",),
    identities=AGENTS,
)

PROVIDERS: dict[str, Provider] = {
    FRANCECONNECT: FRANCECONNECT_PROVIDER,
    PROCONNECT: PROCONNECT_PROVIDER,
}
