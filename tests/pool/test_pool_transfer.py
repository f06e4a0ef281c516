"""Whole-pool export and import (pool/services/pool_transfer.py): a pool with users in every
status, MFA, devices, groups, clients with secrets, identity providers, triggers and signing
keys comes back row for row on a server with a different encryption key; users sign in with
the same `sub` and the same claims. Wrong passphrases, altered or schema-invalid documents and
failures half-way through are refused with nothing written."""

from __future__ import annotations

import copy
import json
import os
import random
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models

from pool import crypto, jwt, sealing, triggers
from pool.errors import CognitoError, InvalidParameterException, UsernameExistsException
from pool.models import (
    AppClient,
    CustomAttribute,
    Device,
    FederatedIdentity,
    Group,
    IdentityProvider,
    ResourceServer,
    RetiredAttributeValue,
    SamlServiceProviderKey,
    SigningKey,
    SignInName,
    TotpDevice,
    Trigger,
    TriggerKind,
    User,
    UserAttributeIndex,
    UserPool,
    UserPoolDomain,
    UserStatus,
)
from pool.services import authenticate, groups, keys, mfa, pool_transfer, pools, tokens
from pool.services.results import Authenticated, Challenge, RequestContext
from tests import factories
from tests.parallel import run_together

CTX = RequestContext(source="test")
PASSPHRASE = "correct horse battery staple"
SOURCE_KEYS = ["source-server-encryption-key-0123456789"]
TARGET_KEYS = ["target-server-encryption-key-9876543210"]
# Claims that differ between two sign-ins of the same user by design.
PER_SIGN_IN = {"iat", "exp", "jti", "auth_time", "origin_jti", "event_id"}
# Columns holding `crypto.encrypt` text: compared decrypted.
ENCRYPTED = {
    (AppClient, "secret"),
    (SigningKey, "private_key"),
    (User, "srp_verifier"),
    (TotpDevice, "secret"),
    (Device, "salt"),
    (Device, "verifier"),
    (SamlServiceProviderKey, "private_key"),
}
# Every model of the `pool` app that belongs to a pool or a user is moved or named here.
NOT_MOVED = {
    "RefreshFamily": "sessions stay with the source: users sign in again",
    "RefreshToken": "sessions stay with the source",
    "AuthorizationCode": "lives a few minutes",
    "ChallengeSession": "lives a few minutes",
    "VerificationCode": "codes stay with the source; a user asks for a new one",
    "AuthEvent": "sign-in history stays with the source",
    "OutboxMessage": "the dev outbox of the source",
    "TriggerInvocation": "the trigger log of the source",
    "SamlAssertionUse": "replay protection for assertions that expire within minutes",
    "SignInName": "derived from the users' key columns on save",
    "UserAttributeIndex": "derived from the users' attributes on save",
}
SNAPSHOT_MODELS = (
    UserPool,
    CustomAttribute,
    UserPoolDomain,
    Trigger,
    ResourceServer,
    Group,
    AppClient,
    IdentityProvider,
    SigningKey,
    SamlServiceProviderKey,
    User,
    TotpDevice,
    Device,
    FederatedIdentity,
    RetiredAttributeValue,
    SignInName,
    UserAttributeIndex,
)


@pytest.fixture
def source_keys(settings):
    settings.ENCRYPTION_KEYS = SOURCE_KEYS
    crypto.reset_caches()


def use_keys(settings, values: list[str]) -> None:
    settings.ENCRYPTION_KEYS = values
    crypto.reset_caches()


def _value(model, obj, field):
    value = getattr(obj, field.attname)
    if (model, field.name) in ENCRYPTED and value:
        return crypto.decrypt(value)
    if isinstance(field, models.ForeignKey) and field.related_model is User:
        return User.objects.get(pk=value).username
    return value


