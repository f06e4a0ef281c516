"""Hosted UI routes, at the site root: per pool `/{pool_id}/…` (Cognito's paths), and the demo
relying party at `/demo/`. Pool ids look like `local_Ab12Cd34E`, so they never collide with
`console/`, `static/` or `demo/`."""

from django.urls import path

from hostedui.views import branding, demo, federation, oauth, pages, saml

app_name = "hostedui"

urlpatterns = [
    path("demo/", demo.start, name="demo"),
    path("demo/callback", demo.callback, name="demo_callback"),
    path("<str:pool_id>/oauth2/authorize", oauth.authorize, name="authorize"),
    path("<str:pool_id>/oauth2/token", oauth.token, name="token"),
    path("<str:pool_id>/oauth2/userInfo", oauth.user_info, name="userinfo"),
    path("<str:pool_id>/oauth2/revoke", oauth.revoke, name="revoke"),
    path("<str:pool_id>/oauth2/idpresponse", federation.idp_response, name="idpresponse"),
    path("<str:pool_id>/logout", oauth.logout, name="logout"),
    path(
        "<str:pool_id>/.well-known/openid-configuration",
        oauth.openid_configuration,
        name="openid_configuration",
    ),
    path("<str:pool_id>/.well-known/jwks.json", oauth.jwks, name="jwks"),
    path("<str:pool_id>/saml2/idpresponse", saml.idp_response, name="saml_idpresponse"),
    path("<str:pool_id>/saml2/logout", saml.logout, name="saml_logout"),
    path("<str:pool_id>/saml2/metadata", saml.metadata, name="saml_metadata"),
    path("<str:pool_id>/branding.css", branding.stylesheet, name="branding_css"),
    path(
        "<str:pool_id>/branding/<str:branding_id>/<str:kind>",
        branding.image,
        name="branding_image",
    ),
    path("<str:pool_id>/branding/preview", branding.preview, name="branding_preview"),
    path("<str:pool_id>/login", pages.login, name="login"),
    path("<str:pool_id>/signup", pages.signup, name="signup"),
    path("<str:pool_id>/confirm", pages.confirm, name="confirm"),
    path("<str:pool_id>/forgotPassword", pages.forgot_password, name="forgot_password"),
    path(
        "<str:pool_id>/confirmForgotPassword",
        pages.confirm_forgot_password,
        name="confirm_forgot_password",
    ),
    path("<str:pool_id>/mfa", pages.mfa_challenge, name="mfa"),
    path("<str:pool_id>/customSignIn", pages.custom_sign_in, name="custom_sign_in"),
    path("<str:pool_id>/customChallenge", pages.custom_challenge, name="custom_challenge"),
    path("<str:pool_id>/mfa/setup", pages.mfa_setup, name="mfa_setup"),
    path("<str:pool_id>/newPassword", pages.new_password, name="new_password"),
    path(
        "<str:pool_id>/requiredAttributes",
        pages.required_attributes,
        name="required_attributes",
    ),
    path("<str:pool_id>/error", pages.error, name="error"),
]
