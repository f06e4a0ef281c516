"""Whether a sign-in still stands, and whether a client allows an auth flow.

One check behind everything that outlives the moment of signing in: the hosted UI's session
(hostedui/session.py), an authorization code (hostedui/oauth/codes.py), a refresh token
(tokens.refresh) and an access token (tokens' userInfo and access-token checks). A sign-in
stands while its user exists and is enabled (and CONFIRMED or EXTERNAL_PROVIDER, where the door
asks), no global sign-out, password change or disable moved the user's tokens_valid_after past
it, and its client still exists and still allows the flow being used. A deleted client takes its
refresh families and authorization codes with it (CASCADE), so a family or code that loads
proves its client exists; tokens with no family (client credentials) ask `client_exists`.

Flows are checked when they are used, not when tokens were issued: a client that loses
ALLOW_REFRESH_TOKEN_AUTH refuses refresh tokens it issued before.
"""

from __future__ import annotations

import datetime as dt
import enum

from pool.errors import InvalidParameterException, NotAuthorizedException
from pool.models import AppClient, User, UserPool, UserStatus

# Cognito's AuthFlow values and the ExplicitAuthFlows entry each needs.
FLOW_SETTINGS = {
    "USER_PASSWORD_AUTH": "ALLOW_USER_PASSWORD_AUTH",
    "USER_SRP_AUTH": "ALLOW_USER_SRP_AUTH",
    "REFRESH_TOKEN_AUTH": "ALLOW_REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN": "ALLOW_REFRESH_TOKEN_AUTH",
    "CUSTOM_AUTH": "ALLOW_CUSTOM_AUTH",
    "USER_AUTH": "ALLOW_USER_AUTH",
    "ADMIN_USER_PASSWORD_AUTH": "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ADMIN_NO_SRP_AUTH": "ALLOW_ADMIN_USER_PASSWORD_AUTH",
}
REFRESH = "REFRESH_TOKEN_AUTH"
# The statuses of a user whose sign-in counts as confirmed: a native user who confirmed, and a
# federated one (EXTERNAL_PROVIDER), whom the upstream provider vouches for.
CONFIRMED_STATUSES = frozenset({UserStatus.CONFIRMED, UserStatus.EXTERNAL_PROVIDER})


class Lapse(enum.Enum):
    """Why a sign-in no longer stands."""

    USER_GONE = "user gone"
    USER_DISABLED = "user disabled"
    USER_NOT_CONFIRMED = "user not confirmed"
    SIGNED_OUT = "signed out"  # tokens_valid_after is after the sign-in
    FLOW_NOT_ALLOWED = "flow not allowed"


def flow_allowed(client: AppClient | None, flow: str) -> bool:
    """Whether the client's explicit_auth_flows allow the AuthFlow `flow`."""
    setting = FLOW_SETTINGS.get(flow)
    return client is not None and setting is not None and setting in client.explicit_auth_flows


def check_flow(client: AppClient | None, flow: str) -> None:
    """InvalidParameterException (field "AuthFlow") unless the client allows `flow`, with
    Cognito's messages: "USER_PASSWORD_AUTH flow not enabled for this client" (InitiateAuth),
    "Auth flow not enabled for this client" (the ADMIN_ flows)."""
    if flow not in FLOW_SETTINGS:
        raise InvalidParameterException(f"Unsupported auth flow {flow!r}.", field="AuthFlow")
    if not flow_allowed(client, flow):
        name = "Auth" if flow.startswith("ADMIN_") else flow
        raise InvalidParameterException(
            f"{name} flow not enabled for this client", field="AuthFlow"
        )


def client_exists(*, pool: UserPool, client_id: object) -> bool:
    """Whether the app client a token names is still one of the pool's."""
    if not isinstance(client_id, str) or not client_id:
        return False
    return AppClient.objects.filter(pool=pool, client_id=client_id).exists()


def _revoked_before(user: User, signed_in_at: dt.datetime | int) -> bool:
    """Whether the user's tokens_valid_after is after the sign-in. An int is a JWT NumericDate
    (`iat`, whole seconds) and is compared at that resolution."""
    cutoff = user.tokens_valid_after
    if cutoff is None:
        return False
    if isinstance(signed_in_at, int):
        return signed_in_at < int(cutoff.timestamp())
    return signed_in_at < cutoff


def lapse(
    *,
    user: User | None,
    client: AppClient | None,
    signed_in_at: dt.datetime | int,
    flow: str | None = None,
    require_confirmed: bool = False,
) -> Lapse | None:
    """Why the sign-in of `user` through `client` at `signed_in_at` no longer stands, or None.
    `client` None means a sign-in not bound to an app client (the hosted UI's own session);
    `flow` is the AuthFlow about to be used (REFRESH_TOKEN_AUTH for a refresh)."""
    if user is None:
        return Lapse.USER_GONE
    if not user.enabled:
        return Lapse.USER_DISABLED
    if require_confirmed and user.status not in CONFIRMED_STATUSES:
        return Lapse.USER_NOT_CONFIRMED
    if _revoked_before(user, signed_in_at):
        return Lapse.SIGNED_OUT
    if flow is not None and not flow_allowed(client, flow):
        return Lapse.FLOW_NOT_ALLOWED
    return None


def sign_in_valid(
    *,
    user: User | None,
    client: AppClient | None,
    signed_in_at: dt.datetime | int,
    flow: str | None = None,
    require_confirmed: bool = False,
) -> bool:
    """Whether the sign-in still stands (see `lapse`)."""
    return (
        lapse(
            user=user,
            client=client,
            signed_in_at=signed_in_at,
            flow=flow,
            require_confirmed=require_confirmed,
        )
        is None
    )


def check_still_valid(
    *,
    user: User | None,
    client: AppClient | None,
    signed_in_at: dt.datetime | int,
    revoked: str,
    flow: str | None = None,
    require_confirmed: bool = False,
) -> None:
    """Raise unless the sign-in still stands: NotAuthorizedException "User is disabled." for a
    disabled user, the flow's InvalidParameterException (check_flow) for a flow the client no
    longer allows, and NotAuthorizedException(`revoked`) otherwise; each door words `revoked`
    as Cognito does for what it holds ("Invalid Refresh Token", "Access Token has been
    revoked", ...)."""
    why = lapse(
        user=user,
        client=client,
        signed_in_at=signed_in_at,
        flow=flow,
        require_confirmed=require_confirmed,
    )
    if why is None:
        return
    if why is Lapse.USER_DISABLED:
        raise NotAuthorizedException("User is disabled.")
    if why is Lapse.FLOW_NOT_ALLOWED:
        check_flow(client, flow)
    raise NotAuthorizedException(revoked)
