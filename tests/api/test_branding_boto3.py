"""boto3 against a live Cognate: SetUICustomization / GetUICustomization (Cognito's classic
hosted-UI customization), positive and negative."""

from __future__ import annotations

from urllib.parse import urlparse

import botocore.exceptions
import pytest
import requests

from pool.models import Branding
from tests import factories
from tests.api.shape_check import assert_fits
from tests.images import SVG, png

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]

CSS = ".submitButton-customizable { background-color: #112233; }"


@pytest.fixture
def pool(db):
    return factories.make_pool(name="shop")


def test_pool_customization_round_trip_and_logo_served(cognito, recorder, pool, server):
    logo = png()
    answer = cognito.set_ui_customization(UserPoolId=pool.id, CSS=CSS, ImageFile=logo)
    assert_fits(recorder)
    ui = answer["UICustomization"]
    assert ui["ClientId"] == "ALL" and ui["UserPoolId"] == pool.id and ui["CSS"] == CSS
    got = cognito.get_ui_customization(UserPoolId=pool.id)["UICustomization"]
    assert_fits(recorder)
    assert got["CSS"] == CSS and got["CSSVersion"] == ui["CSSVersion"]
    assert urlparse(got["ImageUrl"]).netloc == urlparse(server).netloc
    served = requests.get(got["ImageUrl"], timeout=10)
    assert served.status_code == 200 and served.content == logo
    assert served.headers["Content-Type"] == "image/png"
    assert "immutable" in served.headers["Cache-Control"]


def test_client_customization_and_fallback_to_all(cognito, recorder, pool):
    app = factories.make_client(pool)
    cognito.set_ui_customization(UserPoolId=pool.id, ClientId="ALL", CSS=CSS)
    fallback = cognito.get_ui_customization(UserPoolId=pool.id, ClientId=app.client_id)
    assert fallback["UICustomization"]["CSS"] == CSS
    own = ".label-customizable { font-weight: 400; }"
    cognito.set_ui_customization(UserPoolId=pool.id, ClientId=app.client_id, CSS=own)
    got = cognito.get_ui_customization(UserPoolId=pool.id, ClientId=app.client_id)
    assert got["UICustomization"]["CSS"] == own
    assert got["UICustomization"]["ClientId"] == app.client_id
    assert_fits(recorder)
    assert Branding.objects.filter(pool=pool).count() == 2


def test_nothing_set_answers_only_the_names(cognito, recorder, pool):
    got = cognito.get_ui_customization(UserPoolId=pool.id)["UICustomization"]
    assert got == {"UserPoolId": pool.id, "ClientId": "ALL"}
    assert_fits(recorder)


@pytest.mark.parametrize(
    "css",
    [
        "@import url(https://evil.example/x.css);",
        "body { background: url(javascript:alert(1)); }",
        "body { background: url(https://evil.example/track.png); }",
        "body { b\\61 ckground: red; }",
    ],
)
def test_unsafe_css_is_refused_and_nothing_changes(cognito, pool, css):
    cognito.set_ui_customization(UserPoolId=pool.id, CSS=CSS)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        cognito.set_ui_customization(UserPoolId=pool.id, CSS=css)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    assert Branding.objects.get(pool=pool).custom_css == CSS


@pytest.mark.parametrize("image", [SVG, b"GIF8" + b"x" * 10, png() + b"\0" * 110_000])
def test_bad_logo_is_refused(cognito, pool, image):
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        cognito.set_ui_customization(UserPoolId=pool.id, ImageFile=image[:131072])
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidParameterException"
    assert not Branding.objects.exists()


def test_unknown_pool_and_client(cognito, pool):
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        cognito.get_ui_customization(UserPoolId="local_Nope12345")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        cognito.set_ui_customization(UserPoolId=pool.id, ClientId="nosuchclient", CSS=CSS)
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


# ------------------------------------------------------------------ managed login branding


