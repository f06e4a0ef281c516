"""The hosted pages. Each carries the app's authorization request in its query string (as
Cognito's do), validates it with the protocol core, parses its form, calls one service and
renders the result, a challenge page, or the error next to its field."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from hostedui import forms, hosts, i18n, session
from hostedui.messages import password_rules, show, translated
from hostedui.oauth import ErrorPage, RedirectError
from hostedui.oauth import authorize as authz
from hostedui.oauth.authorize import AuthorizationRequest
from hostedui.views import federation
from hostedui.views.common import branding, error_page, load_pool
from hostedui.views.oauth import to_app
from pool import crypto, policy
from pool import errors as domain
from pool.selectors import identity_providers
from pool.selectors import users as user_selectors
from pool.services import authenticate, custom_auth, mfa, passwords, pool_changes, sign_up
from pool.services.results import Authenticated, Challenge, CodeDelivery

USERNAME_KEY = "hostedui:username"
# The account page's request to return to it after signing in (pool id and query string).
AFTER_SIGN_IN_KEY = "hostedui:after_sign_in"
# Where the last sign-up code went (masked), and for which name: the confirm page says so.
DELIVERY_KEY = "hostedui:delivery"
SENT_TEXTS = {
    "EMAIL": gettext_lazy(
        "We sent a code by email to %(destination)s. Enter it to confirm your account."
    ),
    "SMS": gettext_lazy(
        "We sent a code by text message to %(destination)s. Enter it to confirm your account."
    ),
}
SENT_ANYHOW = gettext_lazy("We sent a code to %(destination)s. Enter it to confirm your account.")
CHALLENGE_PAGES = {
    "SOFTWARE_TOKEN_MFA": "mfa",
    "SMS_MFA": "mfa",
    "EMAIL_OTP": "mfa",
    "SELECT_MFA_TYPE": "mfa",
    "MFA_SETUP": "mfa_setup",
    "NEW_PASSWORD_REQUIRED": "new_password",
    "CUSTOM_CHALLENGE": "custom_challenge",
}
MFA_LABELS = {
    "SOFTWARE_TOKEN_MFA": gettext_lazy("Authenticator app"),
    "SMS_MFA": gettext_lazy("Text message (SMS)"),
    "EMAIL_OTP": gettext_lazy("Email"),
}
ERROR_TEXTS = {
    "redirect_mismatch": gettext_lazy(
        "The app sent you here with a return address it has not registered."
    ),
    "invalid_client": gettext_lazy("The app that sent you here is not known to this user pool."),
    "invalid_request": gettext_lazy("The app that sent you here made a request we cannot handle."),
    "signup_disabled": gettext_lazy("This user pool does not allow people to sign up themselves."),
}

# The pages that offer a button per upstream identity provider.
FEDERATION_PAGES = frozenset({"login.html", "signup.html", "providers_only.html"})

View = Callable[..., HttpResponse]


def hosted_page(view: View) -> View:
    """Load the pool and validate the authorization request the page carries; an invalid one
    gets the error page (unknown client or redirect_uri) or goes back to the app. The pool
    and its client come from one read, as on authorize (the client row with the pool's
    config_version and the browser's session row, and the process's copy of the pool for that
    version)."""

    @wraps(view)
    def wrapper(request: HttpRequest, pool_id: str) -> HttpResponse:
        try:
            pool, known = authz.pool_and_client(pool_id, request.GET, session=request.session)
            pool = pool or load_pool(pool_id, cached=True)
            i18n.use_pool(request, pool)
            auth = authz.validate(pool, request.GET, known=known).without_prompt()
            return view(request, auth)
        except ErrorPage as exc:
            return error_page(request, exc)
        except RedirectError as exc:
            return to_app(exc.location)

    return wrapper


def pool_accounts(view: View) -> View:
    """For the pages of the pool's own accounts (sign-in, sign-up, confirmation, password
    reset): a client that does not list COGNITO gets only its providers' buttons (GET) and a
    refused POST (403, nothing changed), as Cognito's managed login."""

    @wraps(view)
    def wrapper(request: HttpRequest, auth: AuthorizationRequest) -> HttpResponse:
        if identity_providers.offers_pool_accounts(auth.client):
            return view(request, auth)
        response = _render(
            request, "providers_only.html", auth, title=gettext("Sign in"), providers_only=True
        )
        if request.method == "POST":
            response.status_code = 403
        return response

    return wrapper


