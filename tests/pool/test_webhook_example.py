"""examples/webhook.py, the webhook the README shows, as a real PreSignUp trigger: AWS's
documented handler behind Cognate's signature check, the same logic the Python-callable test runs
in-process."""

from __future__ import annotations

import threading

import pytest

from examples import webhook
from pool.errors import UnexpectedLambdaException, UserLambdaValidationException
from pool.models import CustomAttribute, User
from pool.services import triggers as trigger_config
from pool.services.results import RequestContext
from pool.services.sign_up import sign_up
from tests import factories

SECRET = "example-webhook-secret-0123456789abcdef"
CTX = RequestContext(ip="127.0.0.1", user_agent="pytest", source="api")


@pytest.fixture
def running_example():
    servers = []

    def start(handler=webhook.lambda_handler, secret=SECRET) -> str:
        server = webhook.make_server(secret, handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _sign_up(pool, client, username: str, email: str):
    return sign_up(
        pool=pool,
        username=username,
        password=factories.PASSWORD,
        attributes={"email": email, "custom:domain": "acme.example"},
        client=client,
        context=CTX,
    )


def test_the_readme_webhook_runs_awss_handler(pool, app_client, running_example):
    CustomAttribute.objects.create(pool=pool, name="domain")
    trigger_config.set_trigger(
        pool=pool, kind="PreSignUp", webhook=running_example(), secret=SECRET
    )
    assert _sign_up(pool, app_client, "ann", "ann@acme.example").confirmed
    assert not _sign_up(pool, app_client, "bob", "bob@else.example").confirmed


def test_a_handler_that_throws_refuses_the_sign_up(pool, app_client, running_example):
    def refuse(event, context):
        raise ValueError("Sign-ups are closed this week")

    CustomAttribute.objects.create(pool=pool, name="domain")
    trigger_config.set_trigger(
        pool=pool, kind="PreSignUp", webhook=running_example(refuse), secret=SECRET
    )
    with pytest.raises(UserLambdaValidationException, match="Sign-ups are closed this week"):
        _sign_up(pool, app_client, "ann", "ann@acme.example")
    assert not User.objects.exists()


def test_the_example_refuses_calls_it_cannot_verify(pool, app_client, running_example):
    CustomAttribute.objects.create(pool=pool, name="domain")
    url = running_example(secret="another-secret-entirely-0123456789")
    trigger_config.set_trigger(pool=pool, kind="PreSignUp", webhook=url, secret=SECRET)
    with pytest.raises((UserLambdaValidationException, UnexpectedLambdaException)):
        _sign_up(pool, app_client, "ann", "ann@acme.example")
    assert not User.objects.exists()
