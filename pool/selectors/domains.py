"""Reading user pool domains: by domain string (DescribeUserPoolDomain, later the Host header
of issue 17) and by pool (DescribeUserPool's Domain and CustomDomain, the console)."""

from __future__ import annotations

from pool.models import UserPool, UserPoolDomain


def find(domain: object) -> UserPoolDomain | None:
    """The domain record named `domain`, its pool loaded, or None."""
    if not isinstance(domain, str) or not domain or "\x00" in domain:
        return None
    return UserPoolDomain.objects.select_related("pool").filter(domain=domain).first()


def of_pool(pool: UserPool) -> dict[str, UserPoolDomain]:
    """The pool's domains by kind (`prefix`, `custom`); a kind it has none of is absent."""
    return {row.kind: row for row in UserPoolDomain.objects.filter(pool=pool)}
