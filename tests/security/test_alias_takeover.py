"""Account takeover through aliases. An address only becomes a sign-in name (or a recovery
destination) once its owner proved it with a code, so claiming someone else's address gets an
attacker nothing; and every sign-in name (username, verified email or phone, a confirmed
user's preferred_username) has one holder in the pool, whichever kind of name it is."""

from __future__ import annotations

from functools import partial

import pytest
from django.db import IntegrityError, transaction

from pool.errors import AliasExistsException, CognitoError, UsernameExistsException
from pool.models import User, UserPool, UserStatus
from pool.selectors.users import find_for_sign_in
from pool.services import admin, attributes, authenticate, passwords, sign_up
from pool.services.results import Authenticated, RequestContext
from tests import factories, parallel
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


# ------------------------------------------------- one name, one holder, whatever its kind


@pytest.fixture
def nickname_pool(pool, settings):
    """A pool whose users may sign in by verified email or by preferred_username."""
    settings.RATE_LIMIT_PER_MINUTE = 0
    UserPool.objects.filter(pk=pool.pk).update(alias_attributes=["email", "preferred_username"])
    pool.refresh_from_db()
    return pool


@pytest.fixture
def ally(nickname_pool):
    """A confirmed user who signs in as `ally`, her preferred_username."""
    user, _ = admin.admin_create_user(
        pool=nickname_pool,
        username="alice",
        attributes={"email": VICTIM_EMAIL, "email_verified": "true", "preferred_username": "ally"},
        message_action="SUPPRESS",
    )
    assert find_for_sign_in(nickname_pool, "ally") == user
    return user


def test_sign_up_as_someones_preferred_username_is_refused(nickname_pool, ally):
    with pytest.raises(UsernameExistsException):
        sign_up.sign_up(
            pool=nickname_pool,
            username="Ally",
            password=MALLORY_PASSWORD,
            attributes={"email": "mallory@example.com"},
            context=CONTEXT,
        )
    assert find_for_sign_in(nickname_pool, "ally") == ally


def test_admin_create_as_someones_preferred_username_is_refused(nickname_pool, ally):
    with pytest.raises(UsernameExistsException):
        admin.admin_create_user(
            pool=nickname_pool,
            username="ally",
            attributes={"email": "mallory@example.com"},
            message_action="SUPPRESS",
        )
    assert find_for_sign_in(nickname_pool, "ally") == ally


def test_preferred_username_equal_to_someones_email_is_refused(nickname_pool, ally):
    mallory = factories.make_user(nickname_pool, "mallory")
    with pytest.raises(AliasExistsException):
        attributes.update_attributes(
            user=mallory, attributes={"preferred_username": VICTIM_EMAIL}, context=CONTEXT
        )
    assert find_for_sign_in(nickname_pool, VICTIM_EMAIL) == ally


def test_force_alias_does_not_move_an_email_to_a_preferred_username(nickname_pool, ally):
    with pytest.raises(AliasExistsException):
        admin.admin_create_user(
            pool=nickname_pool,
            username="mallory",
            attributes={"email": "mallory@example.com", "preferred_username": VICTIM_EMAIL.upper()},
            message_action="SUPPRESS",
            force_alias_creation=True,
        )
    ally.refresh_from_db()
    assert ally.email_verified and find_for_sign_in(nickname_pool, VICTIM_EMAIL) == ally


def test_an_email_alias_cannot_take_a_preferred_username(nickname_pool):
    holder, _ = admin.admin_create_user(
        pool=nickname_pool,
        username="holder",
        attributes={"email": "holder@example.com", "preferred_username": "boss@example.com"},
        message_action="SUPPRESS",
    )
    with pytest.raises(AliasExistsException):
        admin.admin_create_user(
            pool=nickname_pool,
            username="mallory",
            attributes={"email": "boss@example.com", "email_verified": "true"},
            message_action="SUPPRESS",
        )
    assert find_for_sign_in(nickname_pool, "boss@example.com") == holder


