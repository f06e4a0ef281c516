"""The pool's password policy, attribute schema, sign-in keys and per-user caps."""

from __future__ import annotations

import pytest

from pool import clock, policy
from pool.errors import (
    AliasExistsException,
    InvalidParameterException,
    InvalidPasswordException,
    LimitExceededException,
    NotAuthorizedException,
    UsernameExistsException,
)
from pool.models import CustomAttribute, User
from pool.services import passwords
from tests import factories

# ------------------------------------------------------------------------------ passwords


def _refused(pool, password: str) -> str:
    with pytest.raises(InvalidPasswordException) as caught:
        policy.check_password(pool, password)
    assert caught.value.field == "password"
    return caught.value.message


def test_good_password_passes_default_policy(pool):
    policy.check_password(pool, "Correct-Horse-9")


def test_short_password_is_refused_with_cognitos_message(pool):
    assert (
        _refused(pool, "Ab-1xyz")
        == "Password did not conform with policy: Password not long enough"
    )


def test_pool_minimum_length_is_applied(db):
    pool = factories.make_pool(password_min_length=12)
    assert _refused(pool, "Abcdef-1234").endswith("Password not long enough")
    policy.check_password(pool, "Abcdef-12345")


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("lower-case-9", "Password must have uppercase characters"),
        ("UPPER-CASE-9", "Password must have lowercase characters"),
        ("No-Digits-Here", "Password must have numeric characters"),
        ("NoSymbols99", "Password must have symbol characters"),
    ],
)
def test_each_character_class_is_required_by_default(pool, password, rule):
    assert _refused(pool, password) == f"Password did not conform with policy: {rule}"


def test_classes_the_pool_does_not_require_are_not_checked(db):
    pool = factories.make_pool(
        password_require_uppercase=False,
        password_require_lowercase=False,
        password_require_numbers=False,
        password_require_symbols=False,
    )
    policy.check_password(pool, "aaaaaaaa")


@pytest.mark.parametrize("symbol", sorted(policy.PASSWORD_SYMBOLS - {" "}))
def test_every_cognito_symbol_counts_as_a_symbol(pool, symbol):
    policy.check_password(pool, f"Abcdef1{symbol}x")


def test_inner_space_counts_as_a_symbol(pool):
    policy.check_password(pool, "Correct Horse 9")


def test_leading_or_trailing_space_is_refused(pool):
    assert "begin or end with a space" in _refused(pool, " Correct-Horse-9")
    assert "begin or end with a space" in _refused(pool, "Correct-Horse-9 ")


def test_non_latin_letters_do_not_count_as_upper_case(pool):
    assert _refused(pool, "élan-vital-ÉÀ9").endswith("must have uppercase characters")


def test_256_characters_pass_and_257_are_refused(pool):
    policy.check_password(pool, "Aa1-" + "x" * 252)
    assert "at most 256" in _refused(pool, "Aa1-" + "x" * 253)


def test_long_passwords_are_not_truncated(pool):
    user = factories.make_user(pool, "trunc")
    long = "Aa1-" + "y" * 150
    passwords.store(user, long)
    assert passwords.verify(user, long)
    assert not passwords.verify(user, long[:72])
    assert not passwords.verify(user, long[:-1])


def test_describe_password_policy_lists_the_pools_rules(db):
    pool = factories.make_pool(password_min_length=10, password_require_symbols=False)
    rules = policy.describe_password_policy(pool)
    assert rules[0] == "At least 10 characters"
    assert any("uppercase" in rule for rule in rules)
    assert not any("special character" in rule for rule in rules)


# ------------------------------------------------------------------------------ usernames


def test_username_with_whitespace_is_refused():
    with pytest.raises(InvalidParameterException) as caught:
        policy.check_username("alice smith")
    assert caught.value.field == "username"


def test_username_of_129_characters_is_refused_and_128_pass():
    policy.check_username("u" * 128)
    with pytest.raises(InvalidParameterException):
        policy.check_username("u" * 129)


def test_unicode_letters_and_punctuation_are_allowed_in_usernames():
    policy.check_username("zoë.o'brien+test@home")


# ------------------------------------------------------------------------------ attribute schema


def _declare(pool, name, **fields) -> CustomAttribute:
    return CustomAttribute.objects.create(pool=pool, name=name, **fields)


def _invalid(pool, attributes, **kwargs) -> InvalidParameterException:
    kwargs.setdefault("creating", False)
    with pytest.raises(InvalidParameterException) as caught:
        policy.validate_attributes(pool, attributes, **kwargs)
    return caught.value


def test_standard_attributes_are_accepted(pool):
    clean = policy.validate_attributes(
        pool,
        {"email": "a@example.com", "given_name": "Ann", "locale": "en", "birthdate": "1990-02-28"},
        creating=True,
    )
    assert clean["given_name"] == "Ann"


