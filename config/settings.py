"""Cognate settings: every tunable is read here, once, from the environment.

Each variable has a safe default and a line in the README's configuration table. Per-pool
settings (password policy, MFA, token lifetimes) live on the pool and client rows, never here.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url

from config.email import settings_or_error

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# Var dir: SQLite database, development secret key. Kept out of git.
VAR_DIR = Path(env("COGNATE_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment; otherwise one generated once and kept in var/."""
    if key := env("SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        import secrets

        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
# Key that encrypts client secrets, signing keys and SRP verifiers at rest. Defaults to a key
# derived from SECRET_KEY; set it separately to rotate SECRET_KEY without re-encrypting. Several
# comma-separated keys: the first encrypts, all decrypt (rotation).
ENCRYPTION_KEYS = env_list("COGNATE_ENCRYPTION_KEYS", "") or [SECRET_KEY]

PUBLIC_URL = env("PUBLIC_URL", "http://localhost:8000").rstrip("/")
_public = urlparse(PUBLIC_URL)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", f"{_public.hostname},localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = [f"{_public.scheme}://{_public.netloc}"]
SECURE_COOKIES = _public.scheme == "https"
# Pools served on their own host names (hostedui.hosts): a prefix domain `p` answers at
# `p.{COGNATE_PREFIX_DOMAIN_SUFFIX}` (default `auth.` + PUBLIC_URL's host name; Cognito's is
# `auth.{region}.amazoncognito.com`). The URLs of a pool's domain (discovery, console) use
# COGNATE_DOMAIN_SCHEME and COGNATE_DOMAIN_PORT, by default PUBLIC_URL's scheme and port: https
# in production, http and the dev server's port when PUBLIC_URL is http://localhost:8000.
# Configured domains need no ALLOWED_HOSTS entry; unknown hosts are still refused (400).
PREFIX_DOMAIN_SUFFIX = env("COGNATE_PREFIX_DOMAIN_SUFFIX", "")
DOMAIN_URL_SCHEME = env("COGNATE_DOMAIN_SCHEME", "")
DOMAIN_URL_PORT = env("COGNATE_DOMAIN_PORT", "")
# The region part of the ids of pools created in the console and by management commands
# (`local_Ab12Cd34E`). Pools created through the JSON API take the region of the request's
# SigV4 scope instead, as Cognito's ids carry the region that served the call.
DEFAULT_REGION = env("COGNATE_DEFAULT_REGION", "local")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "pool",
    "hostedui",
    "console",
    "api",
]

MIDDLEWARE = [
    # First: a request id, the request log line and the HTTP metrics for every answer.
    "config.observability.RequestMiddleware",
    # Then: a request to a pool's own host name is routed to that pool (hostedui.hosts).
    "hostedui.hosts.PoolDomainMiddleware",
    "config.security.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "hostedui.i18n.HostedLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# The token, revocation and userInfo endpoints and the JSON API (config/front.py) keep no
# session, set no CSRF cookie, show no messages and speak English (as Cognito's do: their
# error texts are protocol strings, not pages): they skip those middleware, and keep every
# one that sets security headers (and any added to MIDDLEWARE later).
_SESSION_ONLY_MIDDLEWARE = {
    "hostedui.i18n.HostedLanguageMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
}
API_MIDDLEWARE = [name for name in MIDDLEWARE if name not in _SESSION_ONLY_MIDDLEWARE]
# GET /oauth2/authorize (config/front.py) reads the hosted session, may leave a message for the
# login page and renders no form (a redirect, or the error page): it keeps sessions, messages
# and the language, and skips static files, CSRF (nothing it answers is a form or checks one;
# the hosted forms keep the full chain), the operator login and its OTP, and the slash
# redirects of CommonMiddleware (its path never ends in one).
_NOT_ON_AUTHORIZE = {
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
}
AUTHORIZE_MIDDLEWARE = [name for name in MIDDLEWARE if name not in _NOT_ON_AUTHORIZE]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.security.csp_nonce",
            ],
        },
    },
]

