"""Hosted UI routes, at the site root: per pool `/{pool_id}/…` (Cognito's paths), and the demo
relying party at `/demo/`. Pool ids look like `local_Ab12Cd34E`, so they never collide with
`console/`, `static/` or `demo/`. The same per-pool list is served at the root of a pool's own
host name (config.urls_domain)."""

from django.urls import include, path

from hostedui.views import account, branding, demo, federation, oauth, pages, saml

app_name = "hostedui"

# A pool's routes, without the pool: under `/{pool_id}/` here, and at the root of the pool's own
# host name (config.urls_domain, hostedui.hosts). Links between them go through hosts.path().
hosted = [
    path("oauth2/authorize", oauth.authorize, name="authorize"),
    path("oauth2/token", oauth.token, name="token"),
    path("oauth2/userInfo", oauth.user_info, name="userinfo"),
    path("oauth2/revoke", oauth.revoke, name="revoke"),
    path("oauth2/idpresponse", federation.idp_response, name="idpresponse"),
    path("logout", oauth.logout, name="logout"),
    path(
        ".well-known/openid-configuration",
        oauth.openid_configuration,
        name="openid_configuration",
    ),
    path(".well-known/jwks.json", oauth.jwks, name="jwks"),
    path("saml2/idpresponse", saml.idp_response, name="saml_idpresponse"),
    path("saml2/logout", saml.logout, name="saml_logout"),
    path("saml2/metadata", saml.metadata, name="saml_metadata"),
    path("branding.css", branding.stylesheet, name="branding_css"),
    path("branding/<str:branding_id>/<str:kind>", branding.image, name="branding_image"),
    path("branding/preview", branding.preview, name="branding_preview"),
    path("login", pages.login, name="login"),
    path("signup", pages.signup, name="signup"),
    path("confirm", pages.confirm, name="confirm"),
    path("forgotPassword", pages.forgot_password, name="forgot_password"),
    path(
        "confirmForgotPassword",
        pages.confirm_forgot_password,
        name="confirm_forgot_password",
    ),
    path("mfa", pages.mfa_challenge, name="mfa"),
    path("customSignIn", pages.custom_sign_in, name="custom_sign_in"),
    path("customChallenge", pages.custom_challenge, name="custom_challenge"),
    path("mfa/setup", pages.mfa_setup, name="mfa_setup"),
    path("newPassword", pages.new_password, name="new_password"),
    path("requiredAttributes", pages.required_attributes, name="required_attributes"),
    path("error", pages.error, name="error"),
    path("account", account.overview, name="account"),
    path("account/password", account.change_password, name="account_password"),
    path("account/email", account.contact, {"key": "email"}, name="account_email"),
    path("account/phone", account.contact, {"key": "phone"}, name="account_phone"),
    path("account/mfa", account.authenticator, name="account_mfa"),
    path("account/sessions", account.sign_out_session, name="account_sessions"),
    path("account/devices", account.forget_device, name="account_devices"),
    path("account/delete", account.delete, name="account_delete"),
]

urlpatterns = [
    path("demo/", demo.start, name="demo"),
    path("demo/callback", demo.callback, name="demo_callback"),
    path("<str:pool_id>/", include(hosted)),
]
