"""No user enumeration where the pool prevents existence errors: the same page, status and
password-hasher work for an unknown user as for a wrong password (sign-in), for forgot-password
and for sign-up. Timing is compared by what dominates it, the number of argon2 operations;
medians of wall time are measured and shown but never asserted (too noisy on a shared box)."""

from __future__ import annotations

import re
import statistics
import time

import pytest
from django.core import mail
from django.test import Client

from pool import clock, policy
from pool.errors import CognitoError
from pool.models import User, UserPool
from pool.services import authenticate, passwords, sign_up
from pool.services.results import CodeDelivery, RequestContext
from tests import factories
from tests.security.conftest import USER_STATES, WRONG_CODE, authorize_url

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


# ----------------------------------------------------------------- every state, every call
# With "prevent user existence errors" on, a name that belongs to a user in any state answers
# every call exactly as a name that belongs to nobody: the same error and message, the same
# CodeDelivery shape, and the per-name cap at the same count. Each call is repeated past its
# cap (and past a code's five wrong guesses), and the whole sequence of answers is compared.

NEW_PASSWORD = "New-Password-77"


CALLS = {
    "confirm_sign_up": lambda pool, name: sign_up.confirm_sign_up(
        pool=pool, username=name, code=WRONG_CODE, context=CONTEXT
    ),
    "resend_confirmation_code": lambda pool, name: sign_up.resend_confirmation_code(
        pool=pool, username=name, context=CONTEXT
    ),
    "forgot_password": lambda pool, name: passwords.forgot_password(
        pool=pool, username=name, context=CONTEXT
    ),
    "confirm_forgot_password": lambda pool, name: passwords.confirm_forgot_password(
        pool=pool, username=name, code=WRONG_CODE, password=NEW_PASSWORD, context=CONTEXT
    ),
    "confirm_forgot_password with a weak password": (
        lambda pool, name: passwords.confirm_forgot_password(
            pool=pool, username=name, code=WRONG_CODE, password="weak", context=CONTEXT
        )
    ),
}
# Where a real message leaves (to the user's own address); everywhere else nothing is sent.
SENDS = {
    ("resend_confirmation_code", "unconfirmed with a code"),
    ("resend_confirmation_code", "unconfirmed without a code"),
    ("forgot_password", "confirmed"),
    ("forgot_password", "confirmed with a pending reset"),
    ("forgot_password", "reset required"),
    ("forgot_password", "force change password"),
}


def shape(destination: str) -> str:
    """A masked destination with its revealed characters blanked: a***@e*** -> x***@x***."""
    return re.sub(r"[^*@+]", "x", destination)


def answer(call) -> tuple:
    """What the caller learns from one call: the error and its message, or the delivery shape."""
    try:
        result = call()
    except CognitoError as exc:
        return (type(exc).__name__, exc.message)
    if isinstance(result, CodeDelivery):
        return ("CodeDelivery", result.medium, result.attribute, shape(result.destination))
    return ("succeeded",)


def answers(operation: str, pool, name: str) -> list[tuple]:
    cap = policy.CAPS[operation.split(" ")[0]][0]
    return [answer(lambda: CALLS[operation](pool, name)) for _ in range(cap + 2)]


@pytest.mark.parametrize("state", USER_STATES)
@pytest.mark.parametrize("operation", CALLS)
def test_a_user_in_any_state_answers_as_an_unknown_name(pool, operation, state):
    clock.freeze()
    USER_STATES[state](pool)
    known, unknown = answers(operation, pool, "alice"), answers(operation, pool, "ghost")
    assert known == unknown
    assert known[-1][0] == "LimitExceededException"  # the per-name cap, at the same count
    assert bool(mail.outbox) == ((operation, state) in SENDS)


