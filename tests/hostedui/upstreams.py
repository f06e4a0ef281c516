"""Upstream identity providers for the federation tests, each on a free loopback port.

- `OidcProviderUpstream`: the npm registry's OpenID-certified `oidc-provider`, run with the
  machine's Node.js (tests/node/oidc_upstream.mjs).
- `StandIn`: a small provider of our own for what a real provider never does on purpose: ID
  tokens with another audience, expired, signed by another key, with an earlier round's nonce.
  It only serves documents and signs tokens (joserfc); the validation under test is the real
  library's, in hostedui/federation/oidc.py. It also answers Facebook's Graph `/me` and Login
  with Amazon's `/user/profile`, for the presets' claim extraction.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.api.js_clients import NODE, NODE_DIR
from tests.hostedui.conftest import CALLBACK, exchange_code

STANDIN_CLIENT_ID = "standin-client"
STANDIN_SECRET = "standin-secret-0123456789"


class OidcProviderUpstream:
    """oidc-provider with one client (ours) and a few accounts; stopped by `close()`."""

    def __init__(self, *, clients: list[dict], accounts: dict[str, dict]) -> None:
        assert NODE, "node is not installed"
        settings = {"port": 0, "clients": clients, "accounts": accounts}
        self.process = subprocess.Popen(
            [NODE, str(Path(NODE_DIR) / "oidc_upstream.mjs"), json.dumps(settings)],
            cwd=NODE_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.process.stdout.readline()
        assert line, "oidc-provider did not start"
        self.issuer = json.loads(line)["issuer"]

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    @staticmethod
    def sign_in(browser: requests.Session, page: requests.Response, account: str):
        """Submit the library's development login form (any password) on `page`."""
        action = re.search(r'<form[^>]*action="([^"]+)"', page.text)
        assert action, page.text[:500]
        url = requests.compat.urljoin(page.url, action.group(1))
        return browser.post(
            url,
            data={"prompt": "login", "login": account, "password": "any"},
            allow_redirects=False,
        )


@functools.cache
def _rsa_key(which: str) -> RSAKey:
    """The stand-in's signing key, and another with the same kid (made once per run)."""
    return RSAKey.generate_key(2048, parameters={"kid": "standin-1"})


class StandIn:
    """A loopback OpenID provider whose next ID token a test shapes (`overrides`, `sign_with`)."""

    def __init__(self) -> None:
        self.key = _rsa_key("own")
        self.other_key = _rsa_key("other")
        self.sign_with = self.key
        self.subject = "standin-user-1"
        self.nonce = ""  # set by `authorized()` from the authorization URL we were sent to
        self.claims: dict[str, Any] = {"email": "sam@example.com", "email_verified": True}
        self.overrides: dict[str, Any] = {}
        self.profile: dict[str, Any] = {}  # Facebook /me and Amazon /user/profile answers
        self.token_requests: list[dict[str, list[str]]] = []
        self.profile_requests: list[dict[str, list[str]]] = []
        self.error: str = ""  # answer the token request with this OAuth error
        self.auth_methods: list[str] | None = None  # token_endpoint_auth_methods_supported
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _json(self, body: dict, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                if parts.path == "/.well-known/openid-configuration":
                    return self._json(standin.discovery())
                if parts.path == "/moved/.well-known/openid-configuration":
                    # Issuer `/moved` publishes its document behind a redirect.
                    self.send_response(302)
                    self.send_header("Location", "/moved-here")
                    self.send_header("Content-Length", "0")
                    return self.end_headers()
                if parts.path == "/moved-here":
                    return self._json({**standin.discovery(), "issuer": f"{standin.issuer}/moved"})
                if parts.path == "/jwks":
                    return self._json({"keys": [standin.key.as_dict(private=False)]})
                if parts.path == "/userinfo":
                    return self._json({"sub": standin.subject, **standin.claims})
                if parts.path == "/token":  # Facebook's token_request_method is GET
                    standin.token_requests.append(parse_qs(parts.query))
                    return self._json(standin.token_response())
                if parts.path in ("/me", "/user/profile"):
                    standin.profile_requests.append(
                        {
                            **parse_qs(parts.query),
                            "_authorization": [self.headers.get("Authorization", "")],
                        }
                    )
                    return self._json(standin.profile)
                return self._json({"error": "not_found"}, 404)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                form["_authorization"] = [self.headers.get("Authorization", "")]
                if urlsplit(self.path).path != "/token":
                    return self._json({"error": "not_found"}, 404)
                standin.token_requests.append(form)
                if standin.error:
                    return self._json({"error": standin.error}, 400)
                return self._json(standin.token_response())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def discovery(self) -> dict:
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
        }
        if self.auth_methods is not None:
            document["token_endpoint_auth_methods_supported"] = self.auth_methods
        return document

    def authorized(self, location: str) -> dict[str, str]:
        """The parameters of the authorization URL Cognate sent the browser to; remembers its
        nonce for the next ID token."""
        assert location.startswith(f"{self.issuer}/authorize?"), location
        params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        self.nonce = params.get("nonce", "")
        return params

    def id_token(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": STANDIN_CLIENT_ID,
            "sub": self.subject,
            "iat": now,
            "exp": now + 300,
            "nonce": self.nonce,
            **self.claims,
            **self.overrides,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode({"alg": "RS256", "kid": "standin-1"}, claims, self.sign_with)

    def token_response(self) -> dict:
        return {
            "access_token": "standin-access-token",
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": self.id_token(),
        }

    def appsecret_proof(self, secret: str) -> str:
        return hmac.new(secret.encode(), b"standin-access-token", hashlib.sha256).hexdigest()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------ a test's side of the trip


def params_of(location: str) -> dict[str, str]:
    parts = urlsplit(location)
    return {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}


def to_app(response) -> dict[str, str]:
    """The parameters of a redirect back to the app's callback."""
    assert response.status_code == 302, response.content[:800]
    assert response["Location"].startswith(CALLBACK + "?"), response["Location"]
    return params_of(response["Location"])


def back(client, pool, **params):
    return client.get(f"/{pool.id}/oauth2/idpresponse", params)


def tokens_for(client, pool, app, code: str) -> dict:
    response = exchange_code(client, pool, app, code)
    assert response.status_code == 200, response.content
    return response.json()
