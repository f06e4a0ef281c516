"""The django-oauth-toolkit peer of `make bench` (bench/run.py): a tiny project configured as
DOT's docs show (tutorial part 1 + "OpenID Connect"): oauth2_provider in INSTALLED_APPS, its
urls under /o/, OIDC enabled with an RS256 key, refresh tokens rotated (ROTATE_REFRESH_TOKEN,
DOT's default). Served by the same gunicorn settings as Cognate, on its own SQLite file."""

import os
from pathlib import Path

SECRET_KEY = os.environ.get("SECRET_KEY", "bench-dot-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.peers.dot.urls"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DOT_DATABASE", str(Path("/tmp") / "bench-dot.sqlite3")),
        # The same SQLite settings as Cognate's (config/settings.py), so both wait on locks alike.
        "CONN_MAX_AGE": 60,
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
_key = os.environ.get("DOT_RSA_KEY_FILE")
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": Path(_key).read_text() if _key else "",
    "SCOPES": {"openid": "OpenID Connect scope", "read": "Reading scope"},
    "ROTATE_REFRESH_TOKEN": True,
}