def snapshot(pool_id: str) -> dict[str, list]:
    """Every row the pool owns, every column but row ids (and the pool's config_version, each
    server's own cache stamp), secrets decrypted, users named by username; group memberships as
    (user, group) names."""
    shot: dict[str, list] = {}
    for model in SNAPSHOT_MODELS:
        owner = "pool"
        if model is UserPool:
            owner = "pk"
        elif model in (TotpDevice, RetiredAttributeValue):
            owner = "user__pool"
        rows = []
        for obj in model.objects.filter(**{owner: pool_id}):
            rows.append(
                {
                    f.name: _value(model, obj, f)
                    for f in model._meta.concrete_fields
                    if not isinstance(f, models.AutoField) and f.name != "config_version"
                }
            )
        shot[model.__name__] = sorted(rows, key=lambda row: json.dumps(row, default=str))
    shot["memberships"] = sorted(
        User.groups.through.objects.filter(user__pool=pool_id).values_list(
            "user__username", "group__name"
        )
    )
    return shot


def populate() -> dict:
    """A pool with one of everything the export carries."""
    pool = factories.make_pool(
        name="moving",
        alias_attributes=["email", "preferred_username"],
        mfa_methods=["SOFTWARE_TOKEN_MFA", "SMS_MFA", "EMAIL_OTP"],
        track_devices=True,
        verification_email_message="Dein Code: {####}",
    )
    pools.add_custom_attribute(pool=pool, name="tier")
    UserPoolDomain.objects.create(pool=pool, domain="moving-prefix", kind="prefix")
    Trigger.objects.create(
        pool=pool,
        kind=TriggerKind.PRE_SIGN_UP,
        transport=Trigger.Transport.WEBHOOK,
        target="https://hooks.example.com/pre-sign-up",
        secret="whsec-trigger-secret-value",
    )
    ResourceServer.objects.create(
        pool=pool, identifier="https://api.example.com", name="API", scopes=[{"name": "read"}]
    )
    admins = groups.create_group(pool=pool, name="admins", precedence=1)
    staff = groups.create_group(pool=pool, name="staff", description="Staff")
    public = factories.make_client(pool, name="spa")
    confidential = factories.make_client(pool, name="backend", secret="")
    google = IdentityProvider(
        pool=pool,
        provider_name="Google",
        provider_type="Google",
        details={"client_id": "google-client", "authorize_scopes": "openid email"},
        attribute_mapping={"email": "email", "username": "sub"},
    )
    google.set_secrets({"client_secret": "google-client-secret-value"})
    google.save()
    keys.active_key(pool)
    keys.rotate(pool=pool)  # one retired key, one active

    ann = factories.make_user(
        pool,
        "ann",
        phone_number="+15555550100",
        phone_number_verified=True,
        preferred_username="annie",
        attributes={"custom:tier": "gold", "locale": "de"},
    )
    ann.preferred_username_key = pool.normalize("annie")
    ann.save()
    groups.add_user_to_group(user=ann, group=admins)
    groups.add_user_to_group(user=ann, group=staff)
    Device.objects.create(
        key=f"{pool.region}_{uuid.uuid4()}",
        pool=pool,
        user=ann,
        group_key="-group",
        name="ann's laptop",
        salt=crypto.encrypt("a1b2"),
        verifier=crypto.encrypt("device-verifier-secret-value"),
        confirmed=True,
        remembered=True,
    )
    FederatedIdentity.objects.create(pool=pool, user=ann, provider_name="Google", subject="g-ann")
    RetiredAttributeValue.objects.create(user=ann, name="custom:old", value="kept")
    SamlServiceProviderKey.objects.create(
        pool=pool, private_key=crypto.encrypt("-----BEGIN PRIVATE KEY-----sp"), certificate="c"
    )
    sam = factories.make_user(pool, "sam", phone_number="+15555550101", phone_number_verified=True)
    mfa.set_preference(user=sam, sms=True, preferred="SMS_MFA")
    tia = factories.make_user(pool, "tia")
    TotpDevice.objects.create(user=tia, secret=crypto.encrypt(mfa.new_secret()), confirmed=True)
    mfa.set_preference(user=tia, totp=True, preferred="SOFTWARE_TOKEN_MFA")
    groups.add_user_to_group(user=tia, group=staff)
    factories.make_user(pool, "bo", enabled=False)
    factories.make_user(pool, "fay", status=UserStatus.FORCE_CHANGE_PASSWORD)
    factories.make_user(pool, "uma", status=UserStatus.UNCONFIRMED)
    factories.make_user(pool, "rex", status=UserStatus.RESET_REQUIRED, password=None)
    fed = factories.make_user(
        pool, "Google_g-fed", password=None, status=UserStatus.EXTERNAL_PROVIDER
    )
    FederatedIdentity.objects.create(
        pool=pool, user=fed, provider_name="Google", subject="g-fed", primary=True
    )
    return {"pool": pool, "public": public, "confidential": confidential}


