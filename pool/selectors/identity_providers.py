"""Reading a pool's identity providers: by name, all of them, by IdpIdentifier (email-domain
routing) and the ones an app client offers."""

from __future__ import annotations

import json

from django.db.models import OuterRef, Subquery

from pool.errors import ResourceNotFoundException
from pool.models import AppClient, FederatedIdentity, IdentityProvider, User, UserPool

NOT_FOUND = "Identity provider {name} does not exist."


def not_found(provider_name: object) -> ResourceNotFoundException:
    return ResourceNotFoundException(NOT_FOUND.format(name=provider_name))


def get(pool: UserPool, provider_name: str, *, enabled_only: bool = False) -> IdentityProvider:
    """The pool's provider of that name (ResourceNotFoundException otherwise, and for a
    disabled one when `enabled_only`)."""
    provider = (
        IdentityProvider.objects.filter(pool=pool, provider_name=provider_name)
        .select_related("pool")
        .first()
        if isinstance(provider_name, str) and "\x00" not in provider_name
        else None
    )
    if provider is None or (enabled_only and not provider.enabled):
        raise not_found(provider_name)
    return provider


def for_pool(pool: UserPool) -> list[IdentityProvider]:
    return list(IdentityProvider.objects.filter(pool=pool).order_by("provider_name"))


def by_identifier(
    pool: UserPool, identifier: str, *, enabled_only: bool = False, domains: bool = True
) -> IdentityProvider | None:
    """The provider with this IdpIdentifier (compared case-insensitively); failing that, for
    an email address, the provider whose IdpIdentifier is the address's domain (the hosted
    UI's email-domain routing; `domains=False` for an exact match only, as
    GetIdentityProviderByIdentifier). None when no provider claims it."""
    if not isinstance(identifier, str) or not identifier.strip() or "\x00" in identifier:
        return None
    wanted = identifier.strip().lower()
    domain = wanted.rsplit("@", 1)[1] if domains and "@" in wanted else None
    providers = IdentityProvider.objects.filter(pool=pool).select_related("pool")
    if enabled_only:
        providers = providers.filter(enabled=True)
    by_domain = None
    for provider in providers:
        names = {name.lower() for name in provider.idp_identifiers}
        if wanted in names:
            return provider
        if domain and domain in names and by_domain is None:
            by_domain = provider
    return by_domain


COGNITO = "COGNITO"


def offers_pool_accounts(client: AppClient) -> bool:
    """Whether the client's hosted pages offer the pool's own accounts (sign-in, sign-up,
    confirmation, password reset): only when it lists COGNITO in SupportedIdentityProviders,
    as Cognito's managed login. The JSON API is not governed by this (Cognito: removing
    COGNITO "doesn't prevent authentication operations for local users with the user pools
    API"); its flows follow ExplicitAuthFlows."""
    return COGNITO in (client.supported_identity_providers or [])


def enabled_for_client(client: AppClient) -> list[IdentityProvider]:
    """The enabled providers the client lists in SupportedIdentityProviders, in its order."""
    names = [name for name in client.supported_identity_providers or [] if name != COGNITO]
    if not names:
        return []
    found = {
        p.provider_name: p
        for p in IdentityProvider.objects.filter(
            pool_id=client.pool_id, provider_name__in=names, enabled=True
        ).select_related("pool")
    }
    return [found[name] for name in names if name in found]


IDENTITIES = "identities"


def identities(user: User) -> list[dict[str, str | None]]:
    """The user's links to identity providers as the ID token's `identities` claim carries
    them (`primary` and `dateCreated` as strings, Cognito's token shape). Read from the user's
    `identities` attribute, kept by pool.services.federation: no query on the token paths."""
    stored = (user.attributes or {}).get(IDENTITIES)
    if not stored:
        return []
    try:
        entries = json.loads(stored)
    except ValueError:
        return []
    return [
        {
            "userId": entry.get("userId"),
            "providerName": entry.get("providerName"),
            "providerType": entry.get("providerType"),
            "issuer": entry.get("issuer"),
            "primary": "true" if entry.get("primary") else "false",
            "dateCreated": str(entry.get("dateCreated")),
        }
        for entry in entries
        if isinstance(entry, dict)
    ]


def identities_attribute(user: User) -> str | None:
    """The `identities` attribute of the user from its links, as Cognito shows it (a JSON
    string; `primary` a boolean, `dateCreated` epoch milliseconds); None without links."""
    links = list(
        FederatedIdentity.objects.filter(user_id=user.pk)
        .annotate(
            provider_type=Subquery(
                IdentityProvider.objects.filter(
                    pool_id=OuterRef("pool_id"), provider_name=OuterRef("provider_name")
                ).values("provider_type")[:1]
            )
        )
        .order_by("created_at", "pk")
    )
    if not links:
        return None
    return json.dumps(
        [
            {
                "userId": link.subject,
                "providerName": link.provider_name,
                "providerType": link.provider_type or link.provider_name,
                "issuer": link.issuer or None,
                "primary": link.primary,
                "dateCreated": int(link.created_at.timestamp() * 1000),
            }
            for link in links
        ],
        separators=(",", ":"),
    )
