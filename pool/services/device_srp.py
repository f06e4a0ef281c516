"""Device SRP: a remembered device proves it is the device that was confirmed, as Cognito's
clients do it (amazon-cognito-identity-js, Amplify, pycognito).

After the first factor, a sign-in naming a remembered device of the user (DEVICE_KEY) gets
DEVICE_SRP_AUTH (pool.services.sign_in). The client answers with DEVICE_KEY and SRP_A; the server
replies DEVICE_PASSWORD_VERIFIER with SRP_B over the device's verifier, the device's SALT and a
SECRET_BLOCK; the client answers with a claim signed with the key only the device secret
derives: SRP-6a as for a password (pool.srp), with DeviceGroupKey in place of the pool name and
DeviceKey in place of the user id. A right claim goes back to the MFA decision with the device,
which there stands in for MFA when the pool sets ChallengeRequiredOnNewDevice.

The server's secret b is derived from the DEVICE_PASSWORD_VERIFIER session's handle with the
server key (stored nowhere), and the SECRET_BLOCK carries that handle encrypted. Amplify sends
the `Session` with both answers; pycognito sends none, so without one DEVICE_SRP_AUTH finds the
live challenge of the named user and device, and DEVICE_PASSWORD_VERIFIER its session from the
SECRET_BLOCK. Each step is single-use; a wrong claim ends the sign-in.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re

from pool import clock, crypto, srp
from pool.errors import InvalidParameterException, NotAuthorizedException
from pool.models import AppClient, ChallengeSession, Device, UserPool
from pool.selectors.users import find_for_sign_in
from pool.services import challenges, devices, sign_in, srp_auth
from pool.services.results import Authenticated, Challenge, RequestContext

DEVICE_SRP_AUTH = sign_in.DEVICE_CHALLENGE
DEVICE_PASSWORD_VERIFIER = "DEVICE_PASSWORD_VERIFIER"
INCORRECT = "Incorrect username or password."
SRP_A_MAX_HEX = 1024
SECRET_BLOCK_MAX = 4096
_HEX = re.compile(r"[0-9a-fA-F]+")


def _device_key(responses: dict[str, str]) -> str:
    key = responses.get("DEVICE_KEY")
    if not isinstance(key, str) or not key:
        raise InvalidParameterException("Missing required parameter DEVICE_KEY", field="DEVICE_KEY")
    return key


def _check_named_user(pool: UserPool, row: ChallengeSession, responses: dict[str, str]) -> None:
    named = responses.get("USERNAME")
    if named:
        found = find_for_sign_in(pool, str(named))
        if found is None or found.pk != row.user_id:
            raise NotAuthorizedException(challenges.INVALID_SESSION)


# ------------------------------------------------------------------------- DEVICE_SRP_AUTH


@challenges.opens_session(DEVICE_SRP_AUTH)
def open_device_srp(
    *,
    pool: UserPool,
    client: AppClient | None,
    session: str,
    responses: dict[str, str],
    context: RequestContext | None,
) -> ChallengeSession:
    """The DEVICE_SRP_AUTH session: the `Session` when sent, else the live challenge of the
    user named by USERNAME for the device named by DEVICE_KEY (pycognito sends no Session)."""
    key = _device_key(responses)
    if session:
        row = challenges.load_session(
            token=session, challenge_name=DEVICE_SRP_AUTH, pool=pool, client=client
        )
        _check_named_user(pool, row, responses)
        return row
    named = responses.get("USERNAME")
    user = find_for_sign_in(pool, named) if isinstance(named, str) and named else None
    row = (
        ChallengeSession.objects.select_related("user", "user__pool", "client")
        .filter(
            pool=pool,
            user=user,
            client=client,
            challenge_name=DEVICE_SRP_AUTH,
            data__device_key=key,
            expires_at__gt=clock.now(),
        )
        .order_by("-created_at")
        .first()
        if user is not None
        else None
    )
    if row is None:
        raise NotAuthorizedException(challenges.INVALID_SESSION)
    if not row.user.enabled:
        challenges.expire(row)
        raise NotAuthorizedException("User is disabled.")
    return row


def _parse_srp_a(value: object) -> int:
    if not isinstance(value, str) or not value:
        raise InvalidParameterException("Missing required parameter SRP_A", field="SRP_A")
    number = int(value, 16) if len(value) <= SRP_A_MAX_HEX and _HEX.fullmatch(value) else 0
    if number % srp.N == 0:
        raise InvalidParameterException("SRP_A is not a valid SRP public value.", field="SRP_A")
    return number


def _server_secret(handle: str) -> int:
    """b, derived from the DEVICE_PASSWORD_VERIFIER session's handle with the server key."""
    halves = (crypto.digest(f"device-srp-b:{index}:{handle}") for index in (1, 2))
    return int("".join(halves), 16)


def _verifier(device: Device) -> int:
    return int(crypto.decrypt(device.verifier), 16)