def page_url(name: str, auth: AuthorizationRequest) -> str:
    return f"{hosts.path(name, auth.pool.id)}?{auth.query_string}"


def _render(
    request: HttpRequest,
    template: str,
    auth: AuthorizationRequest,
    *,
    title: str,
    form: forms.HostedForm | None = None,
    **extra,
) -> HttpResponse:
    # The page's forms: the main one, and any other (e.g. the confirm page's resend).
    on_page = [form, *(v for v in extra.values() if isinstance(v, forms.HostedForm))]
    on_page = [f for f in on_page if f is not None]
    for each in on_page:
        each.annotate()
    context = {
        "pool": auth.pool,
        "auth": auth,
        "title": title,
        "form": form,
        "links": {
            name: page_url(name, auth)
            for name in (
                "login",
                "signup",
                "confirm",
                "forgot_password",
                "confirm_forgot_password",
                "custom_sign_in",
            )
        },
        "password_rules": password_rules(auth.pool),
        "password_symbols": "".join(sorted(policy.PASSWORD_SYMBOLS)),
        **branding(auth.pool, auth.client),
        **(federation.buttons(auth) if template in FEDERATION_PAGES else {}),
        **extra,
    }
    status = 200
    refused = next((f for f in on_page if f.is_bound and f.errors), None)
    if refused is not None:
        status = getattr(refused, "http_status", 400)
    return render(request, f"hostedui/{template}", context, status=status)


def _finish(
    request: HttpRequest,
    auth: AuthorizationRequest,
    result: Authenticated | Challenge,
    username: str,
) -> HttpResponse:
    """A sign-in step succeeded: start the session and return to the app, or show the next
    challenge's page."""
    if isinstance(result, Authenticated):
        if pool_changes.missing_required(result.user):
            session.keep_pending(
                request, pool=auth.pool, user=result.user, auth_time=result.auth_time
            )
            return redirect(page_url("required_attributes", auth))
        session.start(
            request,
            pool=auth.pool,
            user=result.user,
            auth_time=result.auth_time,
            client_id=auth.client.client_id,
        )
        if after := _after_sign_in(request, auth):
            return after
        return to_app(authz.respond(auth, user=result.user, auth_time=result.auth_time))
    page = CHALLENGE_PAGES.get(result.name)
    if page is None:
        raise ErrorPage(
            "unsupported_challenge",
            gettext("The hosted UI cannot answer %(challenge)s.") % {"challenge": result.name},
        )
    session.keep_challenge(request, pool=auth.pool, challenge=result, username=username)
    return redirect(page_url(page, auth))


def _after_sign_in(request: HttpRequest, auth: AuthorizationRequest) -> HttpResponse | None:
    """A sign-in that the account page asked for (hostedui/views/account.py) goes back there
    instead of to the app: only for the very request the account page sent to the sign-in."""
    wanted = request.session.get(AFTER_SIGN_IN_KEY)
    if wanted != {"pool": auth.pool.id, "query": auth.query_string}:
        return None
    request.session.pop(AFTER_SIGN_IN_KEY, None)
    return redirect(page_url("account", auth))


def _to_sign_in(
    request: HttpRequest, auth: AuthorizationRequest, username: str, message: str
) -> HttpResponse:
    """A step that ends at the sign-in page succeeded: go there, the username filled in."""
    request.session[USERNAME_KEY] = username
    messages.success(request, message)
    return redirect(page_url("login", auth))


def _restart(request: HttpRequest, auth: AuthorizationRequest, message: str) -> HttpResponse:
    session.drop_challenge(request)
    messages.error(request, message)
    return redirect(page_url("login", auth))


# ------------------------------------------------------------------------------------ sign-in


