"""Console fixtures: operators (able to change, or read-only) signed in with a verified TOTP
device, and helpers to read pages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

OPERATOR_PASSWORD = "Operator-Pass-42"


def make_operator(username: str, *, can_change: bool, superuser: bool = False) -> User:
    operator = User.objects.create_user(
        username, f"{username}@ops.example", OPERATOR_PASSWORD, is_staff=True
    )
    if superuser:
        operator.is_superuser = True
        operator.save()
    if can_change:
        operator.user_permissions.add(
            Permission.objects.get(content_type__app_label="console", codename="change_pools")
        )
    return operator


def verified_client(operator: User, **client_kwargs) -> Client:
    """A test client signed in as `operator` whose session passed the TOTP step."""
    device = TOTPDevice.objects.create(user=operator, name="test", confirmed=True)
    client = Client(**client_kwargs)
    client.force_login(operator)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.fixture
def operator(db) -> User:
    return make_operator("ops", can_change=True)


@pytest.fixture
def readonly_operator(db) -> User:
    return make_operator("viewer", can_change=False)


@pytest.fixture
def console(operator) -> Client:
    return verified_client(operator)


@pytest.fixture
def readonly_console(readonly_operator) -> Client:
    return verified_client(readonly_operator)


@pytest.fixture
def csrf_console(operator) -> Client:
    """Like `console`, but the client enforces CSRF checks as a browser would be held to them."""
    return verified_client(operator, enforce_csrf_checks=True)
