"""App clients: registering them, changing their settings, rotating their secrets.

Every setting is checked here, once, against Cognito's rules (and Cognate's stricter defaults,
each a per-client setting), so that the console, the commands and (later) the JSON API refuse the
same things with the same InvalidParameterException.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction

from pool import redirect_uris
from pool.errors import LimitExceededException
from pool.models import AppClient, CustomAttribute, IdentityProvider, ResourceServer, UserPool
from pool.models.client import (
    ACCESS_ID_VALIDITY_RANGE,
    DAY,
    EXPLICIT_AUTH_FLOWS,
    MINUTE,
    OAUTH_FLOWS,
    REFRESH_VALIDITY_RANGE,
    RETRY_GRACE_RANGE,
    STANDARD_SCOPES,
)
from pool.services.pools import pool_attribute_names
from pool.services.validation import (
    NAME,
    boolean,
    integer,
    invalid,
    reject_unknown,
    string_list,
    subset,
)

# Quotas (reference §6).
MAX_CLIENTS_PER_POOL = 1000
MAX_URLS = 100
MAX_SCOPES_PER_CLIENT = 50

CLIENT_FIELDS = (
    "name",
    "callback_urls",
    "logout_urls",
    "default_redirect_uri",
    "allowed_oauth_flows",
    "allowed_oauth_scopes",
    "allowed_oauth_flows_user_pool_client",
    "explicit_auth_flows",
    "supported_identity_providers",
    "read_attributes",
    "write_attributes",
    "access_token_validity",
    "id_token_validity",
    "refresh_token_validity",
    "auth_session_validity",
    "enable_token_revocation",
    "refresh_token_rotation",
    "refresh_token_retry_grace_seconds",
    "require_pkce",
    "logo_url",
    "brand_color",
)
_CLIENT_BOOLEANS = (
    "allowed_oauth_flows_user_pool_client",
    "enable_token_revocation",
    "refresh_token_rotation",
    "require_pkce",
)
_BRAND_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def validate_url(url: Any, field: str, *, app_schemes: bool = True) -> str:
    """A callback or sign-out URL (rules in pool/redirect_uris.py): absolute, no fragment, no
    credentials; https, http on a loopback host, or (with `app_schemes`, for native apps) a
    private-use scheme such as `myapp://callback`, never `javascript:`, `data:`, `file:`..."""
    if not isinstance(url, str) or not url or len(url) > 1024 or url != url.strip():
        raise invalid(f"{field}: URLs are 1-1024 characters without surrounding spaces.", field)
    if redirect_uris.has_unsafe_characters(url):
        raise invalid(f"{field}: {url!r} must not contain spaces or control characters.", field)
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError on a malformed port)
    except ValueError:
        raise invalid(f"{field}: {url!r} is not a valid URL.", field) from None
    if "#" in url:
        raise invalid(f"{field}: {url!r} must not contain a fragment.", field)
    if parts.username is not None or parts.password is not None:
        raise invalid(f"{field}: {url!r} must not contain credentials.", field)
    scheme = redirect_uris.scheme_of(url)
    if scheme in ("http", "https") or not app_schemes:
        if not scheme or not parts.netloc or not host:
            raise invalid(f"{field}: {url!r} must be an absolute URL.", field)
        if scheme == "https":
            return url
        if scheme == "http" and host in redirect_uris.LOOPBACK_HOSTS:
            return url
        raise invalid(
            f"{field}: {url!r} must use https (http is allowed only for localhost, 127.0.0.1 "
            "and [::1]).",
            field,
        )
    if scheme is None:
        raise invalid(f"{field}: {url!r} must be an absolute URL.", field)
    if scheme in redirect_uris.REFUSED_SCHEMES:
        raise invalid(
            f"{field}: the {scheme}: scheme is not allowed; use https, or an app's own scheme "
            "such as com.example.app:/callback.",
            field,
        )
    if not url[len(scheme) + 1 :].strip("/"):
        raise invalid(f"{field}: {url!r} must name a host or path after the scheme.", field)
    return url


def _url_list(value: Any, field: str) -> list[str]:
    urls = string_list(value, field)
    if len(urls) > MAX_URLS:
        raise invalid(f"{field}: at most {MAX_URLS} URLs.", field)
    return [validate_url(url, field) for url in urls]


def _provider_names(pool: UserPool) -> list[str]:
    """The pool's identity providers, which a client may offer beside COGNITO."""
    return list(IdentityProvider.objects.filter(pool=pool).values_list("provider_name", flat=True))