def test_managed_login_branding_lifecycle(cognito, recorder, pool):
    app = factories.make_client(pool)
    created = cognito.create_managed_login_branding(
        UserPoolId=pool.id,
        ClientId=app.client_id,
        Settings={"mode": "dark", "dark": {"primary": "#ff9900"}},
        Assets=[{"Category": "FORM_LOGO", "ColorMode": "DARK", "Extension": "PNG", "Bytes": png()}],
    )["ManagedLoginBranding"]
    assert_fits(recorder)
    branding_id = created["ManagedLoginBrandingId"]
    assert created["Settings"] == {"mode": "dark", "dark": {"primary": "#ff9900"}}
    assert created["Assets"][0]["Bytes"] == png()
    assert created["UseCognitoProvidedValues"] is False
    by_client = cognito.describe_managed_login_branding_by_client(
        UserPoolId=pool.id, ClientId=app.client_id
    )["ManagedLoginBranding"]
    assert by_client["ManagedLoginBrandingId"] == branding_id
    updated = cognito.update_managed_login_branding(
        UserPoolId=pool.id, ManagedLoginBrandingId=branding_id, UseCognitoProvidedValues=True
    )["ManagedLoginBranding"]
    assert updated["UseCognitoProvidedValues"] is True and updated["Assets"]
    described = cognito.describe_managed_login_branding(
        UserPoolId=pool.id, ManagedLoginBrandingId=branding_id
    )
    assert_fits(recorder)
    assert described["ManagedLoginBranding"]["UseCognitoProvidedValues"] is True
    cognito.delete_managed_login_branding(UserPoolId=pool.id, ManagedLoginBrandingId=branding_id)
    assert not Branding.objects.exists()
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        cognito.describe_managed_login_branding(
            UserPoolId=pool.id, ManagedLoginBrandingId=branding_id
        )
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_second_managed_login_branding_for_a_client_is_refused(cognito, pool):
    app = factories.make_client(pool)
    cognito.create_managed_login_branding(UserPoolId=pool.id, ClientId=app.client_id)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        cognito.create_managed_login_branding(UserPoolId=pool.id, ClientId=app.client_id)
    assert caught.value.response["Error"]["Code"] == "ManagedLoginBrandingExistsException"
    assert Branding.objects.count() == 1


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"Settings": {"components": {"primaryButton": {}}}}, "Unknown branding setting"),
        ({"Settings": {"light": {"primary": "blue"}}}, "must look like"),
        (
            {
                "Assets": [
                    {
                        "Category": "FORM_LOGO",
                        "ColorMode": "LIGHT",
                        "Extension": "SVG",
                        "Bytes": SVG,
                    }
                ]
            },
            "SVG",
        ),
        (
            {
                "Assets": [
                    {
                        "Category": "EMAIL_GRAPHIC",
                        "ColorMode": "LIGHT",
                        "Extension": "PNG",
                        "Bytes": png(),
                    }
                ]
            },
            "EMAIL_GRAPHIC",
        ),
        (
            {
                "Assets": [
                    {
                        "Category": "FORM_LOGO",
                        "ColorMode": "LIGHT",
                        "Extension": "PNG",
                        "Bytes": SVG,
                    }
                ]
            },
            "PNG, JPEG, GIF or WebP",
        ),
    ],
)
def test_managed_login_refusals_change_nothing(cognito, pool, extra, words):
    app = factories.make_client(pool)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        cognito.create_managed_login_branding(UserPoolId=pool.id, ClientId=app.client_id, **extra)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    assert words in caught.value.response["Error"]["Message"]
    assert not Branding.objects.exists()


def test_another_pools_branding_id_is_not_found(cognito, pool):
    other = factories.make_pool()
    app = factories.make_client(other)
    made = cognito.create_managed_login_branding(UserPoolId=other.id, ClientId=app.client_id)
    branding_id = made["ManagedLoginBranding"]["ManagedLoginBrandingId"]
    for call in (
        lambda: cognito.describe_managed_login_branding(
            UserPoolId=pool.id, ManagedLoginBrandingId=branding_id
        ),
        lambda: cognito.delete_managed_login_branding(
            UserPoolId=pool.id, ManagedLoginBrandingId=branding_id
        ),
    ):
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            call()
        assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert Branding.objects.count() == 1