@require_http_methods(["GET", "POST"])
def _respond(
    request: HttpRequest,
    auth: AuthorizationRequest,
    pending: dict,
    form,
    *,
    name: str,
    responses: dict[str, str],
    restart_on: tuple[type[domain.CognitoError], ...] = (domain.NotAuthorizedException,),
) -> Authenticated | Challenge | HttpResponse | None:
    """Answer the pending challenge `name` for this browser: the next step, a page that starts
    the sign-in again (the session is spent or void), or None when `form` now shows the error."""
    try:
        return authenticate.respond_to_challenge(
            pool=auth.pool,
            challenge_name=name,
            session=pending["session"],
            responses={"USERNAME": pending["username"], **responses},
            client=auth.client,
            context=session.context(request),
        )
    except restart_on as exc:
        return _restart(request, auth, translated(exc.message))
    except domain.CognitoError as exc:
        show(form, exc)
        return None


@hosted_page
@pool_accounts
def login(request: HttpRequest, auth: AuthorizationRequest) -> HttpResponse:
    pool = auth.pool
    initial = {"username": auth.login_hint or request.session.get(USERNAME_KEY, "")}
    form = forms.SignInForm(request.POST or None, pool=pool, initial=initial)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        try:
            result = authenticate.password(
                pool=pool,
                username=username,
                password=form.cleaned_data["password"],
                client=auth.client,
                context=session.context(request),
            )
        except domain.UserNotConfirmedException:
            request.session[USERNAME_KEY] = username
            messages.info(
                request, gettext("Your account is not confirmed yet. Enter your confirmation code.")
            )
            return redirect(page_url("confirm", auth))
        except domain.PasswordResetRequiredException:
            request.session[USERNAME_KEY] = username
            messages.info(
                request, gettext("You need to reset your password before you can sign in.")
            )
            return redirect(page_url("forgot_password", auth))
        except domain.CognitoError as exc:
            show(form, exc)
        else:
            return _finish(request, auth, result, username)
    return _render(
        request,
        "login.html",
        auth,
        title=gettext("Sign in"),
        form=form,
        custom=_custom_sign_in_form(auth, None),
    )


def _custom_sign_in_form(
    auth: AuthorizationRequest, data: dict | None
) -> forms.CustomSignInForm | None:
    """The sign-in without a password, offered when the pool has the custom-auth triggers
    (as Cognito's managed login does); None otherwise."""
    if not custom_auth.available(auth.pool):
        return None
    return forms.CustomSignInForm(data, pool=auth.pool)


@require_http_methods(["POST"])
@hosted_page
@pool_accounts
def custom_sign_in(request: HttpRequest, auth: AuthorizationRequest) -> HttpResponse:
    """Start a custom-auth sign-in from the sign-in page's second form."""
    custom = _custom_sign_in_form(auth, request.POST)
    if custom is None:
        return _restart(request, auth, gettext("This user pool does not offer that sign-in."))
    if custom.is_valid():
        username = custom.cleaned_data["username"]
        try:
            result = authenticate.custom_auth(
                pool=auth.pool,
                client=auth.client,
                username=username,
                context=session.context(request),
                flow=None,
            )
        except domain.CognitoError as exc:
            show(custom, exc)
        else:
            return _finish(request, auth, result, username)
    form = forms.SignInForm(pool=auth.pool)
    return _render(request, "login.html", auth, title=gettext("Sign in"), form=form, custom=custom)


@require_http_methods(["GET", "POST"])
@hosted_page
def custom_challenge(request: HttpRequest, auth: AuthorizationRequest) -> HttpResponse:
    """CUSTOM_CHALLENGE: show the question the create-auth-challenge trigger made (its public
    parameters) and post the answer; the private parameters never leave the server."""
    pending = session.pending_challenge(request, auth.pool, "CUSTOM_CHALLENGE")
    if pending is None:
        return _restart(request, auth, gettext("Your sign-in session has expired. Sign in again."))
    form = forms.CustomChallengeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = _respond(
            request,
            auth,
            pending,
            form,
            name="CUSTOM_CHALLENGE",
            responses={"ANSWER": form.cleaned_data["answer"]},
        )
        if isinstance(result, HttpResponse):
            return result
        if result is not None:
            if isinstance(result, Challenge) and result.name == "CUSTOM_CHALLENGE":
                messages.error(request, gettext("That answer is not right. Try again."))
            return _finish(request, auth, result, pending["username"])
    parameters = {k: v for k, v in pending["parameters"].items() if k != "USERNAME"}
    question = parameters.pop("question", "") or gettext("Answer the challenge to sign in.")
    return _render(
        request,
        "custom_challenge.html",
        auth,
        title=gettext("Verify it's you"),
        form=form,
        question=question,
        details=sorted(parameters.items()),
    )


