"""A Cognate trigger webhook in the standard library only: it checks Cognate's signature and
runs an unchanged Lambda handler (here AWS's documented pre sign-up example).

    COGNATE_WEBHOOK_SECRET=... python -m examples.webhook 8081
    manage.py settrigger POOL_ID PreSignUp --webhook https://hooks.example.com/ --secret "$SECRET"

Behind TLS in production (Cognate calls plain http only on loopback). A handler that raises is
answered as a Lambda that throws: a non-2xx status with {"errorMessage": ...}, which Cognate
reports as UserLambdaValidationException.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# How old a signed request may be, against replays of a captured one.
MAX_AGE_SECONDS = 300


def lambda_handler(event, context):
    """AWS's pre sign-up example (Developer Guide, Python, MIT-0), unchanged."""
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


def signed_correctly(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """Cognate's X-Cognate-Signature: hex HMAC-SHA256(secret, timestamp + "." + body), with a
    recent timestamp."""
    try:
        fresh = abs(time.time() - int(timestamp)) <= MAX_AGE_SECONDS
    except ValueError:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return fresh and hmac.compare_digest(expected.hexdigest(), signature)


def make_server(
    secret: str, handler: Callable = lambda_handler, port: int = 0
) -> ThreadingHTTPServer:
    """An HTTP server on 127.0.0.1 that answers Cognate's trigger calls with `handler`."""

    class Webhook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            timestamp = self.headers.get("X-Cognate-Timestamp", "")
            signature = self.headers.get("X-Cognate-Signature", "")
            if not signed_correctly(secret, timestamp, body, signature):
                return self._answer(401, {"errorMessage": "bad signature"})
            try:
                answer = handler(json.loads(body), None)
            except Exception as error:  # a Lambda that throws
                return self._answer(400, {"errorMessage": str(error)})
            return self._answer(200, answer)

        def _answer(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):  # events hold personal data: keep them out of logs
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), Webhook)


if __name__ == "__main__":
    server = make_server(os.environ["COGNATE_WEBHOOK_SECRET"], port=int(sys.argv[1]))
    print(f"listening on http://127.0.0.1:{server.server_address[1]}/")
    server.serve_forever()