def _resource_scopes(pool: UserPool) -> set[str]:
    scopes: set[str] = set()
    for server in ResourceServer.objects.filter(pool=pool):
        scopes.update(server.full_scopes)
    return scopes


def _validity(value: Any, field: str, low: int, high: int) -> int:
    return integer(value, field, low, high)


def _clean_client(pool: UserPool, values: dict[str, Any], *, has_secret: bool) -> dict[str, Any]:
    clean = dict(values)
    name = values["name"]
    if not isinstance(name, str) or not NAME.match(name):
        raise invalid(
            "name must be 1-128 letters, digits, spaces or + = , . @ - _ characters.", "name"
        )
    for field in _CLIENT_BOOLEANS:
        clean[field] = boolean(values[field], field)
    clean["callback_urls"] = _url_list(values["callback_urls"], "callback_urls")
    clean["logout_urls"] = _url_list(values["logout_urls"], "logout_urls")
    default = values["default_redirect_uri"] or ""
    if default and default not in clean["callback_urls"]:
        raise invalid(
            "default_redirect_uri must be one of the callback URLs.", "default_redirect_uri"
        )
    clean["default_redirect_uri"] = default

    flows = subset(values["allowed_oauth_flows"], OAUTH_FLOWS, "allowed_oauth_flows")
    if "client_credentials" in flows:
        if len(flows) > 1:
            raise invalid(
                "client_credentials cannot be combined with code or implicit.",
                "allowed_oauth_flows",
            )
        if not has_secret:
            raise invalid("client_credentials needs a client with a secret.", "allowed_oauth_flows")
    if {"code", "implicit"} & set(flows) and not clean["callback_urls"]:
        raise invalid(
            "The code and implicit flows need at least one callback URL.", "callback_urls"
        )
    clean["allowed_oauth_flows"] = flows

    scopes = string_list(values["allowed_oauth_scopes"], "allowed_oauth_scopes")
    if len(scopes) > MAX_SCOPES_PER_CLIENT:
        raise invalid(f"At most {MAX_SCOPES_PER_CLIENT} scopes per client.", "allowed_oauth_scopes")
    custom_scopes = _resource_scopes(pool)
    for scope in scopes:
        if scope not in STANDARD_SCOPES and scope not in custom_scopes:
            raise invalid(
                f"allowed_oauth_scopes: {scope!r} is neither a standard scope nor a scope of "
                "one of the pool's resource servers.",
                "allowed_oauth_scopes",
            )
    if "client_credentials" in flows and (
        not scopes or any(scope in STANDARD_SCOPES for scope in scopes)
    ):
        raise invalid(
            "client_credentials clients are allowed resource-server scopes only.",
            "allowed_oauth_scopes",
        )
    clean["allowed_oauth_scopes"] = scopes

    clean["explicit_auth_flows"] = subset(
        values["explicit_auth_flows"], EXPLICIT_AUTH_FLOWS, "explicit_auth_flows"
    )
    clean["supported_identity_providers"] = subset(
        values["supported_identity_providers"],
        ("COGNITO", *_provider_names(pool)),
        "supported_identity_providers",
    )

    attributes = pool_attribute_names(pool)
    clean["read_attributes"] = subset(values["read_attributes"], attributes, "read_attributes")
    write = subset(values["write_attributes"], attributes, "write_attributes")
    immutable = {a.full_name for a in CustomAttribute.objects.filter(pool=pool, mutable=False)}
    for attribute in write:
        if attribute in immutable:
            raise invalid(f"write_attributes: {attribute} is immutable.", "write_attributes")
    clean["write_attributes"] = write

    low, high = ACCESS_ID_VALIDITY_RANGE
    clean["access_token_validity"] = _validity(
        values["access_token_validity"], "access_token_validity", low, high
    )
    clean["id_token_validity"] = _validity(
        values["id_token_validity"], "id_token_validity", low, high
    )
    refresh = values["refresh_token_validity"]
    refresh = 30 * DAY if refresh in (0, "0") else refresh
    clean["refresh_token_validity"] = _validity(
        refresh, "refresh_token_validity", *REFRESH_VALIDITY_RANGE
    )
    if clean["refresh_token_validity"] <= max(
        clean["access_token_validity"], clean["id_token_validity"]
    ):
        raise invalid(
            "refresh_token_validity must be longer than the access and ID token validities.",
            "refresh_token_validity",
        )
    clean["auth_session_validity"] = _validity(
        values["auth_session_validity"], "auth_session_validity", 3 * MINUTE, 15 * MINUTE
    )
    # Accepted while rotation is off, where it does nothing: switching rotation on again keeps it.
    clean["refresh_token_retry_grace_seconds"] = integer(
        values["refresh_token_retry_grace_seconds"],
        "refresh_token_retry_grace_seconds",
        *RETRY_GRACE_RANGE,
    )
    logo = values["logo_url"] or ""
    if logo:
        validate_url(logo, "logo_url", app_schemes=False)
    clean["logo_url"] = logo
    color = values["brand_color"] or ""
    if color and not _BRAND_COLOR.match(color):
        raise invalid("brand_color must look like #1a2b3c.", "brand_color")
    clean["brand_color"] = color
    return clean


