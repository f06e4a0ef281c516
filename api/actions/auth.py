"""Signing in and tokens through the JSON API: InitiateAuth, RespondToAuthChallenge,
AdminInitiateAuth, AdminRespondToAuthChallenge, GetTokensFromRefreshToken, RevokeToken,
AssociateSoftwareToken and VerifySoftwareToken, over pool/services/authenticate.py, tokens.py
and mfa.py.

InitiateAuth (and, with `admin=True`, AdminInitiateAuth) dispatches on AuthFlow through a
registry other modules add to without editing this one (api/actions/srp.py registers
USER_SRP_AUTH):

    @auth.flow("USER_SRP_AUTH")
    def start_srp(call: Call, client: AppClient, params: dict[str, str]) -> Outcome: ...

A starter receives the app client (resolved by `principals.app_client`, or within the pool for
the admin actions) and AuthParameters, checks SECRET_HASH, calls one service and returns what it
returned: `Authenticated`, the next `Challenge`, or `Tokens` already issued (a refresh).
`answer` is the one place that turns that into Cognito's answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from api import principals, wire
from api.registry import Auth, Call, action
from pool.errors import InvalidParameterException, UnauthorizedException
from pool.models import AppClient
from pool.services import authenticate, mfa, tokens
from pool.services.results import Authenticated, Challenge, Tokens

Outcome = Authenticated | Challenge | Tokens
FlowStarter = Callable[[Call, AppClient, dict[str, str]], Outcome]

# AuthFlow -> starter, for InitiateAuth and for AdminInitiateAuth.
FLOWS: dict[str, FlowStarter] = {}
ADMIN_FLOWS: dict[str, FlowStarter] = {}
# Cognito's answer to an AuthFlow the action does not take (e.g. ADMIN_NO_SRP_AUTH at
# InitiateAuth).
UNSUPPORTED_FLOW = "Initiate Auth method not supported."


def flow(name: str, *, admin: bool = False) -> Callable[[FlowStarter], FlowStarter]:
    """Register `starter` as the way InitiateAuth (AdminInitiateAuth with `admin`) begins
    AuthFlow `name`. Stack the decorator for a starter that serves several."""
    registry = ADMIN_FLOWS if admin else FLOWS

    def register(starter: FlowStarter) -> FlowStarter:
        if name in registry and registry[name] is not starter:
            raise ValueError(f"AuthFlow {name} is registered twice")
        registry[name] = starter
        return starter

    return register


def required(params: dict[str, Any], name: str) -> str:
    """A member of AuthParameters / ChallengeResponses the flow needs, as Cognito asks for it."""
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidParameterException(f"Missing required parameter {name}", field=name)
    return value


def answer(outcome: Outcome) -> dict[str, Any]:
    """Cognito's answer to a sign-in step: the next challenge (ChallengeName, Session,
    ChallengeParameters), or AuthenticationResult with tokens issued for the JSON API. A
    challenge without a session (SRP's PASSWORD_VERIFIER) has no Session member. Tokens made
    in a pool that tracks devices carry NewDeviceMetadata when the sign-in named no device of
    the user (pool.services.tokens.for_api_sign_in)."""
    if isinstance(outcome, Challenge):
        return wire.compact(
            {
                "ChallengeName": outcome.name,
                "Session": outcome.session or None,
                "ChallengeParameters": dict(outcome.parameters),
            }
        )
    issued = outcome if isinstance(outcome, Tokens) else tokens.for_api_sign_in(outcome)
    return {"ChallengeParameters": {}, "AuthenticationResult": wire.authentication_result(issued)}


# ------------------------------------------------------------------------------------ flows


@flow("USER_PASSWORD_AUTH")
@flow("ADMIN_USER_PASSWORD_AUTH", admin=True)
@flow("ADMIN_NO_SRP_AUTH", admin=True)
def start_password(call: Call, client: AppClient, params: dict[str, str]) -> Outcome:
    username = required(params, "USERNAME")
    principals.check_secret_hash(client, username=username, given=params.get("SECRET_HASH"))
    return authenticate.password(
        pool=client.pool,
        client=client,
        username=username,
        password=required(params, "PASSWORD"),
        context=call.context,
        flow=call.params["AuthFlow"],
    )


@flow("REFRESH_TOKEN_AUTH")
@flow("REFRESH_TOKEN")
@flow("REFRESH_TOKEN_AUTH", admin=True)
@flow("REFRESH_TOKEN", admin=True)
def start_refresh(call: Call, client: AppClient, params: dict[str, str]) -> Outcome:
    refresh_token = required(params, "REFRESH_TOKEN")
    principals.check_refresh_secret_hash(
        client, refresh_token=refresh_token, given=params.get("SECRET_HASH")
    )
    return tokens.refresh(
        client=client,
        refresh_token=refresh_token,
        context=call.context,
        flow=call.params["AuthFlow"],
    )


@flow("CUSTOM_AUTH")
@flow("CUSTOM_AUTH", admin=True)
def start_custom(call: Call, client: AppClient, params: dict[str, str]) -> Outcome:
    username = required(params, "USERNAME")
    principals.check_secret_hash(client, username=username, given=params.get("SECRET_HASH"))
    return authenticate.custom_auth(
        pool=client.pool,
        client=client,
        username=username,
        context=call.context,
        challenge_name=params.get("CHALLENGE_NAME"),
        srp_a=params.get("SRP_A"),
    )


@flow("USER_AUTH")
@flow("USER_AUTH", admin=True)
def start_choice(call: Call, client: AppClient, params: dict[str, str]) -> Outcome:
    username = required(params, "USERNAME")
    principals.check_secret_hash(client, username=username, given=params.get("SECRET_HASH"))
    return authenticate.choice_based(
        pool=client.pool,
        client=client,
        username=username,
        preferred_challenge=params.get("PREFERRED_CHALLENGE"),
        given_password=params.get("PASSWORD"),
        context=call.context,
    )


# ---------------------------------------------------------------------------------- sign-in


def _with_device(call: Call, params: dict[str, Any]) -> Call:
    """The call with the DEVICE_KEY its AuthParameters / ChallengeResponses name in its
    context: the sign-in's device, for the device rules (pool.services.devices)."""
    device_key = params.get("DEVICE_KEY")
    if not isinstance(device_key, str) or not device_key or call.context is None:
        return call
    return dataclasses.replace(
        call, context=dataclasses.replace(call.context, device_key=device_key)
    )


def _with_metadata(call: Call, **fields: Any) -> Call:
    """The call with its ClientMetadata in its context, for the triggers the sign-in fires:
    InitiateAuth's as the pre-authentication trigger's validationData, RespondToAuthChallenge's
    as clientMetadata (Cognito forwards InitiateAuth's to no other trigger)."""
    if call.context is None or not call.params.get("ClientMetadata"):
        return call
    metadata = call.params["ClientMetadata"]
    values = {name: metadata for name in fields}
    return dataclasses.replace(call, context=dataclasses.replace(call.context, **values))


def _answered_with_tokens(call: Call) -> Call:
    """The call with a context that says a sign-in it completes is answered with tokens
    (`answer`): the sign-in's stamps and event are then stored with the tokens' refresh
    family, in one write (pool.services.tokens.for_api_sign_in)."""
    if call.context is None:
        return call
    return dataclasses.replace(call, context=dataclasses.replace(call.context, with_tokens=True))


def _start(call: Call, client: AppClient, registry: dict[str, FlowStarter]) -> dict[str, Any]:
    starter = registry.get(call.params["AuthFlow"])
    if starter is None:
        raise InvalidParameterException(UNSUPPORTED_FLOW, field="AuthFlow")
    params = call.params.get("AuthParameters") or {}
    call = _answered_with_tokens(_with_metadata(call, validation_data=True))
    return answer(starter(_with_device(call, params), client, params))


def _respond(call: Call, client: AppClient) -> dict[str, Any]:
    responses = call.params.get("ChallengeResponses") or {}
    call = _with_device(_with_metadata(call, client_metadata=True), responses)
    call = _answered_with_tokens(call)
    principals.check_secret_hash(
        client, username=responses.get("USERNAME", ""), given=responses.get("SECRET_HASH")
    )
    return answer(
        authenticate.respond_to_challenge(
            pool=client.pool,
            client=client,
            challenge_name=call.params["ChallengeName"],
            session=call.params.get("Session") or "",
            responses=responses,
            context=call.context,
        )
    )


def _admin_client(call: Call) -> AppClient:
    return wire.get_client(wire.get_pool(call.params["UserPoolId"]), call.params["ClientId"])


@action("InitiateAuth", auth=Auth.CLIENT_ID)
def initiate_auth(call: Call) -> dict[str, Any]:
    return _start(call, principals.app_client(call.params["ClientId"]), FLOWS)


@action("RespondToAuthChallenge", auth=Auth.CLIENT_ID)
def respond_to_auth_challenge(call: Call) -> dict[str, Any]:
    return _respond(call, principals.app_client(call.params["ClientId"]))


@action("AdminInitiateAuth", auth=Auth.SIGV4)
def admin_initiate_auth(call: Call) -> dict[str, Any]:
    return _start(call, _admin_client(call), ADMIN_FLOWS)


@action("AdminRespondToAuthChallenge", auth=Auth.SIGV4)
def admin_respond_to_auth_challenge(call: Call) -> dict[str, Any]:
    return _respond(call, _admin_client(call))


# ----------------------------------------------------------------------------------- tokens


@action("GetTokensFromRefreshToken", auth=Auth.CLIENT_ID)
def get_tokens_from_refresh_token(call: Call) -> dict[str, Any]:
    client = principals.app_client(call.params["ClientId"])
    principals.check_client_secret(client, call.params.get("ClientSecret"))
    issued = tokens.refresh(
        client=client, refresh_token=call.params["RefreshToken"], context=call.context
    )
    return {"AuthenticationResult": wire.authentication_result(issued)}


@action("RevokeToken", auth=Auth.CLIENT_ID)
def revoke_token(call: Call) -> dict[str, Any]:
    client = principals.app_client(call.params["ClientId"])
    principals.check_client_secret(
        client, call.params.get("ClientSecret"), refused=UnauthorizedException
    )
    tokens.revoke(client=client, token=call.params["Token"])
    return {}


# ------------------------------------------------------------------------- software tokens


def _token_user(call: Call):
    """The user of AccessToken when the call carries one (the MFA_SETUP path carries a Session
    instead; the service refuses neither or both)."""
    access_token = call.params.get("AccessToken")
    return None if access_token is None else principals.token_user(access_token)


@action("AssociateSoftwareToken", auth=Auth.ACCESS_TOKEN)
def associate_software_token(call: Call) -> dict[str, Any]:
    secret, session = mfa.associate_software_token(
        user=_token_user(call), session=call.params.get("Session")
    )
    return wire.compact({"SecretCode": secret, "Session": session})


@action("VerifySoftwareToken", auth=Auth.ACCESS_TOKEN)
def verify_software_token(call: Call) -> dict[str, Any]:
    session = mfa.verify_software_token(
        code=call.params["UserCode"],
        user=_token_user(call),
        session=call.params.get("Session"),
        friendly_name=call.params.get("FriendlyDeviceName") or "",
        context=call.context,
    )
    return wire.compact({"Status": "SUCCESS", "Session": session})
