from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def create_cache_table(using: str, **kwargs: Any) -> None:
    """Create the shared cache table with the personal repository's schema.

    ``migrate`` does not create DatabaseCache tables; doing it here means no
    deployment can forget ``createcachetable`` (it is idempotent).
    """
    from django.conf import settings
    from django.core.management import call_command

    from alzette.core.repositories import PERSONAL

    database_cache = any(
        cache["BACKEND"].endswith("DatabaseCache") for cache in settings.CACHES.values()
    )
    if database_cache and using in (PERSONAL, "default"):
        call_command("createcachetable", database=using, verbosity=0)


class CoreConfig(AppConfig):
    name = "alzette.core"
    label = "core"
    verbose_name = "Alzette core"

    def ready(self) -> None:
        from alzette.core import checks  # noqa: F401  (registers the system checks)

        post_migrate.connect(create_cache_table, sender=self)