# Database: SQLite in var/ by default; DATABASE_URL (postgres://…) for PostgreSQL. Connections
# are kept between requests (DATABASE_CONN_MAX_AGE seconds, 0 = one per request): opening one
# costs more than a token request's queries (SQLite: the PRAGMAs and Django's SQL functions).
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'cognate.sqlite3'}"),
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, with each statement's placeholders converted once (config/sqlite).
    DATABASES["default"]["ENGINE"] = "config.sqlite"
    # WAL + a busy timeout let the dev server and a test's live server write concurrently.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests use a file database too: threads (live server, race tests) then wait on locks as
    # in production instead of failing at once, as an in-memory shared-cache database does.
    # One file per process, so concurrent runs (xdist workers) never share one.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, saying how its cursor hands statements to psycopg (config/postgresql).
    DATABASES["default"]["ENGINE"] = "config.postgresql"
    # Server-side prepared statements: a statement this connection has run
    # DATABASE_PREPARE_THRESHOLD times is prepared, and later runs skip PostgreSQL's parse and
    # plan (about half the server's CPU per token or userInfo request, and less Python work in
    # psycopg, measured in-process). psycopg prepares only with server-side parameter binding,
    # which Django turns off by default. Behind a pooler in transaction mode without prepared
    # statement support (PgBouncer before 1.21), set DATABASE_PREPARE_THRESHOLD=off.
    _prepare = env("DATABASE_PREPARE_THRESHOLD", "5").strip().lower()
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "server_side_binding": True,
            "prepare_threshold": None if _prepare in {"", "off", "none"} else int(_prepare),
        }
    )
# PostgreSQL: where each process LISTENs for committed configuration changes
# (pool.config_generation), so that kept JWKS/discovery answers and pool rows need no version
# read per request. Empty: the database's own connection settings; a postgres:// URL straight
# to PostgreSQL when DATABASE_URL goes through a pooler in transaction mode (a LISTEN needs a
# session of its own); `off`: read the version on every request.
CONFIG_LISTEN_URL = env("DATABASE_LISTEN_URL", "").strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: holds lockout counters, rate limits, the version numbers that announce key rotations
# and pool changes, JWKS/discovery documents. Every server process must see the same one:
# REDIS_URL shares it through Redis; without it, the database every process already shares
# holds it (config/cache.py, table cognate_cache). COGNATE_CACHE=memory keeps it in process
# memory instead (one process only: config/gunicorn.py refuses more workers).
REDIS_URL = env("REDIS_URL")
CACHE_KIND = "redis" if REDIS_URL else env("COGNATE_CACHE", "database").strip().lower()
if CACHE_KIND == "redis":
    CACHES = {
        "default": {
            # Django's RedisCache, one client object per process, counters in one round trip.
            "BACKEND": "config.cache.SharedRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "cognate"),
        }
    }
elif CACHE_KIND == "memory":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    CACHE_KIND = "database"
    CACHES = {
        "default": {
            "BACKEND": "config.cache.SharedDatabaseCache",
            "LOCATION": "cognate_cache",
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "cognate"),
        }
    }

