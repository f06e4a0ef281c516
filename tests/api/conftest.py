"""Fixtures for the JSON API: an access key, calls signed with botocore's own SigV4 signer sent
through Django's test client, and boto3's cognito-idp client against a live server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from api.access_keys import IssuedKey, create_access_key

CONTENT_TYPE = "application/x-amz-json-1.1"
TARGET = "AWSCognitoIdentityProviderService."
REGION = "eu-west-1"
# An imported pair, as a team moving from Cognito would bring it: `/` and `+` included.
IMPORTED_ID = "AKIAIOSFODNN7EXAMPLE"
IMPORTED_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY+EXAMPLEKEY"


@pytest.fixture
def access_key(db) -> IssuedKey:
    return create_access_key(access_key_id=IMPORTED_ID, secret_access_key=IMPORTED_SECRET)


def signed_headers(
    action: str,
    body: bytes,
    *,
    key_id: str = IMPORTED_ID,
    secret: str = IMPORTED_SECRET,
    region: str = REGION,
    service: str = "cognito-idp",
    host: str = "testserver",
) -> dict[str, str]:
    """The headers botocore's SigV4 signer puts on a call to `action` with `body`."""
    request = AWSRequest(
        method="POST",
        url=f"http://{host}/",
        data=body,
        headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET + action},
    )
    SigV4Auth(Credentials(key_id, secret), service, region).add_auth(request)
    return dict(request.headers.items())


def as_meta(headers: dict[str, str]) -> dict[str, str]:
    """Django test-client keyword arguments for raw HTTP headers."""
    meta = {}
    for name, value in headers.items():
        if name.lower() == "content-type":
            continue
        meta["HTTP_" + name.upper().replace("-", "_")] = value
    return meta


class Api:
    """Calls the JSON API through Django's test client."""

    def __init__(self, client) -> None:
        self.client = client

    def post(
        self,
        action: str | None,
        body: Any = None,
        *,
        sign: bool = True,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        content_type: str = CONTENT_TYPE,
        **sign_options: Any,
    ):
        data = raw if raw is not None else json.dumps(body or {}).encode()
        sent: dict[str, str] = {"Host": "testserver"}
        if action is not None:
            sent["X-Amz-Target"] = TARGET + action
        if sign and action is not None:
            sent.update(signed_headers(action, data, **sign_options))
        sent.update(headers or {})
        return self.client.generic("POST", "/", data, content_type=content_type, **as_meta(sent))


@pytest.fixture
def api(client, db) -> Api:
    return Api(client)


class Recorder:
    """Keeps the raw JSON of every answer boto3 receives, to check it against the model."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, int, Any]] = []

    def __call__(self, http_response, parsed, model, **_) -> None:
        content = http_response.content
        self.bodies.append(
            (model.name, http_response.status_code, json.loads(content) if content else None)
        )

    @property
    def last(self) -> Any:
        return self.bodies[-1][2]


@pytest.fixture
def server(live_server, settings) -> str:
    settings.PUBLIC_URL = live_server.url
    return live_server.url


def make_boto3_client(
    endpoint: str, *, key_id: str, secret: str, region: str = REGION, **config: Any
):
    """boto3's client at `endpoint`, without retries (a refusal is seen once)."""
    return boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, **config),
    )


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def cognito(server, access_key, recorder) -> Iterator[Any]:
    """boto3's cognito-idp client, signing with an imported key, at the live server."""
    client = make_boto3_client(
        server, key_id=access_key.access_key_id, secret=access_key.secret_access_key
    )
    client.meta.events.register("after-call.cognito-idp", recorder)
    yield client


# Unsigned calls (InitiateAuth, the AccessToken actions) need no credentials; these keep boto3
# from looking for any.
UNSIGNED = {"aws_access_key_id": "unused", "aws_secret_access_key": "unused"}


@pytest.fixture
def app_caller(server, recorder) -> Any:
    """boto3's cognito-idp client as an app holds it (no credentials of ours), recorded."""
    client = make_boto3_client(
        server, key_id=UNSIGNED["aws_access_key_id"], secret=UNSIGNED["aws_secret_access_key"]
    )
    client.meta.events.register("after-call.cognito-idp", recorder)
    return client