@challenges.handles(DEVICE_SRP_AUTH)
def answer_device_srp_auth(
    *,
    session: ChallengeSession,
    responses: dict[str, str],
    client: AppClient | None,
    context: RequestContext | None,
) -> Authenticated | Challenge:
    """SRP_A for the remembered device: answer DEVICE_PASSWORD_VERIFIER (SRP_B, SALT,
    SECRET_BLOCK) with a fresh session bound to the device and A."""
    row = session
    key = _device_key(responses)
    client_public = _parse_srp_a(responses.get("SRP_A"))
    if key != row.data.get("device_key"):
        raise NotAuthorizedException(challenges.INVALID_SESSION)
    challenges.consume(row)
    user = row.user
    device = devices.remembered_device(user, key)
    if device is None:  # forgotten or no longer remembered since the challenge
        raise NotAuthorizedException(challenges.INVALID_SESSION)
    verifier = _verifier(device)
    while True:
        handle = crypto.token(48)
        server_public = srp.server_public(verifier, _server_secret(handle))
        if server_public and srp.scramble(client_public, server_public):
            break
    challenges.start_session(
        user=user,
        client=client,
        challenge_name=DEVICE_PASSWORD_VERIFIER,
        data={
            "methods": list(row.data.get("methods") or ["pwd"]),
            "device_key": key,
            "srp_a": format(client_public, "x"),
        },
        token=handle,
    )
    block = crypto.encrypt(json.dumps({"handle": handle, "device_key": key}))
    return Challenge(
        name=DEVICE_PASSWORD_VERIFIER,
        session=handle,
        parameters={
            "SRP_B": format(server_public, "x"),
            "SALT": crypto.decrypt(device.salt),
            "SECRET_BLOCK": base64.b64encode(base64.urlsafe_b64decode(block)).decode(),
            "USERNAME": user.username,
            "USER_ID_FOR_SRP": user.username,
            "DEVICE_KEY": key,
        },
    )


# ----------------------------------------------------------------- DEVICE_PASSWORD_VERIFIER


def _block_handle(text: object) -> str:
    if not isinstance(text, str) or not text or len(text) > SECRET_BLOCK_MAX:
        raise NotAuthorizedException(challenges.INVALID_SESSION)
    try:
        fernet = base64.urlsafe_b64encode(base64.b64decode(text, validate=True)).decode()
        handle = json.loads(crypto.decrypt(fernet))["handle"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise NotAuthorizedException(challenges.INVALID_SESSION) from None
    if not isinstance(handle, str):
        raise NotAuthorizedException(challenges.INVALID_SESSION)
    return handle


def _read_claim(responses: dict[str, str]) -> None:
    for field in srp_auth.CLAIM_FIELDS:
        value = responses.get(field)
        if not isinstance(value, str) or not value:
            raise InvalidParameterException(f"Missing required parameter {field}", field=field)
    if srp.parse_timestamp(responses["TIMESTAMP"]) is None:
        raise InvalidParameterException(srp_auth.TIMESTAMP_FORMAT, field="TIMESTAMP")
    _device_key(responses)


@challenges.opens_session(DEVICE_PASSWORD_VERIFIER)
def open_device_verifier(
    *,
    pool: UserPool,
    client: AppClient | None,
    session: str,
    responses: dict[str, str],
    context: RequestContext | None,
) -> ChallengeSession:
    """The session the SECRET_BLOCK names (and the `Session`, when sent, must be the same)."""
    _read_claim(responses)
    handle = _block_handle(responses["PASSWORD_CLAIM_SECRET_BLOCK"])
    if session and not hmac.compare_digest(session.encode(), handle.encode()):
        raise NotAuthorizedException(challenges.INVALID_SESSION)
    row = challenges.load_session(
        token=handle, challenge_name=DEVICE_PASSWORD_VERIFIER, pool=pool, client=client
    )
    _check_named_user(pool, row, responses)
    return row


@challenges.handles(DEVICE_PASSWORD_VERIFIER)
def answer_device_password_verifier(
    *,
    session: ChallengeSession,
    responses: dict[str, str],
    client: AppClient | None,
    context: RequestContext | None,
) -> Authenticated | Challenge:
    """Check the device's claim (once: the session is spent first); a right one returns to
    the MFA decision with the device."""
    row = session
    _read_claim(responses)
    handle = _block_handle(responses["PASSWORD_CLAIM_SECRET_BLOCK"])
    if crypto.digest(handle) != row.digest or responses["DEVICE_KEY"] != row.data["device_key"]:
        raise NotAuthorizedException(challenges.INVALID_SESSION)
    challenges.consume(row)
    user, pool = row.user, row.user.pool

    def refuse(reason: str) -> NotAuthorizedException:
        sign_in.record_failure(pool, reason, user=user, client=client, context=context)
        return NotAuthorizedException(INCORRECT)

    device = devices.remembered_device(user, row.data["device_key"])
    if device is None:
        raise refuse("device not remembered")
    timestamp = responses["TIMESTAMP"]
    moment = srp.parse_timestamp(timestamp)
    if moment is None or abs(clock.now() - moment) > srp_auth.TIMESTAMP_SKEW:
        raise refuse("stale timestamp")
    valid = srp.claim_is_valid(
        verifier_value=_verifier(device),
        secret=_server_secret(handle),
        client_public=int(row.data["srp_a"], 16),
        pool_name=device.group_key,
        user_id=device.key,
        secret_block=base64.b64decode(responses["PASSWORD_CLAIM_SECRET_BLOCK"]),
        timestamp=timestamp,
        signature=responses["PASSWORD_CLAIM_SIGNATURE"],
    )
    if not valid:
        raise refuse("wrong device claim")
    return sign_in.second_factor_or_done(
        user=user,
        client=client,
        context=context,
        methods=tuple(row.data.get("methods") or ["pwd"]),
        device=device,
    )
