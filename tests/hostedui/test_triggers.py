"""Triggers through the hosted pages and the OAuth token endpoint: the same events as every other
door (the services fire them), the refusal shown on the page, nothing half-written."""

from __future__ import annotations

import jwt as pyjwt
import pytest
from django.core import mail

from pool.models import User
from pool.services import triggers as trigger_config
from tests import factories
from tests import triggers_support as hooks
from tests.hostedui.conftest import code_for, exchange_code
from tests.hostedui.test_pages import page

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    found, server = hooks.serve()
    yield found
    server.shutdown()
    server.server_close()


def hook(pool, kind, receiver, **options):
    trigger_config.set_trigger(
        pool=pool, kind=kind, webhook=receiver.url, secret=hooks.SECRET, **options
    )


def test_a_refused_sign_up_shows_cognitos_message_and_writes_nothing(
    client, pool, app_client, receiver
):
    hook(pool, "PreSignUp", receiver)
    receiver.answer = hooks.refusing("Registration from this domain is not allowed.")
    response = client.post(
        page(pool, app_client, "signup"),
        {"username": "dora", "email": "dora@blocked.example", "password": factories.PASSWORD},
    )
    assert response.status_code == 400
    assert (
        "PreSignUp failed with error Registration from this domain is not allowed.."
        in response.content.decode()
    )
    assert not User.objects.exists() and mail.outbox == []
    event = receiver.last()
    assert event["triggerSource"] == "PreSignUp_SignUp"
    assert event["callerContext"]["clientId"] == app_client.client_id


def test_a_refused_sign_in_shows_the_message(client, pool, app_client, user, receiver):
    hook(pool, "PreAuthentication", receiver)
    receiver.answer = hooks.refusing("Closed for maintenance")
    response = client.post(
        page(pool, app_client, "login"), {"username": "alice", "password": factories.PASSWORD}
    )
    assert response.status_code == 400
    assert "PreAuthentication failed with error Closed for maintenance." in (
        response.content.decode()
    )


def test_the_code_exchange_is_token_generation_hosted_auth(
    client, pool, app_client, user, receiver
):
    hook(pool, "PreTokenGeneration", receiver)
    receiver.answer = hooks.responding(
        claimsOverrideDetails={"claimsToAddOrOverride": {"tenant": "acme"}}
    )
    code = code_for(client, pool, app_client, scope="openid email")
    answer = exchange_code(client, pool, app_client, code).json()
    claims = pyjwt.decode(answer["id_token"], options={"verify_signature": False})
    assert claims["tenant"] == "acme"
    assert claims["at_hash"]  # computed over the access token as finally signed
    assert receiver.last()["triggerSource"] == "TokenGeneration_HostedAuth"


def test_a_refusing_pre_token_trigger_is_an_oauth_error(client, pool, app_client, user, receiver):
    code = code_for(client, pool, app_client, scope="openid")
    hook(pool, "PreTokenGeneration", receiver)
    receiver.answer = hooks.refusing("no tokens today")
    response = exchange_code(client, pool, app_client, code)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_grant"
    assert "PreTokenGeneration failed with error no tokens today." in body["error_description"]


def test_the_aws_documented_handler_runs_behind_the_sign_up_page(client, pool, app_client):
    """The page collects no custom:domain, so AWS's example leaves the user to confirm by code,
    as it would in Cognito; the handler ran (logged) and the flow went on."""
    from pool.models import TriggerInvocation

    trigger_config.set_trigger(
        pool=pool, kind="PreSignUp", python="tests.triggers_support.aws_pre_sign_up_handler"
    )
    response = client.post(
        page(pool, app_client, "signup"),
        {"username": "dora", "email": "dora@example.com", "password": factories.PASSWORD},
    )
    assert response.status_code == 302 and "/confirm?" in response["Location"]
    assert User.objects.get(username="dora").status == "UNCONFIRMED"
    assert TriggerInvocation.objects.get().status == "ok"
    assert len(mail.outbox) == 1
