"""No user enumeration where the pool prevents existence errors: the same page, status and
password-hasher work for an unknown user as for a wrong password (sign-in), for forgot-password
and for sign-up. Timing is compared by what dominates it, the number of argon2 operations;
medians of wall time are measured and shown but never asserted (too noisy on a shared box)."""

from __future__ import annotations

import re
import statistics
import time

import pytest

from pool.models import UserPool
from pool.services import authenticate, passwords, sign_up
from pool.services.results import RequestContext
from tests import factories
from tests.security.conftest import authorize_url

pytestmark = pytest.mark.django_db
CONTEXT = RequestContext(source="api")


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.RATE_LIMIT_PER_MINUTE = 0


def normalised(html: bytes) -> str:
    """A page without its per-response tokens (CSRF token, CSP nonce) or the typed name."""
    text = html.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    text = re.sub(r'nonce="[^"]+"', "", text)
    return text.replace("ghost", "NAME").replace("alice", "NAME")


def work(hasher_calls, call) -> tuple[dict, float]:
    """Hasher operations and wall time of one call."""
    hasher_calls.clear()
    start = time.perf_counter()
    try:
        call()
    except Exception as exc:  # the refusal is the point here
        refused = type(exc).__name__
    else:
        refused = ""
    return {**hasher_calls, "refused": refused}, time.perf_counter() - start


def compare(hasher_calls, first, second, rounds: int = 5) -> tuple[dict, dict, str]:
    works_a, times_a, works_b, times_b = [], [], [], []
    for _ in range(rounds):
        w, t = work(hasher_calls, first)
        works_a.append(w), times_a.append(t)
        w, t = work(hasher_calls, second)
        works_b.append(w), times_b.append(t)
    medians = (
        f"median {statistics.median(times_a) * 1000:.1f} ms vs "
        f"{statistics.median(times_b) * 1000:.1f} ms"
    )
    return works_a[0], works_b[0], medians


def test_sign_in_page_is_the_same_for_unknown_user_and_wrong_password(
    client, pool, app_client, user
):
    login = client.get(authorize_url(pool, app_client))["Location"]
    unknown = client.post(login, {"username": "ghost", "password": "Wrong-Horse-9"})
    wrong = client.post(login, {"username": "alice", "password": "Wrong-Horse-9"})
    assert unknown.status_code == wrong.status_code == 400
    assert normalised(unknown.content) == normalised(wrong.content)


def test_sign_in_hashes_as_much_for_unknown_user_as_for_wrong_password(pool, user, hasher_calls):
    unknown, wrong, medians = compare(
        hasher_calls,
        lambda: authenticate.password(pool=pool, username="ghost", password="Wrong-Horse-9"),
        lambda: authenticate.password(pool=pool, username="alice", password="Wrong-Horse-9"),
    )
    print(f"sign-in unknown vs wrong password: {medians}")
    assert unknown["verify"] == wrong["verify"] == 1, medians
    assert unknown == wrong, medians


def test_imported_user_without_password_hashes_like_the_others(pool, hasher_calls):
    factories.make_user(pool, "imported", password=None, status="RESET_REQUIRED")
    unknown, imported, medians = compare(
        hasher_calls,
        lambda: authenticate.password(pool=pool, username="ghost", password="x"),
        lambda: authenticate.password(pool=pool, username="imported", password="x"),
    )
    assert unknown == imported, medians


def test_forgot_password_page_is_the_same_for_unknown_and_known_users(
    client, pool, app_client, user
):
    login = client.get(authorize_url(pool, app_client))["Location"]
    forgot = login.replace("/login?", "/forgotPassword?")
    unknown = client.post(forgot, {"username": "ghost"})
    known = client.post(forgot, {"username": "alice"})
    assert unknown.status_code == known.status_code == 302
    assert unknown["Location"] == known["Location"]


def test_forgot_password_answers_alike_for_unknown_and_known_users(pool, user, hasher_calls):
    unknown = passwords.forgot_password(pool=pool, username="ghost", context=CONTEXT)
    known = passwords.forgot_password(pool=pool, username="alice", context=CONTEXT)
    assert (unknown.medium, unknown.attribute) == (known.medium, known.attribute)
    assert re.fullmatch(r".\*\*\*@.\*\*\*", unknown.destination)
    assert re.fullmatch(r".\*\*\*@.\*\*\*", known.destination)
    assert sum(hasher_calls.values()) == 0


def test_sign_up_hashes_as_much_for_a_taken_name_as_for_a_free_one(pool, user, hasher_calls):
    names = iter(range(100))

    def free():
        sign_up.sign_up(
            pool=pool,
            username=f"fresh{next(names)}",
            password=factories.PASSWORD,
            attributes={"email": "fresh@example.com"},
            context=CONTEXT,
        )

    def taken():
        sign_up.sign_up(
            pool=pool,
            username="alice",
            password=factories.PASSWORD,
            attributes={"email": "x@example.com"},
            context=CONTEXT,
        )

    fresh, clash, medians = compare(hasher_calls, free, taken)
    print(f"sign-up free vs taken name: {medians}")
    assert clash["refused"] == "UsernameExistsException"
    assert fresh["encode"] == clash["encode"] == 1, medians


def test_sign_up_with_someone_elses_email_does_not_reveal_it(pool, user):
    """An alias another user holds is only refused at confirmation (proof of ownership)."""
    UserPool.objects.filter(pk=pool.pk).update(alias_attributes=["email"])
    pool.refresh_from_db()
    result = sign_up.sign_up(
        pool=pool,
        username="mallory",
        password=factories.PASSWORD,
        attributes={"email": "alice@example.com"},
        context=CONTEXT,
    )
    assert result.confirmed is False


def test_confirm_sign_up_answers_alike_for_unknown_user_and_wrong_code(pool):
    factories.make_user(pool, "newbie", status="UNCONFIRMED")
    sign_up.resend_confirmation_code(pool=pool, username="newbie", context=CONTEXT)
    errors = []
    for name in ("ghost", "newbie"):
        try:
            sign_up.confirm_sign_up(pool=pool, username=name, code="000000", context=CONTEXT)
        except Exception as exc:
            errors.append((type(exc).__name__, str(exc)))
    assert errors[0] == errors[1]


def test_confirm_forgot_password_answers_alike_for_unknown_user_and_wrong_code(pool, user):
    passwords.forgot_password(pool=pool, username="alice", context=CONTEXT)
    errors = []
    for name in ("ghost", "alice"):
        try:
            passwords.confirm_forgot_password(
                pool=pool, username=name, code="000000", password="New-Password-77", context=CONTEXT
            )
        except Exception as exc:
            errors.append((type(exc).__name__, str(exc)))
    assert errors[0] == errors[1]
