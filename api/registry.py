"""The JSON API's actions: one registry from Cognito's operation name to its handler and the
way its caller proves who it is.

A handler is thin: it reads the (already shape-checked) parameters, calls one service, and
returns the answer as a dict in Cognito's shape. Adding an action is one decorated function in
api/actions/; the door (api/views.py) does framing, authentication, validation and errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from api import shapes
from api.models import AccessKey
from pool.services.results import RequestContext


class Auth(StrEnum):
    CLIENT_ID = "ClientId"  # unsigned; the body names an app client (SignUp, InitiateAuth...)
    ACCESS_TOKEN = "AccessToken"  # unsigned; the body carries a user's access token
    SIGV4 = "SigV4"  # signed with an access key (every admin action)


@dataclass(frozen=True)
class Call:
    """One verified, shape-checked call, as a handler sees it."""

    action: str
    params: dict[str, Any]
    context: RequestContext
    # Set for SigV4 calls: the key that signed, and the region of its credential scope.
    access_key: AccessKey | None = None
    region: str | None = None


Handler = Callable[[Call], dict[str, Any]]


@dataclass(frozen=True)
class Action:
    name: str
    handler: Handler
    auth: Auth


ACTIONS: dict[str, Action] = {}


def action(name: str, *, auth: Auth) -> Callable[[Handler], Handler]:
    """Register `handler` as Cognito's operation `name`."""
    if name not in shapes.operation_names():
        raise ValueError(f"{name} is not an operation of Cognito's service model")

    def register(handler: Handler) -> Handler:
        if name in ACTIONS:
            raise ValueError(f"{name} is registered twice")
        ACTIONS[name] = Action(name=name, handler=handler, auth=auth)
        return handler

    return register
