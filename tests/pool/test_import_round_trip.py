"""Export then import gives back the same users: every field of the user row, groups, MFA
and (only when asked for) TOTP seeds. Compared field by field, so a field added to User later
must either travel or be named here as one that does not."""

from __future__ import annotations

import io

import pytest

from pool import crypto
from pool.errors import InvalidParameterException
from pool.models import Group, TotpDevice, User, UserPool, UserStatus
from pool.services import admin, authenticate, groups, mfa, pools, user_import
from pool.services.results import Challenge, RequestContext
from tests import factories

CTX = RequestContext(source="test")
ALL_MFA = ["SOFTWARE_TOKEN_MFA", "SMS_MFA", "EMAIL_OTP"]
# User fields that do not travel, and why.
NOT_CARRIED = {
    "id": "a row id of this database",
    "pool": "the pool imported into",
    "created_at": "the import's time",
    "updated_at": "the import's time",
    "srp_salt": "the SRP verifier depends on the pool's id; remade at a password change",
    "srp_verifier": "the SRP verifier depends on the pool's id; remade at a password change",
    "password_changed_at": "not part of the format",
    "last_sign_in_at": "sign-in history stays with the source",
    "tokens_valid_after": "sessions and tokens stay with the source",
}


def _pool(**fields) -> UserPool:
    fields.setdefault("mfa_methods", ALL_MFA)
    pool = factories.make_pool(**fields)
    pools.add_custom_attribute(pool=pool, name="tier")
    return pool


def _snapshot(pool: UserPool) -> dict[str, dict]:
    """Every user of the pool by username: each field of the row, attributes as Cognito lists
    them, group names and authenticator seeds."""
    users = {}
    fields = [f for f in User._meta.concrete_fields if f.name not in NOT_CARRIED]
    for user in User.objects.filter(pool=pool).prefetch_related("groups", "totp_devices"):
        values = {field.name: getattr(user, field.name) for field in fields}
        values["attribute_map"] = user.attribute_map()
        values["groups"] = sorted(group.name for group in user.groups.all())
        values["totp_seeds"] = sorted(
            crypto.decrypt(device.secret) for device in user.totp_devices.all() if device.confirmed
        )
        users[user.username] = values
    return users


def _populate(pool: UserPool) -> None:
    """Users in every state the format must carry, some with values a spreadsheet would run."""
    admins = groups.create_group(pool=pool, name="=admins", precedence=1)
    north = groups.create_group(pool=pool, name="staff,north")
    ann = factories.make_user(
        pool,
        "ann",
        phone_number="+15555550100",
        phone_number_verified=True,
        attributes={"custom:tier": "gold", "locale": "en-GB", "birthdate": "1990-04-30"},
    )
    mfa.set_preference(user=ann, sms=True, preferred="SMS_MFA")
    groups.add_user_to_group(user=ann, group=admins)
    groups.add_user_to_group(user=ann, group=north)
    factories.make_user(pool, "bo", enabled=False)
    tia = factories.make_user(pool, "tia", phone_number="+15555550101")
    TotpDevice.objects.create(user=tia, secret=crypto.encrypt(mfa.new_secret()), confirmed=True)
    mfa.set_preference(user=tia, totp=True, preferred="SOFTWARE_TOKEN_MFA")
    eli = factories.make_user(pool, "eli")
    mfa.set_preference(user=eli, email=True, preferred="EMAIL_OTP")
    factories.make_user(pool, "fay", status=UserStatus.FORCE_CHANGE_PASSWORD)
    factories.make_user(pool, "uma", status=UserStatus.UNCONFIRMED)
    factories.make_user(pool, "rex", status=UserStatus.RESET_REQUIRED)
    factories.make_user(pool, "google_1234", password=None, status=UserStatus.EXTERNAL_PROVIDER)
    formulas = factories.make_user(
        pool,
        "=cmd",
        name='=HYPERLINK("http://evil.example","x")',
        given_name="'=quoted",
        family_name="+1",
        attributes={
            "custom:tier": "@SUM(A1)",
            "nickname": "-2",
            "website": "'plain",
            "profile": "''+x",
        },
    )
    groups.add_user_to_group(user=formulas, group=admins)
    factories.make_user(pool, "'=quoted-name", email="q@example.com")


def _export(pool: UserPool, **kwargs) -> str:
    out = io.StringIO()
    user_import.export_csv(pool, out, **kwargs)
    return out.getvalue()


def _import(pool: UserPool, text: str) -> None:
    result = user_import.import_csv(pool, io.StringIO(text))
    assert result.errors == ()


def test_round_trip_after_deleting_the_users_gives_back_the_same_users(db):
    pool = _pool()
    _populate(pool)
    before = _snapshot(pool)
    text = _export(pool, with_totp_secrets=True)
    for user in User.objects.filter(pool=pool):
        admin.delete_user(user=user)
    _import(pool, text)
    assert _snapshot(pool) == before


def test_round_trip_to_a_fresh_pool_gives_back_the_same_users_and_makes_the_groups(db):
    source = _pool(name="source")
    _populate(source)
    before = _snapshot(source)
    text = _export(source, with_totp_secrets=True)
    source.delete()  # subs are unique on the server, as Cognito's are
    target = _pool(name="target")
    _import(target, text)
    assert _snapshot(target) == before
    assert set(Group.objects.filter(pool=target).values_list("name", flat=True)) == {
        "=admins",
        "staff,north",
    }


