"""The Cognito JSON API door: `POST {PUBLIC_URL}/` with `X-Amz-Target:
AWSCognitoIdentityProviderService.<Action>` and a JSON body.

In order: CORS preflight, the door's own per-IP rate limit, framing (content type, target, JSON
object), the action's authentication (SigV4 for admin actions), the request's shape against
Cognito's model, then the action's handler (api/actions/). Every answer is JSON: a service's
CognitoError through api/errors.py's table, anything unexpected as InternalErrorException.
`answer` makes it as a value (config.answers.JsonAnswer) that `endpoint` turns into Django's
response, and config.front's ApiDoor writes itself for a GetUser 200 (its hottest action).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from api import shapes, sigv4
from api.errors import (
    RequestEntityTooLargeException,
    SerializationException,
    UnknownOperationException,
    WireError,
    status_of,
)
from api.registry import ACTIONS, Auth, Call
from config.answers import JsonAnswer
from config.security import client_ip
from pool.errors import CognitoError, InternalErrorException
from pool.services import ratelimit
from pool.services.results import RequestContext

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-amz-json-1.1"
TARGET_PREFIX = "AWSCognitoIdentityProviderService."
RATE_LIMIT_SCOPE = "api"
# Browsers may call from any origin: the API authenticates by what the body or the signature
# carries, never by cookies, so a wildcard origin grants nothing.
ALLOWED_HEADERS = (
    "content-type",
    "x-amz-target",
    "x-amz-user-agent",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "authorization",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
    "cache-control",
)
EXPOSED_HEADERS = "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date"
# Every answer's CORS headers (a preflight's add what it allows).
_CORS = (("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", EXPOSED_HEADERS))
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")
# json.dumps(body, separators=(",", ":")) without a new encoder for every answer.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))


def _json_answer(
    body: dict[str, Any], status: int, request_id: str, error_code: str | None = None
) -> JsonAnswer:
    headers = (("Content-Type", CONTENT_TYPE), ("x-amzn-RequestId", request_id), *_CORS)
    if error_code is not None:
        headers = (*headers, ("x-amzn-ErrorType", error_code))
    return JsonAnswer(status, _COMPACT_JSON.encode(body).encode(), headers)


def _cors(response: HttpResponse) -> None:
    for name, value in _CORS:
        response[name] = value


def _error_answer(code: str, message: str, status: int, request_id: str) -> JsonAnswer:
    return _json_answer({"__type": code, "message": message}, status, request_id, code)


def _preflight(request: HttpRequest) -> HttpResponse:
    """Answer a CORS preflight: POST from any origin, with the headers AWS SDKs send."""
    requested = request.headers.get("Access-Control-Request-Headers", "")
    names = {n.strip().lower() for n in requested.split(",") if _HEADER_NAME.match(n.strip())}
    response = HttpResponse(status=200)
    _cors(response)
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = ", ".join(sorted(names | set(ALLOWED_HEADERS)))
    response["Access-Control-Max-Age"] = "172800"
    return response


def _operation(request: HttpRequest) -> str:
    target = request.META.get("HTTP_X_AMZ_TARGET", "")  # request.headers would copy them all
    name = target.removeprefix(TARGET_PREFIX) if target.startswith(TARGET_PREFIX) else ""
    if name not in ACTIONS:
        raise UnknownOperationException(
            f"Unknown operation {target[:128]!r}." if target else "Missing X-Amz-Target header."
        )
    return name


def _body(request: HttpRequest) -> dict[str, Any]:
    media_type = request.content_type or ""
    if media_type.lower() != CONTENT_TYPE:
        raise SerializationException(f"Content-Type must be {CONTENT_TYPE}.")
    try:
        raw = request.body
    except RequestDataTooBig:
        raise RequestEntityTooLargeException() from None
    if not raw.strip():
        return {}
    try:
        params = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise SerializationException("The request body is not valid JSON.") from None
    if not isinstance(params, dict):
        raise SerializationException("The request body must be a JSON object.")
    return params


def _dispatch(request: HttpRequest) -> dict[str, Any]:
    context = RequestContext(
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
        source="api",
    )
    if context.ip:
        ratelimit.hit(RATE_LIMIT_SCOPE, context.ip, limit=settings.RATE_LIMIT_API_PER_MINUTE)
    if request.method != "POST":
        raise UnknownOperationException("The JSON API answers POST requests only.")
    name = _operation(request)
    params = _body(request)
    action = ACTIONS[name]
    signed_by = sigv4.verify(request) if action.auth == Auth.SIGV4 else None
    shapes.validate(name, params)
    call = Call(
        action=name,
        params=shapes.without_nulls(params),
        context=context,
        access_key=signed_by.access_key if signed_by else None,
        region=signed_by.region if signed_by else None,
    )
    return action.handler(call)


def answer(request: HttpRequest) -> JsonAnswer:
    """The answer to a POST (or any method but OPTIONS): the action's result, or its error as
    Cognito shapes it."""
    request_id = str(uuid.uuid4())
    try:
        result = _dispatch(request)
    except WireError as error:
        return _error_answer(error.code, error.message, error.status, request_id)
    except CognitoError as error:
        return _error_answer(error.code, error.message, status_of(error), request_id)
    except Exception:
        log.exception("JSON API: unexpected error (request %s)", request_id)
        error = InternalErrorException()
        return _error_answer(error.code, error.message, status_of(error), request_id)
    return _json_answer(result, 200, request_id)


@csrf_exempt
def endpoint(request: HttpRequest) -> HttpResponse:
    """The one URL of the JSON API."""
    if request.method == "OPTIONS":
        return _preflight(request)
    return answer(request).http_response()
