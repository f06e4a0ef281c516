"""Values that services return. Small, frozen, and free of HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from pool.models import AppClient, User
from pool.selectors.compiled import Writes


@dataclass(frozen=True)
class RequestContext:
    """Who is asking, for events, rate limits and audit: filled by each door from its request."""

    ip: str | None = None
    user_agent: str = ""
    source: str = "api"  # "hostedui" | "console" | "api" | "cli"
    # DEVICE_KEY the client sent with a sign-in step (a device it was given earlier), or "".
    device_key: str = ""
    # ClientMetadata of the call, for the triggers it fires: InitiateAuth's reaches the
    # pre-authentication trigger as `validationData`; RespondToAuthChallenge's reaches the
    # post-authentication and pre-token triggers as `clientMetadata` (Cognito's rule).
    validation_data: Mapping[str, str] | None = None
    client_metadata: Mapping[str, str] | None = None
    # The door answers a sign-in this call completes with tokens (the JSON API): the sign-in's
    # stamps and success event are then stored with the tokens' refresh family, in one write
    # (pool.services.tokens.for_api_sign_in); otherwise `sign_in.finish` stores them.
    with_tokens: bool = False


@dataclass(frozen=True)
class CodeDelivery:
    """Cognito's CodeDeliveryDetails."""

    destination: str  # masked, e.g. "j***@e***"
    medium: str  # "EMAIL" | "SMS"
    attribute: str  # "email" | "phone_number"


@dataclass(frozen=True)
class SignUpResult:
    user: User
    confirmed: bool
    delivery: CodeDelivery | None


@dataclass(frozen=True)
class Challenge:
    """A step the user must answer before tokens are issued. `session` is opaque and single-use."""

    name: str  # NEW_PASSWORD_REQUIRED, SOFTWARE_TOKEN_MFA, SMS_MFA, EMAIL_OTP, MFA_SETUP, ...
    session: str
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Authenticated:
    """A sign-in that passed every check: the door may now issue tokens or start a session."""

    user: User
    client: AppClient | None
    auth_time: dt.datetime
    methods: tuple[str, ...] = ("pwd",)  # amr values: pwd, otp, sms, email
    # The user's tracked device the sign-in was made on ("" when none: a new one may be made).
    device_key: str = ""
    # What the pre-token-generation trigger hears: TokenGeneration_<token_source>, and the
    # ClientMetadata of the call that finished the sign-in.
    token_source: str = "Authentication"
    client_metadata: Mapping[str, str] | None = None
    # The sign-in's stamps and success event, not stored yet when the door answers it with
    # tokens (RequestContext.with_tokens), which store them; None once stored.
    unrecorded: Writes | None = None


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_in: int
    id_token: str | None = None
    refresh_token: str | None = None
    token_type: str = "Bearer"
    # The refresh family (`origin_jti`) these tokens belong to; None for client credentials.
    # Not sent to clients: doors keep it to revoke what they issued (e.g. on code replay).
    family_id: str | None = None
    # NewDeviceMetadata: the device made for this sign-in in a pool that tracks devices.
    new_device_key: str | None = None
    new_device_group_key: str | None = None
