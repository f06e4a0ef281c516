"""Management commands: each prints a JSON object with --json and fails with a clear message."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from pool import crypto
from pool.models import AppClient, SigningKey, TotpDevice, User, UserPool, UserStatus
from pool.services import domains, mfa, passwords
from tests import factories


def run(*args) -> dict:
    out = io.StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_createpool(db):
    result = run(
        "createpool", "Shop", "--alias-attributes", "email,preferred_username", "--mfa", "OFF"
    )
    pool = UserPool.objects.get(pk=result["pool_id"])
    assert pool.alias_attributes == ["email", "preferred_username"]
    assert pool.mfa_configuration == "OFF"
    assert SigningKey.objects.filter(pool=pool).exists()


def test_createpool_with_username_attributes_and_region(db):
    result = run("createpool", "Shop", "--username-attributes", "email", "--region", "eu-west-1")
    assert result["pool_id"].startswith("eu-west-1_") and result["username_attributes"] == ["email"]


def test_createpool_bad_input_is_a_command_error(db):
    with pytest.raises(CommandError, match="exclusive"):
        call_command(
            "createpool", "Shop", "--alias-attributes", "email", "--username-attributes", "email"
        )


def test_createclient_prints_secret_once(pool):
    result = run(
        "createclient",
        pool.id,
        "web",
        "--callback-url",
        "https://a.example.com/cb",
        "--callback-url",
        "https://b.example.com/cb",
        "--secret",
        "--scopes",
        "openid,email",
    )
    client = AppClient.objects.get(pk=result["client_id"])
    assert client.check_secret(result["client_secret"])
    assert client.callback_urls == ["https://a.example.com/cb", "https://b.example.com/cb"]
    assert client.allowed_oauth_scopes == ["openid", "email"]


def test_createclient_refuses_http_callback(pool):
    with pytest.raises(CommandError, match="https"):
        call_command("createclient", pool.id, "web", "--callback-url", "http://a.example.com/")


def test_createclient_unknown_pool(db):
    with pytest.raises(CommandError, match="No user pool"):
        call_command(
            "createclient", "local_nope", "web", "--callback-url", "https://a.example.com/"
        )


def test_createuser_with_permanent_password(pool):
    result = run(
        "createuser",
        pool.id,
        "zoe",
        "--password",
        "Zoe-Pass-123",
        "--attr",
        "email=zoe@example.com",
        "--confirmed",
    )
    user = User.objects.get(pool=pool, username="zoe")
    assert result["status"] == user.status == UserStatus.CONFIRMED
    assert user.email_verified and passwords.verify(user, "Zoe-Pass-123")


def test_createuser_temporary(pool):
    result = run(
        "createuser",
        pool.id,
        "zed",
        "--password",
        "Zed-Pass-123",
        "--attr",
        "email=zed@example.com",
        "--temporary",
    )
    assert result["status"] == UserStatus.FORCE_CHANGE_PASSWORD


def test_createuser_weak_password(pool):
    with pytest.raises(CommandError, match="InvalidPasswordException"):
        call_command(
            "createuser", pool.id, "zed", "--password", "weak", "--attr", "email=zed@example.com"
        )
    assert not User.objects.filter(username="zed").exists()


def test_createuser_bad_attr_syntax(pool):
    with pytest.raises(CommandError, match="name=value"):
        call_command("createuser", pool.id, "zed", "--password", "Zed-Pass-123", "--attr", "x")


def test_rotatekeys(pool):
    first = run("rotatekeys", pool.id)["kid"]
    second = run("rotatekeys", pool.id)["kid"]
    assert first != second
    assert SigningKey.objects.get(kid=second).status == SigningKey.Status.ACTIVE
    assert SigningKey.objects.get(kid=first).status == SigningKey.Status.RETIRED


def test_export_then_import(pool, tmp_path):
    factories.make_user(pool, "kim")
    path = tmp_path / "users.csv"
    exported = run("exportusers", pool.id, str(path))
    assert exported["exported"] == 1
    target = factories.make_pool(name="target")
    imported = run("importusers", target.id, str(path))
    assert imported == {"pool_id": target.id, "imported": 1, "failed": 0, "errors": []}


def test_export_with_totp_secrets_keeps_the_authenticator(pool, tmp_path):
    user = factories.make_user(pool, "kim")
    seed = mfa.new_secret()
    TotpDevice.objects.create(user=user, secret=crypto.encrypt(seed), confirmed=True)
    mfa.set_preference(user=user, totp=True)
    plain, with_seeds = tmp_path / "plain.csv", tmp_path / "seeds.csv"
    run("exportusers", pool.id, str(plain))
    run("exportusers", pool.id, str(with_seeds), "--with-totp-secrets")
    assert seed not in plain.read_text() and seed in with_seeds.read_text()
    user.delete()
    assert run("importusers", pool.id, str(with_seeds))["imported"] == 1
    copy = User.objects.get(pool=pool, username="kim")
    assert copy.software_token_mfa_enabled
    assert crypto.decrypt(copy.totp_devices.get().secret) == seed


def test_export_to_stdout(pool):
    factories.make_user(pool, "kim")
    out = io.StringIO()
    call_command("exportusers", pool.id, stdout=out)
    assert out.getvalue().startswith("name,given_name") and ",kim," in out.getvalue()


def test_import_reports_bad_rows(pool, tmp_path):
    path = tmp_path / "users.csv"
    path.write_text(
        "cognito:username,cognito:mfa_enabled,email,email_verified\n"
        "ok,false,ok@example.com,true\nbad,false,,false\n"
    )
    result = run("importusers", pool.id, str(path))
    assert result["imported"] == 1 and result["errors"][0]["line"] == 3


def test_import_missing_file(pool, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("importusers", pool.id, str(tmp_path / "missing.csv"))


def test_bootstrap_creates_demo(db, settings):
    settings.PUBLIC_URL = "http://localhost:8000"
    result = run("bootstrap")
    pool = UserPool.objects.get(pk=result["pool_id"], name="Demo")
    client = AppClient.objects.get(pk=result["client_id"], name="Demo app")
    assert client.callback_urls == ["http://localhost:8000/demo/callback"]
    assert client.logout_urls == ["http://localhost:8000/demo/"]
    demo = User.objects.get(pool=pool, username="demo")
    assert demo.status == UserStatus.CONFIRMED and demo.email_verified
    assert passwords.verify(demo, result["demo_user"]["password"])
    operator = get_user_model().objects.get(username="admin")
    assert operator.is_superuser and operator.check_password(result["operator"]["password"])
    assert result["urls"] == {
        "demo": "http://localhost:8000/demo/",
        "console": "http://localhost:8000/console/",
        "discovery": f"http://localhost:8000/{pool.id}/.well-known/openid-configuration",
        "jwks": f"http://localhost:8000/{pool.id}/.well-known/jwks.json",
        "domain": None,
    }


def test_bootstrap_prints_the_demo_pools_domain(db, settings):
    settings.PUBLIC_URL = "http://localhost:8000"
    pool_id = run("bootstrap")["pool_id"]
    domains.create_domain(pool=UserPool.objects.get(pk=pool_id), domain="demo")
    assert run("bootstrap")["urls"]["domain"] == "http://demo.auth.localhost:8000/"
    out = io.StringIO()
    call_command("bootstrap", stdout=out)
    assert "Domain:     http://demo.auth.localhost:8000/ (hosted pages, OAuth)" in out.getvalue()


def test_bootstrap_is_idempotent(db):
    first = run("bootstrap")
    second = run("bootstrap")
    assert (second["pool_id"], second["client_id"]) == (first["pool_id"], first["client_id"])
    assert not any(second["created"].values())
    assert second["demo_user"]["password"] is None
    assert UserPool.objects.count() == 1 and AppClient.objects.count() == 1
    assert User.objects.count() == 1 and get_user_model().objects.count() == 1


def test_bootstrap_reset_passwords(db):
    run("bootstrap")
    again = run("bootstrap", "--reset-passwords")
    demo = User.objects.get(username="demo")
    assert passwords.verify(demo, again["demo_user"]["password"])


def test_bootstrap_keeps_existing_superuser(db):
    get_user_model().objects.create_superuser("root", "r@example.com", "Root-Pass-1")
    result = run("bootstrap")
    assert result["operator"]["password"] is None
    assert not get_user_model().objects.filter(username="admin").exists()


def test_bootstrap_refuses_public_url_without_https(db, settings):
    settings.PUBLIC_URL = "http://cognate.example.com"
    with pytest.raises(CommandError, match="https"):
        call_command("bootstrap")


def test_settrigger_webhook_callable_and_remove(pool):
    from pool.models import Trigger

    made = run("settrigger", pool.id, "PreSignUp", "--webhook", "https://hooks.example/pre")
    assert made["transport"] == "webhook" and len(made["secret"]) >= 32
    assert Trigger.objects.get(kind="PreSignUp").secret == made["secret"]
    given = run(
        "settrigger",
        pool.id,
        "PreTokenGeneration",
        "--callable",
        "tests.triggers_support.context_recorder",
        "--version",
        "V2_0",
    )
    assert given == {
        "pool_id": pool.id,
        "kind": "PreTokenGeneration",
        "transport": "python",
        "target": "tests.triggers_support.context_recorder",
        "version": "V2_0",
    }
    assert run("settrigger", pool.id, "PreSignUp", "--remove")["removed"] is True
    assert list(Trigger.objects.values_list("kind", flat=True)) == ["PreTokenGeneration"]


def test_settrigger_refusals_are_command_errors(pool):
    with pytest.raises(CommandError, match="https"):
        run("settrigger", pool.id, "PreSignUp", "--webhook", "http://example.com/x")
    with pytest.raises(CommandError, match="not supported"):
        run("settrigger", pool.id, "InboundFederation", "--webhook", "https://hooks.example/m")
    with pytest.raises(CommandError, match="one of the arguments"):
        run("settrigger", pool.id, "PreSignUp")


def test_settrigger_prints_a_new_sender_code_key_once(pool):
    from pool.models import Trigger

    made = run("settrigger", pool.id, "CustomEmailSender", "--webhook", "https://hooks.example/s")
    assert Trigger.objects.get(kind="CustomEmailSender").code_key == made["code_key"]
    again = run("settrigger", pool.id, "CustomEmailSender", "--webhook", "https://hooks.example/s")
    assert "code_key" not in again
    with pytest.raises(CommandError, match="AES-256"):
        run(
            "settrigger",
            pool.id,
            "CustomSMSSender",
            "--webhook",
            "https://hooks.example/s",
            "--code-key",
            "short",
        )
