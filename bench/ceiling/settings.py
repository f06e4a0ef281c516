"""The two bare-Django ceilings of `make bench`: the least a Django view can cost on this server.

A project with no database, no sessions and no auth: SecurityMiddleware and CommonMiddleware
only. Served by the same gunicorn settings as Cognate (bench/run.py).
"""

import os

SECRET_KEY = os.environ.get("SECRET_KEY", "bench-ceiling-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.ceiling.views"
WSGI_APPLICATION = None
INSTALLED_APPS: list[str] = []
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
DATABASES: dict = {}
USE_TZ = True
