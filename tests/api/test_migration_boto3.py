"""The user migration trigger against a live Cognate, from the clients a migrating team uses:
boto3's InitiateAuth USER_PASSWORD_AUTH and ForgotPassword, pycognito's `admin_authenticate`
(AdminInitiateAuth) and, once a user is migrated, pycognito's SRP `authenticate`, which never
migrates (Cognito's rule: SRP does not show the password to the server). The legacy store is a
SQLite database with bcrypt hashes behind a webhook receiver on loopback that counts calls."""

from __future__ import annotations

import jwt as pyjwt
import pytest
from botocore.config import Config
from pycognito import Cognito

from pool.models import User, UserPool, UserStatus
from tests import factories
from tests import triggers_support as hooks
from tests.api.conftest import REGION, UNSIGNED
from tests.legacy_store import LegacyStore

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]
LEGACY_PASSWORD = "legacy-pass"
FLOWS = [
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
]


@pytest.fixture
def pool(db):
    return factories.make_pool(name="migrating", mfa_configuration=UserPool.Mfa.OFF)


@pytest.fixture
def app(pool):
    return factories.make_client(pool, explicit_auth_flows=FLOWS, refresh_token_rotation=False)


@pytest.fixture
def receiver(cognito, pool, tmp_path):
    """The legacy store's webhook, set as the pool's UserMigration trigger through
    UpdateUserPool's LambdaConfig."""
    found, server = hooks.serve()
    legacy = LegacyStore(tmp_path / "legacy.sqlite3")
    legacy.add("erin", LEGACY_PASSWORD, email="erin@example.com", full_name="Erin Old")
    legacy.add("fred", LEGACY_PASSWORD, email="fred@example.com", full_name="Fred Old")
    found.answer = legacy.migration_handler()
    cognito.update_user_pool(UserPoolId=pool.id, LambdaConfig={"UserMigration": found.url})
    described = cognito.describe_user_pool(UserPoolId=pool.id)["UserPool"]["LambdaConfig"]
    assert described == {"UserMigration": found.url}
    yield found
    server.shutdown()
    server.server_close()


def pycognito_user(server, pool, app, username, credentials=UNSIGNED) -> Cognito:
    return Cognito(
        pool.id,
        app.client_id,
        user_pool_region=REGION,
        username=username,
        botocore_config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        boto3_client_kwargs={"endpoint_url": server, **credentials},
    )


def password_auth(app_caller, app, username, password=LEGACY_PASSWORD):
    return app_caller.initiate_auth(
        ClientId=app.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )


def test_boto3_user_password_auth_migrates_then_signs_in_without_the_trigger(
    app_caller, pool, app, receiver
):
    answer = password_auth(app_caller, app, "erin")
    claims = pyjwt.decode(
        answer["AuthenticationResult"]["IdToken"], options={"verify_signature": False}
    )
    user = User.objects.get(pool=pool, username="erin")
    assert claims["cognito:username"] == "erin" and claims["sub"] == str(user.sub)
    assert claims["email"] == "erin@example.com" and claims["name"] == "Erin Old"
    assert user.status == UserStatus.CONFIRMED
    assert receiver.last()["request"]["password"] == LEGACY_PASSWORD
    assert password_auth(app_caller, app, "erin")["AuthenticationResult"]["AccessToken"]
    assert len(receiver.received) == 1


def test_boto3_wrong_legacy_password_and_unknown_name(app_caller, pool, app, receiver):
    for username, password in (("erin", "wrong"), ("nobody", LEGACY_PASSWORD)):
        with pytest.raises(app_caller.exceptions.NotAuthorizedException) as refused:
            password_auth(app_caller, app, username, password)
        assert refused.value.response["Error"]["Message"] == "Incorrect username or password."
    assert not User.objects.exists()


def test_pycognito_admin_authenticate_migrates_and_srp_works_after(
    server, access_key, pool, app, receiver
):
    credentials = {
        "aws_access_key_id": access_key.access_key_id,
        "aws_secret_access_key": access_key.secret_access_key,
    }
    # SRP first: Cognito never migrates on SRP, so the legacy user is unknown and no call is made.
    srp_user = pycognito_user(server, pool, app, "fred")
    with pytest.raises(srp_user.client.exceptions.NotAuthorizedException):
        srp_user.authenticate(password=LEGACY_PASSWORD)
    assert receiver.received == [] and not User.objects.exists()
    admin_user = pycognito_user(server, pool, app, "fred", credentials)
    admin_user.admin_authenticate(password=LEGACY_PASSWORD)  # ADMIN_NO_SRP_AUTH
    assert admin_user.id_claims["cognito:username"] == "fred"
    assert receiver.last()["triggerSource"] == "UserMigration_Authentication"
    # Migrated with the typed password's SRP verifier: pycognito's SRP sign-in now works.
    srp_user = pycognito_user(server, pool, app, "fred")
    srp_user.authenticate(password=LEGACY_PASSWORD)
    assert srp_user.access_claims["username"] == "fred"
    assert len(receiver.received) == 1


def test_boto3_forgot_password_migrates(app_caller, pool, app, receiver):
    answer = app_caller.forgot_password(ClientId=app.client_id, Username="erin")
    assert answer["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    assert User.objects.get(username="erin").status == UserStatus.RESET_REQUIRED
    event = receiver.last()
    assert event["triggerSource"] == "UserMigration_ForgotPassword"
    assert "password" not in event["request"]
