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
    LimitExceededException,
    NotAuthorizedException,
    UsernameExistsException,
    UserNotFoundException,
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
from pool.services import admin, users
from pool.services import sign_in as sign_in_wing
from pool.services.results import Authenticated, RequestContext

FEDERATED = sign_in_wing.FEDERATED
COGNITO_SUBJECT = "Cognito_Subject"
COGNITO = "Cognito"
# Cognito's quota: identities linked to one user.
MAX_LINKS_PER_USER = 5
MERGING = (
    "Merging is not currently supported, provide a SourceUser that has not been signed up in "
    "order to link"
)
ALREADY_LINKED = "The SourceUser is already linked to a user."
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


def _refresh_identities(user_id: int) -> None:
    """Write the user's `identities` attribute from its links (call inside the transaction
    that changed them; the user row is locked here, so parallel changes do not lose one)."""
    user = User.objects.select_for_update().select_related("pool").get(pk=user_id)
    value = provider_selectors.identities_attribute(user)
    attributes = dict(user.attributes or {})
    if value is None:
        attributes.pop(provider_selectors.IDENTITIES, None)
    else:
        attributes[provider_selectors.IDENTITIES] = value
    if attributes != user.attributes:
        user.attributes = attributes
        user.save(update_fields=["attributes"])


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
            _refresh_identities(existing.pk)
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
            _refresh_identities(user.pk)
            user.groups.add(_provider_group(provider))
    except (UsernameExistsException, AliasExistsException, IntegrityError):
        identity = _find(pool, provider, subject)
        if identity is None:
            raise
        return identity.user
    user.refresh_from_db(fields=["attributes"])
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
        if issuer and (
            FederatedIdentity.objects.filter(
                pool_id=user.pool_id, provider_name=provider.provider_name, subject=subject
            )
            .exclude(issuer=issuer)
            .update(issuer=issuer)
        ):
            _refresh_identities(user.pk)
            user.refresh_from_db(fields=["attributes"])
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


# --------------------------------------------------------------------------------- linking


def _external(pool: UserPool, provider_name: Any, attribute_name: Any, value: Any, *, what: str):
    """(provider, subject) of an external identity named as Cognito's ProviderUserIdentifier."""
    if attribute_name != COGNITO_SUBJECT:
        raise InvalidParameterException(
            f"{what}.ProviderAttributeName must be {COGNITO_SUBJECT}: Cognate links identities "
            "by their subject.",
            field=what,
        )
    provider = provider_selectors.get(pool, provider_name)
    if not isinstance(value, str) or not value:
        raise InvalidParameterException(f"{what}.ProviderAttributeValue is required.", field=what)
    return provider, _check_subject(provider, value)


def _pool_user(pool: UserPool, username: Any) -> User:
    if isinstance(username, str) and username:
        user = User.objects.filter(pool=pool, username_key=pool.normalize(username)).first()
        if user is not None:
            return user
    raise UserNotFoundException("User does not exist.")


def link(
    *,
    pool: UserPool,
    destination_provider: str,
    destination_value: str,
    source_provider: str,
    source_attribute: str,
    source_value: str,
) -> FederatedIdentity:
    """AdminLinkProviderForUser: from now on, signing in with (source provider, subject)
    signs in as the destination user, and its `identities` list the link. The destination is
    an existing user: a native one (`Cognito` + its username) or a federated one (its provider
    + subject). The source must not have signed in yet (Cognito does not merge users) nor be
    linked already (AliasExistsException). At most MAX_LINKS_PER_USER links per user.

    Only an administrator links: nothing here, and nothing in `sign_in`, ever links on its own
    (an email the provider claims is no proof that the native account is the same person's)."""
    if destination_provider == COGNITO:
        destination = _pool_user(pool, destination_value)
    else:
        dest_provider = provider_selectors.get(pool, destination_provider)
        found = FederatedIdentity.objects.filter(
            pool=pool, provider_name=dest_provider.provider_name, subject=destination_value
        ).first()
        if found is None:
            raise UserNotFoundException("User does not exist.")
        destination = found.user
    provider, subject = _external(
        pool, source_provider, source_attribute, source_value, what="SourceUser"
    )
    if provider.provider_name == destination_provider:
        raise InvalidParameterException(
            "SourceUser and DestinationUser cannot be of the same provider.", field="SourceUser"
        )
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=destination.pk).first()
        existing = FederatedIdentity.objects.filter(
            pool=pool, provider_name=provider.provider_name, subject=subject
        ).first()
        if existing is not None:
            if existing.primary:
                raise InvalidParameterException(MERGING, field="SourceUser")
            raise AliasExistsException(ALREADY_LINKED, field="SourceUser")
        if User.objects.filter(
            pool=pool,
            username_key=pool.normalize(federated_username(provider.provider_name, subject)),
        ).exists():
            raise InvalidParameterException(MERGING, field="SourceUser")
        if FederatedIdentity.objects.filter(user=destination).count() >= MAX_LINKS_PER_USER:
            raise LimitExceededException(
                f"A user can be linked to at most {MAX_LINKS_PER_USER} identities."
            )
        try:
            with transaction.atomic():
                linked = FederatedIdentity.objects.create(
                    pool=pool,
                    user=destination,
                    provider_name=provider.provider_name,
                    subject=subject,
                    primary=False,
                )
                _refresh_identities(destination.pk)
                return linked
        except IntegrityError:  # a parallel first sign-in or link of the same subject
            raise AliasExistsException(ALREADY_LINKED, field="SourceUser") from None


def disable_provider_for_user(
    *, pool: UserPool, provider_name: str, attribute_name: str, value: str
) -> None:
    """AdminDisableProviderForUser. For an external identity linked to another user, the link
    is removed (its next sign-in makes a new federated user); for a federated user's own
    identity, that user is disabled (and its tokens stop refreshing). For `Cognito` and a
    username: the native user can no longer sign in with a password (its hash and SRP
    verifier are removed), while its linked identities still sign it in."""
    if provider_name == COGNITO:
        if attribute_name != COGNITO_SUBJECT:
            raise InvalidParameterException(
                f"User.ProviderAttributeName must be {COGNITO_SUBJECT}.", field="User"
            )
        with transaction.atomic():
            user = _pool_user(pool, value)
            user = User.objects.select_for_update().select_related("pool").get(pk=user.pk)
            if user.status == UserStatus.EXTERNAL_PROVIDER:
                raise InvalidParameterException(
                    "The user is a federated user: name its provider and subject.", field="User"
                )
            user.password = ""
            user.srp_salt = ""
            user.srp_verifier = ""
            user.temporary_password_expires_at = None
            user.save(
                update_fields=[
                    "password",
                    "srp_salt",
                    "srp_verifier",
                    "temporary_password_expires_at",
                    "updated_at",
                ]
            )
        return
    provider, subject = _external(pool, provider_name, attribute_name, value, what="User")
    with transaction.atomic():
        identity = (
            FederatedIdentity.objects.select_for_update()
            .filter(pool=pool, provider_name=provider.provider_name, subject=subject)
            .select_related("user")
            .first()
        )
        if identity is None:
            raise UserNotFoundException("User does not exist.")
        if not identity.primary:
            identity.delete()
            _refresh_identities(identity.user_id)
            return
        admin.set_enabled(user=identity.user, enabled=False)
