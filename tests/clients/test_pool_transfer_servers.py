"""A pool moved between two real Cognate servers (gunicorn, config.wsgi), each with its own
SQLite database, SECRET_KEY and COGNATE_ENCRYPTION_KEYS: exported with `exportpool` from the
first, imported with `importpool` into the second, which then takes over the first one's
address (as a move behind the same host name does). Authlib (code + PKCE through the hosted
form), boto3 (USER_PASSWORD_AUTH with the confidential client's SECRET_HASH) and pycognito
(USER_SRP_AUTH) sign the same user in against both: same `sub`, same claims, and a token from
the first server verifies against the second one's JWKS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, JsonWebToken
from botocore.config import Config
from pycognito.aws_srp import AWSSRP

from scripts.wait_for_server import wait_for
from tests.clients.test_authlib import sign_in_through_the_form
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
CALLBACK = "http://localhost:3000/callback"
PASSPHRASE = "a passphrase only the two operators know"
PASSWORD = "Moving-Day-2026!"
# Claims that differ between two sign-ins of the same user by design.
PER_SIGN_IN = {"iat", "exp", "jti", "auth_time", "origin_jti", "event_id", "nonce", "at_hash"}

pytestmark = [pytest.mark.clients, pytest.mark.slow]

SETUP = f"""
import json
from pool.services import admin, app_clients, groups, passwords, pools
from pool.services.results import RequestContext

pool = pools.create_pool(name="moving", alias_attributes=["email"])
pools.add_custom_attribute(pool=pool, name="tier")
flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
common = dict(
    callback_urls=["{CALLBACK}"],
    allowed_oauth_flows=["code"],
    allowed_oauth_scopes=["openid", "email", "profile"],
    explicit_auth_flows=flows,
)
public, _ = app_clients.create_client(pool=pool, name="spa", generate_secret=False, **common)
backend, secret = app_clients.create_client(
    pool=pool, name="backend", generate_secret=True, **common
)
user, _ = admin.admin_create_user(
    pool=pool,
    username="mover",
    attributes={{
        "email": "mover@example.com",
        "email_verified": "true",
        "given_name": "Mo",
        "custom:tier": "gold",
    }},
    temporary_password="{PASSWORD}",
    message_action="SUPPRESS",
    context=RequestContext(source="cli"),
)
passwords.admin_set_password(user=user, password="{PASSWORD}", permanent=True)
staff = groups.create_group(pool=pool, name="staff", precedence=3)
groups.add_user_to_group(user=user, group=staff)
print(json.dumps({{
    "pool_id": pool.id,
    "public": public.client_id,
    "backend": backend.client_id,
    "backend_secret": secret,
    "sub": str(user.sub),
}}))
"""


class Server:
    """One Cognate installation: its own var dir, SQLite file and keys."""

    def __init__(self, var: Path, port: int) -> None:
        self.var, self.port = var, port
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key
            not in {
                "DATABASE_URL",
                "REDIS_URL",
                "SECRET_KEY",
                "COGNATE_ENCRYPTION_KEYS",
                "PYTEST_XDIST_WORKER",
            }
        }
        self.env.update(
            COGNATE_VAR_DIR=str(var),
            DATABASE_URL=f"sqlite:///{var / 'db.sqlite3'}",
            PUBLIC_URL=self.url,
            DEBUG="1",
            SECRET_KEY=secrets.token_urlsafe(40),
            COGNATE_ENCRYPTION_KEYS=secrets.token_urlsafe(32),
        )
        self.process: subprocess.Popen | None = None

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--threads",
                "4",
                "--worker-class",
                "gthread",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=(self.var / "server.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert wait_for(f"{self.url}/console/login", timeout=60), self.log()

    def stop(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
            self.process = None

    def log(self) -> str:
        path = self.var / "server.log"
        return path.read_text()[-3000:] if path.exists() else ""


def discovery(url: str, pool_id: str) -> dict:
    response = requests.get(f"{url}/{pool_id}/.well-known/openid-configuration", timeout=10)
    response.raise_for_status()
    return response.json()


def verified(oidc: dict, token: str, *, audience: str | None = None) -> dict:
    """The token's claims, its signature checked against the JWKS discovery names."""
    keys = JsonWebKey.import_key_set(requests.get(oidc["jwks_uri"], timeout=10).json())
    options = {"iss": {"essential": True, "value": oidc["issuer"]}}
    if audience:
        options["aud"] = {"essential": True, "value": audience}
    claims = JsonWebToken(["RS256"]).decode(token, keys, claims_options=options)
    claims.validate()
    return dict(claims)


