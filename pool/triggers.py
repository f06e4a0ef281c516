"""Cognito-shaped trigger events, sent to a webhook or a Python callable.

Services call `fire(...)` (nothing else does: never a door), so a trigger fires alike from every
door. A pool configures at most one trigger per kind (`pool.models.Trigger`):

- a **webhook**: the event JSON is POSTed to an https (or loopback http) URL with
  `X-Cognate-Timestamp` (unix seconds) and `X-Cognate-Signature` = hex HMAC-SHA256(secret,
  timestamp + "." + body). A 2xx answer carries the event back with `response` filled in, as a
  Lambda returns it. A non-2xx answer whose JSON body has a string `errorMessage` (what Lambda
  sends for a handler that raised) is the handler's refusal; any other non-2xx, a timeout
  (settings.TRIGGER_TIMEOUT, Cognito's 5 s) or an unreachable host is an invocation failure.
  One `requests.Session` per process keeps connections open between calls.
- a **Python callable** by dotted path, called as a Lambda handler: `handler(event, context)`
  with a `LambdaContext`; raising refuses, returning the event (response filled) answers.

Outcomes, with Cognito's errors (shared/reference/cognito-srp-triggers.md, B4):
- the handler refuses -> UserLambdaValidationException "<Kind> failed with error <message>."
- timeout, unreachable, non-2xx -> UnexpectedLambdaException
  "<Kind> invocation failed due to error <detail>."
- an answer that is not the event -> InvalidLambdaResponseException "Unrecognizable lambda output"

Each call writes one `TriggerInvocation` row (no event, code or secret in it).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
import ipaddress
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.module_loading import import_string

from pool import metrics
from pool.errors import (
    InvalidLambdaResponseException,
    InvalidParameterException,
    UnexpectedLambdaException,
    UserLambdaValidationException,
)
from pool.models import AppClient, Trigger, TriggerInvocation, TriggerKind, User, UserPool
from pool.models.pool import bump_config_version

if TYPE_CHECKING:
    import requests

NOT_APPLICABLE = "CLIENT_ID_NOT_APPLICABLE"  # callerContext.clientId of admin operations
SDK_VERSION = "aws-sdk-unknown-unknown"
UNRECOGNIZABLE = "Unrecognizable lambda output"
TIMEOUT = "Socket timeout while invoking"
# The largest answer read from a webhook (an event with its response is a few kilobytes).
MAX_ANSWER_BYTES = 1024 * 1024
TIMESTAMP_HEADER = "X-Cognate-Timestamp"
SIGNATURE_HEADER = "X-Cognate-Signature"
PYTHON_PREFIX = "python:"  # how LambdaConfig names a callable where Cognito takes an ARN
# How long the kinds of a pool's triggers stay cached (they are also dropped on every change).


# ------------------------------------------------------------------------------- events


def user_attributes(user: User) -> dict[str, str]:
    """`request.userAttributes` as Cognito shapes them: strings, `sub` and
    `cognito:user_status` included."""
    attributes = user.attribute_map()
    attributes["cognito:user_status"] = str(user.status)
    return attributes


def event(
    pool: UserPool,
    *,
    trigger_source: str,
    user_name: str,
    client: AppClient | None,
    request: dict[str, Any],
    response: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Cognito's envelope (version "1", region, userPoolId, userName, callerContext,
    triggerSource, request, response). Admin operations have no client:
    callerContext.clientId is CLIENT_ID_NOT_APPLICABLE, as in Cognito."""
    return {
        "version": "1",
        "region": pool.region,
        "userPoolId": pool.id,
        "userName": user_name,
        "callerContext": {
            "awsSdkVersion": SDK_VERSION,
            "clientId": client.client_id if client is not None else NOT_APPLICABLE,
        },
        "triggerSource": trigger_source,
        "request": request,
        "response": response if response is not None else {},
    }


# --------------------------------------------------------------------------- configuration


# pool id -> (config_version, kinds): the pool's version changes with every trigger saved or
# deleted (pool.selectors.pools), so this never outlives a change, in any process.
_kinds: dict[str, tuple[int, frozenset[str]]] = {}


def configured_kinds(pool: UserPool) -> frozenset[str]:
    """The kinds of trigger the pool has, kept per process for the pool's config_version (one
    query when it changed): a pool without triggers pays no query and no cache round trip on
    the hot paths (token refresh, code exchange)."""
    known = _kinds.get(pool.pk)
    if known is not None and known[0] == pool.config_version:
        return known[1]
    kinds = frozenset(Trigger.objects.filter(pool=pool).values_list("kind", flat=True))
    _kinds[pool.pk] = (pool.config_version, kinds)
    return kinds


