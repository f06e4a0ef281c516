"""Reading a pool's identity providers: by name, all of them, by IdpIdentifier (email-domain
routing) and the ones an app client offers."""

from __future__ import annotations

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
        if isinstance(provider_name, str)
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
    if not isinstance(identifier, str) or not identifier.strip():
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


def enabled_for_client(client: AppClient) -> list[IdentityProvider]:
    """The enabled providers the client lists in SupportedIdentityProviders, in its order."""
    names = [name for name in client.supported_identity_providers or [] if name != "COGNITO"]
    if not names:
        return []
    found = {
        p.provider_name: p
        for p in IdentityProvider.objects.filter(
            pool_id=client.pool_id, provider_name__in=names, enabled=True
        ).select_related("pool")
    }
    return [found[name] for name in names if name in found]


def identities(user: User) -> list[dict[str, str | None]]:
    """The user's links to identity providers, shaped as Cognito's `identities` (the ID
    token's claim; a JSON string as a user attribute). A link whose provider was deleted is
    left out."""
    links = list(FederatedIdentity.objects.filter(user_id=user.pk))
    if not links:
        return []
    types = dict(
        IdentityProvider.objects.filter(
            pool_id=user.pool_id, provider_name__in={link.provider_name for link in links}
        ).values_list("provider_name", "provider_type")
    )
    return [
        {
            "userId": link.subject,
            "providerName": link.provider_name,
            "providerType": types[link.provider_name],
            "issuer": link.issuer or None,
            "primary": "true" if link.primary else "false",
            "dateCreated": str(int(link.created_at.timestamp() * 1000)),
        }
        for link in links
        if link.provider_name in types
    ]