def _client_values(client: AppClient) -> dict[str, Any]:
    return {field: getattr(client, field) for field in CLIENT_FIELDS}


def create_client(
    *, pool: UserPool, name: str, generate_secret: bool = False, **fields: Any
) -> tuple[AppClient, str]:
    """Register an app client. Returns the client and its secret's plaintext ("" for a public
    client): the only time the plaintext is shown; it is stored encrypted."""
    reject_unknown(fields, CLIENT_FIELDS, "client")
    generate_secret = boolean(generate_secret, "generate_secret")
    values = _client_values(AppClient(pool=pool))
    values.update(fields, name=name)
    clean = _clean_client(pool, values, has_secret=generate_secret)
    with transaction.atomic():
        UserPool.objects.select_for_update().filter(pk=pool.pk).first()
        if AppClient.objects.filter(pool=pool).count() >= MAX_CLIENTS_PER_POOL:
            raise LimitExceededException(
                f"A pool can have at most {MAX_CLIENTS_PER_POOL} app clients."
            )
        client = AppClient(pool=pool, **clean)
        secret = client.set_secret() if generate_secret else ""
        client.save()
    return client, secret


def update_client(*, client: AppClient, **changes: Any) -> AppClient:
    """Change an app client's settings; all of them are checked together again."""
    reject_unknown(changes, CLIENT_FIELDS, "client")
    values = _client_values(client)
    values.update(changes)
    clean = _clean_client(client.pool, values, has_secret=client.is_confidential)
    with transaction.atomic():
        for field in changes:
            setattr(client, field, clean[field])
        client.save()
    return client


def rotate_client_secret(*, client: AppClient) -> str:
    """Replace a confidential client's secret; returns the new plaintext, shown once. The old
    secret stops working at once. A public client stays public: make a new client instead."""
    if not client.is_confidential:
        raise invalid(
            "This app client has no secret; create a confidential client instead.", "secret"
        )
    with transaction.atomic():
        secret = client.set_secret()
        client.save(update_fields=["secret", "secret_created_at", "updated_at"])
    return secret


def delete_client(*, client: AppClient) -> None:
    """Delete an app client; its refresh tokens and codes go with it."""
    with transaction.atomic():
        client.delete()