@pytest.mark.parametrize(
    ("operation", "state"),
    [
        (operation, state)
        for operation in ("resend_confirmation_code", "forgot_password")
        for state in USER_STATES
        if (operation, state) not in SENDS
    ],
)
def test_a_user_who_gets_no_code_is_told_exactly_what_an_unknown_name_is(pool, operation, state):
    """Same name before and after the user is gone: the same simulated destination, too."""
    USER_STATES[state](pool)
    known = CALLS[operation](pool, "alice")
    User.objects.filter(pool=pool).delete()
    assert CALLS[operation](pool, "alice") == known
    assert mail.outbox == []


EXPLICIT = [
    ("confirm_sign_up", None, "UserNotFoundException", "User does not exist."),
    (
        "confirm_sign_up",
        "confirmed",
        "NotAuthorizedException",
        "User cannot be confirmed. Current status is CONFIRMED",
    ),
    ("confirm_sign_up", "unconfirmed without a code", "ExpiredCodeException", None),
    ("resend_confirmation_code", None, "UserNotFoundException", "User does not exist."),
    ("resend_confirmation_code", "confirmed", "InvalidParameterException", None),
    ("resend_confirmation_code", "disabled", "NotAuthorizedException", "User is disabled."),
    ("forgot_password", None, "UserNotFoundException", "User does not exist."),
    ("forgot_password", "disabled", "NotAuthorizedException", "User is disabled."),
    ("forgot_password", "no verified contact", "InvalidParameterException", None),
    ("confirm_forgot_password", None, "UserNotFoundException", "User does not exist."),
    ("confirm_forgot_password", "confirmed", "ExpiredCodeException", None),
    ("confirm_forgot_password", "disabled", "NotAuthorizedException", "User is disabled."),
]


@pytest.mark.parametrize(("operation", "state", "error", "message"), EXPLICIT)
def test_a_pool_that_does_not_hide_users_keeps_cognitos_explicit_errors(
    operation, state, error, message
):
    pool = factories.make_pool(prevent_user_existence_errors=False)
    if state:
        USER_STATES[state](pool)
    name, said = answer(lambda: CALLS[operation](pool, "alice"))
    assert name == error
    assert message is None or said == message
    assert mail.outbox == []


# ---------------------------------------------------------------- the same, at the hosted pages

BUTTONS = {
    "confirm": ("confirm", lambda name: {"username": name, "code": WRONG_CODE}),
    "send a new code": ("confirm", lambda name: {"username": name, "resend": "1"}),
    "forgot password": ("forgotPassword", lambda name: {"username": name}),
    "confirm forgot password": (
        "confirmForgotPassword",
        lambda name: {
            "username": name,
            "code": WRONG_CODE,
            "password": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    ),
}
# Past the five-an-hour caps and past a code's five wrong guesses.
PAGE_ROUNDS = 7


def seen(html: bytes) -> str:
    """What a person sees: the page without its per-response tokens, the typed name, or the
    letters a masked address reveals (a real user's differ from a simulated one's)."""
    return re.sub(r"[^\s>]\*\*\*@[^\s<]\*\*\*", "x***@x***", normalised(html))


def page_answers(pool, app, button: str, name: str) -> list[tuple]:
    """Status, redirect and page of each press of `button`, and the page a redirect leads to."""
    path, data = BUTTONS[button]
    url = authorize_url(pool, app).replace("/oauth2/authorize?", f"/{path}?")
    browser = Client()
    pages = []
    for _ in range(PAGE_ROUNDS):
        response = browser.post(url, data(name))
        location = response.get("Location", "")
        after = seen(browser.get(location).content) if response.status_code == 302 else ""
        pages.append((response.status_code, location, seen(response.content), after))
    return pages


@pytest.mark.parametrize("state", USER_STATES)
@pytest.mark.parametrize("button", BUTTONS)
def test_hosted_pages_answer_a_user_in_any_state_as_an_unknown_name(
    pool, app_client, button, state
):
    clock.freeze()
    USER_STATES[state](pool)
    known = page_answers(pool, app_client, button, "alice")
    unknown = page_answers(pool, app_client, button, "ghost")
    assert known == unknown
    assert all(status < 500 for status, *_ in known)