# ------------------------------------------------------------------------------------ sign-up


@require_http_methods(["GET", "POST"])
@hosted_page
@pool_accounts
def signup(request: HttpRequest, auth: AuthorizationRequest) -> HttpResponse:
    pool = auth.pool
    if not pool.allow_self_sign_up:
        raise ErrorPage("signup_disabled", ERROR_TEXTS["signup_disabled"])
    form = forms.SignUpForm(request.POST or None, pool=pool)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        try:
            result = sign_up.sign_up(
                pool=pool,
                username=username,
                password=form.cleaned_data["password"],
                attributes=form.attributes(),
                client=auth.client,
                context=session.context(request),
            )
        except domain.CognitoError as exc:
            show(form, exc)
        else:
            if result.confirmed:
                return _to_sign_in(
                    request, auth, username, gettext("Your account is ready. Sign in.")
                )
            request.session[USERNAME_KEY] = username
            _remember_delivery(request, username, result.delivery)
            return redirect(page_url("confirm", auth))
    return _render(request, "signup.html", auth, title=gettext("Sign up"), form=form)


def _remember_delivery(request: HttpRequest, username: str, delivery: CodeDelivery | None) -> None:
    """Keep where a sign-up code went (None: nowhere), for the confirm page to say."""
    if delivery is None:
        request.session.pop(DELIVERY_KEY, None)
        return
    request.session[DELIVERY_KEY] = {
        "username": username,
        "destination": delivery.destination,
        "medium": delivery.medium,
    }


def _sent_to(request: HttpRequest, username: str) -> str:
    """The confirm page's opening line: where the code went, if one went to this name."""
    sent = request.session.get(DELIVERY_KEY) or {}
    if username and sent.get("username") == username:
        text = SENT_TEXTS.get(sent.get("medium"), SENT_ANYHOW)
        return text % {"destination": sent.get("destination")}
    return gettext("Enter your confirmation code.")


@require_http_methods(["GET", "POST"])
@hosted_page
@pool_accounts
def confirm(request: HttpRequest, auth: AuthorizationRequest) -> HttpResponse:
    """Confirm a sign-up with its code, or (the resend button of the same form) send a new one.
    A refused resend is shown on the page like any other refusal."""
    pool = auth.pool
    username = request.session.get(USERNAME_KEY, "")
    resending = request.method == "POST" and "resend" in request.POST
    resend = forms.ResendForm(request.POST if resending else None)
    if resending and resend.is_valid():
        username = resend.cleaned_data["username"]
    form = forms.ConfirmForm(
        request.POST if request.method == "POST" and not resending else None,
        initial={"username": username},
    )
    if resending and resend.is_valid():
        try:
            delivery = sign_up.resend_confirmation_code(
                pool=pool,
                username=username,
                client=auth.client,
                context=session.context(request),
            )
        except domain.CognitoError as exc:
            show(resend, exc)
        else:
            request.session[USERNAME_KEY] = username
            _remember_delivery(request, username, delivery)
            messages.info(request, gettext("We sent you a new code."))
            return redirect(page_url("confirm", auth))
    elif request.method == "POST" and not resending and form.is_valid():
        username = form.cleaned_data["username"]
        try:
            sign_up.confirm_sign_up(
                pool=pool,
                username=username,
                code=form.cleaned_data["code"],
                context=session.context(request),
                client=auth.client,
            )
        except domain.CognitoError as exc:
            show(form, exc)
        else:
            request.session.pop(DELIVERY_KEY, None)
            return _to_sign_in(
                request, auth, username, gettext("Your account is confirmed. Sign in.")
            )
    return _render(
        request,
        "confirm.html",
        auth,
        title=gettext("Confirm your account"),
        form=form,
        resend=resend,
        lead=_sent_to(request, username),
    )


# --------------------------------------------------------------------------- forgot password


