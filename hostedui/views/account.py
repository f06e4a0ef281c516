"""The account page for signed-in end users (Cognito has none; Keycloak's account console is the
anchor): profile, email and phone number (verified before they replace the old ones), password,
authenticator app, sessions, remembered devices, deleting the account.

Like every hosted page it carries the app's authorization request in its query string (for the
app's branding, and to sign in when the browser has no session: after that sign-in the user
comes back here, pages._after_sign_in). Every request re-reads the hosted session
(hostedui.session.current, which asks pool.selectors.sign_in whether it still stands); the
attributes the user may write are those of the app client they signed in through. Each POST
parses a form and calls one service; its error is shown next to the field it names.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hostedui import forms, i18n, session
from hostedui.messages import show
from hostedui.oauth import ErrorPage, RedirectError
from hostedui.oauth import authorize as authz
from hostedui.oauth.authorize import AuthorizationRequest
from hostedui.views import pages
from hostedui.views.common import branding, error_page, load_pool
from hostedui.views.oauth import to_app
from pool import crypto, policy
from pool import errors as domain
from pool.models import AppClient, User
from pool.selectors import devices as device_selectors
from pool.selectors.sessions import open_sessions
from pool.services import admin, attributes, devices, mfa, passwords, tokens

CONTACTS = {"email": "email", "phone": "phone_number"}
# The pending authenticator's secret, encrypted, while the user scans it.
TOTP_KEY = "hostedui:account_totp"


class Account:
    """What each account view works with: the request's authorization request, the signed-in
    user (read again for this request) and the client whose write_attributes apply."""

    def __init__(self, auth: AuthorizationRequest, signed_in: session.SignedIn):
        self.auth = auth
        self.pool = auth.pool
        self.user: User = signed_in.user
        self.auth_time = signed_in.auth_time
        self.client_id = signed_in.client_id
        self.client: AppClient = (
            AppClient.objects.filter(pool=self.pool, client_id=signed_in.client_id).first()
            or auth.client
        )


View = Callable[..., HttpResponse]


def account_page(view: View) -> View:
    """Load the pool and the authorization request, and the hosted session: none (or one that
    no longer stands) goes to the sign-in page, which comes back here afterwards."""

    @wraps(view)
    def wrapper(request: HttpRequest, pool_id: str, **kwargs) -> HttpResponse:
        try:
            pool = load_pool(pool_id)
            i18n.use_pool(request, pool)
            auth = authz.validate(pool, request.GET).without_prompt()
        except ErrorPage as exc:
            return error_page(request, exc)
        except RedirectError as exc:
            return to_app(exc.location)
        signed_in = session.current(request, pool)
        if signed_in is None:
            request.session[pages.AFTER_SIGN_IN_KEY] = {"pool": pool.id, "query": auth.query_string}
            return redirect(pages.page_url("login", auth))
        return view(request, Account(auth, signed_in), **kwargs)

    return wrapper


def _url(name: str, account: Account) -> str:
    return pages.page_url(name, account.auth)


def _render(
    request: HttpRequest, template: str, account: Account, *, title: str, **extra
) -> HttpResponse:
    links = {
        name: _url(name, account)
        for name in (
            "account",
            "account_password",
            "account_mfa",
            "account_sessions",
            "account_devices",
            "account_delete",
        )
    }
    links["account_email"] = pages.page_url("account_email", account.auth)
    links["account_phone"] = pages.page_url("account_phone", account.auth)
    return pages._render(
        request,
        template,
        account.auth,
        title=title,
        account=account,
        user=account.user,
        account_links=links,
        **extra,
    )


# ----------------------------------------------------------------------------- the overview


def _profile_names(account: Account) -> list[str]:
    names = policy.self_writable_attributes(account.pool, account.client)
    return [
        n
        for n in names
        if n not in policy.VERIFIABLE and n not in (account.pool.username_attributes or [])
    ]


def _profile_form(account: Account, data=None) -> forms.ProfileForm:
    names = _profile_names(account)
    values = account.user.attribute_map()
    initial = {n: values.get(n, "") for n in names}
    return forms.ProfileForm(data, names=names, initial=initial)


@require_http_methods(["GET", "POST"])
@account_page
def overview(request: HttpRequest, account: Account) -> HttpResponse:
    """The account page: the profile form (POST here), and the other sections' summaries."""
    form = _profile_form(account, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            attributes.update_attributes(
                user=account.user,
                attributes=form.changed_attributes(),
                client=account.client,
                context=session.context(request),
            )
        except domain.CognitoError as exc:
            show(form, exc)
        else:
            messages.success(request, _("Your profile has been saved."))
            return redirect(_url("account", account))
    user = account.user
    return _render(
        request,
        "account.html",
        account,
        title=_("Your account"),
        form=form,
        contacts=[
            {
                "key": key,
                "attribute": attribute,
                "value": getattr(user, attribute),
                "verified": getattr(user, f"{attribute}_verified"),
                "pending": attributes.pending_change(user, attribute),
            }
            for key, attribute in CONTACTS.items()
        ],
        totp_available=mfa.self_service_totp(account.pool),
        totp_enabled=user.totp_devices.filter(confirmed=True).exists(),
        sessions=list(open_sessions(user)),
        devices=list(device_selectors.devices_of(user)),
        can_delete=account.pool.allow_self_deletion,
    )


# ------------------------------------------------------------------------------- password


@require_http_methods(["GET", "POST"])
@account_page
def change_password(request: HttpRequest, account: Account) -> HttpResponse:
    """The password changes and every other session ends (as the service does); this browser
    stays signed in, with a sign-in dated now."""
    form = forms.ChangePasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            passwords.change_password(
                user=account.user,
                previous=form.cleaned_data["previous"],
                proposed=form.cleaned_data["password"],
                context=session.context(request),
            )
        except domain.CognitoError as exc:
            show(form, exc)
        else:
            _restart_session(request, account)
            messages.success(request, _("Your password has been changed."))
            return redirect(_url("account", account))
    return _render(
        request, "account_password.html", account, title=_("Change your password"), form=form
    )


def _restart_session(request: HttpRequest, account: Account) -> None:
    """After the service ended every session, keep this browser's: it just proved the password."""
    user = User.objects.select_related("pool").get(pk=account.user.pk)
    session.start(
        request,
        pool=account.pool,
        user=user,
        auth_time=user.tokens_valid_after or account.auth_time,
        client_id=account.client_id,
    )


# ------------------------------------------------------------------- email and phone number


@require_http_methods(["GET", "POST"])
@account_page
def contact(request: HttpRequest, account: Account, key: str) -> HttpResponse:
    """Change the email address or phone number: the new value gets a code and replaces the
    old, verified one only when the code is entered (pool.services.attributes); POST `code`
    enters it, POST `resend` sends it again."""
    attribute = CONTACTS[key]
    user = account.user
    posted = request.POST if request.method == "POST" else None
    verifying = posted is not None and "verify" in posted
    change = forms.ContactForm(
        posted if posted is not None and not verifying and "resend" not in posted else None,
        attribute=attribute,
    )
    verify = forms.VerifyContactForm(posted if verifying else None)
    ctx = session.context(request)
    if posted is not None and "resend" in posted:
        try:
            delivery = attributes.send_attribute_verification_code(
                user=user, attribute=attribute, context=ctx, client=account.client
            )
        except domain.CognitoError as exc:
            show(verify, exc)
        else:
            messages.info(
                request,
                _("We sent a code to %(destination)s.") % {"destination": delivery.destination},
            )
            return redirect(pages.page_url(f"account_{key}", account.auth))
    elif verifying and verify.is_valid():
        try:
            attributes.verify_attribute(
                user=user, attribute=attribute, code=verify.cleaned_data["code"], context=ctx
            )
        except domain.CognitoError as exc:
            show(verify, exc)
        else:
            messages.success(request, _("Verified. Your account uses the new address now."))
            return redirect(_url("account", account))
    elif posted is not None and not verifying and change.is_valid():
        try:
            deliveries = attributes.update_attributes(
                user=user,
                attributes={attribute: change.cleaned_data[attribute]},
                client=account.client,
                context=ctx,
            )
        except domain.CognitoError as exc:
            show(change, exc)
        else:
            if deliveries:
                messages.info(
                    request,
                    _("We sent a code to %(destination)s. Enter it to use the new address.")
                    % {"destination": deliveries[0].destination},
                )
            else:
                messages.success(request, _("Saved."))
            return redirect(pages.page_url(f"account_{key}", account.auth))
    user.refresh_from_db()
    return _render(
        request,
        "account_contact.html",
        account,
        title=_("Change your email address") if key == "email" else _("Change your phone number"),
        form=change,
        verify=verify,
        attribute=attribute,
        current=getattr(user, attribute),
        verified=getattr(user, f"{attribute}_verified"),
        pending=attributes.pending_change(user, attribute),
    )


# -------------------------------------------------------------------- authenticator app


@require_http_methods(["GET", "POST"])
@account_page
def authenticator(request: HttpRequest, account: Account) -> HttpResponse:
    """Add an authenticator app (scan, then enter its first code) or remove it (with a current
    code or the password), in pools where MFA is OPTIONAL."""
    user = account.user
    if not mfa.self_service_totp(account.pool):
        messages.error(request, _("This user pool does not let you manage an authenticator app."))
        return redirect(_url("account", account))
    enabled = user.totp_devices.filter(confirmed=True).exists()
    posted = request.POST if request.method == "POST" else None
    ctx = session.context(request)
    if enabled:
        form = forms.RemoveTotpForm(posted)
        if posted is not None and form.is_valid():
            try:
                mfa.remove_own_software_token(
                    user=user,
                    code=form.cleaned_data["code"],
                    password=form.cleaned_data["password"],
                    context=ctx,
                )
            except domain.CognitoError as exc:
                show(form, exc)
            else:
                messages.success(request, _("The authenticator app has been removed."))
                return redirect(_url("account", account))
        return _render(
            request,
            "account_mfa.html",
            account,
            title=_("Authenticator app"),
            form=form,
            enabled=True,
        )
    form = forms.TotpSetupForm(posted)
    secret = _pending_secret(request, account)
    if posted is not None and secret and form.is_valid():
        try:
            mfa.enable_own_software_token(
                user=user,
                code=form.cleaned_data["code"],
                friendly_name=form.cleaned_data["friendly_name"],
                context=ctx,
            )
        except domain.CognitoError as exc:
            show(form, exc)
        else:
            request.session.pop(TOTP_KEY, None)
            messages.success(request, _("Your authenticator app is set up."))
            return redirect(_url("account", account))
    if not secret:
        try:
            secret = mfa.start_own_software_token(user=user)
        except domain.CognitoError as exc:
            messages.error(request, exc.message)
            return redirect(_url("account", account))
        request.session[TOTP_KEY] = {"sub": str(user.sub), "secret": crypto.encrypt(secret)}
    uri = mfa.otpauth_uri(user=user, secret=secret)
    return _render(
        request,
        "account_mfa.html",
        account,
        title=_("Add an authenticator app"),
        form=form,
        enabled=False,
        qr_svg=pages._qr_svg(uri),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    )


def _pending_secret(request: HttpRequest, account: Account) -> str:
    """The secret of the authenticator this browser is adding, while it is still pending."""
    entry = request.session.get(TOTP_KEY) or {}
    if entry.get("sub") != str(account.user.sub):
        return ""
    if not account.user.totp_devices.filter(confirmed=False).exists():
        return ""
    try:
        return crypto.decrypt(entry.get("secret") or "")
    except ValueError:
        return ""


# ------------------------------------------------------------------- sessions and devices


@require_POST
@account_page
def sign_out_session(request: HttpRequest, account: Account) -> HttpResponse:
    """Sign out one session (its refresh tokens stop working), or every session, this one too."""
    form = forms.SessionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("That session could not be signed out."))
        return redirect(_url("account", account))
    if form.cleaned_data["everywhere"]:
        admin.global_sign_out(user=account.user, context=session.context(request), by_user=True)
        session.end(request)
        return render(
            request,
            "hostedui/signed_out.html",
            {
                "pool": account.pool,
                "title": _("Signed out"),
                **branding(account.pool, account.client),
            },
        )
    try:
        tokens.revoke_own_family(user=account.user, family_id=form.cleaned_data["session"])
    except domain.CognitoError:
        messages.error(request, _("That session could not be signed out."))
    else:
        messages.success(request, _("The session has been signed out."))
    return redirect(_url("account", account))


