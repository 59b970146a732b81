"""System checks: the OpenID Provider is configured as alzette/personal/sso/conf.py says."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


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