def id_claims(pool: UserPool, client: AppClient, username: str) -> dict:
    result = authenticate.password(
        pool=pool,
        username=username,
        password=factories.PASSWORD,
        client=client,
        context=CTX,
    )
    assert isinstance(result, Authenticated), result
    issued = tokens.for_api_sign_in(result)
    claims = jwt.verify(pool, issued.id_token, token_use="id", audience=client.client_id)
    return {key: value for key, value in claims.items() if key not in PER_SIGN_IN}


def move(settings, pool: UserPool, **export_options) -> dict:
    """Export under the source's key, delete the pool, switch to the target's key."""
    document = pool_transfer.export_pool(pool=pool, passphrase=PASSPHRASE, **export_options)
    UserPool.objects.filter(pk=pool.pk).delete()
    use_keys(settings, TARGET_KEYS)
    return json.loads(json.dumps(document))  # as it is read back from a file


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in SNAPSHOT_MODELS}


# ------------------------------------------------------------------------------ round trip


def test_a_pool_comes_back_row_for_row_under_another_encryption_key(db, settings, source_keys):
    made = populate()
    pool = made["pool"]
    before = snapshot(pool.pk)
    document = move(settings, pool)

    result = pool_transfer.import_pool(document=document, passphrase=PASSPHRASE)

    assert result.pool_id == pool.pk
    assert result.counts["users"] == 8 and result.counts["app_clients"] == 2
    assert snapshot(pool.pk) == before  # every secret decrypts under the target's key alone
    use_keys(settings, SOURCE_KEYS)
    client = AppClient.objects.get(pk=made["confidential"].pk)
    with pytest.raises(ValueError, match="cannot decrypt"):
        client.secret_plaintext  # noqa: B018 (re-encrypted: the source's key cannot read it)


def test_users_sign_in_with_the_same_sub_and_claims_after_the_move(db, settings, source_keys):
    made = populate()
    pool, client = made["pool"], made["confidential"]
    before = id_claims(pool, client, "ann")
    old_token = tokens.for_api_sign_in(
        authenticate.password(
            pool=pool, username="ann", password=factories.PASSWORD, client=client, context=CTX
        )
    ).access_token
    document = move(settings, pool)
    pool_transfer.import_pool(document=document, passphrase=PASSPHRASE)
    moved = UserPool.objects.get(pk=pool.pk)
    moved_client = AppClient.objects.get(pk=client.pk)

    after = id_claims(moved, moved_client, "ann")

    assert after == before and after["sub"] == before["sub"]
    assert after["cognito:groups"] == ["admins", "staff"]
    assert id_claims(moved, moved_client, "annie")["sub"] == before["sub"]  # alias kept
    # The signing keys moved too: a token from before the move still verifies.
    assert jwt.verify(moved, old_token, token_use="access")["sub"] == before["sub"]
    assert moved_client.check_secret(client.plain_secret)


def test_mfa_users_are_challenged_as_before(db, settings, source_keys):
    made = populate()
    document = move(settings, made["pool"])
    pool_transfer.import_pool(document=document, passphrase=PASSPHRASE)
    pool = UserPool.objects.get(pk=made["pool"].pk)
    client = AppClient.objects.get(pk=made["public"].pk)
    tia = authenticate.password(
        pool=pool, username="tia", password=factories.PASSWORD, client=client, context=CTX
    )
    assert isinstance(tia, Challenge) and tia.name == "SOFTWARE_TOKEN_MFA"
    sam = authenticate.password(
        pool=pool, username="sam", password=factories.PASSWORD, client=client, context=CTX
    )
    assert isinstance(sam, Challenge) and sam.name == "SMS_MFA"


def test_without_signing_keys_the_target_makes_its_own(db, settings, source_keys):
    made = populate()
    old_kids = set(SigningKey.objects.filter(pool=made["pool"]).values_list("kid", flat=True))
    assert keys.active_key(made["pool"]).kid in old_kids  # this process now holds it
    document = move(settings, made["pool"], with_signing_keys=False)
    assert document["signing_keys"] == []
    pool_transfer.import_pool(document=document, passphrase=PASSPHRASE)
    pool = UserPool.objects.get(pk=made["pool"].pk)
    assert keys.active_key(pool).kid not in old_kids


