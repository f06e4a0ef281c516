"""Client authentication at the token and revocation endpoints (RFC 6749 §2.3).

client_secret_basic (HTTP Basic, form-urlencoded id and secret), client_secret_post (form), or,
for public clients, `client_id` alone. One method per request. A confidential client must
authenticate; a public client must not send a secret. Secrets are compared in constant time
against the decrypted value: no password hasher on this path.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import unquote_plus

from hostedui.oauth.errors import OAuthError
from pool.models import AppClient, UserPool
from pool.selectors.clients import pool_client

# Cognito's ClientId shape. Checked before the lookup, so that odd input (a NUL byte, which
# PostgreSQL cannot even compare) is an unknown client, never a database error.
CLIENT_ID = re.compile(r"^[\w+]{1,128}$", re.ASCII)


def _basic_credentials(authorization: str) -> tuple[str, str] | None:
    """(client_id, secret) from a Basic header; None when the header is not Basic."""
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise OAuthError(
            "invalid_client", "Malformed Basic credentials.", status=401, basic_auth=True
        ) from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise OAuthError(
            "invalid_client", "Malformed Basic credentials.", status=401, basic_auth=True
        )
    return unquote_plus(client_id), unquote_plus(secret)


@dataclass(frozen=True)
class Credentials:
    """A request's client credentials as sent, parsed once: the token endpoint names the
    client (to read it with the token or code) before it authenticates it, and parsing the
    Basic header twice cost as much as the constant-time secret check."""

    basic: tuple[str, str] | None  # (client_id, secret) of a Basic header that parsed
    malformed: OAuthError | None  # the refusal of a Basic header that did not parse
    form_id: str
    form_secret: str | None

    def claimed_client_id(self) -> str | None:
        """The client_id the request names (Basic credentials or the form), when it is well
        formed and the credentials parse; None otherwise. Nothing is authenticated yet: the
        token endpoint uses it to read a refresh token or code together with its client."""
        if self.malformed is not None:
            return None
        client_id = self.basic[0] if self.basic is not None else self.form_id
        return client_id if CLIENT_ID.match(client_id) else None


def credentials(*, authorization: str, form) -> Credentials:
    """The client credentials of a request (its Authorization header and form), parsed."""
    try:
        basic, malformed = (_basic_credentials(authorization) if authorization else None), None
    except OAuthError as exc:
        basic, malformed = None, exc
    return Credentials(
        basic=basic,
        malformed=malformed,
        form_id=form.get("client_id") or "",
        form_secret=form.get("client_secret"),
    )


def authenticate(
    *,
    pool: UserPool,
    authorization: str = "",
    form=None,
    client: AppClient | None = None,
    presented: Credentials | None = None,
) -> AppClient:
    """The client making this request, authenticated, or OAuthError(invalid_client).
    `client`: the pool's row for the claimed client_id when the caller already read it;
    `presented`: the request's credentials when the caller already parsed them (`credentials`),
    else they are parsed from `authorization` and `form`."""
    if presented is None:
        presented = credentials(authorization=authorization, form=form)
    if presented.malformed is not None:
        raise presented.malformed
    basic = presented.basic
    form_id, form_secret = presented.form_id, presented.form_secret
    if basic is not None:
        if form_secret is not None:
            raise OAuthError("invalid_request", "Use one client authentication method.")
        client_id, secret = basic
        if form_id and form_id != client_id:
            raise OAuthError("invalid_request", "client_id differs from the Basic credentials.")
    else:
        client_id, secret = form_id, form_secret

    def refuse(description: str) -> OAuthError:
        if basic is not None:
            return OAuthError("invalid_client", description, status=401, basic_auth=True)
        return OAuthError("invalid_client", description, status=401)

    if not client_id:
        raise refuse("Client authentication is required.")
    if not CLIENT_ID.match(client_id):
        raise refuse("Client authentication failed.")
    if client is None or client.client_id != client_id or client.pool_id != pool.pk:
        client = pool_client(pool_id=pool.pk, client_id=client_id)
    if client is None:
        raise refuse("Client authentication failed.")
    client.pool = pool  # the caller's row: no second read of the pool
    if client.is_confidential:
        if not secret or not client.check_secret(secret):
            raise refuse("Client authentication failed.")
    elif secret:
        raise refuse("This client has no secret.")
    return client
