"""complete_first_factor: the one step every first factor ends in (status rules, MFA decision,
the end of a sign-in), whatever the method; and the explicit auth flows a door may name."""

from __future__ import annotations

import base64

import pytest
from django_otp.oath import TOTP

from pool import clock, crypto
from pool.errors import (
    InvalidParameterException,
    NotAuthorizedException,
    PasswordResetRequiredException,
    UserNotConfirmedException,
)
from pool.models import AppClient, AuthEvent, RefreshFamily, TotpDevice, User, UserStatus
from pool.services import authenticate, sign_in, tokens
from pool.services.results import Authenticated, Challenge, RequestContext
from tests import factories

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def complete(user, client=None, method="federated"):
    return sign_in.complete_first_factor(user=user, client=client, context=None, method=method)


def enrol_totp(user) -> None:
    TotpDevice.objects.create(user=user, secret=crypto.encrypt(SECRET), confirmed=True)
    User.objects.filter(pk=user.pk).update(software_token_mfa_enabled=True)
    user.refresh_from_db()


def totp_code() -> str:
    totp = TOTP(base64.b32decode(SECRET))
    totp.time = clock.timestamp()
    return f"{totp.token():06d}"


# ------------------------------------------------------------------- complete_first_factor


def test_any_first_factor_ends_in_authenticated_with_its_amr(pool, user, app_client):
    clock.freeze()
    result = complete(user, app_client, method="federated")
    assert isinstance(result, Authenticated)
    assert result.methods == ("federated",) and result.auth_time == clock.now()
    user.refresh_from_db()
    assert user.last_sign_in_at == clock.now()
    event = AuthEvent.objects.get(user=user)
    assert event.success and event.reason == "federated"


def test_a_sign_in_answered_with_tokens_is_stored_with_them(pool, user, app_client):
    """A door that answers with tokens (RequestContext.with_tokens: the JSON API) gets the
    sign-in's stamp and event unstored; tokens.for_api_sign_in stores them with the family."""
    clock.freeze()
    context = RequestContext(with_tokens=True)
    result = sign_in.complete_first_factor(
        user=user, client=app_client, context=context, method="pwd"
    )
    assert isinstance(result, Authenticated) and result.unrecorded is not None
    assert User.objects.get(pk=user.pk).last_sign_in_at is None
    assert not AuthEvent.objects.filter(user=user).exists()
    issued = tokens.for_api_sign_in(result)
    assert User.objects.get(pk=user.pk).last_sign_in_at == clock.now()
    event = AuthEvent.objects.get(user=user)
    assert event.success and event.reason == "pwd"
    assert str(RefreshFamily.objects.get(user=user).pk) == issued.family_id


@pytest.mark.parametrize(
    ("status", "enabled", "error"),
    [
        (UserStatus.CONFIRMED, False, NotAuthorizedException),
        (UserStatus.UNCONFIRMED, True, UserNotConfirmedException),
        (UserStatus.RESET_REQUIRED, True, PasswordResetRequiredException),
    ],
)
def test_status_rules_apply_to_every_first_factor(pool, status, enabled, error):
    user = factories.make_user(pool, "carol", status=status, enabled=enabled)
    with pytest.raises(error):
        complete(user)
    assert not AuthEvent.objects.get(user=user).success


def test_a_temporary_password_leads_to_new_password_whatever_the_method(pool):
    user = factories.make_user(pool, "tom", status=UserStatus.FORCE_CHANGE_PASSWORD)
    challenge = complete(user, method="sso")
    assert isinstance(challenge, Challenge) and challenge.name == "NEW_PASSWORD_REQUIRED"


def test_the_method_travels_through_the_mfa_challenge_into_the_amr(pool, user):
    enrol_totp(user)
    challenge = complete(user, method="passkey")
    assert challenge.name == "SOFTWARE_TOKEN_MFA"
    result = authenticate.respond_to_challenge(
        pool=pool,
        challenge_name=challenge.name,
        session=challenge.session,
        responses={"SOFTWARE_TOKEN_MFA_CODE": totp_code()},
    )
    assert result.methods == ("passkey", "otp")


def test_password_sign_in_ends_in_the_same_step(pool, user):
    result = authenticate.password(pool=pool, username="alice", password=factories.PASSWORD)
    assert result.methods == ("pwd",)


# ------------------------------------------------------------------------ explicit auth flows


def set_flows(client: AppClient, flows: list[str]) -> AppClient:
    AppClient.objects.filter(pk=client.pk).update(explicit_auth_flows=flows)
    client.refresh_from_db()
    return client


def password(pool, client, flow):
    return authenticate.password(
        pool=pool, username="alice", password=factories.PASSWORD, client=client, flow=flow
    )


def test_an_allowed_flow_signs_in(pool, user, app_client):
    assert isinstance(password(pool, app_client, "USER_PASSWORD_AUTH"), Authenticated)


def test_a_flow_the_client_does_not_allow_is_refused_as_cognito_does(pool, user, app_client):
    set_flows(app_client, ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    with pytest.raises(
        InvalidParameterException, match=r"^USER_PASSWORD_AUTH flow not enabled for this client$"
    ):
        password(pool, app_client, "USER_PASSWORD_AUTH")
    with pytest.raises(InvalidParameterException, match=r"^Auth flow not enabled for this client$"):
        password(pool, app_client, "ADMIN_USER_PASSWORD_AUTH")
    assert not AuthEvent.objects.exists()  # refused before any user was looked at


def test_admin_flows_need_the_admin_setting(pool, user, app_client):
    set_flows(app_client, ["ALLOW_ADMIN_USER_PASSWORD_AUTH"])
    assert isinstance(password(pool, app_client, "ADMIN_USER_PASSWORD_AUTH"), Authenticated)
    assert isinstance(password(pool, app_client, "ADMIN_NO_SRP_AUTH"), Authenticated)


def test_a_flow_needs_a_client(pool, user):
    with pytest.raises(InvalidParameterException, match="flow not enabled"):
        password(pool, None, "USER_PASSWORD_AUTH")


def test_a_flow_that_is_not_a_password_flow_is_refused(pool, user, app_client):
    with pytest.raises(InvalidParameterException, match="not a password sign-in flow"):
        password(pool, app_client, "REFRESH_TOKEN_AUTH")


def test_without_a_flow_explicit_flows_do_not_apply(pool, user, app_client):
    """The hosted UI's own sign-in names no flow: managed login works whatever they are."""
    set_flows(app_client, [])
    assert isinstance(password(pool, app_client, None), Authenticated)