def test_caches_of_a_pool_deleted_before_the_import_are_forgotten(db, settings, source_keys):
    made = populate()
    document = move(settings, made["pool"])
    assert triggers.configured_kinds(UserPool(id=made["pool"].pk)) == frozenset()  # cached
    pool_transfer.import_pool(document=document, passphrase=PASSPHRASE)
    pool = UserPool.objects.get(pk=made["pool"].pk)
    assert triggers.configured_kinds(pool) == {TriggerKind.PRE_SIGN_UP}


def test_domains_can_be_left_behind(db, settings, source_keys):
    made = populate()
    document = move(settings, made["pool"])
    UserPoolDomain.objects.create(pool=factories.make_pool(), domain="moving-prefix", kind="prefix")
    result = pool_transfer.import_pool(document=document, passphrase=PASSPHRASE, with_domains=False)
    assert result.counts["domains"] == 0
    assert not UserPoolDomain.objects.filter(pool=made["pool"].pk).exists()


# ------------------------------------------------------------------------- the document


def test_the_export_validates_against_the_published_schema_and_holds_no_plaintext_secret(
    db, settings, source_keys
):
    made = populate()
    pool = made["pool"]
    document = pool_transfer.export_pool(pool=pool, passphrase=PASSPHRASE)
    pool_transfer.validate_document(document)
    assert document["format"] == "cognate-pool" and document["version"] == 1
    text = json.dumps(document)
    tia = User.objects.get(pool=pool, username="tia")
    secrets = [
        made["confidential"].plain_secret,
        User.objects.get(pool=pool, username="ann").password,
        crypto.decrypt(tia.totp_devices.get().secret),
        crypto.decrypt(tia.srp_verifier),
        "PRIVATE KEY",
        "google-client-secret-value",
        "whsec-trigger-secret-value",
        "device-verifier-secret-value",
        "-----BEGIN PRIVATE KEY-----sp",
    ]
    for secret in secrets:
        assert secret not in text


def test_the_schema_is_a_valid_draft_2020_12_schema():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(pool_transfer.schema())


def test_the_published_schema_is_what_its_script_writes():
    from scripts import pool_export_schema

    assert pool_transfer.schema() == pool_export_schema.build(), (
        "pool/schemas/pool-export.schema.json is out of date with the models: run "
        "scripts/pool_export_schema.py"
    )


def test_every_table_of_a_pool_is_moved_or_named_as_not_moved():
    from django.apps import apps

    moved = {t.model for t in (pool_transfer.POOL, *pool_transfer.POOL_TABLES)}
    moved |= {t.model for t in (pool_transfer.USERS, *pool_transfer.USER_TABLES)}
    for model in apps.get_app_config("pool").get_models():
        owned = any(
            f.is_relation and f.related_model in (UserPool, User)
            for f in model._meta.get_fields()
            if f.concrete
        )
        if owned and model not in moved:
            assert model.__name__ in NOT_MOVED, (
                f"{model.__name__} belongs to a pool: export it in pool_transfer or say here "
                "why it stays behind"
            )


def test_a_short_passphrase_is_refused(db):
    pool = factories.make_pool()
    with pytest.raises(InvalidParameterException, match="at least 12"):
        pool_transfer.export_pool(pool=pool, passphrase="short")


# --------------------------------------------------------------------------- refusals


@pytest.fixture
def exported(db, settings, source_keys):
    made = populate()
    document = move(settings, made["pool"])
    return made, document


def test_a_wrong_passphrase_is_refused_and_nothing_is_written(exported):
    made, document = exported
    before = counts()
    with pytest.raises(InvalidParameterException, match="passphrase does not open"):
        pool_transfer.import_pool(document=document, passphrase="not the passphrase at all")
    assert counts() == before


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d["users"][0].update(email="mallory@example.com"),
        lambda d: d["pool"].update(allow_self_sign_up=not d["pool"]["allow_self_sign_up"]),
        lambda d: d["app_clients"].reverse(),
        lambda d: d["users"][1].update(password=d["users"][0]["password"]),
    ],
)
def test_a_document_changed_after_export_is_refused(exported, tamper):
    made, document = exported
    tamper(document)
    before = counts()
    with pytest.raises(InvalidParameterException, match="changed after it was made"):
        pool_transfer.import_pool(document=document, passphrase=PASSPHRASE)
    assert counts() == before


