"""User pool domains: creating, changing and deleting a pool's prefix and custom domain.

Cognito's rules, checked here once for the JSON API and the console:
- a prefix is 1-63 lower-case letters, digits and hyphens, neither starting nor ending with a
  hyphen, and contains none of the reserved words `aws`, `amazon`, `cognito` ("Domain cannot
  contain reserved word: aws");
- a custom domain is a full host name (labels of that same shape joined by dots) with the ARN of
  its certificate;
- a pool has at most one domain of each kind ("User pool already has a domain configured."), and
  a domain names one pool on the whole server ("Domain already associated with another user
  pool.");
- changing or deleting a domain names it with its pool; a domain of another pool, or none, is
  "No such domain or user pool exists.", so the answer tells nothing about other pools.

Cognate also refuses as a custom domain the host name of PUBLIC_URL or a name listed in
ALLOWED_HOSTS (the server's own names, never served as a pool's: hostedui.hosts), an IP address,
and any name under the prefix domains' suffix (it would shadow a prefix domain).
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

from django.conf import settings
from django.db import IntegrityError, transaction

from pool.models import UserPool, UserPoolDomain
from pool.models.pool import bump_config_version
from pool.selectors import domains as domain_selectors
from pool.services.validation import invalid

MAX_DOMAIN_LENGTH = 63
RESERVED_WORDS = ("aws", "amazon", "cognito")
MANAGED_LOGIN_VERSIONS = (1, 2)
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Cognito's ArnType (botocore model).
_ARN = re.compile(
    r"^arn:[\w+=/,.@-]+:[\w+=/,.@-]+:([\w+=/,.@-]*)?:[0-9]+:[\w+=/,.@-]+"
    r"(:[\w+=/,.@-]+)?(:[\w+=/,.@-]+)?$"
)

NO_SUCH_DOMAIN = "No such domain or user pool exists."


def _clean_prefix(domain: str) -> str:
    if not _LABEL.match(domain):
        raise invalid(
            "A domain prefix is 1-63 lower-case letters, digits or hyphens, and neither starts "
            "nor ends with a hyphen.",
            "domain",
        )
    for word in RESERVED_WORDS:
        if word in domain:
            raise invalid(f"Domain cannot contain reserved word: {word}", "domain")
    return domain


def _clean_custom(domain: str) -> str:
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise invalid(
            "A custom domain is a full host name such as auth.example.com: lower-case letters, "
            "digits and hyphens in labels separated by dots.",
            "domain",
        )
    own_host = (urlparse(settings.PUBLIC_URL).hostname or "").lower()
    if domain == own_host:
        raise invalid(f"{domain} is this server's own host name (PUBLIC_URL).", "domain")
    if domain in settings.ALLOWED_HOSTS:
        raise invalid(f"{domain} is one of this server's own names (ALLOWED_HOSTS).", "domain")
    if labels[-1].isdigit():
        raise invalid("A custom domain is a host name, not an IP address.", "domain")
    suffix = domain_selectors.prefix_suffix()
    if domain == suffix or domain.endswith(f".{suffix}"):
        raise invalid(f"Host names under {suffix} are this server's prefix domains.", "domain")
    return domain


def _clean_certificate_arn(value: object) -> str:
    if not isinstance(value, str) or not 20 <= len(value) <= 2048 or not _ARN.match(value):
        raise invalid(
            "certificate_arn must be a certificate's ARN, such as "
            "arn:aws:acm:us-east-1:123456789012:certificate/....",
            "certificate_arn",
        )
    return value


def _clean_version(value: object) -> int:
    if isinstance(value, bool) or value not in MANAGED_LOGIN_VERSIONS:
        raise invalid(
            "managed_login_version must be 1 (hosted UI) or 2 (managed login).",
            "managed_login_version",
        )
    return int(value)  # type: ignore[arg-type]


def create_domain(
    *,
    pool: UserPool,
    domain: str,
    certificate_arn: str | None = None,
    managed_login_version: int | None = None,
) -> UserPoolDomain:
    """Give `pool` a domain: a custom domain when `certificate_arn` is given, else a prefix."""
    if not isinstance(domain, str) or not 1 <= len(domain) <= MAX_DOMAIN_LENGTH:
        raise invalid(f"A domain is 1-{MAX_DOMAIN_LENGTH} characters.", "domain")
    if certificate_arn is None:
        kind, clean, arn = UserPoolDomain.Kind.PREFIX, _clean_prefix(domain), ""
    else:
        kind, clean = UserPoolDomain.Kind.CUSTOM, _clean_custom(domain)
        arn = _clean_certificate_arn(certificate_arn)
    version = 1 if managed_login_version is None else _clean_version(managed_login_version)
    try:
        with transaction.atomic():
            if UserPoolDomain.objects.filter(pool=pool, kind=kind).exists():
                raise invalid("User pool already has a domain configured.", "domain")
            if UserPoolDomain.objects.filter(domain=clean).exists():
                raise invalid("Domain already associated with another user pool.", "domain")
            row = UserPoolDomain.objects.create(
                pool=pool,
                domain=clean,
                kind=kind,
                certificate_arn=arn,
                managed_login_version=version,
            )
            bump_config_version(pool)  # the discovery document names the domain now
            return row
    except IntegrityError:  # a concurrent create took the domain or the pool's slot first
        raise invalid("Domain already associated with another user pool.", "domain") from None


def _owned(pool_id: str, domain: str) -> UserPoolDomain:
    """The domain `domain` of pool `pool_id`, locked. Text PostgreSQL cannot compare (a NUL
    byte; Domain's pattern is not held at the door) names no domain, like any other unknown."""
    readable = all(isinstance(v, str) and "\x00" not in v for v in (pool_id, domain))
    found = UserPoolDomain.objects.select_for_update().filter(pool_id=pool_id, domain=domain)
    row = found.first() if readable else None
    if row is None:
        raise invalid(NO_SUCH_DOMAIN, "domain")
    return row


def update_domain(
    *,
    pool_id: str,
    domain: str,
    certificate_arn: str | None = None,
    managed_login_version: int | None = None,
) -> UserPoolDomain:
    """Change a custom domain's certificate and either kind's managed-login version; what is
    left out (None) stays as it is."""
    with transaction.atomic():
        row = _owned(pool_id, domain)
        if certificate_arn is not None:
            if row.kind != UserPoolDomain.Kind.CUSTOM:
                raise invalid(
                    "Only a custom domain has a certificate; a prefix domain takes none.",
                    "certificate_arn",
                )
            row.certificate_arn = _clean_certificate_arn(certificate_arn)
        if managed_login_version is not None:
            row.managed_login_version = _clean_version(managed_login_version)
        row.save()
    return row


def delete_domain(*, pool_id: str, domain: str) -> None:
    """Remove `domain` from the pool `pool_id`; the string is free for any pool after."""
    with transaction.atomic():
        _owned(pool_id, domain).delete()
        bump_config_version(pool_id)  # the discovery document names it no more
