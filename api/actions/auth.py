"""Signing in through the JSON API: InitiateAuth and RespondToAuthChallenge, over
pool/services/authenticate.py.

InitiateAuth dispatches on AuthFlow through FLOWS, a registry other modules add to without
editing this one (api/actions/srp.py registers USER_SRP_AUTH):

    @auth.flow("USER_SRP_AUTH")
    def start_srp(call: Call, client: AppClient, params: dict[str, str]) -> Outcome: ...

A starter receives the app client (resolved by `principals.app_client`) and AuthParameters, and
returns what the services returned: `Authenticated`, the next `Challenge`, or `Tokens` already
issued (a refresh). `answer` is the one place that turns that into Cognito's answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api import principals, wire
from api.registry import Auth, Call, action
from pool.errors import InvalidParameterException
from pool.models import AppClient
from pool.services import authenticate, tokens
from pool.services.results import Authenticated, Challenge, Tokens

Outcome = Authenticated | Challenge | Tokens
FlowStarter = Callable[[Call, AppClient, dict[str, str]], Outcome]

FLOWS: dict[str, FlowStarter] = {}


def flow(name: str) -> Callable[[FlowStarter], FlowStarter]:
    """Register `starter` as the way InitiateAuth begins AuthFlow `name`."""

    def register(starter: FlowStarter) -> FlowStarter:
        if name in FLOWS and FLOWS[name] is not starter:
            raise ValueError(f"AuthFlow {name} is registered twice")
        FLOWS[name] = starter
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
    ChallengeParameters), or AuthenticationResult with tokens issued for the JSON API."""
    if isinstance(outcome, Challenge):
        return {
            "ChallengeName": outcome.name,
            "Session": outcome.session,
            "ChallengeParameters": dict(outcome.parameters),
        }
    issued = outcome if isinstance(outcome, Tokens) else tokens.for_api_sign_in(outcome)
    return {"ChallengeParameters": {}, "AuthenticationResult": wire.authentication_result(issued)}


# ------------------------------------------------------------------------------------ flows


@flow("USER_PASSWORD_AUTH")
def start_password(call: Call, client: AppClient, params: dict[str, str]) -> Outcome:
    username = required(params, "USERNAME")
    principals.check_secret_hash(client, username=username, given=params.get("SECRET_HASH"))
    return authenticate.password(
        pool=client.pool,
        client=client,
        username=username,
        password=required(params, "PASSWORD"),
        context=call.context,
        flow="USER_PASSWORD_AUTH",
    )


# ---------------------------------------------------------------------------------- actions


@action("InitiateAuth", auth=Auth.CLIENT_ID)
def initiate_auth(call: Call) -> dict[str, Any]:
    client = principals.app_client(call.params["ClientId"])
    name = call.params["AuthFlow"]
    starter = FLOWS.get(name)
    if starter is None:
        raise InvalidParameterException(f"Unsupported auth flow {name}.", field="AuthFlow")
    return answer(starter(call, client, call.params.get("AuthParameters") or {}))


@action("RespondToAuthChallenge", auth=Auth.CLIENT_ID)
def respond_to_auth_challenge(call: Call) -> dict[str, Any]:
    client = principals.app_client(call.params["ClientId"])
    responses = call.params.get("ChallengeResponses") or {}
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
