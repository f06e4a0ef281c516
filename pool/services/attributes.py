"""Users changing their own attributes, and proving they own an email address or phone number.

Changing a verified email or phone number (in a pool that auto-verifies it) is held pending:
the old, verified value stays in place (and keeps working as a sign-in name) until the user
enters the code sent to the new value. This is Cognito's optional
`AttributesRequireVerificationBeforeUpdate` behaviour, chosen here always because the other
behaviour lets anyone who steals a session move the account to an address they own, and
leaves the user with an unverified address in the meantime. The pending value is the
destination of the user's outstanding VERIFY_EMAIL / VERIFY_PHONE_NUMBER code; it lapses with
the code (24 h). An administrator who also sends `email_verified=true` (or
`phone_number_verified=true`) applies the change at once.
"""

from __future__ import annotations

import hashlib

from django.db import transaction

from pool import clock, messaging, policy
from pool.errors import (
    AliasExistsException,
    ExpiredCodeException,
    InvalidParameterException,
    NotAuthorizedException,
)
from pool.models import SignInName, User, UserPool, VerificationCode
from pool.services import codes, ratelimit
from pool.services.delivery import MEDIUM, VERIFY_PURPOSE, Source, send_code
from pool.services.results import CodeDelivery, RequestContext

# ---------------------------------------------------------------------------------------------
# Answering for users who do not exist (codes themselves leave through pool.services.delivery)


def simulated_delivery(pool: UserPool, identifier: str, attributes: list[str]) -> CodeDelivery:
    """A CodeDelivery for a user who does not exist, for pools that hide user existence. It is
    derived from the identifier, so asking twice gives the same answer, and nothing is sent."""
    if policy.is_email(identifier):
        return CodeDelivery(messaging.mask(identifier), "EMAIL", "email")
    if policy.is_phone_number(identifier):
        return CodeDelivery(messaging.mask(identifier), "SMS", "phone_number")
    seed = hashlib.sha256(f"{pool.pk}:{pool.normalize(identifier)}".encode()).hexdigest()
    attribute = next((a for a in attributes if a in MEDIUM), "email")
    if attribute == "phone_number":
        digits = "".join(str(int(ch, 16) % 10) for ch in seed[:4])
        return CodeDelivery(f"+*******{digits}", "SMS", attribute)
    letters = "abcdefghijklmnopqrstuvwxyz"
    local, domain = letters[int(seed[:2], 16) % 26], letters[int(seed[2:4], 16) % 26]
    return CodeDelivery(f"{local}***@{domain}***", "EMAIL", attribute)


# ---------------------------------------------------------------------------------------------
# Updating and deleting


def _pending(user: User, attribute: str) -> str:
    """The new value waiting for verification, if any (see the module docstring)."""
    row = (
        VerificationCode.objects.filter(user=user, purpose=VERIFY_PURPOSE[attribute])
        .values("destination", "expires_at")
        .first()
    )
    if row and row["expires_at"] > clock.now() and row["destination"] != getattr(user, attribute):
        return row["destination"]
    return ""


def pending_change(user: User, attribute: str) -> str:
    """The new email address or phone number waiting for its code, if any ("" otherwise)."""
    return _pending(user, attribute) if attribute in VERIFY_PURPOSE else ""