def test_unknown_attribute_is_refused(pool):
    error = _invalid(pool, {"shoe_size": "44"})
    assert error.field == "shoe_size"
    assert "could not be determined" in error.message


def test_undeclared_custom_attribute_is_refused(pool):
    assert _invalid(pool, {"custom:team": "red"}).field == "custom:team"


def test_sub_can_never_be_set(pool):
    assert _invalid(pool, {"sub": "123"}, admin=True).field == "sub"


def test_values_longer_than_2048_characters_are_refused(pool):
    policy.validate_attributes(pool, {"nickname": "n" * 2048}, creating=False)
    assert _invalid(pool, {"nickname": "n" * 2049}).field == "nickname"


def test_email_must_look_like_an_email(pool):
    assert _invalid(pool, {"email": "not-an-email"}).field == "email"


@pytest.mark.parametrize("phone", ["5551234567", "+1 555 123 4567", "+1-555-1234", "+0123456"])
def test_phone_number_must_be_plus_and_digits(pool, phone):
    assert _invalid(pool, {"phone_number": phone}).field == "phone_number"


def test_e164_phone_number_is_accepted(pool):
    policy.validate_attributes(pool, {"phone_number": "+14325551212"}, creating=False)


def test_updated_at_must_be_a_number(pool):
    assert _invalid(pool, {"updated_at": "yesterday"}).field == "updated_at"


def test_birthdate_must_be_a_date(pool):
    assert _invalid(pool, {"birthdate": "1990-02-30"}).field == "birthdate"


def _unauthorized(pool, attributes, **kwargs) -> NotAuthorizedException:
    kwargs.setdefault("creating", False)
    with pytest.raises(NotAuthorizedException) as caught:
        policy.validate_attributes(pool, attributes, **kwargs)
    return caught.value


def test_verified_flags_are_refused_for_users(pool):
    """As Cognito refuses them: NotAuthorizedException, not a parameter error."""
    error = _unauthorized(pool, {"email_verified": "true"})
    assert error.field == "email_verified"
    assert error.message == "A client attempted to write unauthorized attribute"


def test_verified_flags_are_accepted_and_normalized_for_admins(pool):
    clean = policy.validate_attributes(pool, {"email_verified": "TRUE"}, creating=False, admin=True)
    assert clean == {"email_verified": "true"}


def test_custom_string_length_bounds(pool):
    _declare(pool, "code", min_length=2, max_length=4)
    policy.validate_attributes(pool, {"custom:code": "abcd"}, creating=False)
    assert "at least 2" in _invalid(pool, {"custom:code": "a"}).message
    assert "no longer than 4" in _invalid(pool, {"custom:code": "abcde"}).message


def test_custom_number_type_and_bounds(pool):
    _declare(pool, "age", data_type="Number", min_value=0, max_value=150)
    assert policy.validate_attributes(pool, {"custom:age": "42"}, creating=False) == {
        "custom:age": "42"
    }
    assert "Number expected" in _invalid(pool, {"custom:age": "forty"}).message
    assert "at least 0" in _invalid(pool, {"custom:age": "-1"}).message
    assert "at most 150" in _invalid(pool, {"custom:age": "151"}).message


def test_custom_boolean_is_normalized(pool):
    _declare(pool, "vip", data_type="Boolean")
    clean = policy.validate_attributes(pool, {"custom:vip": "True"}, creating=False)
    assert clean == {"custom:vip": "true"}
    assert _invalid(pool, {"custom:vip": "yes"}).field == "custom:vip"


def test_custom_datetime_must_be_iso_8601(pool):
    _declare(pool, "since", data_type="DateTime")
    policy.validate_attributes(pool, {"custom:since": "2024-05-01T10:00:00Z"}, creating=False)
    assert _invalid(pool, {"custom:since": "May 1st"}).field == "custom:since"


def test_immutable_custom_attribute_can_be_set_on_creation_only(pool):
    _declare(pool, "tenant", mutable=False)
    pool.required_attributes = []
    policy.validate_attributes(pool, {"custom:tenant": "acme"}, creating=True)
    error = _invalid(pool, {"custom:tenant": "other"}, admin=True)
    assert "non-mutable" in error.message


def test_developer_only_attribute_is_admin_only(pool):
    _declare(pool, "score", developer_only=True)
    assert _invalid(pool, {"dev:custom:score": "9"}).field == "dev:custom:score"
    clean = policy.validate_attributes(pool, {"dev:custom:score": "9"}, creating=False, admin=True)
    assert clean == {"dev:custom:score": "9"}


def test_developer_only_attribute_is_unknown_without_its_prefix(pool):
    _declare(pool, "score", developer_only=True)
    assert "could not be determined" in _invalid(pool, {"custom:score": "9"}, admin=True).message


