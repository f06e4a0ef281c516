"""The console's Triggers page: configured triggers, set / remove (audited, secret and sender
code key shown once), recent invocations, and a sample event sent to a real webhook receiver on
loopback. Read-only operators get 403 on every change; CSRF held."""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.models import AuditEntry
from pool import sender_codes
from pool.models import Trigger, TriggerInvocation
from pool.services import triggers as trigger_services
from tests import factories
from tests import triggers_support as hooks
from tests.conftest import free_port
from tests.console.helpers import last_audit

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool():
    return factories.make_pool(name="shop")


@pytest.fixture
def receiver():
    found, server = hooks.serve()
    yield found
    server.shutdown()
    server.server_close()


def url(name: str, pool, *args) -> str:
    return reverse(f"console:{name}", args=[pool.id, *args])


def webhook_form(target: str, **overrides) -> dict:
    data = {"kind": "PreSignUp", "transport": "webhook", "target": target, "version": "V1_0"}
    data.update(overrides)
    return data


def test_the_page_lists_triggers_and_recent_invocations_without_secrets(console, pool, receiver):
    setting = trigger_services.set_trigger(pool=pool, kind="PreSignUp", webhook=receiver.url)
    TriggerInvocation.objects.create(
        pool=pool,
        kind="PreSignUp",
        trigger_source="PreSignUp_SignUp",
        status="denied",
        duration_ms=42,
        error="blocked domain",
    )
    response = console.get(url("triggers", pool))
    page = response.content.decode()
    assert response.status_code == 200
    assert receiver.url in page and "PreSignUp_SignUp" in page
    assert "42 ms" in page and "blocked domain" in page and "denied" in page
    assert setting.new_secret not in page


def test_setting_a_webhook_shows_its_new_secret_once_and_is_audited(console, pool, receiver):
    response = console.post(url("trigger_set", pool), webhook_form(receiver.url))
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    trigger = Trigger.objects.get(pool=pool)
    assert trigger.secret in response.content.decode()
    entry = last_audit("trigger.set")
    assert entry.target_pool == pool.id
    assert entry.detail == {
        "kind": "PreSignUp",
        "transport": "webhook",
        "target": receiver.url,
        "version": "V1_0",
    }
    assert trigger.secret not in str(entry.detail)
    assert trigger.secret not in console.get(url("triggers", pool)).content.decode()
    # The same URL again keeps its secret: nothing to show, back to the page.
    again = console.post(url("trigger_set", pool), webhook_form(receiver.url))
    assert again.status_code == 302
    assert Trigger.objects.get(pool=pool).secret == trigger.secret


def test_setting_a_sender_shows_its_code_key_once(console, pool, receiver):
    response = console.post(
        url("trigger_set", pool), webhook_form(receiver.url, kind="CustomEmailSender")
    )
    assert response.status_code == 201
    trigger = Trigger.objects.get(pool=pool)
    sender_codes.check_key(trigger.code_key)
    page = response.content.decode()
    assert trigger.code_key in page and trigger.secret in page
    assert trigger.code_key not in str(last_audit("trigger.set").detail)


def test_a_python_trigger_and_a_refused_target(console, pool):
    ok = console.post(
        url("trigger_set", pool),
        webhook_form(
            "tests.triggers_support.context_recorder",
            transport="python",
            kind="PreTokenGeneration",
            version="V3_0",
        ),
    )
    assert ok.status_code == 302
    assert Trigger.objects.get(pool=pool).version == "V3_0"
    refused = console.post(url("trigger_set", pool), webhook_form("http://example.com/hook"))
    assert refused.status_code == 400
    assert "https" in refused.content.decode()
    assert not Trigger.objects.filter(kind="PreSignUp").exists()
    assert AuditEntry.objects.filter(action="trigger.set").count() == 1


def test_removing_a_trigger_is_audited(console, pool, receiver):
    trigger_services.set_trigger(pool=pool, kind="PreSignUp", webhook=receiver.url)
    response = console.post(url("trigger_remove", pool, "PreSignUp"))
    assert response.status_code == 302
    assert not Trigger.objects.exists()
    assert last_audit("trigger.remove").detail == {"kind": "PreSignUp"}


def test_a_test_event_reaches_the_webhook_and_its_answer_is_shown(console, pool, receiver):
    trigger_services.set_trigger(
        pool=pool, kind="PreSignUp", webhook=receiver.url, secret=hooks.SECRET
    )
    receiver.answer = hooks.responding(autoConfirmUser=True)
    response = console.post(url("trigger_test", pool, "PreSignUp"))
    assert response.status_code == 200
    [received] = receiver.received
    assert received.signed_correctly()
    assert received.event["triggerSource"] == "PreSignUp_SignUp"
    assert received.event["userPoolId"] == pool.id
    assert "&quot;autoConfirmUser&quot;: true" in response.content.decode()
    assert TriggerInvocation.objects.get().status == "ok"
    assert last_audit("trigger.test").detail == {"kind": "PreSignUp", "outcome": "ok"}