def update_attributes(
    *,
    user: User,
    attributes: dict[str, str],
    client=None,
    admin: bool = False,
    context: RequestContext,
    client_metadata: dict[str, str] | None = None,
) -> list[CodeDelivery]:
    """Validate and apply attribute changes; send a code to every changed email or phone
    number the pool auto-verifies. A change to a verified value is held until verified."""
    if not user.enabled and not admin:
        raise NotAuthorizedException("User is disabled.")
    pool = user.pool
    clean = policy.validate_attributes(pool, attributes, creating=False, client=client, admin=admin)
    auto = set(pool.auto_verified_attributes or [])
    to_verify: list[tuple[str, str]] = []  # (attribute, destination)
    held: dict[str, str] = {}
    for attribute in policy.VERIFIABLE:
        new = clean.get(attribute)
        if new is None or new == getattr(user, attribute):
            continue
        explicitly_verified = clean.get(f"{attribute}_verified") == "true"
        if explicitly_verified or not new:
            continue
        if attribute in auto and getattr(user, f"{attribute}_verified"):
            held[attribute] = new
            to_verify.append((attribute, new))
        elif attribute in auto:
            to_verify.append((attribute, new))
    if to_verify and not admin:
        # Each change sends a code to an address the caller chose: the per-IP limit on sending
        # codes and the per-user cap on verification codes keep it from flooding anyone.
        ratelimit.check(ratelimit.FORGOT_PASSWORD, context)
        policy.enforce_cap("send_attribute_verification_code", user.pk)
    applied = {k: v for k, v in clean.items() if k not in held}
    with transaction.atomic():
        user = User.objects.select_for_update().select_related("pool").get(pk=user.pk)
        for attribute, new in held.items():
            # A username attribute must stay unique even while pending: refuse a taken one now.
            if attribute in (pool.username_attributes or []) and (
                SignInName.objects.filter(pool=pool, key=pool.normalize(new))
                .exclude(user=user)
                .exists()
            ):
                raise AliasExistsException(
                    f"An account with the given {attribute.replace('_', ' ')} already exists.",
                    field=attribute,
                )
        policy.apply_attributes(user, applied)
        policy.save_user(user)
        for attribute in policy.VERIFIABLE:
            if attribute in applied and attribute not in held:
                codes.discard(user, VERIFY_PURPOSE[attribute])
    return [
        send_code(
            user,
            source=Source.UPDATE_USER_ATTRIBUTE,
            attribute=attribute,
            destination=destination,
            client=client,
            client_metadata=client_metadata,
        )
        for attribute, destination in to_verify
    ]


def delete_attributes(*, user: User, names: list[str], admin: bool = False, client=None) -> None:
    """Remove attributes. Required ones, `sub`, immutable ones, the pool's username
    attributes and (for a user's own call) ones the client may not write cannot be deleted;
    deleting an email or phone number also drops its verified flag, its sign-in key and any
    pending change."""
    if not user.enabled and not admin:
        raise NotAuthorizedException("User is disabled.")
    policy.check_deletable(user.pool, list(names), admin=admin, client=client)
    with transaction.atomic():
        user = User.objects.select_for_update().select_related("pool").get(pk=user.pk)
        # An emptied email or phone number loses its verified flag and sign-in key with it.
        policy.apply_attributes(user, dict.fromkeys(names, ""))
        user.save()
        for attribute in policy.VERIFIABLE:
            if attribute in names:
                codes.discard(user, VERIFY_PURPOSE[attribute])


# ---------------------------------------------------------------------------------------------
# Verifying


def _check_verifiable(user: User, attribute: str) -> None:
    if attribute not in VERIFY_PURPOSE:
        raise InvalidParameterException(
            "Only email and phone_number can be verified.", field="attribute"
        )
    if not user.enabled:
        raise NotAuthorizedException("User is disabled.")


def send_attribute_verification_code(
    *,
    user: User,
    attribute: str,
    context: RequestContext,
    client=None,
    client_metadata: dict[str, str] | None = None,
) -> CodeDelivery:
    """Send (again) a code to prove ownership of the user's email or phone number, or of the
    new value waiting for verification."""
    _check_verifiable(user, attribute)
    destination = _pending(user, attribute) or getattr(user, attribute)
    if not destination:
        raise InvalidParameterException(
            f"The user has no {attribute} to verify.", field="attribute"
        )
    policy.enforce_cap("send_attribute_verification_code", user.pk)
    return send_code(
        user,
        source=Source.VERIFY_USER_ATTRIBUTE,
        attribute=attribute,
        destination=destination,
        client=client,
        client_metadata=client_metadata,
    )


def verify_attribute(*, user: User, attribute: str, code: str, context: RequestContext) -> None:
    """Check the code sent to the email or phone number and mark it verified; a pending change
    takes effect now. The value becomes a sign-in name where the pool allows it, unless
    another user holds it (AliasExistsException)."""
    _check_verifiable(user, attribute)
    policy.enforce_cap("verify_attribute", user.pk)
    purpose = VERIFY_PURPOSE[attribute]
    row = VerificationCode.objects.filter(user=user, purpose=purpose).values("destination").first()
    codes.verify(user, purpose, code)
    destination = row["destination"] if row else ""
    with transaction.atomic():
        user = User.objects.select_for_update().select_related("pool").get(pk=user.pk)
        current = getattr(user, attribute)
        if destination and destination != current:
            if not getattr(user, f"{attribute}_verified"):
                # The value changed after the code was sent: the code proves nothing now.
                raise ExpiredCodeException()
            setattr(user, attribute, destination)
        elif not current:
            raise ExpiredCodeException()
        setattr(user, f"{attribute}_verified", True)
        policy.refresh_sign_in_key(user, attribute)
        policy.touch_updated_at(user)
        policy.save_user(user)
