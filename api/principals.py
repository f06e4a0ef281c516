"""Who an unsigned JSON API call speaks for: the app client its `ClientId` names (with Cognito's
SECRET_HASH for clients that have a secret), or the user its `AccessToken` belongs to. Every
ClientId and AccessToken action resolves its caller here, so the rules exist once."""

from __future__ import annotations

import base64
import hashlib
import hmac

from pool import jwt
from pool.errors import CognitoError, NotAuthorizedException, ResourceNotFoundException
from pool.models import AppClient, User
from pool.selectors import pools
from pool.selectors.clients import client_with_pool
from pool.services import tokens

CLIENT_ID_MAX = 128


def app_client(client_id: object) -> AppClient:
    """The app client `ClientId` names (its pool loaded), or Cognito's ResourceNotFoundException."""
    if not isinstance(client_id, str) or not client_id or len(client_id) > CLIENT_ID_MAX:
        raise ResourceNotFoundException("User pool client does not exist.")
    client = client_with_pool(client_id)
    if client is None:
        raise ResourceNotFoundException(f"User pool client {client_id} does not exist.")
    return client


def secret_hash(client_secret: str, username: str, client_id: str) -> str:
    """Cognito's SECRET_HASH: Base64(HMAC-SHA256(key=client secret, username + client id))."""
    mac = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def check_secret_hash(client: AppClient, *, username: str, given: object) -> None:
    """A client with a secret must prove it with SECRET_HASH over the username the call names
    (as typed); a client without one needs nothing. Compared in constant time."""
    _check_secret_hash(client, usernames=(username or "",), given=given)


def check_refresh_secret_hash(client: AppClient, *, refresh_token: object, given: object) -> None:
    """SECRET_HASH of a refresh through InitiateAuth: Cognito computes it over the username of
    the user the token was issued to; its internal id (`sub`, the username of pools that sign in
    with an email or phone) is accepted too, as clients that only hold tokens send that. A token
    that names no user is left to the refresh, which refuses it."""
    if not client.is_confidential:
        return
    owner = tokens.refresh_token_owner(client=client, refresh_token=refresh_token)
    names = (owner.username, str(owner.sub)) if owner else None
    _check_secret_hash(client, usernames=names, given=given)


def _check_secret_hash(
    client: AppClient, *, usernames: tuple[str, ...] | None, given: object
) -> None:
    if not client.is_confidential:
        return
    if not isinstance(given, str) or not given:
        raise NotAuthorizedException(
            f"Client {client.client_id} is configured with secret but SECRET_HASH was not received"
        )
    if usernames is None:
        return
    proof = given.encode("utf-8", "replace")
    matches = [
        hmac.compare_digest(
            secret_hash(client.secret_plaintext, name, client.client_id).encode(), proof
        )
        for name in usernames
    ]
    if not any(matches):
        raise NotAuthorizedException(f"Unable to verify secret hash for client {client.client_id}")


def check_client_secret(
    client: AppClient,
    given: object,
    *,
    refused: type[CognitoError] = NotAuthorizedException,
) -> None:
    """GetTokensFromRefreshToken and RevokeToken send the client secret itself: required for a
    client that has one, compared in constant time; `refused` is the error the action answers
    with (RevokeToken's is UnauthorizedException)."""
    if not client.is_confidential:
        return
    if not isinstance(given, str) or not given:
        raise refused(
            f"Client {client.client_id} is configured with secret but ClientSecret was not received"
        )
    if not client.check_secret(given):
        raise refused(f"Unable to verify client secret for client {client.client_id}")


def token_user(access_token: object) -> User:
    """The user an `AccessToken` speaks for, after every check the OAuth door makes (signature,
    expiry, revocation, user and client still valid) and Cognito's scope for user actions."""
    return token_caller(access_token)[0]


def token_caller(access_token: object, *, reading: bool = False) -> tuple[User, AppClient]:
    """`token_user`, with the app client the token was issued to: GetUser reads and
    UpdateUserAttributes writes only what that client's read/write attributes allow.
    `reading`: only the columns a read of the user needs (GetUser)."""
    invalid = NotAuthorizedException("Invalid Access Token")
    if not isinstance(access_token, str):
        raise invalid
    # Parsed once: the claimed pool finds the keys, then the same parse is verified with them.
    parsed = jwt.parse(access_token)
    if parsed is None:
        raise invalid
    pool_id = jwt.claimed_pool_id(parsed)
    # The process's copy of the pool row, checked against its config_version (one indexed
    # read), as the OAuth endpoints load it: the token's checks need only the pool's identity
    # and keys, and building the wide row through the ORM cost more than the whole check.
    # A read (GetUser) takes the copy without reading its version: the token's family brings it.
    pool, kept = None, False
    if pool_id and pools.valid_pool_id(pool_id):
        pool = pools.kept_pool(pool_id) if reading else None
        kept = pool is not None
        pool = pool or pools.cached_pool(pool_id)
    if pool is None:
        raise invalid
    return tokens.access_token_caller(
        pool=pool,
        token=parsed,
        required_scope=tokens.ADMIN_SCOPE,
        reading=reading,
        kept=kept,
    )