@require_http_methods(["GET", "POST"])
@hosted_page
@pool_accounts
def forgot_password(request: HttpRequest, auth: AuthorizationRequest) -> HttpResponse:
    initial = {"username": request.session.get(USERNAME_KEY, "")}
    form = forms.ForgotPasswordForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        try:
            delivery = passwords.forgot_password(
                pool=auth.pool,
                username=username,
                client=auth.client,
                context=session.context(request),
            )
        except domain.CognitoError as exc:
            show(form, exc)
        else:
            request.session[USERNAME_KEY] = username
            messages.info(
                request,
                gettext("We sent a code to %(destination)s.")
                % {"destination": delivery.destination},
            )
            return redirect(page_url("confirm_forgot_password", auth))
    return _render(
        request, "forgot_password.html", auth, title=gettext("Forgot your password?"), form=form
    )


@require_http_methods(["GET", "POST"])
@hosted_page
@pool_accounts
def confirm_forgot_password(request: HttpRequest, auth: AuthorizationRequest) -> HttpResponse:
    initial = {"username": request.session.get(USERNAME_KEY, "")}
    form = forms.ConfirmForgotPasswordForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            passwords.confirm_forgot_password(
                pool=auth.pool,
                username=form.cleaned_data["username"],
                code=form.cleaned_data["code"],
                password=form.cleaned_data["password"],
                context=session.context(request),
                client=auth.client,
            )
        except domain.CognitoError as exc:
            show(form, exc)
        else:
            username = form.cleaned_data["username"]
            return _to_sign_in(
                request, auth, username, gettext("Your password has been changed. Sign in.")
            )
    return _render(
        request,
        "confirm_forgot_password.html",
        auth,
        title=gettext("Reset your password"),
        form=form,
    )


# -------------------------------------------------------------------------------- challenges


@require_http_methods(["GET", "POST"])
@hosted_page
def new_password(request: HttpRequest, auth: AuthorizationRequest) -> HttpResponse:
    pending = session.pending_challenge(request, auth.pool, "NEW_PASSWORD_REQUIRED")
    if pending is None:
        return _restart(request, auth, gettext("Your sign-in session has expired. Sign in again."))
    required = [
        name.removeprefix("userAttributes.")
        for name in json.loads(pending["parameters"].get("requiredAttributes") or "[]")
    ]
    form = forms.NewPasswordForm(request.POST or None, required_attributes=required)
    if request.method == "POST" and form.is_valid():
        responses = {
            "NEW_PASSWORD": form.cleaned_data["password"],
            **{f"userAttributes.{k}": v for k, v in form.attributes().items()},
        }
        result = _respond(
            request, auth, pending, form, name="NEW_PASSWORD_REQUIRED", responses=responses
        )
        if isinstance(result, HttpResponse):
            return result
        if result is not None:
            return _finish(request, auth, result, pending["username"])
    return _render(
        request, "new_password.html", auth, title=gettext("Choose a new password"), form=form
    )


@require_http_methods(["GET", "POST"])
@hosted_page
def required_attributes(request: HttpRequest, auth: AuthorizationRequest) -> HttpResponse:
    """After every factor, before tokens: the attributes the pool came to require since this
    user signed up (pool/services/pool_changes.py)."""
    held = session.pending(request, auth.pool)
    if held is None:
        return _restart(request, auth, gettext("Your sign-in session has expired. Sign in again."))
    names = pool_changes.missing_required(held.user)
    form = forms.RequiredAttributesForm(request.POST or None, names=names)
    if names and request.method == "POST" and form.is_valid():
        try:
            pool_changes.provide_required(
                user=held.user, attributes=form.attributes(), context=session.context(request)
            )
        except domain.CognitoError as exc:
            show(form, exc)
        else:
            names = []
    if not names:
        user = type(held.user).objects.select_related("pool").get(pk=held.user.pk)
        session.start(
            request,
            pool=auth.pool,
            user=user,
            auth_time=held.auth_time,
            client_id=auth.client.client_id,
        )
        if after := _after_sign_in(request, auth):
            return after
        return to_app(authz.respond(auth, user=user, auth_time=held.auth_time))
    return _render(
        request, "required_attributes.html", auth, title=gettext("Complete your profile"), form=form
    )


