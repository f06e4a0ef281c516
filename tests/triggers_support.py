"""A real webhook receiver on loopback (http.server in a thread) and Python trigger handlers,
shared by the trigger tests of every door."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = "webhook-secret-for-tests-0123456789"


@dataclass
class Received:
    """One POST the receiver got: the parsed event and the signature headers."""

    event: dict[str, Any]
    body: bytes
    timestamp: str
    signature: str

    def signed_correctly(self, secret: str = SECRET) -> bool:
        expected = hmac.new(
            secret.encode(), self.timestamp.encode() + b"." + self.body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(expected, self.signature)


# What the receiver answers an event with: (HTTP status, body as bytes or a JSON value).
Answer = Callable[[dict[str, Any]], tuple[int, Any]]


def echo(event: dict[str, Any]) -> tuple[int, Any]:
    """A trigger that changes nothing: the event back, as a Lambda that returns it."""
    return 200, event


def responding(**response: Any) -> Answer:
    """A trigger that fills `response` with these fields."""

    def answer(event: dict[str, Any]) -> tuple[int, Any]:
        event["response"] = {**(event.get("response") or {}), **response}
        return 200, event

    return answer


def refusing(message: str, status: int = 400) -> Answer:
    """A trigger that throws: Lambda's error body."""
    return lambda event: (status, {"errorMessage": message, "errorType": "Error"})


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    answer: Answer = echo
    delay: float = 0.0

    def events(self, source_prefix: str = "") -> list[dict[str, Any]]:
        return [
            r.event for r in self.received if r.event["triggerSource"].startswith(source_prefix)
        ]

    def last(self, source_prefix: str = "") -> dict[str, Any]:
        return self.events(source_prefix)[-1]


def serve() -> tuple[Receiver, ThreadingHTTPServer]:
    """Start a receiver on 127.0.0.1 (a free port); the caller shuts the server down."""
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            receiver = holder["receiver"]
            body = self.rfile.read(int(self.headers["Content-Length"]))
            event = json.loads(body)
            receiver.received.append(
                Received(
                    event=json.loads(body),
                    body=body,
                    timestamp=self.headers.get("X-Cognate-Timestamp", ""),
                    signature=self.headers.get("X-Cognate-Signature", ""),
                )
            )
            if receiver.delay:
                time.sleep(receiver.delay)
            status, answer = receiver.answer(event)
            data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the caller gave up (timeout)
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    holder["receiver"] = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hook")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return holder["receiver"], server


# ------------------------------------------------------------------- Python handlers


def aws_pre_sign_up_handler(event, context):
    """AWS's documented pre sign-up example (Developer Guide, "Pre sign-up Lambda trigger",
    Python, MIT-0), unchanged: auto-confirm users whose email domain equals custom:domain."""
    # It sets the user pool autoConfirmUser flag after validating the email domain
    event["response"]["autoConfirmUser"] = False

    # Split the email address so we can compare domains
    address = event["request"]["userAttributes"]["email"].split("@")

    # This example uses a custom attribute 'custom:domain'
    if "custom:domain" in event["request"]["userAttributes"]:  # noqa: SIM102
        if event["request"]["userAttributes"]["custom:domain"] == address[1]:
            event["response"]["autoConfirmUser"] = True

    # Return to Amazon Cognito
    return event


SEEN_CONTEXTS: list[dict[str, Any]] = []


def context_recorder(event, context):
    """Keeps what a handler can read from its Lambda context."""
    SEEN_CONTEXTS.append(
        {
            "function_name": context.function_name,
            "aws_request_id": context.aws_request_id,
            "remaining": context.get_remaining_time_in_millis(),
            "memory_limit_in_mb": context.memory_limit_in_mb,
        }
    )
    return event


def deny_maintenance(event, context):
    raise Exception("Sign-in is closed for maintenance")


def returns_nothing(event, context):
    return None


not_callable = "a string, not a function"


def migration_racing_a_sign_up(event, context):
    """A migration handler during whose call the same name is created in the pool (another
    request's sign-up winning the race), with the test suite's default password."""
    from pool.models import UserPool
    from tests import factories

    pool = UserPool.objects.get(pk=event["userPoolId"])
    factories.make_user(pool, event["userName"], email="winner@example.com")
    event["response"]["userAttributes"] = {"email": "legacy@example.com"}
    event["response"]["finalUserStatus"] = "CONFIRMED"
    return event
