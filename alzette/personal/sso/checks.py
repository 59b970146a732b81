"""System checks: the OpenID Provider is configured as alzette/personal/sso/conf.py says."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from alzette.personal.sso import keys


@checks.register(checks.Tags.security)
def check_provider_configuration(app_configs: Any = None, **kwargs: Any) -> list:
    from oauth2_provider.settings import oauth2_settings

    problems = []
    configured = (
        oauth2_settings.OIDC_ENABLED
        and oauth2_settings.OAUTH2_VALIDATOR_CLASS.__module__ == "alzette.personal.sso.validators"
    )
    if not configured:
        # Not switched over to conf.py yet (DOT's defaults, or settings of its own): the
        # checks below are about this app's configuration. Say nothing, as production
        # deploy checks must pass without issues.
        return []
    if not oauth2_settings.OIDC_RSA_PRIVATE_KEY:
        problems.append(
            checks.Error(
                "The OpenID Provider has no signing key.",
                hint="Set ALZETTE_SSO_SIGNING_KEY or ALZETTE_SSO_SIGNING_KEY_FILE "
                "(alzette sso keygen prints one).",
                id="sso.E001",
            )
        )
    production = settings.ALZETTE_MODE == "production"
    problems += _inactive_key_problems(oauth2_settings.OIDC_RSA_PRIVATE_KEY, production)
    if production and not (
        getattr(settings, "ALZETTE_SSO_PAIRWISE_SECRET", "")
        or getattr(settings, "ALZETTE_SSO_PAIRWISE_SECRET_FILE", "")
    ):
        problems.append(
            checks.Error(
                "The OpenID Provider has no pairwise-subject secret.",
                hint="Set ALZETTE_SSO_PAIRWISE_SECRET or ALZETTE_SSO_PAIRWISE_SECRET_FILE "
                "(alzette sso pairwise-secret prints one). Never change it afterwards.",
                id="sso.E002",
            )
        )
    return problems


def _inactive_key_problems(active: str, production: bool) -> list:
    """The retired keys, read again from where the settings take them so that each
    problem names its source (conf.py leaves bad ones out of the JWKS)."""
    try:
        inactive = keys.inactive_signing_keys(
            getattr(settings, "ALZETTE_SSO_SIGNING_KEYS_INACTIVE", ""),
            getattr(settings, "ALZETTE_SSO_SIGNING_KEYS_INACTIVE_FILE", ""),
            settings.DATA_DIR,
            production,
        )
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="sso.E003")]
    active_usable = bool(active) and not keys.key_problem(active, "OIDC_RSA_PRIVATE_KEY")
    problems = []
    for key in inactive:
        problem = keys.key_problem(key.pem, key.source)
        if problem:
            problems.append(
                checks.Error(
                    f"A retired OpenID Provider signing key is unusable: {problem}",
                    hint="It is not published: ID tokens it signed no longer verify. "
                    "Fix it or remove it.",
                    id="sso.E003",
                )
            )
        elif active_usable and keys.same_key(key.pem, active):
            problems.append(
                checks.Warning(
                    f"{key.source} is the active signing key, not a retired one.",
                    hint="Remove it from the retired keys: the JWKS lists it twice.",
                    id="sso.W001",
                )
            )
    return problems