def forget_configuration(pool: UserPool) -> None:
    """The pool's triggers changed: a new config_version (in the caller's transaction) makes
    every process read their kinds again."""
    bump_config_version(pool)
    _kinds.pop(pool.pk, None)


def configured(pool: UserPool, kind: str) -> Trigger | None:
    """The pool's trigger of this kind, if any."""
    if kind not in configured_kinds(pool):
        return None
    return Trigger.objects.filter(pool=pool, kind=kind).first()


def _is_loopback_ip(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_webhook_url(url: str) -> None:
    """A webhook is https, or plain http only to this machine (loopback), so an event (with
    its user attributes) never crosses a network unencrypted."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and host and (host == "localhost" or _is_loopback_ip(host)):
        return
    raise InvalidParameterException(
        "A trigger webhook must be an https URL (or http to a loopback address).", field="url"
    )


def check_callable(path: str) -> None:
    """A Python trigger names an importable callable (module.function)."""
    try:
        handler = import_string(path)
    except ImportError as exc:
        raise InvalidParameterException(
            f"Cannot import the trigger handler {path!r}: {exc}", field="callable"
        ) from None
    if not callable(handler):
        raise InvalidParameterException(f"{path!r} is not callable.", field="callable")


# ------------------------------------------------------------------------------- invoking


@dataclass
class LambdaContext:
    """What a Lambda handler receives as `context`, with Lambda's common attributes."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    invoked_function_arn: str = ""
    memory_limit_in_mb: int = 128
    log_group_name: str = ""
    log_stream_name: str = ""
    identity: Any = None
    client_context: Any = None
    deadline: float = 0.0  # time.monotonic() when the call runs out of time

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class _Failure(Exception):
    """How one transport reports an outcome to `invoke` (status, message)."""

    def __init__(self, status: str, message: str):
        self.status = status
        self.message = message
        super().__init__(message)


@functools.cache
def _session() -> requests.Session:
    """One HTTP session per process: keep-alive connections to the pool's webhooks."""
    import requests  # noqa: PLC0415 (about 8 MB a worker: only webhook triggers need it)

    return requests.Session()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The webhook signature: hex HMAC-SHA256(secret, timestamp + "." + body)."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _read_answer(answer: requests.Response, deadline: float) -> bytes:
    """The answer's body, read within the call's total time (a webhook that trickles bytes
    cannot hold a sign-in past the limit) and at most MAX_ANSWER_BYTES."""
    chunks, size = [], 0
    for chunk in answer.iter_content(chunk_size=16384):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise _Failure(TriggerInvocation.Status.INVALID, UNRECOGNIZABLE)
        if time.monotonic() > deadline:
            raise _Failure(TriggerInvocation.Status.FAILED, TIMEOUT)
        chunks.append(chunk)
    return b"".join(chunks)


def _call_webhook(trigger: Trigger, payload: dict[str, Any], timeout: float) -> Any:
    import requests  # noqa: PLC0415 (see _session)

    body = json.dumps(payload, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(trigger.secret, timestamp, body),
    }
    deadline = time.monotonic() + timeout
    try:
        with _session().post(
            trigger.target,
            data=body,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        ) as answer:
            status, content = answer.status_code, _read_answer(answer, deadline)
    except requests.Timeout:
        raise _Failure(TriggerInvocation.Status.FAILED, TIMEOUT) from None
    except requests.RequestException as exc:
        raise _Failure(
            TriggerInvocation.Status.FAILED, f"Could not reach the webhook ({type(exc).__name__})"
        ) from None
    try:
        parsed = json.loads(content)
    except ValueError:
        parsed = None
    if not 200 <= status < 300:
        if isinstance(parsed, dict) and isinstance(parsed.get("errorMessage"), str):
            raise _Failure(TriggerInvocation.Status.DENIED, parsed["errorMessage"])
        raise _Failure(TriggerInvocation.Status.FAILED, f"HTTP status {status}")
    return parsed


def _call_python(trigger: Trigger, payload: dict[str, Any], timeout: float) -> Any:
    try:
        handler = import_string(trigger.target)
    except ImportError:
        raise _Failure(TriggerInvocation.Status.FAILED, "Handler not importable") from None
    started = time.monotonic()
    context = LambdaContext(function_name=trigger.target, deadline=started + timeout)
    try:
        result = handler(payload, context)
    except Exception as exc:  # the handler's refusal, as a Lambda that raises
        raise _Failure(TriggerInvocation.Status.DENIED, str(exc)) from None
    if time.monotonic() - started > timeout:
        # A callable cannot be interrupted; one that overran is treated as Lambda treats it.
        raise _Failure(TriggerInvocation.Status.FAILED, TIMEOUT)
    return result


def invoke(pool: UserPool, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    """Run the pool's `kind` trigger on `payload` (an `event(...)`) and return the `response`
    part of its answer; None when the pool has no such trigger. Raises Cognito's errors."""
    trigger = configured(pool, kind)
    if trigger is None:
        return None
    return run(trigger, payload)


def run(
    trigger: Trigger, payload: dict[str, Any], *, answer_expected: bool = True
) -> dict[str, Any]:
    """Call one configured trigger; log the call; return the answer's `response` object.
    A trigger whose answer Cognito ignores (`answer_expected=False`: the custom senders)
    may answer anything; its response is then {}."""
    kind = TriggerKind(trigger.kind).value
    timeout = settings.TRIGGER_TIMEOUT
    started = time.monotonic()
    status, error = TriggerInvocation.Status.OK, ""
    try:
        call = _call_webhook if trigger.transport == Trigger.Transport.WEBHOOK else _call_python
        answer = call(trigger, copy.deepcopy(payload), timeout)
        response = answer.get("response") if isinstance(answer, dict) else None
        if not answer_expected:
            return response if isinstance(response, dict) else {}
        if not isinstance(response, dict):
            raise _Failure(TriggerInvocation.Status.INVALID, UNRECOGNIZABLE)
        return response
    except _Failure as failure:
        status, error = failure.status, failure.message
        if status == TriggerInvocation.Status.DENIED:
            raise UserLambdaValidationException(
                f"{kind} failed with error {failure.message}."
            ) from None
        if status == TriggerInvocation.Status.INVALID:
            raise InvalidLambdaResponseException(UNRECOGNIZABLE) from None
        raise UnexpectedLambdaException(
            f"{kind} invocation failed due to error {failure.message}."
        ) from None
    finally:
        metrics.trigger_called(kind, str(status))
        TriggerInvocation.objects.create(
            pool_id=trigger.pool_id,
            kind=trigger.kind,
            trigger_source=str(payload.get("triggerSource", ""))[:64],
            status=status,
            duration_ms=int((time.monotonic() - started) * 1000),
            error=error[:512],
        )


def fire(
    pool: UserPool,
    kind: str,
    *,
    trigger_source: str,
    user_name: str,
    client: AppClient | None,
    request: dict[str, Any],
    response: dict[str, Any] | None = None,
    answer_expected: bool = True,
) -> dict[str, Any] | None:
    """Build the event and invoke the pool's `kind` trigger; None when none is configured (the
    event is then not even built). The one entry point services use."""
    trigger = configured(pool, kind)
    if trigger is None:
        return None
    payload = event(
        pool,
        trigger_source=trigger_source,
        user_name=user_name,
        client=client,
        request=request,
        response=response,
    )
    return run(trigger, payload, answer_expected=answer_expected)


# ---------------------------------------------------------------- events fired by many services


def request_for(
    user: User, *, client_metadata: dict[str, str] | None = None, **fields: Any
) -> dict[str, Any]:
    """A `request` with the user's attributes, `clientMetadata` when the call carried it, and
    the trigger's own `fields`."""
    request: dict[str, Any] = {"userAttributes": user_attributes(user), **fields}
    if client_metadata:
        request["clientMetadata"] = dict(client_metadata)
    return request


def post_confirmation(
    user: User,
    *,
    trigger_source: str,
    client: AppClient | None,
    client_metadata: dict[str, str] | None = None,
) -> None:
    """PostConfirmation_ConfirmSignUp / _ConfirmForgotPassword, fired after the confirmation
    committed: the response is ignored; a failure reaches the caller (as Cognito reports it)
    while the confirmation stands."""
    fire(
        user.pool,
        TriggerKind.POST_CONFIRMATION,
        trigger_source=trigger_source,
        user_name=user.username,
        client=client,
        request=request_for(user, client_metadata=client_metadata),
    )