def test_totp_seeds_are_exported_only_when_asked_for(db):
    pool = _pool()
    user = factories.make_user(pool, "tia")
    seed = mfa.new_secret()
    TotpDevice.objects.create(user=user, secret=crypto.encrypt(seed), confirmed=True)
    assert seed not in _export(pool) and user_import.TOTP_COLUMN not in _export(pool)
    assert seed in _export(pool, with_totp_secrets=True)


def test_totp_user_without_seed_comes_back_needing_setup_not_sms(db):
    pool = _pool(mfa_configuration=UserPool.Mfa.ON)
    client = factories.make_client(pool)
    tia = factories.make_user(pool, "tia", phone_number="+15555550101")
    TotpDevice.objects.create(user=tia, secret=crypto.encrypt(mfa.new_secret()), confirmed=True)
    mfa.set_preference(user=tia, totp=True, preferred="SOFTWARE_TOKEN_MFA")
    text = _export(pool)
    admin.delete_user(user=tia)
    _import(pool, text)
    copy = User.objects.get(pool=pool, username="tia")
    assert copy.mfa_enabled_methods == [] and copy.preferred_mfa == ""
    assert not copy.totp_devices.exists()
    result = authenticate.password(
        pool=pool, username="tia", password=factories.PASSWORD, client=client, context=CTX
    )
    assert isinstance(result, Challenge) and result.name == "MFA_SETUP"


def test_users_exported_without_hashes_must_reset_their_password(db):
    pool = _pool()
    factories.make_user(pool, "ann")
    factories.make_user(pool, "bo", enabled=False)
    text = _export(pool, with_password_hashes=False)
    User.objects.filter(pool=pool).delete()
    _import(pool, text)
    users = {u.username: u for u in User.objects.filter(pool=pool)}
    assert {u.status for u in users.values()} == {UserStatus.RESET_REQUIRED}
    assert users["ann"].enabled and not users["bo"].enabled


def test_a_copy_next_to_its_original_gets_a_new_sub(db):
    source = _pool(name="source")
    original = factories.make_user(source, "ann")
    target = _pool(name="target")
    _import(target, _export(source))
    copy = User.objects.get(pool=target, username="ann")
    assert copy.sub != original.sub


def _row(pool: UserPool, **values: str) -> io.StringIO:
    header = user_import.csv_header(pool, with_totp_secret=True)
    row = {
        "cognito:username": "zed",
        "cognito:mfa_enabled": "false",
        "email": "zed@example.com",
        "email_verified": "true",
        user_import.STATUS_COLUMN: "CONFIRMED",
        user_import.HASH_COLUMN: factories.make_user(pool, "hash-donor").password,
        **values,
    }
    line = ",".join(user_import.escape(row.get(column, "")) for column in header)
    return io.StringIO(",".join(header) + "\n" + line + "\n")


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({user_import.STATUS_COLUMN: "ASLEEP"}, "cognate:status must be one of"),
        ({user_import.SUB_COLUMN: "not-a-uuid"}, "cognate:sub must be a UUID"),
        ({user_import.ENABLED_COLUMN: "maybe"}, "cognate:enabled must be true or false"),
        ({user_import.MFA_COLUMN: "SMS_MFA"}, "cognito:mfa_enabled must be true"),
        (
            {"cognito:mfa_enabled": "true", user_import.MFA_COLUMN: "PIGEON"},
            "cognate:mfa lists PIGEON",
        ),
        (
            {"cognito:mfa_enabled": "true", user_import.MFA_COLUMN: "SMS_MFA"},
            "SMS_MFA needs the user's phone_number",
        ),
        ({user_import.PREFERRED_MFA_COLUMN: "PIGEON"}, "cognate:preferred_mfa"),
        ({user_import.EXPIRY_COLUMN: "tomorrow"}, "ISO 8601"),
        ({user_import.EXPIRY_COLUMN: "2030-01-01T00:00:00"}, "with its offset"),
        ({user_import.TOTP_COLUMN: "not base32!"}, "base32 seed"),
        ({user_import.GROUPS_COLUMN: "x" * 129}, "Group names are 1-128 characters"),
    ],
)
def test_bad_cognate_values_refuse_the_row_and_change_nothing(db, values, reason):
    pool = _pool()
    result = user_import.import_csv(pool, _row(pool, **values))
    assert result.imported == 0
    assert reason in result.errors[0].reason
    assert not User.objects.filter(pool=pool, username="zed").exists()
    assert not Group.objects.filter(pool=pool).exists()


def test_mfa_method_the_pool_does_not_offer_refuses_the_row(db):
    pool = _pool(mfa_methods=["SOFTWARE_TOKEN_MFA"])
    values = {"cognito:mfa_enabled": "true", user_import.MFA_COLUMN: "EMAIL_OTP"}
    result = user_import.import_csv(pool, _row(pool, **values))
    assert "EMAIL_OTP is not enabled for this user pool" in result.errors[0].reason


def test_cognate_row_with_a_hash_needs_no_verified_contact(db):
    pool = _pool()
    source = _row(pool, email_verified="false", **{user_import.STATUS_COLUMN: "UNCONFIRMED"})
    assert user_import.import_csv(pool, source).errors == ()
    assert User.objects.get(pool=pool, username="zed").status == UserStatus.UNCONFIRMED


def test_header_names_the_cognate_columns_when_refusing_one(db):
    pool = _pool()
    with pytest.raises(InvalidParameterException, match="cognate:groups"):
        user_import.import_csv(pool, io.StringIO("cognito:username,cognito:mfa_enabled,x\n"))
