"""The registry of payment providers: ``ALZETTE_PAYMENT_PROVIDERS`` (key -> dotted path).

Paths are imported when a provider is needed, so a typo in one provider's path
breaks that provider (with ImproperlyConfigured) and nothing else.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from alzette.personal.payments.providers.base import PaymentProvider


class UnknownProvider(LookupError):
    """No provider is registered under this key."""


def provider_keys() -> list[str]:
    return list(settings.ALZETTE_PAYMENT_PROVIDERS)


def get_provider(key: str) -> PaymentProvider:
    """The provider registered under ``key``.

    Raises ``UnknownProvider`` for an unregistered key and ``ImproperlyConfigured``
    when its dotted path does not import or does not name a ``PaymentProvider``.
    """
    path = settings.ALZETTE_PAYMENT_PROVIDERS.get(key)
    if path is None:
        raise UnknownProvider(f"No payment provider is registered as {key!r}.")
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"ALZETTE_PAYMENT_PROVIDERS[{key!r}]: cannot import {path!r} ({exc})."
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, PaymentProvider)):
        raise ImproperlyConfigured(
            f"ALZETTE_PAYMENT_PROVIDERS[{key!r}]: {path!r} is not a PaymentProvider subclass."
        )
    return cls(key)
