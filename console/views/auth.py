"""Operator sign-in: username and password, then TOTP (django-otp). A first sign-in enrols a
TOTP device from a QR code. The session id is rotated at each step (login() and cycle_key())."""

from __future__ import annotations

import base64
import time
from urllib.parse import quote, urlencode

from django.contrib import auth
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from console import audit
from console.access import context
from console.forms.auth import SignInForm, TokenForm
from pool.errors import TooManyRequestsException
from pool.services import ratelimit

ENROLMENT_DEVICE_NAME = "Console authenticator"
ENROLMENT_KEY_SESSION = "console_enrolment_key"
TOO_MANY = "Too many attempts from your address. Wait a minute, then try again."


def _next_url(request: HttpRequest) -> str:
    """Where to go after sign-in: a console path from ?next=, else the console's front page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    console_root = reverse("console:index")
    if (
        target.startswith(console_root)
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and target not in {reverse("console:login"), reverse("console:otp")}
    ):
        return target
    return console_root


def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.user.is_staff and request.user.is_verified():
        return redirect(_next_url(request))
    form = SignInForm(request, data=request.POST or None)
    if request.method == "POST":
        try:
            # Per-IP limit before the password is even checked (the shared sign-in scope).
            ratelimit.check(ratelimit.SIGN_IN, context(request))
        except TooManyRequestsException:
            page = {"form": SignInForm(request), "next": _next_url(request), "refused": TOO_MANY}
            return render(request, "console/auth/login.html", page, status=429)
        if form.is_valid():
            auth.login(request, form.get_user())  # rotates the session id
            query = urlencode({"next": _next_url(request)})
            return redirect(f"{reverse('console:otp')}?{query}")
    page = {"form": form, "next": _next_url(request)}
    return render(request, "console/auth/login.html", page)


def _qr_svg(data: str) -> str:
    import qrcode.image.svg  # noqa: PLC0415 (about 0.8 MB a worker: MFA set-up pages only)

    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    return image.to_string(encoding="unicode")


def _otpauth_uri(device: TOTPDevice) -> str:
    """The key URI authenticator apps read, labelled with the console's name as issuer."""
    issuer = "Cognate console"
    label = quote(f"{issuer}:{device.user.get_username()}")
    query = urlencode(
        {
            "secret": base64.b32encode(device.bin_key).decode().rstrip("="),
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
            "issuer": issuer,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"


def _grouped(key: str) -> str:
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def otp(request: HttpRequest) -> HttpResponse:
    """Second step: a code from the operator's device, or enrolment when there is none yet."""
    user = request.user
    if not user.is_authenticated:
        return redirect("console:login")
    if not (user.is_staff and user.is_active):
        raise PermissionDenied("Only operators (staff accounts) may use the console.")
    if user.is_verified():
        return redirect(_next_url(request))

    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
    enrolling = device is None
    if enrolling:
        # Nothing is stored on a GET: the new key waits in the (server-side) session until the
        # operator proves their app has it; only then is the device created.
        key = request.session.get(ENROLMENT_KEY_SESSION) or default_key()
        request.session[ENROLMENT_KEY_SESSION] = key
        device = TOTPDevice(user=user, name=ENROLMENT_DEVICE_NAME, key=key, confirmed=True)

    form = TokenForm(request.POST or None)
    if request.method == "POST":
        try:
            ratelimit.check(ratelimit.VERIFY_CODE, context(request))
        except TooManyRequestsException:
            return _otp_page(request, TokenForm(), device, enrolling, refused=True)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        if enrolling:
            accepted, allowed = _enrol(device, token), True
        else:
            with transaction.atomic():
                device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
                allowed, _ = device.verify_is_allowed()
                accepted = allowed and device.verify_token(token)
        if accepted:
            request.session.pop(ENROLMENT_KEY_SESSION, None)
            request.session.cycle_key()
            otp_login(request, device)
            if enrolling:
                audit.write(request, "operator.enrol_totp", detail={"device": device.name})
            return redirect(_next_url(request))
        if not allowed:
            form.add_error("token", "Too many wrong codes. Wait a moment, then try again.")
        else:
            form.add_error("token", "That code is not valid. Check your device's clock.")

    return _otp_page(request, form, device, enrolling)


def _enrol(device: TOTPDevice, token: str) -> bool:
    """Save the new device if `token` is a current code for its key (the step is remembered,
    so the same code cannot sign in again)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not totp.verify(int(token), device.tolerance):
        return False
    with transaction.atomic():
        if TOTPDevice.objects.select_for_update().filter(user=device.user, confirmed=True).exists():
            return False  # enrolled meanwhile, from another session
        device.last_t = totp.t()
        device.save()
    return True


def _otp_page(request, form, device, enrolling: bool, refused: bool = False) -> HttpResponse:
    page = {"form": form, "next": _next_url(request), "enrolling": enrolling}
    if refused:
        page["refused"] = TOO_MANY
    if enrolling:
        key = base64.b32encode(device.bin_key).decode().rstrip("=")
        page.update(qr_svg=_qr_svg(_otpauth_uri(device)), manual_key=_grouped(key))
    return render(request, "console/auth/otp.html", page, status=429 if refused else 200)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    auth.logout(request)
    return redirect("console:login")
