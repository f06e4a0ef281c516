"""Federated sign-in: the ONE place where a verified upstream assertion becomes a pool user.

The protocol code (`hostedui/federation/`: OIDC, the social presets, SAML) checks the
provider's answer (signatures, issuer, audience, expiry, nonce, replay) and calls `sign_in`
with the provider, the subject and the claims. Here:

- the claims are mapped onto pool attributes by the provider's AttributeMapping
  (`map_claims`); `email_verified` / `phone_number_verified` are true only when the provider
  asserts them (a mapped claim that is JSON true or "true"), never because an email is present;
- the user is the one linked to (provider, subject) by a `FederatedIdentity` (a federated user,
  or a native user linked by AdminLinkProviderForUser); else a new user `<ProviderName>_<subject>`
  is made through `users.prepare`/`users.save` with status EXTERNAL_PROVIDER, after the
  PreSignUp_ExternalProvider trigger, and joins the pool's automatic group of the provider.
  An email shared with an existing user NEVER links the two: the new federated user is a
  separate user (its email is no sign-in name, `policy.refresh_sign_in_key`);
- mapped attributes are written again at every sign-in (for a linked native user, all but the
  ones it signs in with and their verified flags, so that a provider cannot change a native
  account's sign-in names);
- the sign-in then ends like every other in `sign_in.complete_first_factor` (pre- and
  post-authentication triggers, disabled users refused, the success event), without MFA:
  the provider authenticated the user, as Cognito does not ask federated users for MFA.

`link` and `disable_provider_for_user` are AdminLinkProviderForUser and
AdminDisableProviderForUser.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import IntegrityError, transaction

from pool import policy
from pool.errors import (
    AliasExistsException,
    CognitoError,
    InvalidParameterException,
    NotAuthorizedException,
    UsernameExistsException,
)
from pool.models import (
    AppClient,
    FederatedIdentity,
    Group,
    IdentityProvider,
    User,
    UserPool,
    UserStatus,
)
from pool.selectors import identity_providers as provider_selectors
from pool.selectors.clients import ensure_pool_client
from pool.services import sign_in as sign_in_wing
from pool.services import users
from pool.services.results import Authenticated, RequestContext

FEDERATED = sign_in_wing.FEDERATED
COGNITO_SUBJECT = "Cognito_Subject"
# Attributes a linked native user signs in with: never written by a provider's mapping.
_SIGN_IN_ATTRIBUTES = (
    "email",
    "email_verified",
    "phone_number",
    "phone_number_verified",
    "preferred_username",
)
_VERIFIED_FLAGS = ("email_verified", "phone_number_verified")
PROVIDER_DISABLED = "Identity provider {name} is disabled."
NOT_OFFERED = "The app client does not offer sign-in with {name}."


def federated_username(provider_name: str, subject: str) -> str:
    return f"{provider_name}_{subject}"


def _claim_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        items = [_claim_text(item) for item in value]
        items = [item for item in items if item is not None]
        if not items:
            return None
        return items[0] if len(items) == 1 else ",".join(items)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


def map_claims(provider: IdentityProvider, claims: dict[str, Any]) -> dict[str, str]:
    """The pool attributes the provider's claims give, by its AttributeMapping. A verified
    flag is "true" only when the provider asserts it, "false" otherwise (when it is mapped)."""
    mapped: dict[str, str] = {}
    for attribute, claim in (provider.attribute_mapping or {}).items():
        if attribute == "username":
            continue
        value = claims.get(claim)
        if attribute in _VERIFIED_FLAGS:
            asserted = value is True or (isinstance(value, str) and value.lower() == "true")
            mapped[attribute] = "true" if asserted else "false"
            continue
        text = _claim_text(value)
        if text is not None:
            mapped[attribute] = text
    return mapped


def _check_subject(provider: IdentityProvider, subject: Any) -> str:
    if not isinstance(subject, str) or not subject:
        raise InvalidParameterException(
            f"The {provider.provider_name} answer names no subject.", field="subject"
        )
    try:
        policy.check_username(federated_username(provider.provider_name, subject))
    except InvalidParameterException:
        raise InvalidParameterException(
            f"The {provider.provider_name} subject cannot be a username.", field="subject"
        ) from None
    return subject


def _provider_group(provider: IdentityProvider) -> Group:
    """The pool's automatic group of the provider's users, made on first use."""
    name = provider.group_name
    try:
        with transaction.atomic():
            group, _ = Group.objects.get_or_create(
                pool_id=provider.pool_id,
                name=name,
                defaults={
                    "description": "Autogenerated group for users who sign in using "
                    f"{provider.provider_name}"
                },
            )
    except IntegrityError:  # made at the same moment by a parallel first sign-in
        group = Group.objects.get(pool_id=provider.pool_id, name=name)
    return group


def _find(pool: UserPool, provider: IdentityProvider, subject: str) -> FederatedIdentity | None:
    return (
        FederatedIdentity.objects.filter(
            pool=pool, provider_name=provider.provider_name, subject=subject
        )
        .select_related("user", "user__pool")
        .first()
    )


def _create(
    *,
    pool: UserPool,
    client: AppClient | None,
    provider: IdentityProvider,
    subject: str,
    attributes: dict[str, str],
    issuer: str,
) -> User:
    """The first sign-in of (provider, subject): a new EXTERNAL_PROVIDER user, or the
    EXTERNAL_PROVIDER user of that name made without a link (an import). A parallel first
    sign-in of the same subject that wins the race gives its user to both."""
    username = federated_username(provider.provider_name, subject)
    existing = User.objects.filter(pool=pool, username_key=pool.normalize(username)).first()
    if existing is not None:
        if existing.status != UserStatus.EXTERNAL_PROVIDER:
            # A native user who chose this name must not receive the provider's sign-ins.
            raise UsernameExistsException(
                f"User {username} exists and is not a user of {provider.provider_name}.",
                field="username",
            )
        with transaction.atomic():
            FederatedIdentity.objects.get_or_create(
                pool=pool,
                provider_name=provider.provider_name,
                subject=subject,
                defaults={"user": existing, "primary": True, "issuer": issuer},
            )
        return _update(existing, provider, attributes, issuer=issuer, subject=subject)
    user = users.prepare(
        pool=pool,
        username=username,
        attributes=attributes,
        status=UserStatus.EXTERNAL_PROVIDER,
        client=client,
        admin=True,
        federated=True,
        trigger_source=users.PRE_SIGN_UP_EXTERNAL_PROVIDER,
    )
    try:
        with transaction.atomic():
            users.save(user)
            FederatedIdentity.objects.create(
                pool=pool,
                user=user,
                provider_name=provider.provider_name,
                subject=subject,
                primary=True,
                issuer=issuer,
            )
            user.groups.add(_provider_group(provider))
    except (UsernameExistsException, AliasExistsException, IntegrityError):
        identity = _find(pool, provider, subject)
        if identity is None:
            raise
        return identity.user
    return user


def _update(
    user: User, provider: IdentityProvider, attributes: dict[str, str], *, issuer: str, subject: str
) -> User:
    """A returning user: the mapped attributes written again (see the module's notes)."""
    if user.status != UserStatus.EXTERNAL_PROVIDER:
        attributes = {k: v for k, v in attributes.items() if k not in _SIGN_IN_ATTRIBUTES}
    with transaction.atomic():
        user = User.objects.select_for_update().select_related("pool").get(pk=user.pk)
        current = user.attribute_map()
        changed = {k: v for k, v in attributes.items() if current.get(k, "") != v}
        if changed:
            clean = policy.validate_attributes(user.pool, changed, creating=False, admin=True)
            policy.apply_attributes(user, clean)
            policy.save_user(user)
        if issuer:
            FederatedIdentity.objects.filter(
                pool_id=user.pool_id, provider_name=provider.provider_name, subject=subject
            ).exclude(issuer=issuer).update(issuer=issuer)
        user.groups.add(_provider_group(provider))
    return user


def sign_in(
    *,
    pool: UserPool,
    client: AppClient | None,
    provider: IdentityProvider,
    subject: str,
    claims: dict[str, Any],
    context: RequestContext | None = None,
    issuer: str = "",
) -> Authenticated:
    """Sign in the user the provider vouched for (`subject`, with its `claims`); see the
    module's notes. `issuer` is the provider's issuer as the `identities` claim names it (a
    SAML IdP's entity id; empty for OIDC and social providers, whose issuer Cognito leaves
    null). Returns `Authenticated`, as the password path does, for the hosted UI to open its
    session and issue the code. Errors are `pool.errors` exceptions: a provider of another
    pool or not enabled, or not offered by the client, a bad subject, mapped values the schema
    refuses, a trigger's refusal, a disabled user."""
    ensure_pool_client(pool, client)
    if provider.pool_id != pool.pk:
        raise provider_selectors.not_found(provider.provider_name)
    if not provider.enabled:
        raise NotAuthorizedException(PROVIDER_DISABLED.format(name=provider.provider_name))
    if client is not None and provider.provider_name not in (
        client.supported_identity_providers or []
    ):
        raise NotAuthorizedException(NOT_OFFERED.format(name=provider.provider_name))
    subject = _check_subject(provider, subject)
    attributes = map_claims(provider, claims if isinstance(claims, dict) else {})
    identity = _find(pool, provider, subject)
    try:
        if identity is None:
            user = _create(
                pool=pool,
                client=client,
                provider=provider,
                subject=subject,
                attributes=attributes,
                issuer=issuer,
            )
        else:
            user = _update(identity.user, provider, attributes, issuer=issuer, subject=subject)
    except CognitoError as exc:
        sign_in_wing.record_failure(
            pool,
            f"{provider.provider_name}: {exc.code}",
            username=federated_username(provider.provider_name, subject),
            client=client,
            context=context,
        )
        raise
    return sign_in_wing.complete_first_factor(
        user=user, client=client, context=context, method=FEDERATED
    )
