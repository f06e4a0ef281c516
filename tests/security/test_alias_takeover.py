"""Account takeover through an unverified email alias: an address only becomes a sign-in name
(or a recovery destination) once its owner proved it with a code, so claiming someone else's
address gets an attacker nothing."""

from __future__ import annotations

import pytest

from pool.errors import AliasExistsException, CognitoError
from pool.models import User, UserPool
from pool.selectors.users import find_for_sign_in
from pool.services import attributes, authenticate, passwords, sign_up
from pool.services.results import Authenticated, RequestContext
from tests import factories
from tests.security.conftest import last_code

pytestmark = pytest.mark.django_db
CONTEXT = RequestContext(source="api")
VICTIM_EMAIL = "alice@example.com"
MALLORY_PASSWORD = "Mallory-Pass-666"


@pytest.fixture
def alias_pool(pool, settings):
    settings.RATE_LIMIT_PER_MINUTE = 0
    UserPool.objects.filter(pk=pool.pk).update(alias_attributes=["email"])
    pool.refresh_from_db()
    return pool


@pytest.fixture
def victim(alias_pool):
    victim = factories.make_user(alias_pool, "alice", email=VICTIM_EMAIL)
    assert find_for_sign_in(alias_pool, VICTIM_EMAIL) == victim
    return victim


@pytest.fixture
def mallory(alias_pool, victim):
    """An attacker who signed up with the victim's address (never verified)."""
    sign_up.sign_up(
        pool=alias_pool,
        username="mallory",
        password=MALLORY_PASSWORD,
        attributes={"email": VICTIM_EMAIL},
        context=CONTEXT,
    )
    return User.objects.get(pool=alias_pool, username="mallory")


def outcome(call):
    try:
        return call()
    except CognitoError as exc:
        return exc


def test_attackers_password_does_not_open_the_victims_address(alias_pool, victim, mallory):
    result = outcome(
        lambda: authenticate.password(
            pool=alias_pool, username=VICTIM_EMAIL, password=MALLORY_PASSWORD
        )
    )
    assert not isinstance(result, Authenticated)


def test_victims_address_still_names_the_victim(alias_pool, victim, mallory):
    assert find_for_sign_in(alias_pool, VICTIM_EMAIL) == victim


def test_password_reset_by_address_reaches_the_victim_only(alias_pool, victim, mallory):
    from django.core import mail

    passwords.forgot_password(pool=alias_pool, username=VICTIM_EMAIL, context=CONTEXT)
    assert mail.outbox[-1].to == [VICTIM_EMAIL]
    assert User.objects.get(pk=victim.pk).username == "alice"


def test_confirming_the_attackers_account_does_not_steal_the_alias(alias_pool, victim, mallory):
    """Even with the right code (it went to the victim's mailbox), the alias stays put."""
    code = last_code(VICTIM_EMAIL)
    with pytest.raises(AliasExistsException):
        sign_up.confirm_sign_up(pool=alias_pool, username="mallory", code=code, context=CONTEXT)
    assert find_for_sign_in(alias_pool, VICTIM_EMAIL) == victim


def test_changing_ones_email_to_the_victims_is_held_until_verified(alias_pool, victim):
    attacker = factories.make_user(alias_pool, "eve", email="eve@example.com")
    attributes.update_attributes(user=attacker, attributes={"email": VICTIM_EMAIL}, context=CONTEXT)
    attacker.refresh_from_db()
    assert attacker.email == "eve@example.com"  # the new address waits for its code
    assert find_for_sign_in(alias_pool, VICTIM_EMAIL) == victim
    result = outcome(
        lambda: authenticate.password(
            pool=alias_pool, username=VICTIM_EMAIL, password=factories.PASSWORD
        )
    )
    assert not (isinstance(result, Authenticated) and result.user.pk == attacker.pk)


def test_unverified_address_is_not_a_sign_in_name(alias_pool):
    factories.make_user(alias_pool, "bob", email="bob@example.com", email_verified=False)
    assert find_for_sign_in(alias_pool, "bob@example.com") is None
