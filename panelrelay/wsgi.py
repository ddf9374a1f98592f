"""WSGI entry point (gunicorn panelrelay.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panelrelay.settings")
application = get_wsgi_application()
