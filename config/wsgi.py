"""The WSGI application gunicorn serves: config.front in front of Django (public documents
from memory, the API paths and authorize through shorter middleware chains). It refuses to
start on a configuration error (config/checks.py: e.g. DEBUG off with email going nowhere),
as `manage.py` commands do."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402

from config.checks import refuse_to_start_on_errors  # noqa: E402 (needs Django set up)
from config.front import ApiHandler, AuthorizeHandler, Front  # noqa: E402

application = Front(WSGIHandler(), ApiHandler(), AuthorizeHandler())

refuse_to_start_on_errors()
