"""ASGI entry point, served by uvicorn (``alzette serve``)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alzette.conf.settings")
application = get_asgi_application()
