"""The one user-creating service: sign-up, admin create and CSV import decide a username the
same way, with the same messages, and compare names after NFKC and the pool's case rule; and
the standard attribute `updated_at`, kept wherever attributes change."""

from __future__ import annotations

import io
import unicodedata

import jwt as pyjwt
import pytest

from pool import clock
from pool.errors import CognitoError
from pool.models import Group, SignInName, User
from pool.selectors.users import find_for_sign_in
from pool.services import admin, sign_up, tokens, user_import
from pool.services import attributes as user_attributes
from pool.services.results import RequestContext
from tests import factories
from tests.pool.helpers import emailed_code

pytestmark = pytest.mark.django_db
CTX = RequestContext(source="api")
NFC = unicodedata.normalize("NFC", "alicé")
NFD = unicodedata.normalize("NFD", "alicé")


def by_sign_up(pool, username, attributes):
    return sign_up.sign_up(
        pool=pool,
        username=username,
        password=factories.PASSWORD,
        attributes=attributes,
        context=CTX,
    ).user


def by_admin(pool, username, attributes):
    return admin.admin_create_user(
        pool=pool, username=username, attributes=attributes, message_action="SUPPRESS"
    )[0]


def by_import(pool, username, attributes):
    """One CSV row; the import's own rule wants a verified address, so the email is marked
    verified (the sign-in name rules are what is compared)."""
    row = {"cognito:username": username, "cognito:mfa_enabled": "false", **attributes}
    if attributes.get("email"):
        row["email_verified"] = "true"
    header = list(row)
    text = ",".join(header) + "\n" + ",".join(user_import.escape(row[c]) for c in header) + "\n"
    result = user_import.import_csv(pool, io.StringIO(text))
    if result.errors:
        raise RowRefused(result.errors[0].reason)  # the service's message, reported per row
    return User.objects.filter(pool=pool).latest("pk")


class RowRefused(Exception):
    pass


DOORS = {"sign_up": by_sign_up, "admin_create": by_admin, "import": by_import}


def outcome(door, pool, username, attributes):
    """What a door made of the request: the stored email, or the error's message."""
    try:
        user = DOORS[door](pool, username, dict(attributes))
    except CognitoError as exc:
        return ("refused", exc.message)
    except RowRefused as exc:
        return ("refused", str(exc))
    return ("created", User.objects.get(pk=user.pk).email)


# ------------------------------------------------------------------- one decision, one message

EMAIL_POOL = {"username_attributes": ["email"]}
ALIAS_POOL = {"alias_attributes": ["email"]}
CASES = {
    "email pool keeps a mixed-case name": (
        EMAIL_POOL,
        "Bob@Example.com",
        {"email": "bob@example.com"},
        ("created", "Bob@Example.com"),
    ),
    "email pool, same name given twice": (
        EMAIL_POOL,
        "Bob@Example.com",
        {"email": "Bob@Example.com"},
        ("created", "Bob@Example.com"),
    ),
    "email pool refuses a plain name": (
        EMAIL_POOL,
        "bob",
        {"email": "bob@example.com"},
        ("refused", "Username should be an email."),
    ),
    "email pool refuses a different email": (
        EMAIL_POOL,
        "bob@example.com",
        {"email": "eve@example.com"},
        ("refused", "The email attribute must match the username."),
    ),
    "email alias pool refuses an email-shaped username": (
        ALIAS_POOL,
        "bob@example.com",
        {"email": "bob@example.com"},
        (
            "refused",
            "Username cannot be of email format, since user pool is configured for email alias.",
        ),
    ),
    "alias pool accepts a plain name": (
        ALIAS_POOL,
        "bob",
        {"email": "bob@example.com"},
        ("created", "bob@example.com"),
    ),
}


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("case", CASES)
def test_every_door_decides_the_username_the_same_way(door, case):
    pool_fields, username, attributes, expected = CASES[case]
    pool = factories.make_pool(**pool_fields)
    assert outcome(door, pool, username, attributes) == expected


def test_email_pool_names_sign_in_whatever_their_case(db):
    pool = factories.make_pool(username_attributes=["email"])
    user = by_admin(pool, "Bob@Example.com", {"email": "bob@example.com"})
    assert find_for_sign_in(pool, "BOB@example.COM") == user