def test_a_sealed_secret_swapped_for_garbage_is_refused_even_with_a_valid_mac(exported):
    made, document = exported
    document["app_clients"][1]["secret"] = "sealed:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    resign(document)
    with pytest.raises(InvalidParameterException, match="does not open"):
        pool_transfer.import_pool(document=document, passphrase=PASSPHRASE)
    assert not UserPool.objects.filter(pk=made["pool"].pk).exists()


def resign(document: dict) -> None:
    """What someone holding the passphrase can do: change the document and sign it again."""
    sealer = sealing.Sealer.for_document(PASSPHRASE, document["protection"])
    document["mac"] = sealer.sign(document)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="something-else"), 'its "format" must be "cognate-pool"'),
        (lambda d: d.update(version=2), "reads version 1"),
        (lambda d: d.pop("users"), "'users' is a required property"),
        (lambda d: d["users"][0].update(status="ASLEEP"), "at users/0/status"),
        (lambda d: d["users"][0].update(sub="not-a-uuid"), "at users/0/sub"),
        (lambda d: d["pool"].update(case_sensitive="yes"), "at pool/case_sensitive"),
        (lambda d: d["app_clients"][0].update(secret="plain-secret"), "at app_clients/0/secret"),
        (lambda d: d["protection"].update(n=2**30), "at protection/n"),
        (lambda d: d.update(extra=1), "Additional properties"),
    ],
)
def test_a_schema_invalid_document_is_refused_with_where_and_nothing_written(
    exported, change, message
):
    made, document = exported
    change(document)
    before = counts()
    with pytest.raises(InvalidParameterException) as refused:
        pool_transfer.import_pool(document=document, passphrase=PASSPHRASE)
    assert message in refused.value.message
    assert counts() == before


def test_a_salt_that_is_not_base64url_is_refused(exported):
    made, document = exported
    document["protection"]["salt"] = "A" * 17  # 17 base64 characters decode to nothing
    with pytest.raises(InvalidParameterException, match="salt is not base64url"):
        pool_transfer.import_pool(document=document, passphrase=PASSPHRASE)


def test_a_deeply_nested_file_is_refused_as_not_an_export():
    with pytest.raises(InvalidParameterException, match="nests deeper"):
        pool_transfer.read_document("[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["users"][2].update(given_name="Mo\x00"),
        lambda d: d["app_clients"][0]["explicit_auth_flows"].append("\x00"),
        lambda d: d["users"][0]["attributes"].update({"custom:x\x00": "1"}),
    ],
)
def test_a_nul_character_anywhere_is_refused_by_where_and_nothing_written(exported, change):
    made, document = exported
    change(document)
    resign(document)
    before = counts()
    with pytest.raises(InvalidParameterException, match="NUL character at (users|app_clients)/"):
        pool_transfer.import_pool(document=document, passphrase=PASSPHRASE)
    assert counts() == before


def test_a_column_this_server_does_not_know_is_refused_by_name(exported):
    made, document = exported
    document["users"][0]["favourite_colour"] = "blue"
    resign(document)
    with pytest.raises(InvalidParameterException, match="favourite_colour, which this server"):
        pool_transfer.import_pool(document=document, passphrase=PASSPHRASE)
    assert not UserPool.objects.filter(pk=made["pool"].pk).exists()


def test_a_value_the_model_refuses_is_a_clear_error(exported):
    made, document = exported
    document["groups"][0]["name"] = "x" * 129
    resign(document)
    with pytest.raises(InvalidParameterException, match="groups/0/name"):
        pool_transfer.import_pool(document=document, passphrase=PASSPHRASE)
    assert not UserPool.objects.filter(pk=made["pool"].pk).exists()


def test_pool_settings_that_break_the_pool_rules_are_refused(exported):
    made, document = exported
    document["pool"]["username_attributes"] = ["email"]  # with alias_attributes: exclusive
    resign(document)
    with pytest.raises(InvalidParameterException, match="pool/(alias|username)_attributes"):
        pool_transfer.import_pool(document=document, passphrase=PASSPHRASE)
    assert not UserPool.objects.filter(pk=made["pool"].pk).exists()