def test_a_test_event_to_a_sender_carries_an_encrypted_sample_code(console, pool, receiver):
    setting = trigger_services.set_trigger(
        pool=pool, kind="CustomSMSSender", webhook=receiver.url, secret=hooks.SECRET
    )
    receiver.answer = lambda event: (200, None)
    assert console.post(url("trigger_test", pool, "CustomSMSSender")).status_code == 200
    event = receiver.last()
    assert event["request"]["type"] == "customSMSSenderRequestV1"
    code = sender_codes.decrypt(
        setting.new_code_key,
        event["request"]["code"],
        pool_id=pool.id,
        trigger_source=event["triggerSource"],
    )
    assert code == trigger_services.SAMPLE_CODE


def test_a_failing_test_event_shows_cognitos_error(console, pool, receiver):
    trigger_services.set_trigger(pool=pool, kind="PreSignUp", webhook=receiver.url)
    receiver.answer = hooks.refusing("nope")
    response = console.post(url("trigger_test", pool, "PreSignUp"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "UserLambdaValidationException" in page and "PreSignUp failed with error nope." in page
    assert TriggerInvocation.objects.get().status == "denied"
    assert last_audit("trigger.test").detail == {"kind": "PreSignUp", "outcome": "error"}


def test_an_unreachable_webhook_and_an_unset_trigger(console, pool):
    trigger_services.set_trigger(
        pool=pool, kind="PreSignUp", webhook=f"http://127.0.0.1:{free_port()}/hook"
    )
    unreachable = console.post(url("trigger_test", pool, "PreSignUp"))
    assert unreachable.status_code == 400
    assert "UnexpectedLambdaException" in unreachable.content.decode()
    unset = console.post(url("trigger_test", pool, "PostConfirmation"))
    assert unset.status_code == 400
    assert "ResourceNotFoundException" in unset.content.decode()
    unknown = console.post(url("trigger_test", pool, "NoSuchKind"))
    assert unknown.status_code == 400


def test_read_only_operators_see_but_cannot_change(readonly_console, pool, receiver):
    trigger_services.set_trigger(pool=pool, kind="PreSignUp", webhook=receiver.url)
    page = readonly_console.get(url("triggers", pool))
    assert page.status_code == 200 and "Send a test event" not in page.content.decode()
    assert (
        readonly_console.post(
            url("trigger_set", pool), webhook_form(receiver.url, kind="PostConfirmation")
        ).status_code
        == 403
    )
    assert readonly_console.post(url("trigger_remove", pool, "PreSignUp")).status_code == 403
    assert readonly_console.post(url("trigger_test", pool, "PreSignUp")).status_code == 403
    assert list(Trigger.objects.values_list("kind", flat=True)) == ["PreSignUp"]
    assert receiver.received == []


def test_changes_need_the_csrf_token(csrf_console, pool, receiver):
    trigger_services.set_trigger(pool=pool, kind="PreSignUp", webhook=receiver.url)
    assert (
        csrf_console.post(url("trigger_set", pool), webhook_form(receiver.url)).status_code == 403
    )
    assert csrf_console.post(url("trigger_remove", pool, "PreSignUp")).status_code == 403
    assert csrf_console.post(url("trigger_test", pool, "PreSignUp")).status_code == 403
    assert Trigger.objects.count() == 1 and receiver.received == []


def test_anonymous_visitors_are_sent_to_sign_in(client, pool):
    assert client.get(url("triggers", pool)).status_code == 302
    assert (
        client.post(url("trigger_set", pool), webhook_form("https://x.example")).status_code == 302
    )
    assert not Trigger.objects.exists()


def test_a_test_event_to_a_user_migration_trigger_carries_no_password(console, pool, receiver):
    trigger_services.set_trigger(pool=pool, kind="UserMigration", webhook=receiver.url)
    assert console.post(url("trigger_test", pool, "UserMigration")).status_code == 200
    event = receiver.last()
    assert event["triggerSource"] == "UserMigration_ForgotPassword"
    assert "password" not in event["request"]
    assert event["response"]["userAttributes"] is None


@pytest.mark.parametrize(
    "kind",
    ["DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse"],
)
def test_a_test_event_for_each_custom_auth_trigger(console, pool, receiver, kind):
    trigger_services.set_trigger(pool=pool, kind=kind, webhook=receiver.url)
    assert console.post(url("trigger_test", pool, kind)).status_code == 200
    assert receiver.last()["triggerSource"] == f"{kind}_Authentication"