# Passwords: argon2id with OWASP parameters (m=19 MiB, t=2, p=1) first; the others verify
# imported hashes and are upgraded to argon2id on the next successful sign-in.
PASSWORD_HASHERS = [
    "pool.hashers.CognateArgon2Hasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
ARGON2_MEMORY_KIB = int(env("ARGON2_MEMORY_KIB", "19456"))
ARGON2_TIME_COST = int(env("ARGON2_TIME_COST", "2"))
ARGON2_PARALLELISM = int(env("ARGON2_PARALLELISM", "1"))
# argon2 runs one process does at once (pool/hashers.py); 0 = the cores it may run on. Each holds
# ARGON2_MEMORY_KIB while it runs and keeps it for the next one.
ARGON2_CONCURRENCY = int(env("ARGON2_CONCURRENCY", "0"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Sessions and cookies. Hosted-UI sessions last one hour, as Cognito's hosted-UI cookie.
SESSION_COOKIE_AGE = int(env("SESSION_COOKIE_AGE", "3600"))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_NAME = "__Host-cognate" if SECURE_COOKIES else "cognate_session"
CSRF_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_NAME = "__Host-cognate-csrf" if SECURE_COOKIES else "cognate_csrf"
# Database sessions keyed by a keyed hash of the cookie value, never the value itself.
SESSION_ENGINE = "config.sessions"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if SECURE_COOKIES:
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGIN_URL = "console:login"

# The hosted pages and the messages users receive speak these languages (hostedui/i18n.py picks
# one per request, pool/languages.py per message); the catalogs are locale/<code>/LC_MESSAGES/.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("fr", "Français"),
    ("ja", "日本語"),
    ("pt-br", "Português (Brasil)"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Email: EMAIL_URL chooses the backend (config/email.py): smtp://user:pass@host:port (smtps://
# or ?tls=1 for TLS; special characters in user and password percent-encoded), or, for
# development only, outbox:// (the default: stored encrypted in the database and shown in the
# console's dev outbox, so codes are visible without a mail server), console:// or locmem://.
# With DEBUG off a development backend is refused at start (config/checks.py): codes and
# temporary passwords would reach nobody.
EMAIL_URL = env("EMAIL_URL", "outbox://")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "no-reply@cognate.local")
globals().update(settings_or_error(EMAIL_URL))

# SMS: a dotted path to a class with send(phone_number, message). The default keeps messages in
# the dev outbox; deployments plug in their provider.
SMS_SENDER = env("SMS_SENDER", "pool.messaging.OutboxSmsSender")
# pool.messaging.SnsSmsSender (Amazon SNS Publish through boto3) reads these; credentials come
# from boto3's own chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a role).
SNS_REGION = env("SNS_REGION", env("AWS_DEFAULT_REGION", ""))
SNS_ENDPOINT_URL = env("SNS_ENDPOINT_URL", "")
SNS_SENDER_ID = env("SNS_SENDER_ID", "")
SNS_SMS_TYPE = env("SNS_SMS_TYPE", "Transactional")
SNS_ORIGINATION_NUMBER = env("SNS_ORIGINATION_NUMBER", "")

# Triggers (pool/triggers.py): how long a webhook may take to answer, in seconds. Cognito's
# synchronous Lambda triggers have a fixed 5-second limit.
TRIGGER_TIMEOUT = float(env("COGNATE_TRIGGER_TIMEOUT", "5"))

# Rate limits per client IP (requests per minute), shared through the cache
# (pool/services/ratelimit.py): sign-in, sign-up, code verification and forgot-password each
# allow RATE_LIMIT_PER_MINUTE; the token endpoint has its own, higher limit because one app
# backend behind one address refreshes and exchanges codes for all its users. 0 turns a limit off.
RATE_LIMIT_PER_MINUTE = int(env("RATE_LIMIT_PER_MINUTE", "120"))
RATE_LIMIT_TOKEN_PER_MINUTE = int(
    env("RATE_LIMIT_TOKEN_PER_MINUTE", str(10 * RATE_LIMIT_PER_MINUTE))
)
# The JSON API's own per-IP limit on every call (admin scripts and app backends behind one
# address make many); the sign-in, sign-up and code scopes above apply inside it as well.
RATE_LIMIT_API_PER_MINUTE = int(env("RATE_LIMIT_API_PER_MINUTE", str(RATE_LIMIT_TOKEN_PER_MINUTE)))
# Trusted reverse proxies: how many X-Forwarded-For hops to trust for the client IP (0 = none).
TRUSTED_PROXY_HOPS = int(env("TRUSTED_PROXY_HOPS", "0"))

# Logs: LOG_FORMAT=json writes one JSON object per line (time, level, logger, message,
# request_id; the request line adds method, path without query string, route, status and
# duration_ms), LOG_FORMAT=text readable lines. Every request writes one line on the
# "cognate.request" logger (LOG_LEVEL_REQUESTS=WARNING silences them).
LOG_FORMAT = env("LOG_FORMAT", "text").strip().lower()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.observability.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "config.observability.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own records once, through the root's handler (not also its DEBUG console).
        "django": {"handlers": [], "level": env("LOG_LEVEL", "INFO"), "propagate": True},
        "django.server": {"level": env("LOG_LEVEL_REQUESTS", "WARNING")},
        "cognate.request": {"level": env("LOG_LEVEL_REQUESTS", "INFO")},
    },
}
# Who may read /metrics (config/metrics.py): requests with `Authorization: Bearer <token>` when
# set; otherwise only direct requests from loopback (not through a proxy).
METRICS_TOKEN = env("METRICS_TOKEN")
