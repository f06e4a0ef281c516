"""Tracked devices ("remember this device"), as Cognito keeps them for a pool whose
DeviceConfiguration is set (`UserPool.track_devices`).

An API sign-in that names no device of the user gets a new, unconfirmed one (its DeviceKey and
DeviceGroupKey go back as NewDeviceMetadata, and the access token carries `device_key`). The app
then confirms it with the device's SRP verifier (ConfirmDevice): the device is remembered at
once, unless the pool remembers devices only on the user's prompt
(DeviceOnlyRememberedOnUserPrompt), when UpdateDeviceStatus says so. A remembered device
answers DEVICE_SRP_AUTH at sign-in (pool.services.device_srp), which stands in for MFA when
the pool sets ChallengeRequiredOnNewDevice (the decision is in pool.services.sign_in).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid

from django.db import transaction

from pool import clock, crypto, srp
from pool.errors import DeviceKeyExistsException, InvalidParameterException
from pool.models import Device, User, UserPool
from pool.selectors.devices import get_device
from pool.services.results import RequestContext

REMEMBERED = "remembered"
NOT_REMEMBERED = "not_remembered"
REMEMBERED_STATUSES = (REMEMBERED, NOT_REMEMBERED)
# Devices made at sign-in and never confirmed are dropped after this long.
UNCONFIRMED_LIFETIME = dt.timedelta(days=1)
# A salt longer than this (bytes) is no client's: Cognito's clients send 16.
MAX_SALT_BYTES = 64
ALREADY_CONFIRMED = "Device has already been confirmed."


def tracks_devices(pool: UserPool) -> bool:
    return bool(pool.track_devices)


def own_device(user: User, device_key: object) -> Device | None:
    """The user's device named by `device_key` in a pool that tracks devices, else None (an
    unknown key, or another user's, names no device of this sign-in)."""
    if not isinstance(device_key, str) or not device_key or len(device_key) > 55:
        return None
    if not tracks_devices(user.pool):
        return None
    return Device.objects.filter(key=device_key, user=user).first()


def remembered_device(user: User, device_key: object) -> Device | None:
    """The user's confirmed, remembered device named by `device_key`, which may answer
    DEVICE_SRP_AUTH; else None."""
    device = own_device(user, device_key)
    if device is None or not device.confirmed or not device.remembered or not device.verifier:
        return None
    return device


def new_device(*, user: User, context: RequestContext | None = None) -> Device:
    """A new, unconfirmed device for a sign-in (NewDeviceMetadata). Stale unconfirmed devices
    of the user go, so sign-ins that never confirm theirs do not pile up."""
    pool = user.pool
    now = clock.now()
    with transaction.atomic():
        Device.objects.filter(
            user=user, confirmed=False, created_at__lt=now - UNCONFIRMED_LIFETIME
        ).delete()
        return Device.objects.create(
            key=f"{pool.region}_{uuid.uuid4()}",
            pool=pool,
            user=user,
            group_key=f"-{crypto.token(7)[:9]}",
            last_authenticated_at=now,
            last_ip=(context.ip or "") if context else "",
        )


def stamp_sign_in(device: Device, context: RequestContext | None, now: dt.datetime) -> tuple:
    """Note a sign-in made on `device` at `now` (DeviceLastAuthenticatedDate, last_ip_used) on
    the instance; returns the fields to store, which the sign-in stores with its other writes
    (pool.services.sign_in.finish)."""
    device.last_authenticated_at = now
    device.last_ip = (context.ip or "") if context else ""
    return ("last_authenticated_at", "last_ip")


def _decoded(value: object, field: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise InvalidParameterException(f"{field} is required.", field=field)
    try:
        raw = base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        raise InvalidParameterException(f"{field} must be base64.", field=field) from None
    if not raw:
        raise InvalidParameterException(f"{field} is required.", field=field)
    return raw


def confirm(
    *,
    user: User,
    device_key: str,
    password_verifier: object,
    salt: object,
    name: str = "",
) -> bool:
    """ConfirmDevice: store the device's SRP salt and verifier (base64, as the client computed
    them over DeviceGroupKey and DeviceKey) and its name. Returns UserConfirmationNecessary:
    True when the pool remembers devices only on the user's prompt (the device stays
    not_remembered until UpdateDeviceStatus), else the device is remembered now."""
    device = get_device(user, device_key, confirmed_only=False)
    verifier_bytes = _decoded(password_verifier, "PasswordVerifier")
    salt_bytes = _decoded(salt, "Salt")
    verifier = int.from_bytes(verifier_bytes, "big")
    if not 1 < verifier < srp.N:
        raise InvalidParameterException(
            "PasswordVerifier is not a valid SRP verifier.", field="PasswordVerifier"
        )
    if len(salt_bytes) > MAX_SALT_BYTES:
        raise InvalidParameterException("Salt is too long.", field="Salt")
    if isinstance(name, str) and len(name) > 1024:
        raise InvalidParameterException("DeviceName is too long.", field="DeviceName")
    on_prompt = user.pool.device_only_remembered_on_user_prompt
    with transaction.atomic():
        claimed = Device.objects.filter(pk=device.pk, confirmed=False).update(
            confirmed=True,
            remembered=not on_prompt,
            verifier=crypto.encrypt(format(verifier, "x")),
            salt=crypto.encrypt(salt_bytes.hex()),
            name=name if isinstance(name, str) else "",
            last_modified_at=clock.now(),
        )
    if not claimed:
        # A confirmed device keeps its verifier: replacing it would hand the device's MFA
        # exemption to whoever holds a token.
        raise DeviceKeyExistsException(ALREADY_CONFIRMED)
    return bool(on_prompt)


def update_status(*, user: User, device_key: str, status: str) -> None:
    """UpdateDeviceStatus / AdminUpdateDeviceStatus: remembered or not_remembered."""
    if status not in REMEMBERED_STATUSES:
        raise InvalidParameterException(
            "DeviceRememberedStatus must be remembered or not_remembered.",
            field="DeviceRememberedStatus",
        )
    device = get_device(user, device_key)
    Device.objects.filter(pk=device.pk).update(
        remembered=status == REMEMBERED, last_modified_at=clock.now()
    )


def forget(*, user: User, device_key: str) -> None:
    """ForgetDevice / AdminForgetDevice: the device goes; its key no longer skips anything."""
    device = get_device(user, device_key, confirmed_only=False)
    Device.objects.filter(pk=device.pk).delete()
