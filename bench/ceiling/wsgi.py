"""The ceilings' WSGI application: `/null` answers before Django (what the server itself costs
per request: the floor under every figure measured on this server, Cognate's included);
everything else goes to the bare Django project."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.ceiling.settings")
django_application = get_wsgi_application()
NULL_HEADERS = [("Content-Type", "text/plain"), ("Content-Length", "4")]


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/null":
        start_response("200 OK", NULL_HEADERS)
        return [b"null"]
    return django_application(environ, start_response)