def test_client_write_attributes_limit_what_users_write(pool):
    client = factories.make_client(pool, write_attributes=["name", "email"])
    policy.validate_attributes(pool, {"name": "Ann"}, creating=False, client=client)
    error = _unauthorized(pool, {"nickname": "annie"}, client=client)
    assert error.message == "A client attempted to write unauthorized attribute"
    assert error.field == "nickname"


def test_client_with_empty_write_attributes_writes_all_mutable(pool):
    client = factories.make_client(pool, write_attributes=[])
    policy.validate_attributes(pool, {"nickname": "annie"}, creating=False, client=client)


def test_required_attributes_must_be_given_on_creation(pool):
    error = _invalid(pool, {"name": "Ann"}, creating=True)
    assert error.field == "email"
    assert error.message.endswith("email: The attribute is required")


def test_required_attribute_cannot_be_emptied_on_update(pool):
    assert _invalid(pool, {"email": ""}).field == "email"


# ------------------------------------------------------------------------------ applying


def test_apply_writes_columns_and_json_attributes(pool):
    _declare(pool, "team")
    clock.freeze()
    user = User(pool=pool, username="x")
    policy.apply_attributes(user, {"given_name": "Ann", "custom:team": "red", "locale": "fr"})
    assert user.given_name == "Ann"
    assert user.attributes == {
        "custom:team": "red",
        "locale": "fr",
        "updated_at": str(clock.timestamp()),
    }


def test_apply_empty_value_removes_a_json_attribute(pool):
    user = factories.make_user(pool, "jsonny", attributes={"locale": "fr"})
    policy.apply_attributes(user, {"locale": ""})
    assert "locale" not in user.attributes


def test_changed_email_is_no_longer_verified_and_loses_its_alias_key(db):
    pool = factories.make_pool(alias_attributes=["email"])
    user = factories.make_user(pool, "ann")
    assert user.email_key == "ann@example.com"
    policy.apply_attributes(user, {"email": "ann@elsewhere.example"})
    assert user.email_verified is False
    assert user.email_key is None


def test_changed_username_attribute_keeps_signing_in_under_the_new_value(db):
    pool = factories.make_pool(username_attributes=["email"])
    user = factories.make_user(pool, "u1", email="Old@Example.com")
    policy.apply_attributes(user, {"email": "New@Example.com"})
    assert user.email_verified is False
    assert user.email_key == "new@example.com"


def test_admin_verified_flag_sets_alias_key(db):
    pool = factories.make_pool(alias_attributes=["email", "phone_number"])
    user = factories.make_user(pool, "pam", status="UNCONFIRMED", email_verified=False)
    policy.apply_attributes(user, {"phone_number": "+15555550100", "phone_number_verified": "true"})
    assert user.phone_number_verified is True
    assert user.phone_number_key == "+15555550100"


def test_unchanged_email_stays_verified(db):
    pool = factories.make_pool(alias_attributes=["email"])
    user = factories.make_user(pool, "same")
    policy.apply_attributes(user, {"email": "same@example.com"})
    assert user.email_verified is True and user.email_key == "same@example.com"


# ------------------------------------------------------------------------------ sign-in keys


def test_alias_held_by_another_user_is_refused(db):
    pool = factories.make_pool(alias_attributes=["email"])
    factories.make_user(pool, "first", email="shared@example.com")
    second = factories.make_user(pool, "second", email="other@example.com")
    second.email = "SHARED@example.com"
    policy.refresh_sign_in_key(second, "email")
    with pytest.raises(AliasExistsException):
        policy.save_user(second)


def test_forced_alias_moves_and_unverifies_the_previous_holder(db):
    pool = factories.make_pool(alias_attributes=["email"])
    first = factories.make_user(pool, "first", email="shared@example.com")
    second = factories.make_user(pool, "second", email="other@example.com")
    second.email = "shared@example.com"
    policy.refresh_sign_in_key(second, "email")
    policy.save_user(second, force_alias=True)
    first.refresh_from_db()
    assert first.email_key is None and first.email_verified is False
    assert User.objects.get(pk=second.pk).email_key == "shared@example.com"


def test_username_taken_case_insensitively_is_refused(pool):
    factories.make_user(pool, "Alice")
    with pytest.raises(UsernameExistsException):
        policy.save_user(User(pool=pool, username="alice"))


# ------------------------------------------------------------------------------ caps


def test_cap_allows_the_limit_then_refuses(db):
    clock.freeze()
    for _ in range(5):
        policy.enforce_cap("resend_confirmation_code", 7)
    with pytest.raises(LimitExceededException):
        policy.enforce_cap("resend_confirmation_code", 7)


def test_cap_is_per_subject(db):
    clock.freeze()
    for _ in range(5):
        policy.enforce_cap("resend_confirmation_code", 7)
    policy.enforce_cap("resend_confirmation_code", 8)


def test_cap_resets_in_the_next_window(db):
    clock.freeze()
    for _ in range(5):
        policy.enforce_cap("change_password", 7)
    clock.advance(hours=1)
    policy.enforce_cap("change_password", 7)