def authlib_sign_in(url: str, setup: dict) -> dict:
    oidc = discovery(url, setup["pool_id"])
    session = OAuth2Session(
        setup["public"],
        redirect_uri=CALLBACK,
        scope="openid email profile",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    verifier, nonce = generate_token(64), generate_token(20)
    authorization, state = session.create_authorization_url(
        oidc["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    callback = sign_in_through_the_form(authorization, "mover", PASSWORD)
    returned = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    assert returned["state"] == state
    token = session.fetch_token(
        oidc["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    claims = verified(oidc, token["id_token"], audience=setup["public"])
    assert claims["nonce"] == nonce
    return claims


def cognito(url: str):
    return boto3.client(
        "cognito-idp",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="unused",
        aws_secret_access_key="unused",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def secret_hash(username: str, client_id: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def boto3_password_sign_in(url: str, setup: dict) -> dict:
    answer = cognito(url).initiate_auth(
        AuthFlow="USER_PASSWORD_AUTH",
        ClientId=setup["backend"],
        AuthParameters={
            "USERNAME": "mover@example.com",  # by its email alias
            "PASSWORD": PASSWORD,
            "SECRET_HASH": secret_hash("mover@example.com", setup["backend"], setup["secret"]),
        },
    )
    result = answer["AuthenticationResult"]
    oidc = discovery(url, setup["pool_id"])
    return {
        "id": verified(oidc, result["IdToken"], audience=setup["backend"]),
        "access_token": result["AccessToken"],
    }


def srp_sign_in(url: str, setup: dict) -> dict:
    aws = AWSSRP("mover", PASSWORD, setup["pool_id"], setup["public"], client=cognito(url))
    result = aws.authenticate_user()["AuthenticationResult"]
    return verified(discovery(url, setup["pool_id"]), result["IdToken"], audience=setup["public"])


def sign_ins(url: str, setup: dict) -> dict:
    return {
        "authlib": authlib_sign_in(url, setup),
        "boto3": boto3_password_sign_in(url, setup),
        "srp": srp_sign_in(url, setup),
    }


@pytest.fixture(scope="module")
def moved(tmp_path_factory) -> dict:
    port = free_port()  # the pool's address: the second server takes it over
    first = Server(tmp_path_factory.mktemp("first"), port)
    second = Server(tmp_path_factory.mktemp("second"), port)
    assert first.env["COGNATE_ENCRYPTION_KEYS"] != second.env["COGNATE_ENCRYPTION_KEYS"]
    work = tmp_path_factory.mktemp("transfer")
    passphrase_file, export_file = work / "passphrase", work / "pool.json"
    passphrase_file.write_text(PASSPHRASE + "\n")

    first.manage("migrate", "--noinput", "-v", "0")
    setup = json.loads(first.manage("shell", "-c", SETUP).strip().splitlines()[-1])
    setup["secret"] = setup.pop("backend_secret")
    first.start()
    try:
        before = sign_ins(first.url, setup)
    finally:
        first.stop()
    exported = json.loads(
        first.manage(
            "exportpool",
            setup["pool_id"],
            str(export_file),
            "--passphrase-file",
            str(passphrase_file),
            "--json",
        )
    )

    second.manage("migrate", "--noinput", "-v", "0")
    imported = json.loads(
        second.manage(
            "importpool", str(export_file), "--passphrase-file", str(passphrase_file), "--json"
        )
    )
    second.start()
    try:
        after = sign_ins(second.url, setup)
        old_token_claims = verified(
            discovery(second.url, setup["pool_id"]), before["boto3"]["access_token"]
        )
    finally:
        second.stop()
    return {
        "setup": setup,
        "before": before,
        "after": after,
        "exported": exported,
        "imported": imported,
        "export_text": export_file.read_text(),
        "old_token_claims": old_token_claims,
    }


def _stable(claims: dict) -> dict:
    return {key: value for key, value in claims.items() if key not in PER_SIGN_IN}


def test_the_commands_moved_the_whole_pool(moved):
    assert moved["imported"]["pool_id"] == moved["setup"]["pool_id"]
    assert moved["imported"]["counts"] == moved["exported"]["counts"]
    assert moved["imported"]["counts"]["users"] == 1
    assert moved["imported"]["counts"]["app_clients"] == 2
    assert moved["setup"]["secret"] not in moved["export_text"]


def test_authlib_code_pkce_gives_the_same_sub_and_claims_on_the_second_server(moved):
    before, after = moved["before"]["authlib"], moved["after"]["authlib"]
    assert after["sub"] == before["sub"] == moved["setup"]["sub"]
    assert _stable(after) == _stable(before)
    assert after["cognito:groups"] == ["staff"] and after["custom:tier"] == "gold"


def test_boto3_password_sign_in_with_the_secret_hash_gives_the_same_claims(moved):
    before, after = moved["before"]["boto3"]["id"], moved["after"]["boto3"]["id"]
    assert after["sub"] == moved["setup"]["sub"]
    assert _stable(after) == _stable(before)


def test_pycognito_srp_sign_in_gives_the_same_claims(moved):
    before, after = moved["before"]["srp"], moved["after"]["srp"]
    assert after["sub"] == moved["setup"]["sub"]
    assert _stable(after) == _stable(before)


def test_a_token_from_the_first_server_verifies_against_the_second(moved):
    assert moved["old_token_claims"]["sub"] == moved["setup"]["sub"]
    assert moved["old_token_claims"]["token_use"] == "access"
