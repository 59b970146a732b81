"""ASGI entry point, served by uvicorn (``alzette serve``).

oneM2M over HTTP (``/onem2m/``) takes a short road that batches commits
(``alzette.territory.onem2m.bindings.asgi``); everything else is Django's.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alzette.conf.settings")
django_application = get_asgi_application()

from alzette.territory.onem2m.bindings.asgi import OneM2MApplication  # noqa: E402 - after setup

application = OneM2MApplication(django_application)

from alzette.core.runtime import settle  # noqa: E402 - after setup

settle()
