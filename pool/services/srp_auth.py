"""SRP sign-in (USER_SRP_AUTH): the server side of Cognito's SRP-6a variant.

`start` answers InitiateAuth's USERNAME + SRP_A with the PASSWORD_VERIFIER challenge (SALT,
SRP_B, SECRET_BLOCK, USERNAME, USER_ID_FOR_SRP = the real username). The client proves the
password with PASSWORD_CLAIM_SIGNATURE over the pool name, USER_ID_FOR_SRP, the SECRET_BLOCK and
its TIMESTAMP; `answer_password_verifier` checks it and ends, like every first factor, in
`sign_in.complete_first_factor(method="pwd")`.

Cognito returns no `Session` with this challenge (pycognito never sends one back), so the state
travels in SECRET_BLOCK: an encrypted, MACed block (pool.crypto) naming the challenge session,
A, the user, the pool, the client and an expiry. The server's secret b is derived from the
session's handle with the server key, so it is stored nowhere: the table holds only the
handle's digest, from which a database reader cannot rebuild b. Each block answers once.

Unknown names are served like real users when the pool prevents user existence errors: a
PASSWORD_VERIFIER with a salt and a verifier derived (keyed) from the name, so they are stable
from one attempt to the next while B is fresh each time; the answer costs the same math and
fails with "Incorrect username or password.", counted by the same lockout as password sign-in
(pool.services.lockout, one counter for both flows). A user with no verifier (imported with a
password hash only) cannot be served by SRP: RESET_REQUIRED users get
PasswordResetRequiredException, as Cognito answers its imported users, where the pool shows
existence errors; every other such user is refused like a wrong password, as Cognito refuses an
SRP sign-in for a user only a migration could create (its migration trigger needs
USER_PASSWORD_AUTH). Their first USER_PASSWORD_AUTH or password reset stores the verifier.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import uuid
from dataclasses import asdict, dataclass

from pool import clock, crypto, srp
from pool.errors import (
    InvalidParameterException,
    NotAuthorizedException,
    PasswordResetRequiredException,
    UserNotFoundException,
)
from pool.models import AppClient, ChallengeSession, User, UserPool, UserStatus
from pool.selectors import sign_in as sign_in_checks
from pool.selectors.clients import ensure_pool_client
from pool.selectors.users import find_for_sign_in
from pool.services import challenges, counters, lockout, ratelimit, sign_in
from pool.services.results import Authenticated, Challenge, RequestContext

FLOW = "USER_SRP_AUTH"
CHALLENGE = "PASSWORD_VERIFIER"
INCORRECT = "Incorrect username or password."
TIMESTAMP_FORMAT = "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english."
# A is below N (768 hex digits); a longer SRP_A is refused before any arithmetic.
SRP_A_MAX_HEX = 1024
SECRET_BLOCK_MAX = 8192
# How far a TIMESTAMP may be from the server's clock, either way.
TIMESTAMP_SKEW = dt.timedelta(minutes=5)
_HEX = re.compile(r"[0-9a-fA-F]+")
CLAIM_FIELDS = ("PASSWORD_CLAIM_SECRET_BLOCK", "PASSWORD_CLAIM_SIGNATURE", "TIMESTAMP")


@dataclass(frozen=True)
class _Block:
    """What a SECRET_BLOCK carries, encrypted: the same fields for real and unknown users."""

    handle: str  # the challenge session's handle (an unknown user's has no session)
    known: bool
    user_id_for_srp: str
    name: str  # the name as typed
    who: str  # the lockout subject
    srp_a: str
    pool_id: str
    client_id: str
    expires: float

    def encode(self) -> str:
        fernet = crypto.encrypt(json.dumps(asdict(self), separators=(",", ":")))
        return base64.b64encode(base64.urlsafe_b64decode(fernet)).decode()

    @classmethod
    def decode(cls, text: object) -> _Block:
        if not isinstance(text, str) or not text or len(text) > SECRET_BLOCK_MAX:
            raise NotAuthorizedException(challenges.INVALID_SESSION)
        try:
            fernet = base64.urlsafe_b64encode(base64.b64decode(text, validate=True)).decode()
            return cls(**json.loads(crypto.decrypt(fernet)))
        except (ValueError, TypeError, binascii.Error):
            raise NotAuthorizedException(challenges.INVALID_SESSION) from None


# ------------------------------------------------------------------------------ the challenge


def start(
    *,
    pool: UserPool,
    username: str,
    srp_a: str,
    client: AppClient | None,
    context: RequestContext | None = None,
) -> Challenge:
    """USER_SRP_AUTH's first step: the PASSWORD_VERIFIER challenge for `username` (or alias)
    and the client's public value `srp_a` (hex). It has no `Session`: its SECRET_BLOCK carries
    the state. The client must allow ALLOW_USER_SRP_AUTH."""
    ensure_pool_client(pool, client)
    sign_in_checks.check_flow(client, FLOW)
    return verifier_challenge(
        pool=pool, username=username, srp_a=srp_a, client=client, context=context
    )


def verifier_challenge(
    *,
    pool: UserPool,
    username: str,
    srp_a: str,
    client: AppClient | None,
    context: RequestContext | None = None,
    custom_auth: dict | None = None,
) -> Challenge:
    """The PASSWORD_VERIFIER challenge (no flow check: the caller's flow did it). Inside
    CUSTOM_AUTH, `custom_auth` is the custom sign-in's state, kept in the session so that the
    verified password goes back to the Define trigger instead of ending the sign-in."""
    ratelimit.check(ratelimit.SIGN_IN, context)
    if not isinstance(username, str) or not username:
        raise InvalidParameterException("Missing required parameter USERNAME", field="USERNAME")
    client_public = _parse_srp_a(srp_a)
    user = find_for_sign_in(pool, username)
    if user is not None and user.srp_verifier and user.srp_salt:
        return _challenge(
            pool,
            client,
            client_public,
            known=True,
            user=user,
            name=username,
            user_id_for_srp=user.username,
            salt=user.srp_salt,
            verifier=_stored_verifier(user),
            who=lockout.subject(pool.pk, user_id=user.pk),
            data={"custom_auth": custom_auth} if custom_auth else {},
        )
    hide = pool.prevent_user_existence_errors
    if user is None and not hide:
        sign_in.record_failure(
            pool, "unknown user", username=username, client=client, context=context
        )
        raise UserNotFoundException("User does not exist.")
    if user is not None and user.status == UserStatus.RESET_REQUIRED and not hide:
        sign_in.record_failure(
            pool, "password reset required", user=user, client=client, context=context
        )
        raise PasswordResetRequiredException("Password reset required for the user")
    seed = pool.normalize(username)
    return _challenge(
        pool,
        client,
        client_public,
        known=False,
        user=None,
        name=username,
        user_id_for_srp=user.username if user else _stand_in_id(pool, username, seed),
        salt=_stand_in_salt(pool, seed),
        verifier=_stand_in_verifier(pool, seed),
        who=lockout.subject(pool.pk, user_id=user.pk if user else None, identifier=seed),
        data={},
    )


def _parse_srp_a(srp_a: object) -> int:
    """A as an integer, refused when it is not hex, too long, or 0 mod N (which would let
    a client fix the session key without the password)."""
    if not isinstance(srp_a, str) or not srp_a:
        raise InvalidParameterException("Missing required parameter SRP_A", field="SRP_A")
    hex_digits = len(srp_a) <= SRP_A_MAX_HEX and _HEX.fullmatch(srp_a)
    value = int(srp_a, 16) if hex_digits else 0
    if value % srp.N == 0:
        raise InvalidParameterException("SRP_A is not a valid SRP public value.", field="SRP_A")
    return value


def _challenge(
    pool: UserPool,
    client: AppClient | None,
    client_public: int,
    *,
    known: bool,
    user: User | None,
    name: str,
    user_id_for_srp: str,
    salt: str,
    verifier: int,
    who: str,
    data: dict,
) -> Challenge:
    """Draw the handle (and so b), compute B, store the session of a real user and wrap the
    state in the SECRET_BLOCK; an unknown user's challenge is built the same way, unstored."""
    while True:
        handle = crypto.token(48)
        server_public = srp.server_public(verifier, _server_secret(handle))
        if server_public and srp.scramble(client_public, server_public):
            break
    if known:
        challenges.start_session(
            user=user, client=client, challenge_name=CHALLENGE, data=data, token=handle
        )
    block = _Block(
        handle=handle,
        known=known,
        user_id_for_srp=user_id_for_srp,
        name=name,
        who=who,
        srp_a=format(client_public, "x"),
        pool_id=pool.pk,
        client_id=client.client_id if client else "",
        expires=(clock.now() + challenges.session_validity(pool, client)).timestamp(),
    )
    return Challenge(
        name=CHALLENGE,
        session="",
        parameters={
            "SALT": salt,
            "SRP_B": format(server_public, "x"),
            "SECRET_BLOCK": block.encode(),
            "USERNAME": user_id_for_srp,
            "USER_ID_FOR_SRP": user_id_for_srp,
        },
    )


def _server_secret(handle: str) -> int:
    """b, 512 bits derived from the session handle with the server key: nothing stores it."""
    return int(crypto.digest(f"srp-b:1:{handle}") + crypto.digest(f"srp-b:2:{handle}"), 16)


def _stored_verifier(user: User) -> int:
    return int(crypto.decrypt(user.srp_verifier), 16)


# Stand-ins for a name no verifier answers for: keyed, so only the server can tell them from a
# real user's, and stable, as a real user's salt is.


def _stand_in_salt(pool: UserPool, seed: str) -> str:
    return format(int(crypto.digest(f"srp-salt:{pool.pk}:{seed}")[:32], 16) or 1, "x")


def _stand_in_verifier(pool: UserPool, seed: str) -> int:
    blocks = (crypto.digest(f"srp-v:{index}:{pool.pk}:{seed}") for index in range(12))
    return int("".join(blocks), 16) % srp.N or 1


def _stand_in_id(pool: UserPool, typed: str, seed: str) -> str:
    """What a real user's USER_ID_FOR_SRP would look like: a UUID where usernames are UUIDs
    (email or phone sign-in), else the name as typed."""
    if pool.username_attributes:
        return str(uuid.UUID(hex=crypto.digest(f"srp-id:{pool.pk}:{seed}")[:32], version=4))
    return typed


# ---------------------------------------------------------------------------------- the answer


def _read_claim(responses: dict[str, str]) -> tuple[str, str, dt.datetime]:
    """The signature, TIMESTAMP and its moment, refused as Cognito refuses them when missing
    or malformed (before anything is spent or counted)."""
    for field in CLAIM_FIELDS:
        value = responses.get(field)
        if not isinstance(value, str) or not value:
            raise InvalidParameterException(f"Missing required parameter {field}", field=field)
    moment = srp.parse_timestamp(responses["TIMESTAMP"])
    if moment is None:
        raise InvalidParameterException(TIMESTAMP_FORMAT, field="TIMESTAMP")
    return responses["PASSWORD_CLAIM_SIGNATURE"], responses["TIMESTAMP"], moment


@challenges.opens_session(CHALLENGE)
def open_session(
    *,
    pool: UserPool,
    client: AppClient | None,
    session: str,
    responses: dict[str, str],
    context: RequestContext | None,
) -> ChallengeSession:
    """The live session the SECRET_BLOCK names (the `Session` is unused: Cognito sends none).
    An unknown user's block has no session: its answer is checked, counted and refused here,
    exactly as a real user's wrong one is."""
    _read_claim(responses)
    block = _Block.decode(responses["PASSWORD_CLAIM_SECRET_BLOCK"])
    if block.pool_id != pool.pk or block.client_id != (client.client_id if client else ""):
        raise NotAuthorizedException(challenges.INVALID_SESSION)
    if block.expires <= clock.now().timestamp():
        raise NotAuthorizedException(challenges.EXPIRED_SESSION)
    named = responses.get("USERNAME")
    if block.known:
        # A disabled user is told so only after the password, as in password sign-in.
        row = challenges.load_session(
            token=block.handle,
            challenge_name=CHALLENGE,
            pool=pool,
            client=client,
            require_enabled=False,
        )
        if named:
            found = find_for_sign_in(pool, str(named))
            if found is None or found.pk != row.user_id:
                raise NotAuthorizedException(challenges.INVALID_SESSION)
        return row
    seed = pool.normalize(block.name)
    if named and str(named) != block.user_id_for_srp and pool.normalize(str(named)) != seed:
        raise NotAuthorizedException(challenges.INVALID_SESSION)
    # Spent once, like a real session.
    spent = counters.hit(
        f"srp:spent:{crypto.digest(block.handle)}",
        timeout=int(challenges.session_validity(pool, client).total_seconds()),
    )
    if spent > 1:
        raise NotAuthorizedException(challenges.INVALID_SESSION)
    _check_claim(
        pool,
        block,
        responses,
        verifier=_stand_in_verifier(pool, seed),
        user=find_for_sign_in(pool, block.name),  # a user with no verifier, for the event
        client=client,
        context=context,
    )
    # A stand-in verifier answers no password; should a signature ever match, still refuse.
    raise NotAuthorizedException(INCORRECT)


@challenges.handles(CHALLENGE)
def answer_password_verifier(
    *,
    session: ChallengeSession,
    responses: dict[str, str],
    client: AppClient | None,
    context: RequestContext | None,
) -> Authenticated | Challenge:
    """Check the password claim against the user's verifier (once: the session is spent
    first), then the status rules and MFA of every first factor."""
    row = session
    user, pool = row.user, row.user.pool
    block = _Block.decode(responses.get("PASSWORD_CLAIM_SECRET_BLOCK"))
    if not block.known or crypto.digest(block.handle) != row.digest:
        raise NotAuthorizedException(challenges.INVALID_SESSION)
    challenges.consume(row)
    _check_claim(
        pool,
        block,
        responses,
        verifier=_stored_verifier(user) if user.srp_verifier else 0,
        user=user,
        client=client,
        context=context,
    )
    if row.data.get("custom_auth"):
        continuation = challenges.continuation_for("CUSTOM_AUTH")
        if continuation is None:
            raise NotAuthorizedException(challenges.INVALID_SESSION)
        return continuation(session=row, client=client, context=context)
    return sign_in.complete_first_factor(user=user, client=client, context=context, method="pwd")


def _check_claim(
    pool: UserPool,
    block: _Block,
    responses: dict[str, str],
    *,
    verifier: int,
    user: User | None,
    client: AppClient | None,
    context: RequestContext | None,
) -> None:
    """The one check of a password claim, for real and stand-in verifiers alike: the TIMESTAMP
    near the server's clock, the lockout (counted before verifying), then the signature with
    the key only the password's holder can derive, compared in constant time. Only a real
    user's block (`block.known`) can pass."""
    signature, timestamp, moment = _read_claim(responses)

    def refuse(reason: str) -> NotAuthorizedException:
        sign_in.record_failure(
            pool, reason, user=user, username=block.name, client=client, context=context
        )
        return NotAuthorizedException(INCORRECT)

    if abs(clock.now() - moment) > TIMESTAMP_SKEW:
        raise refuse("stale timestamp")
    try:
        counted = lockout.attempt(lockout.PASSWORD, block.who)
    except NotAuthorizedException:
        refuse("locked out")
        raise
    matches = srp.claim_is_valid(
        verifier_value=verifier,
        secret=_server_secret(block.handle),
        client_public=int(block.srp_a, 16),
        pool_name=pool.id_suffix,
        user_id=block.user_id_for_srp,
        secret_block=base64.b64decode(responses["PASSWORD_CLAIM_SECRET_BLOCK"]),
        timestamp=timestamp,
        signature=signature,
    )
    if not matches or not block.known or not verifier:
        if block.known:
            raise refuse("wrong password")
        raise refuse("no SRP verifier" if user is not None else "unknown user")
    lockout.reset(lockout.PASSWORD, block.who, counted)