def test_the_sign_in_lookup_brings_the_users_groups(pool, django_assert_num_queries):
    user = factories.make_user(pool, "alice")
    staff = Group.objects.create(pool=pool, name="staff", precedence=2)
    admins = Group.objects.create(pool=pool, name="admins", precedence=1)
    user.groups.add(staff, admins)
    find_for_sign_in(pool, "alice")  # compiled once (and the backend's JSON support checked)
    with django_assert_num_queries(1):
        found = find_for_sign_in(pool, "alice")
        assert [group.name for group in found.groups.all()] == ["admins", "staff"]


def test_the_sign_in_lookup_keeps_the_callers_pool_of_the_current_version(pool):
    """The lookup reads the pool's config_version, not its row again: the caller's pool of
    that version is the user's."""
    factories.make_user(pool, "alice")
    assert find_for_sign_in(pool, "alice").pool is pool


def test_the_sign_in_lookup_gives_the_current_pool_to_a_caller_with_an_older_one(pool):
    """A pool saved meanwhile (a new config_version) is the one the sign-in applies, not the
    caller's copy of before."""
    from pool.models import UserPool

    factories.make_user(pool, "alice")
    stale = UserPool.objects.get(pk=pool.pk)
    pool.prevent_user_existence_errors = not pool.prevent_user_existence_errors
    pool.save()
    assert pool.config_version != stale.config_version
    found = find_for_sign_in(stale, "alice")
    assert found.pool is not stale
    assert found.pool.config_version == pool.config_version
    assert found.pool.prevent_user_existence_errors == pool.prevent_user_existence_errors


def test_the_groups_read_with_the_user_do_not_answer_for_other_groups(pool):
    """Filtering the relation, or changing it, still asks the database."""
    user = factories.make_user(pool, "alice")
    staff = Group.objects.create(pool=pool, name="staff")
    other = Group.objects.create(pool=pool, name="other")
    user.groups.add(staff)
    found = find_for_sign_in(pool, "alice")
    assert not found.groups.filter(pk=other.pk).exists()
    assert found.groups.filter(pk=staff.pk).exists()
    found.groups.add(other)
    assert sorted(group.name for group in found.groups.all()) == ["other", "staff"]


# --------------------------------------------------------------- one name, however it is typed

SAME_NAMES = {
    "NFC then NFD": (NFC, NFD),
    "NFD then NFC": (NFD, NFC),
    "fullwidth": ("alice", "ＡＬＩＣＥ"),
    "case": ("Alice", "aLICE"),
    "ligature": ("ﬁnn", "finn"),
}


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("pair", SAME_NAMES)
def test_a_look_alike_username_is_the_same_account(door, pair):
    first, second = SAME_NAMES[pair]
    pool = factories.make_pool()
    DOORS[door](pool, first, {"email": "first@example.com"})
    assert outcome(door, pool, second, {"email": "second@example.com"}) == (
        "refused",
        "User already exists",
    )
    assert User.objects.filter(pool=pool).count() == 1


@pytest.mark.parametrize("pair", SAME_NAMES)
def test_sign_in_lookup_finds_the_account_however_it_is_typed(pool, pair):
    first, second = SAME_NAMES[pair]
    user = factories.make_user(pool, first)
    assert find_for_sign_in(pool, second) == user


def test_case_sensitive_pool_still_folds_width_and_composition(db):
    pool = factories.make_pool(case_sensitive=True)
    user = factories.make_user(pool, NFC)
    assert find_for_sign_in(pool, NFD) == user
    assert find_for_sign_in(pool, "ＡＬＩＣＥ") is None
    assert find_for_sign_in(pool, "ALICÉ") is None


def test_a_look_alike_email_alias_is_the_same_alias(db):
    pool = factories.make_pool(alias_attributes=["email"])
    holder = by_admin(pool, "holder", {"email": f"bob@{NFC}.example", "email_verified": "true"})
    assert find_for_sign_in(pool, f"BOB@{NFD}.example") == holder
    assert outcome(
        "admin_create", pool, "other", {"email": f"bob@{NFD}.example", "email_verified": "true"}
    ) == ("refused", "An account with the given email already exists.")


def test_a_name_that_expands_past_128_characters_is_refused(db):
    pool = factories.make_pool()
    # U+FDFA is one character that NFKC writes as eighteen.
    assert outcome("sign_up", pool, "\ufdfa" * 8, {"email": "long@example.com"}) == (
        "refused",
        "Username must be between 1 and 128 characters.",
    )


