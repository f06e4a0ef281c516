"""Reading a user's tracked devices (pool.services.devices changes them)."""

from __future__ import annotations

from django.db.models import QuerySet

from pool.errors import ResourceNotFoundException
from pool.models import Device, User

DEVICE_NOT_FOUND = "Device does not exist."


def get_device(user: User, device_key: object, *, confirmed_only: bool = True) -> Device:
    """The user's device `device_key` (confirmed ones only, unless told), or
    ResourceNotFoundException: an unknown key and another user's key are answered alike."""
    if not isinstance(device_key, str) or not device_key or len(device_key) > 55:
        raise ResourceNotFoundException(DEVICE_NOT_FOUND)
    rows = Device.objects.filter(key=device_key, user=user)
    if confirmed_only:
        rows = rows.filter(confirmed=True)
    device = rows.first()
    if device is None:
        raise ResourceNotFoundException(DEVICE_NOT_FOUND)
    return device


def devices_of(user: User) -> QuerySet[Device]:
    """The user's confirmed devices (ListDevices): a device made at sign-in and never
    confirmed is not one the user has."""
    return Device.objects.filter(user=user, confirmed=True)


def device_attributes(device: Device) -> list[tuple[str, str]]:
    """DeviceAttributes as Cognito names them."""
    attributes = [
        ("device_status", "valid"),
        ("device_name", device.name),
        ("dev:device_remembered_status", device.remembered_status),
        ("last_ip_used", device.last_ip),
    ]
    return [(name, value) for name, value in attributes if value]