def test_a_pool_id_that_exists_is_refused(db, settings, source_keys):
    made = populate()
    document = pool_transfer.export_pool(pool=made["pool"], passphrase=PASSPHRASE)
    before = counts()
    with pytest.raises(InvalidParameterException, match="already exists on this server"):
        pool_transfer.import_pool(document=document, passphrase=PASSPHRASE)
    assert counts() == before


def test_a_client_id_another_pool_holds_is_refused_and_nothing_is_written(exported):
    made, document = exported
    other = factories.make_pool()
    factories.make_client(other, client_id=made["public"].client_id)
    before = counts()
    with pytest.raises(InvalidParameterException, match="already has client id"):
        pool_transfer.import_pool(document=document, passphrase=PASSPHRASE)
    assert counts() == before


def test_a_sub_another_pool_holds_is_refused_and_nothing_is_written(exported):
    made, document = exported
    factories.make_user(factories.make_pool(), "twin", sub=uuid.UUID(document["users"][-1]["sub"]))
    before = counts()
    with pytest.raises(InvalidParameterException, match="already has user sub"):
        pool_transfer.import_pool(document=document, passphrase=PASSPHRASE)
    assert counts() == before


def test_a_failure_half_way_rolls_everything_back(exported):
    """The last user's username is the first one's: the pool, its clients, keys, groups and
    the users before it were written when the import fails; none of it stays."""
    made, document = exported
    clash = copy.deepcopy(document["users"][0])
    clash.update(sub=str(uuid.uuid4()), email="", email_key=None, preferred_username="")
    clash.update(preferred_username_key=None, phone_number="", phone_number_key=None)
    clash.update(totp_devices=[], devices=[], federated_identities=[])
    document["users"].append(clash)
    resign(document)
    before = counts()
    with pytest.raises(UsernameExistsException):
        pool_transfer.import_pool(document=document, passphrase=PASSPHRASE)
    assert counts() == before
    assert not UserPool.objects.filter(pk=made["pool"].pk).exists()


@pytest.mark.django_db(transaction=True)
def test_parallel_imports_of_one_export_make_one_pool(settings, source_keys):
    made = populate()
    document = move(settings, made["pool"])
    outcomes = run_together(
        [lambda: pool_transfer.import_pool(document=document, passphrase=PASSPHRASE)] * 3
    )
    done = [o for o in outcomes if isinstance(o, pool_transfer.ImportResult)]
    refused = [o for o in outcomes if isinstance(o, InvalidParameterException)]
    assert len(done) == 1 and len(refused) == 2, outcomes
    assert UserPool.objects.count() == 1
    assert User.objects.filter(pool=made["pool"].pk).count() == 8


def test_a_scrypt_cost_past_the_cap_is_refused_before_deriving(exported):
    made, document = exported
    document["protection"]["n"] = 2**18
    with pytest.raises(InvalidParameterException, match="at protection/n"):
        pool_transfer.import_pool(document=document, passphrase=PASSPHRASE)


# --------------------------------------------------------------------------- commands


def test_the_commands_move_a_pool_through_a_file(db, settings, source_keys, tmp_path, capsys):
    made = populate()
    pool = made["pool"]
    before = snapshot(pool.pk)
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE + "\n")
    target = tmp_path / "pool.json"
    target.write_text("an older file anyone could read")
    target.chmod(0o644)
    call_command("exportpool", pool.pk, str(target), "--passphrase-file", str(secret), "--json")
    exported = json.loads(capsys.readouterr().out)
    assert exported["counts"]["users"] == 8
    assert os.stat(target).st_mode & 0o777 == 0o600
    UserPool.objects.filter(pk=pool.pk).delete()
    use_keys(settings, TARGET_KEYS)

    call_command("importpool", str(target), "--passphrase-file", str(secret), "--json")

    assert json.loads(capsys.readouterr().out)["pool_id"] == pool.pk
    assert snapshot(pool.pk) == before


