"""Reading user pool domains: by domain string (DescribeUserPoolDomain), by the host name a
request came to (the hosted UI served by Host header), and by pool (DescribeUserPool's Domain
and CustomDomain, the console, the discovery document).

Where a domain is served: a custom domain at its own host name; a prefix at
`{prefix}.{PREFIX_DOMAIN_SUFFIX}` (Cognito's `{prefix}.auth.{region}.amazoncognito.com`). Its
URLs use DOMAIN_URL_SCHEME and DOMAIN_URL_PORT, by default PUBLIC_URL's (https in production,
http with the dev server's port in development and tests).
"""

from __future__ import annotations

import functools
import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection

from pool.models import UserPool, UserPoolDomain

# When a pool has both, the custom domain is the one its discovery document names.
PREFERENCE = (UserPoolDomain.Kind.CUSTOM, UserPoolDomain.Kind.PREFIX)


def find(domain: object) -> UserPoolDomain | None:
    """The domain record named `domain`, its pool loaded, or None."""
    if not isinstance(domain, str) or not domain or "\x00" in domain:
        return None
    return UserPoolDomain.objects.select_related("pool").filter(domain=domain).first()


def of_pool(pool: UserPool) -> dict[str, UserPoolDomain]:
    """The pool's domains by kind (`prefix`, `custom`); a kind it has none of is absent."""
    return {row.kind: row for row in UserPoolDomain.objects.filter(pool=pool)}


def prefix_suffix() -> str:
    """The parent of prefix domains: PREFIX_DOMAIN_SUFFIX, by default `auth.` + PUBLIC_URL's
    host name (`auth.localhost` for the dev server)."""
    configured = settings.PREFIX_DOMAIN_SUFFIX
    if configured:
        return configured.strip(".").lower()
    return f"auth.{(urlsplit(settings.PUBLIC_URL).hostname or 'localhost').lower()}"


def host_name(row: UserPoolDomain) -> str:
    """The host name `row` is served at."""
    if row.kind == UserPoolDomain.Kind.PREFIX:
        return f"{row.domain}.{prefix_suffix()}"
    return row.domain


def base_url(row: UserPoolDomain) -> str:
    """`{scheme}://{host}[:{port}]` of a domain, without a trailing slash."""
    public = urlsplit(settings.PUBLIC_URL)
    scheme = settings.DOMAIN_URL_SCHEME or public.scheme or "https"
    port = str(settings.DOMAIN_URL_PORT or (public.port or ""))
    default = {"http": "80", "https": "443"}.get(scheme)
    suffix = f":{port}" if port and port != default else ""
    return f"{scheme}://{host_name(row)}{suffix}"


def preferred(pool: UserPool) -> UserPoolDomain | None:
    """The domain the pool's discovery document names: its custom domain, else its prefix."""
    rows = of_pool(pool)
    return next((rows[kind] for kind in PREFERENCE if kind in rows), None)


# pool id -> (the pool's config_version, its preferred domain's kind and name, or None).
_preferred: dict[str, tuple[int, tuple[str, str] | None]] = {}


def preferred_url(pool: UserPool) -> str | None:
    """base_url() of preferred(pool), the domain kept per process for the pool's
    config_version (the discovery document is a hot path): creating or deleting a domain
    replaces that version (pool.services.domains), so every process sees the change at once."""
    kept = _preferred.get(pool.pk)
    if kept is None or kept[0] != pool.config_version:
        row = preferred(pool)
        kept = (pool.config_version, (row.kind, row.domain) if row is not None else None)
        _preferred[pool.pk] = kept
    if kept[1] is None:
        return None
    kind, domain = kept[1]
    return base_url(UserPoolDomain(kind=kind, domain=domain))


def is_own(host: str) -> bool:
    """Is `host` one of the server's own names (or no name a domain can have)? No query."""
    own = _host_of(settings.PUBLIC_URL)
    if not host or len(host) > 253 or host == own or host in settings.ALLOWED_HOSTS:
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=8)
def _host_of(url: str) -> str:
    """The lower-case host name of `url` (PUBLIC_URL: parsed once per value, not per request)."""
    return (urlsplit(url).hostname or "").lower()


def serving(host: str) -> UserPoolDomain | None:
    """The domain a request to `host` (lower case, without port) is for (pool_id, kind and
    domain only), or None: one query,
    none for the server's own names (PUBLIC_URL's host, a name listed exactly in
    ALLOWED_HOSTS, an IP address)."""
    if is_own(host):
        return None
    wanted = [(UserPoolDomain.Kind.CUSTOM, host)]
    suffix = f".{prefix_suffix()}"
    if host.endswith(suffix) and "." not in host[: -len(suffix)]:
        wanted.append((UserPoolDomain.Kind.PREFIX, host[: -len(suffix)]))
    # Plain SQL on the unique index of `domain`: this runs on every request to a domain, and
    # building the ORM query cost ten times the query itself (746 vs 71 µs on SQLite).
    # "custom" sorts first.
    table = UserPoolDomain._meta.db_table
    where = " OR ".join(["(kind = %s AND domain = %s)"] * len(wanted))
    with connection.cursor() as cursor:
        cursor.execute(
            # The table name is the model's; every value is a bound parameter.
            f"SELECT pool_id, kind, domain FROM {table} WHERE {where} ORDER BY kind LIMIT 1",  # noqa: S608
            [value for pair in wanted for value in pair],
        )
        found = cursor.fetchone()
    if found is None:
        return None
    pool_id, kind, domain = found
    return UserPoolDomain(pool_id=pool_id, kind=kind, domain=domain)