@require_POST
@account_page
def forget_device(request: HttpRequest, account: Account) -> HttpResponse:
    form = forms.DeviceForm(request.POST)
    try:
        if not form.is_valid():
            raise domain.ResourceNotFoundException()
        devices.forget(user=account.user, device_key=form.cleaned_data["device_key"])
    except domain.CognitoError:
        messages.error(request, _("That device could not be forgotten."))
    else:
        messages.success(request, _("The device has been forgotten."))
    return redirect(_url("account", account))


# --------------------------------------------------------------------------- deleting


@require_http_methods(["GET", "POST"])
@account_page
def delete(request: HttpRequest, account: Account) -> HttpResponse:
    if not account.pool.allow_self_deletion:
        messages.error(request, _("This user pool does not let you delete your account."))
        return redirect(_url("account", account))
    form = forms.ConfirmPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            admin.delete_own_account(
                user=account.user,
                password=form.cleaned_data["password"],
                context=session.context(request),
            )
        except domain.CognitoError as exc:
            show(form, exc)
        else:
            session.end(request)
            return render(
                request,
                "hostedui/account_deleted.html",
                {
                    "pool": account.pool,
                    "title": _("Your account has been deleted"),
                    **branding(account.pool, account.client),
                },
            )
    return _render(
        request, "account_delete.html", account, title=_("Delete your account"), form=form
    )
