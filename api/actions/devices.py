"""Tracked devices through the JSON API: ConfirmDevice, UpdateDeviceStatus, GetDevice,
ListDevices and ForgetDevice with the user's access token, and AdminGetDevice,
AdminListDevices, AdminUpdateDeviceStatus and AdminForgetDevice (SigV4), over
pool/services/devices.py and pool/selectors/devices.py. The devices come from sign-ins
(NewDeviceMetadata, api/actions/auth.py); DEVICE_SRP_AUTH is answered through
RespondToAuthChallenge like every challenge (pool/services/device_srp.py)."""

from __future__ import annotations

from typing import Any

from api import principals, wire
from api.registry import Auth, Call, action
from pool.models import Device, User
from pool.selectors import devices as device_selectors
from pool.selectors import users as user_selectors
from pool.services import devices

# ListDevices' Limit when the request gives none (Cognito's maximum page).
DEFAULT_LIMIT = 60


def device_record(device: Device) -> dict[str, Any]:
    """Cognito's DeviceType."""
    return wire.compact(
        {
            "DeviceKey": device.key,
            "DeviceAttributes": [
                {"Name": name, "Value": value}
                for name, value in device_selectors.device_attributes(device)
            ],
            "DeviceCreateDate": wire.epoch(device.created_at),
            "DeviceLastModifiedDate": wire.epoch(device.last_modified_at),
            "DeviceLastAuthenticatedDate": wire.epoch(device.last_authenticated_at),
        }
    )


def _token_user(call: Call) -> User:
    return principals.token_user(call.params.get("AccessToken"))


def _admin_user(call: Call) -> User:
    pool = wire.get_pool(call.params["UserPoolId"])
    return user_selectors.get_user(pool, call.params["Username"])


def _list(call: Call, user: User) -> dict[str, Any]:
    rows, token = wire.page(
        device_selectors.devices_of(user),
        key="key",
        limit=call.params.get("Limit") or DEFAULT_LIMIT,
        token=call.params.get("PaginationToken"),
        purpose=f"devices.{user.pk}",
    )
    return wire.compact(
        {"Devices": [device_record(device) for device in rows], "PaginationToken": token}
    )


# ------------------------------------------------------------------------- by access token


@action("ConfirmDevice", auth=Auth.ACCESS_TOKEN)
def confirm_device(call: Call) -> dict[str, Any]:
    config = call.params.get("DeviceSecretVerifierConfig") or {}
    necessary = devices.confirm(
        user=_token_user(call),
        device_key=call.params["DeviceKey"],
        password_verifier=config.get("PasswordVerifier"),
        salt=config.get("Salt"),
        name=call.params.get("DeviceName") or "",
    )
    return {"UserConfirmationNecessary": necessary}


@action("UpdateDeviceStatus", auth=Auth.ACCESS_TOKEN)
def update_device_status(call: Call) -> dict[str, Any]:
    devices.update_status(
        user=_token_user(call),
        device_key=call.params["DeviceKey"],
        status=call.params.get("DeviceRememberedStatus") or "",
    )
    return {}


@action("GetDevice", auth=Auth.ACCESS_TOKEN)
def get_device(call: Call) -> dict[str, Any]:
    device = device_selectors.get_device(_token_user(call), call.params["DeviceKey"])
    return {"Device": device_record(device)}


@action("ListDevices", auth=Auth.ACCESS_TOKEN)
def list_devices(call: Call) -> dict[str, Any]:
    return _list(call, _token_user(call))


@action("ForgetDevice", auth=Auth.ACCESS_TOKEN)
def forget_device(call: Call) -> dict[str, Any]:
    devices.forget(user=_token_user(call), device_key=call.params["DeviceKey"])
    return {}


# ------------------------------------------------------------------------------- admin


@action("AdminGetDevice", auth=Auth.SIGV4)
def admin_get_device(call: Call) -> dict[str, Any]:
    device = device_selectors.get_device(_admin_user(call), call.params["DeviceKey"])
    return {"Device": device_record(device)}


@action("AdminListDevices", auth=Auth.SIGV4)
def admin_list_devices(call: Call) -> dict[str, Any]:
    return _list(call, _admin_user(call))


@action("AdminUpdateDeviceStatus", auth=Auth.SIGV4)
def admin_update_device_status(call: Call) -> dict[str, Any]:
    devices.update_status(
        user=_admin_user(call),
        device_key=call.params["DeviceKey"],
        status=call.params.get("DeviceRememberedStatus") or "",
    )
    return {}


@action("AdminForgetDevice", auth=Auth.SIGV4)
def admin_forget_device(call: Call) -> dict[str, Any]:
    devices.forget(user=_admin_user(call), device_key=call.params["DeviceKey"])
    return {}