def test_the_import_command_reports_a_wrong_passphrase_as_an_error(
    db, settings, source_keys, tmp_path
):
    pool = factories.make_pool()
    secret, wrong = tmp_path / "passphrase", tmp_path / "wrong"
    secret.write_text(PASSPHRASE)
    wrong.write_text("another passphrase entirely")
    target = tmp_path / "pool.json"
    call_command("exportpool", pool.pk, str(target), "--passphrase-file", str(secret))
    pool.delete()
    with pytest.raises(CommandError, match="passphrase does not open"):
        call_command("importpool", str(target), "--passphrase-file", str(wrong))
    assert not UserPool.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"{not json", "not JSON"), (b"[]", "not a Cognate pool export")],
)
def test_the_import_command_refuses_a_file_that_is_not_an_export(db, tmp_path, content, message):
    secret, source = tmp_path / "passphrase", tmp_path / "pool.json"
    secret.write_text(PASSPHRASE)
    source.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        call_command("importpool", str(source), "--passphrase-file", str(secret))


def test_the_commands_need_a_readable_passphrase_file(db, tmp_path):
    pool = factories.make_pool()
    with pytest.raises(CommandError, match="Cannot read"):
        call_command(
            "exportpool", pool.pk, str(tmp_path / "x.json"), "--passphrase-file", "/nonexistent"
        )
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(CommandError, match="no passphrase"):
        call_command(
            "exportpool", pool.pk, str(tmp_path / "x.json"), "--passphrase-file", str(empty)
        )


# ------------------------------------------------------------------------------- fuzz

ODD_VALUES = [None, True, 0, -1, 2**40, "", "x" * 5000, "\x00", [], {}, ["x"], {"a": 1}, 1.5]
ODD_VALUES += ["2020-01-01", "sealed:AAAA", "é", "not-a-uuid"]


def _leaves(value, path=()):
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaves(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _leaves(child, (*path, index))
    yield path


@pytest.mark.slow
def test_any_value_changed_by_a_passphrase_holder_is_imported_or_refused_never_a_500(exported):
    """Seeded random changes anywhere in a re-signed export: each import succeeds whole or
    raises the domain's error with nothing written (a 500 would be any other exception)."""
    made, document = exported
    sealer = sealing.Sealer.for_document(PASSPHRASE, document["protection"])
    paths = [p for p in _leaves(document) if p and p[0] not in ("mac", "protection")]
    rng = random.Random(17)
    before = counts()
    for _ in range(150):
        changed = copy.deepcopy(document)
        path = rng.choice(paths)
        parent = changed
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = rng.choice(ODD_VALUES)
        changed["mac"] = sealer.sign(changed)
        try:
            result = pool_transfer.import_pool(document=changed, passphrase=PASSPHRASE)
        except CognitoError:
            assert counts() == before, path
            continue
        UserPool.objects.filter(pk=result.pool_id).delete()


def test_brandings_travel_with_their_images_and_client(db, settings, source_keys):
    from pool.models import Branding
    from pool.services import branding
    from tests.images import png

    made = populate()
    pool, app = made["pool"], made["confidential"]
    branding.set_branding(pool=pool, settings={"mode": "auto"}, css=".card { margin: 0; }")
    branding.set_branding(
        pool=pool,
        client=app,
        settings={"light": {"primary": "#123456"}},
        logo=png(rgb=(7, 8, 9)),
        background=png(rgb=(1, 1, 1)),
    )
    columns = (
        "client_id",
        "settings",
        "custom_css",
        "logo_type",
        "logo_digest",
        "background_digest",
        "use_defaults",
    )
    before = sorted(Branding.objects.filter(pool=pool).values_list(*columns), key=str)
    document = move(settings, pool)
    assert len(document["brandings"]) == 2

    pool_transfer.import_pool(document=document, passphrase=PASSPHRASE)

    after = sorted(Branding.objects.filter(pool=pool.pk).values_list(*columns), key=str)
    assert after == before
    moved = Branding.objects.get(client_id=app.pk)
    assert bytes(moved.logo) == png(rgb=(7, 8, 9))
    assert bytes(moved.background) == png(rgb=(1, 1, 1))


def test_a_version_1_file_written_before_brandings_travelled_still_imports(exported):
    made, document = exported
    assert document.pop("brandings") == []
    resign(document)
    result = pool_transfer.import_pool(document=document, passphrase=PASSPHRASE)
    assert result.counts["brandings"] == 0 and result.counts["users"] == 8