@require_http_methods(["GET", "POST"])
@hosted_page
def mfa_challenge(request: HttpRequest, auth: AuthorizationRequest) -> HttpResponse:
    names = ("SOFTWARE_TOKEN_MFA", "SMS_MFA", "EMAIL_OTP", "SELECT_MFA_TYPE")
    pending = session.pending_challenge(request, auth.pool, *names)
    if pending is None:
        return _restart(request, auth, gettext("Your sign-in session has expired. Sign in again."))
    name = pending["name"]
    if name == "SELECT_MFA_TYPE":
        choices = json.loads(pending["parameters"].get("MFAS_CAN_CHOOSE") or "[]")
        form = forms.SelectMfaForm(
            request.POST or None, choices=[(c, MFA_LABELS.get(c, c)) for c in choices]
        )
        answer = "ANSWER"
    else:
        form = forms.MfaForm(request.POST or None)
        answer = mfa.CODE_RESPONSE_KEYS[name]
    if request.method == "POST" and form.is_valid():
        value = form.cleaned_data["method" if name == "SELECT_MFA_TYPE" else "code"]
        result = _respond(
            request,
            auth,
            pending,
            form,
            name=name,
            responses={answer: value},
            restart_on=(domain.NotAuthorizedException, domain.ExpiredCodeException),
        )
        if isinstance(result, HttpResponse):
            return result
        if result is not None:
            return _finish(request, auth, result, pending["username"])
    return _render(
        request,
        "mfa.html",
        auth,
        title=gettext("Verify it's you"),
        form=form,
        challenge=name,
        destination=pending["parameters"].get("CODE_DELIVERY_DESTINATION", ""),
    )


def _qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG (qrcode's path image: no Pillow, no style attributes)."""
    import qrcode.image.svg  # noqa: PLC0415 (about 0.8 MB a worker: MFA set-up pages only)

    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg = image.to_string(encoding="unicode")
    return svg[svg.index("<svg") :]


@require_http_methods(["GET", "POST"])
@hosted_page
def mfa_setup(request: HttpRequest, auth: AuthorizationRequest) -> HttpResponse:
    """MFA_SETUP: the pool requires MFA and the user has none. Associate a new authenticator
    (the secret is kept encrypted in the server-side session until verified), verify its
    first code, then answer the challenge."""
    pending = session.pending_challenge(request, auth.pool, "MFA_SETUP")
    if pending is None:
        return _restart(request, auth, gettext("Your sign-in session has expired. Sign in again."))
    try:
        if "secret" not in pending:
            secret, continuation = mfa.associate_software_token(session=pending["session"])
            pending = session.advance_challenge(
                request, continuation, secret=crypto.encrypt(secret)
            )
        secret = crypto.decrypt(pending["secret"])
    except domain.NotAuthorizedException as exc:
        return _restart(request, auth, translated(exc.message))
    form = forms.TotpSetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            continuation = mfa.verify_software_token(
                code=form.cleaned_data["code"],
                session=pending["session"],
                friendly_name=form.cleaned_data["friendly_name"],
                context=session.context(request),
            )
            result = authenticate.respond_to_challenge(
                pool=auth.pool,
                challenge_name="MFA_SETUP",
                session=continuation,
                responses={"USERNAME": pending["username"]},
                client=auth.client,
                context=session.context(request),
            )
        except domain.NotAuthorizedException as exc:
            return _restart(request, auth, translated(exc.message))
        except domain.CognitoError as exc:
            show(form, exc)
        else:
            return _finish(request, auth, result, pending["username"])
    user = user_selectors.find_for_sign_in(auth.pool, pending["username"])
    if user is None:
        return _restart(request, auth, gettext("Your sign-in session has expired. Sign in again."))
    uri = mfa.otpauth_uri(user=user, secret=secret)
    return _render(
        request,
        "mfa_setup.html",
        auth,
        title=gettext("Set up your authenticator app"),
        form=form,
        qr_svg=_qr_svg(uri),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        otpauth_uri=uri,
    )


# ------------------------------------------------------------------------------------ errors


@require_GET
def error(request: HttpRequest, pool_id: str) -> HttpResponse:
    """/{pool}/error?error=…: Cognito's error page. Only known codes are explained; the query
    is never echoed as text."""
    code = request.GET.get("error", "")
    known = code if code in ERROR_TEXTS else "error"
    description = ERROR_TEXTS.get(code, gettext_lazy("The request could not be completed."))
    return error_page(request, ErrorPage(known, description))
