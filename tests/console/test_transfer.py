"""CSV export and import through the console, and the DEBUG-only dev outbox."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from console.models import AuditEntry
from pool import crypto
from pool.models import OutboxMessage, TotpDevice, User, UserStatus
from pool.services import mfa, passwords, user_import
from tests import factories
from tests.console.helpers import last_audit

pytestmark = pytest.mark.django_db


def export(console, pool, **data) -> list[str]:
    response = console.post(reverse("console:export", args=[pool.id]), data)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    return b"".join(response.streaming_content).decode().splitlines()


def test_export_has_cognitos_header_and_a_row_per_user(console, pool):
    factories.make_user(pool, "alice")
    factories.make_user(pool, "bob")
    lines = export(console, pool)
    header = lines[0].split(",")
    assert header[: len(user_import.COGNITO_COLUMNS)] == list(user_import.COGNITO_COLUMNS)
    assert user_import.HASH_COLUMN not in header
    assert len(lines) == 3


def test_export_with_hashes_includes_the_password_hash(console, pool):
    user = factories.make_user(pool, "alice")
    lines = export(console, pool, with_password_hashes="on")
    assert lines[0].endswith(user_import.HASH_COLUMN)
    assert user_import.split_line(lines[1])[-1] == user.password
    assert last_audit("users.export").detail == {"password_hashes": True}


def test_export_includes_totp_seeds_only_when_asked_for(console, pool):
    user = factories.make_user(pool, "tia")
    seed = mfa.new_secret()
    TotpDevice.objects.create(user=user, secret=crypto.encrypt(seed), confirmed=True)
    plain = export(console, pool, with_password_hashes="on")
    assert user_import.TOTP_COLUMN not in plain[0] and seed not in "\n".join(plain)
    assert last_audit("users.export").detail == {"password_hashes": True}
    with_seeds = export(console, pool, with_totp_secrets="on")
    assert with_seeds[0].endswith(user_import.TOTP_COLUMN)
    assert user_import.split_line(with_seeds[1])[-1] == seed
    assert last_audit("users.export").detail == {"password_hashes": False, "totp_secrets": True}


def test_export_page_offers_the_totp_seed_choice(console, pool):
    page = console.get(reverse("console:import", args=[pool.id])).content.decode()
    assert 'name="with_totp_secrets"' in page


def test_export_defuses_cells_a_spreadsheet_would_run(console, pool):
    factories.make_user(pool, "=cmd", name="=1+1")
    cells = user_import.split_line(export(console, pool)[1])
    assert "'=cmd" in cells and "'=1+1" in cells
    assert not any(cell.startswith("=") for cell in cells)


def test_export_is_refused_to_read_only_operators(readonly_console, pool):
    response = readonly_console.post(reverse("console:export", args=[pool.id]))
    assert response.status_code == 403


def upload(console, pool, text: str | bytes):
    content = text.encode() if isinstance(text, str) else text
    return console.post(
        reverse("console:import", args=[pool.id]),
        {"csv_file": SimpleUploadedFile("users.csv", content, content_type="text/csv")},
    )


def test_import_round_trips_an_export_with_passwords(console, pool):
    factories.make_user(pool, "alice", email="alice@example.com")
    lines = export(console, pool, with_password_hashes="on")
    target = factories.make_pool()
    response = upload(console, target, "\n".join(lines))
    assert response.status_code == 200
    assert response.context["result"].imported == 1
    moved = User.objects.get(pool=target, username="alice")
    assert moved.status == UserStatus.CONFIRMED
    assert passwords.verify(moved, factories.PASSWORD)
    assert last_audit("users.import").detail == {"imported": 1, "failed": 0}


def test_import_reports_bad_rows_by_line(console, pool):
    header = ",".join(user_import.csv_header(pool, with_password_hash=False))
    columns = header.split(",")
    good = dict.fromkeys(columns, "")
    good.update(
        {
            "cognito:username": "newuser",
            "cognito:mfa_enabled": "false",
            "email": "new@example.com",
            "email_verified": "true",
        }
    )
    bad = dict(good, **{"cognito:username": "unreachable", "email_verified": "false"})
    rows = [",".join(row[c] for c in columns) for row in (good, bad)]
    response = upload(console, pool, "\n".join([header, *rows]))
    result = response.context["result"]
    assert result.imported == 1
    assert [error.line for error in result.errors] == [3]
    assert "email_verified or phone_number_verified must be true" in response.content.decode()
    assert User.objects.get(pool=pool, username="newuser").status == UserStatus.RESET_REQUIRED


def test_import_refuses_an_unknown_header_next_to_the_file_field(console, pool):
    response = upload(console, pool, "cognito:username,shoe_size\nx,42\n")
    assert response.status_code == 400
    error = response.context["import_form"].errors["csv_file"][0]
    assert "Unknown CSV column(s): shoe_size" in error
    assert not AuditEntry.objects.exists()


def test_import_refuses_a_file_that_is_not_utf8(console, pool):
    response = upload(console, pool, b"cognito:username\n\xff\xfe\n")
    assert response.status_code == 400
    assert "not UTF-8" in response.context["import_form"].errors["csv_file"][0]


def test_import_page_shows_the_pools_csv_header(console, pool):
    page = console.get(reverse("console:import", args=[pool.id])).content.decode()
    assert ",".join(user_import.csv_header(pool)) in page


def test_outbox_is_404_without_debug(console, settings):
    settings.DEBUG = False
    assert console.get(reverse("console:outbox")).status_code == 404


def test_outbox_shows_kept_messages_in_debug(console, settings):
    settings.DEBUG = True
    OutboxMessage.objects.create(channel="email", to="a@example.com", subject="Hi", body="123456")
    page = console.get(reverse("console:outbox")).content.decode()
    assert "a@example.com" in page and "123456" in page


def test_outbox_link_shows_only_in_debug(console, settings):
    settings.DEBUG = False
    assert "Dev outbox" not in console.get(reverse("console:index")).content.decode()
    settings.DEBUG = True
    assert "Dev outbox" in console.get(reverse("console:index")).content.decode()