def test_the_register_holds_each_sign_in_name_once(db):
    pool = factories.make_pool(alias_attributes=["email"])
    user = by_admin(pool, "Ann", {"email": "Ann@Example.com", "email_verified": "true"})
    names = set(SignInName.objects.filter(user=user).values_list("key", "kind"))
    assert names == {("ann", "username"), ("ann@example.com", "email")}


def test_deleting_an_email_alias_frees_the_name(db):
    pool = factories.make_pool(alias_attributes=["email"], required_attributes=[])
    user = by_admin(pool, "ann", {"email": "ann@example.com", "email_verified": "true"})
    user_attributes.delete_attributes(user=user, names=["email"], admin=True)
    assert find_for_sign_in(pool, "ann@example.com") is None
    assert by_admin(pool, "bob", {"email": "ann@example.com", "email_verified": "true"})


# ---------------------------------------------------------------------------------- updated_at


def _updated_at(user) -> int:
    return int(User.objects.get(pk=user.pk).attributes["updated_at"])


@pytest.fixture
def frozen():
    return clock.freeze()


def test_sign_up_sets_updated_at(pool, frozen):
    user = by_sign_up(pool, "ann", {"email": "ann@example.com"})
    assert _updated_at(user) == clock.timestamp()


def test_admin_create_sets_updated_at(pool, frozen):
    user = by_admin(pool, "ann", {"email": "ann@example.com"})
    assert _updated_at(user) == clock.timestamp()


def test_import_keeps_the_updated_at_it_carries(pool):
    user = by_import(pool, "ann", {"email": "ann@example.com", "updated_at": "1700000000"})
    assert _updated_at(user) == 1700000000


def test_a_users_own_change_moves_updated_at(pool, frozen):
    user = by_sign_up(pool, "ann", {"email": "ann@example.com"})
    clock.advance(minutes=5)
    user_attributes.update_attributes(user=user, attributes={"given_name": "Ann"}, context=CTX)
    assert _updated_at(user) == clock.timestamp()


def test_an_admin_change_moves_updated_at(pool, frozen):
    user = by_admin(pool, "ann", {"email": "ann@example.com"})
    clock.advance(minutes=5)
    user_attributes.update_attributes(
        user=user, attributes={"email_verified": "true"}, admin=True, context=CTX
    )
    assert _updated_at(user) == clock.timestamp()


def test_deleting_an_attribute_moves_updated_at(pool, frozen):
    user = by_admin(pool, "ann", {"email": "ann@example.com", "locale": "fr"})
    clock.advance(minutes=5)
    user_attributes.delete_attributes(user=user, names=["locale"])
    assert _updated_at(user) == clock.timestamp()


def test_verifying_an_address_moves_updated_at(pool, frozen):
    user = by_sign_up(pool, "ann", {"email": "ann@example.com"})
    User.objects.filter(pk=user.pk).update(status="CONFIRMED")
    user.refresh_from_db()
    user_attributes.send_attribute_verification_code(user=user, attribute="email", context=CTX)
    clock.advance(minutes=5)
    code = emailed_code("ann@example.com")
    user_attributes.verify_attribute(user=user, attribute="email", code=code, context=CTX)
    assert _updated_at(user) == clock.timestamp()


def test_an_unchanged_value_leaves_updated_at(pool, frozen):
    user = by_admin(pool, "ann", {"email": "ann@example.com", "locale": "fr"})
    before = _updated_at(user)
    clock.advance(minutes=5)
    user_attributes.update_attributes(
        user=user, attributes={"locale": "fr"}, admin=True, context=CTX
    )
    assert _updated_at(user) == before


def test_updated_at_is_a_number_in_the_id_token_and_a_string_in_user_info(pool, frozen):
    user = by_admin(pool, "ann", {"email": "ann@example.com"})
    client = factories.make_client(pool)
    scopes = ["openid", "profile"]
    issued = tokens.issue(user=user, client=client, scopes=scopes, auth_time=clock.now())
    claims = pyjwt.decode(issued.id_token, options={"verify_signature": False})
    assert claims["updated_at"] == clock.timestamp()
    body = tokens.user_info(pool=pool, access_token=issued.access_token)
    assert body["updated_at"] == str(clock.timestamp())