def test_unconfirmed_preferred_username_is_not_a_sign_in_name(nickname_pool):
    sign_up.sign_up(
        pool=nickname_pool,
        username="mallory",
        password=MALLORY_PASSWORD,
        attributes={"email": "mallory@example.com", "preferred_username": "support"},
        context=CONTEXT,
    )
    assert find_for_sign_in(nickname_pool, "support") is None
    # ...so the name is still free for a real account.
    user, _ = admin.admin_create_user(
        pool=nickname_pool,
        username="support",
        attributes={"email": "support@example.com"},
        message_action="SUPPRESS",
    )
    assert find_for_sign_in(nickname_pool, "support") == user


def test_admin_confirmation_makes_preferred_username_a_sign_in_name(nickname_pool):
    result = sign_up.sign_up(
        pool=nickname_pool,
        username="bob",
        password=MALLORY_PASSWORD,
        attributes={"email": "bob@example.com", "preferred_username": "bobby"},
        context=CONTEXT,
    )
    admin.admin_confirm_sign_up(user=result.user)
    assert find_for_sign_in(nickname_pool, "bobby") == result.user


def test_confirming_onto_a_taken_preferred_username_is_refused(nickname_pool, ally):
    result = sign_up.sign_up(
        pool=nickname_pool,
        username="mallory",
        password=MALLORY_PASSWORD,
        attributes={"email": "mallory@example.com", "preferred_username": "ALLY"},
        context=CONTEXT,
    )
    with pytest.raises(AliasExistsException):
        admin.admin_confirm_sign_up(user=result.user)
    assert User.objects.get(pk=result.user.pk).status == UserStatus.UNCONFIRMED
    assert find_for_sign_in(nickname_pool, "ally") == ally


def test_admin_set_password_on_an_unconfirmed_user_makes_preferred_username_a_name(
    nickname_pool,
):
    result = sign_up.sign_up(
        pool=nickname_pool,
        username="bob",
        password=MALLORY_PASSWORD,
        attributes={"email": "bob@example.com", "preferred_username": "bobby"},
        context=CONTEXT,
    )
    passwords.admin_set_password(user=result.user, password=MALLORY_PASSWORD, permanent=True)
    assert find_for_sign_in(nickname_pool, "bobby") == result.user


def test_the_database_refuses_a_username_held_as_a_preferred_username(nickname_pool, ally):
    """What a racer who passed the check before `ally` committed would write: the register's
    unique key refuses it, whatever column the name came from."""
    racer = User(pool=nickname_pool, username="ally", status=UserStatus.CONFIRMED)
    with pytest.raises(IntegrityError), transaction.atomic():
        racer.save()
    assert find_for_sign_in(nickname_pool, "ally") == ally


@pytest.mark.django_db(transaction=True)
def test_parallel_claims_of_one_name_leave_one_holder(nickname_pool):
    """Half the threads sign up as `ally`, half create a user whose preferred_username is
    `ally` (real threads, each with its own connection): exactly one account gets the name."""
    threads_count = 6

    def racer(index: int):
        if index % 2:
            return sign_up.sign_up(
                pool=nickname_pool,
                username="ally",
                password=MALLORY_PASSWORD,
                attributes={"email": f"racer{index}@example.com"},
                context=CONTEXT,
            ).user
        return admin.admin_create_user(
            pool=nickname_pool,
            username=f"racer{index}",
            attributes={"email": f"racer{index}@example.com", "preferred_username": "ally"},
            message_action="SUPPRESS",
        )[0]

    results = parallel.run_together([partial(racer, i) for i in range(threads_count)])
    winners = [r for r in results if isinstance(r, User)]
    refused = [r for r in results if isinstance(r, UsernameExistsException | AliasExistsException)]
    assert len(winners) == 1 and len(refused) == threads_count - 1, results
    assert find_for_sign_in(nickname_pool, "ally").pk == winners[0].pk
