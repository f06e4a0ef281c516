from pool.models import UserStatus
from pool.services import codes, passwords
from tests import factories


def test_pool_id_has_cognito_shape(pool):
    region, suffix = pool.id.split("_")
    assert region == "local" and len(suffix) == 9 and suffix.isalnum()


def test_client_id_is_26_lowercase_alphanumerics(app_client):
    assert len(app_client.client_id) == 26
    assert app_client.client_id.isalnum() and app_client.client_id.islower()


def test_client_secret_is_encrypted_at_rest(confidential_client):
    assert confidential_client.plain_secret not in confidential_client.secret
    assert confidential_client.check_secret(confidential_client.plain_secret)
    assert not confidential_client.check_secret("nope")


def test_password_hash_is_argon2id_and_srp_verifier_is_encrypted(user):
    assert user.password.startswith("argon2$argon2id$")
    assert passwords.verify(user, factories.PASSWORD)
    assert not passwords.verify(user, "wrong")
    assert user.srp_salt and user.srp_verifier and not user.srp_verifier.startswith("0")


def test_code_is_single_use(user):
    code = codes.issue(user, "SIGN_UP")
    codes.verify(user, "SIGN_UP", code)
    import pytest

    from pool.errors import ExpiredCodeException

    with pytest.raises(ExpiredCodeException):
        codes.verify(user, "SIGN_UP", code)


def test_email_reaches_smtp_sink(smtp_sink, db):
    from pool import messaging

    messaging.send_email("bob@example.com", "Hi", "Your code is 123456")
    assert "123456" in smtp_sink.body(smtp_sink.wait_for("bob@example.com"))


def test_unconfirmed_user_status(pool):
    user = factories.make_user(pool, "carol", status=UserStatus.UNCONFIRMED)
    assert not user.confirmed
