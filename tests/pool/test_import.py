"""User CSV export and import (Cognito's import format plus cognate:password_hash)."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.hashers import make_password

from pool.errors import InvalidParameterException, PasswordResetRequiredException
from pool.models import User, UserStatus
from pool.services import authenticate, passwords, pools, user_import
from pool.services.results import Authenticated, RequestContext
from tests import factories

CTX = RequestContext(source="cli")


def export(pool, **kwargs) -> str:
    out = io.StringIO()
    user_import.export_csv(pool, out, **kwargs)
    return out.getvalue()


def csv(pool, *rows: dict[str, str]) -> io.StringIO:
    header = user_import.csv_header(pool)
    lines = [",".join(header)]
    for row in rows:
        row = {"cognito:mfa_enabled": "false", **row}
        lines.append(",".join(user_import.escape(row.get(column, "")) for column in header))
    return io.StringIO("\n".join(lines) + "\n")


def test_header_is_cognitos_plus_custom_and_hash(pool):
    pools.add_custom_attribute(pool=pool, name="team")
    header = user_import.csv_header(pool)
    assert header[: len(user_import.COGNITO_COLUMNS)] == list(user_import.COGNITO_COLUMNS)
    assert header[len(user_import.COGNITO_COLUMNS)] == "custom:team"
    assert header[-1] == "cognate:password_hash"
    assert user_import.TOTP_COLUMN not in header


def test_escape_round_trip():
    value = "a,b\\c\nd"
    assert user_import.split_line(user_import.escape(value) + "," + "x") == [value, "x"]


def test_export_writes_one_line_per_user(pool, user):
    lines = export(pool).splitlines()
    assert len(lines) == 2 and "alice" in lines[1]


def test_export_without_hashes(pool, user):
    text = export(pool, with_password_hashes=False)
    assert "cognate:password_hash" not in text and "argon2" not in text


def test_round_trip_keeps_attributes_and_password(pool):
    pools.add_custom_attribute(pool=pool, name="team")
    original = factories.make_user(
        pool,
        "bob",
        name="Bob, Jr.",
        attributes={"custom:team": "red", "birthdate": "1990-04-30"},
    )
    target = factories.make_pool(name="target")
    pools.add_custom_attribute(pool=target, name="team")
    result = user_import.import_csv(target, io.StringIO(export(pool)))
    assert result.imported == 1 and result.errors == ()
    copy = User.objects.get(pool=target, username="bob")
    assert copy.status == UserStatus.CONFIRMED
    assert copy.name == "Bob, Jr." and copy.email == original.email and copy.email_verified
    assert copy.attributes["custom:team"] == "red"
    assert copy.attributes["birthdate"] == "1990-04-30"
    assert copy.password == original.password


def test_imported_user_signs_in_with_their_password(pool, app_client):
    source = factories.make_pool(name="source")
    factories.make_user(source, "carol")
    user_import.import_csv(pool, io.StringIO(export(source)))
    result = authenticate.password(
        pool=pool, username="carol", password=factories.PASSWORD, client=app_client, context=CTX
    )
    assert isinstance(result, Authenticated)


def test_imported_pbkdf2_hash_is_upgraded_to_argon2id_on_sign_in(pool, app_client):
    legacy = make_password("Legacy-Pass-1", hasher="pbkdf2_sha256")
    user_import.import_csv(
        pool,
        csv(
            pool,
            {
                "cognito:username": "dave",
                "email": "dave@example.com",
                "email_verified": "true",
                "cognate:password_hash": legacy,
            },
        ),
    )
    user = User.objects.get(pool=pool, username="dave")
    assert user.status == UserStatus.CONFIRMED and user.password.startswith("pbkdf2_sha256$")
    authenticate.password(
        pool=pool, username="dave", password="Legacy-Pass-1", client=app_client, context=CTX
    )
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$") and user.srp_verifier


def test_user_without_hash_must_reset_password(pool, app_client):
    user_import.import_csv(
        pool,
        csv(pool, {"cognito:username": "erin", "email": "e@example.com", "email_verified": "true"}),
    )
    user = User.objects.get(pool=pool, username="erin")
    assert user.status == UserStatus.RESET_REQUIRED and not user.password
    pool.prevent_user_existence_errors = False
    pool.save()
    with pytest.raises(PasswordResetRequiredException):
        authenticate.password(
            pool=pool, username="erin", password="Whatever-1", client=app_client, context=CTX
        )


def test_bad_rows_are_reported_and_good_rows_kept(pool):
    factories.make_user(pool, "taken")
    source = csv(
        pool,
        {"cognito:username": "good1", "email": "g1@example.com", "email_verified": "true"},
        {"cognito:username": "taken", "email": "t@example.com", "email_verified": "true"},
        {"cognito:username": "noverify", "email": "n@example.com", "email_verified": "false"},
        {"cognito:username": "bad mail", "email": "b@example.com", "email_verified": "true"},
        {
            "cognito:username": "badhash",
            "email": "h@example.com",
            "email_verified": "true",
            "cognate:password_hash": "plaintext",
        },
        {"cognito:username": "good2", "email": "g2@example.com", "email_verified": "true"},
    )
    result = user_import.import_csv(pool, source)
    assert result.imported == 2
    assert [e.line for e in result.errors] == [3, 4, 5, 6]
    assert "exists" in result.errors[0].reason
    assert "verified" in result.errors[1].reason
    assert "hash" in result.errors[3].reason
    assert set(User.objects.filter(pool=pool).values_list("username", flat=True)) == {
        "taken",
        "good1",
        "good2",
    }


def test_row_with_wrong_number_of_values(pool):
    source = io.StringIO(",".join(user_import.csv_header(pool)) + "\nonly,three,values\n")
    result = user_import.import_csv(pool, source)
    assert result.imported == 0 and result.errors[0].line == 2


def test_row_is_all_or_nothing(pool):
    """A row that fails after the user was built leaves nothing behind (bad custom value)."""
    pools.add_custom_attribute(pool=pool, name="level", data_type="Number")
    header = user_import.csv_header(pool)
    row = {c: "" for c in header}
    row.update(
        {
            "cognito:username": "frank",
            "cognito:mfa_enabled": "false",
            "email": "f@example.com",
            "email_verified": "true",
            "custom:level": "high",
        }
    )
    source = io.StringIO(",".join(header) + "\n" + ",".join(row[c] for c in header) + "\n")
    result = user_import.import_csv(pool, source)
    assert result.imported == 0 and not User.objects.filter(username="frank").exists()


def test_mfa_enabled_must_be_given(pool):
    result = user_import.import_csv(
        pool,
        csv(
            pool,
            {
                "cognito:username": "g",
                "email": "g@example.com",
                "email_verified": "true",
                "cognito:mfa_enabled": "",
            },
        ),
    )
    assert "mfa_enabled" in result.errors[0].reason


def test_mfa_enabled_true_needs_mfa_pool(db):
    pool = factories.make_pool(mfa_configuration="OFF")
    result = user_import.import_csv(
        pool,
        csv(
            pool,
            {
                "cognito:username": "g",
                "phone_number": "+15555550100",
                "phone_number_verified": "true",
                "cognito:mfa_enabled": "true",
            },
        ),
    )
    assert "OFF" in result.errors[0].reason


def test_mfa_enabled_true_turns_on_sms_mfa(pool):
    user_import.import_csv(
        pool,
        csv(
            pool,
            {
                "cognito:username": "g",
                "email": "g@example.com",
                "phone_number": "+15555550100",
                "phone_number_verified": "true",
                "cognito:mfa_enabled": "true",
            },
        ),
    )
    assert User.objects.get(pool=pool, username="g").sms_mfa_enabled


def test_cognito_birthdate_format_is_converted(pool):
    user_import.import_csv(
        pool,
        csv(
            pool,
            {
                "cognito:username": "h",
                "email": "h@example.com",
                "email_verified": "true",
                "birthdate": "04/30/1990",
            },
        ),
    )
    assert User.objects.get(pool=pool, username="h").attributes["birthdate"] == "1990-04-30"


def test_unknown_column_refuses_the_file(pool):
    with pytest.raises(InvalidParameterException, match="custom:team"):
        user_import.import_csv(
            pool, io.StringIO("cognito:username,cognito:mfa_enabled,custom:team\n")
        )


def test_header_needs_username_column(pool):
    with pytest.raises(InvalidParameterException, match="cognito:username"):
        user_import.import_csv(pool, io.StringIO("email,cognito:mfa_enabled\n"))


def test_empty_file_is_refused(pool):
    with pytest.raises(InvalidParameterException):
        user_import.import_csv(pool, io.StringIO(""))


def test_username_attribute_pool_keeps_exported_sub(db):
    source = factories.make_pool(name="src", username_attributes=["email"])
    original = factories.make_user(source, "placeholder")
    original.username = str(original.sub)
    original.save()
    target = factories.make_pool(name="dst", username_attributes=["email"])
    text = export(source)
    original.delete()  # subs are unique across pools, as Cognito's are
    result = user_import.import_csv(target, io.StringIO(text))
    assert result.imported == 1, result.errors
    copy = User.objects.get(pool=target)
    assert str(copy.sub) == copy.username == original.username
    assert copy.email_key == original.email.lower()


def test_imported_user_password_is_verifiable(pool):
    source = factories.make_pool(name="source")
    factories.make_user(source, "ivy")
    user_import.import_csv(pool, io.StringIO(export(source)))
    assert passwords.verify(User.objects.get(pool=pool, username="ivy"), factories.PASSWORD)
