"""WSGI entry point, for servers that speak WSGI and for in-process API tests."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alzette.conf.settings")
application = get_wsgi_application()

from alzette.core.runtime import settle  # noqa: E402 - after setup

settle()
