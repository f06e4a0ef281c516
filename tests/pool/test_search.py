"""ListUsers search: Cognito's filter grammar, keyset pagination, index use."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.db.models import signals
from django.test.utils import CaptureQueriesContext

from pool import clock
from pool.errors import InvalidParameterException
from pool.models import User, UserAttributeIndex, UserStatus
from pool.selectors import users as selectors
from pool.selectors.users import UserFilter
from pool.services import attributes, pools
from pool.services.results import RequestContext
from tests import factories


def _names(page) -> list[str]:
    return [u.username for u in page.users]


@pytest.fixture
def people(pool):
    made = {}
    for username, family, status in [
        ("alice", "Reddy", UserStatus.CONFIRMED),
        ("albert", "Redford", UserStatus.UNCONFIRMED),
        ("bob", "Smith", UserStatus.CONFIRMED),
        ("Alina", "reddy", UserStatus.FORCE_CHANGE_PASSWORD),
    ]:
        made[username] = factories.make_user(
            pool, username, password=None, status=status, family_name=family
        )
    return made


def test_empty_filter_lists_every_user_of_the_pool(pool, people):
    factories.make_user(factories.make_pool(), "stranger", password=None)
    assert sorted(_names(selectors.search(pool))) == ["Alina", "albert", "alice", "bob"]


def test_equality_filter_is_exact_and_case_sensitive(pool, people):
    assert _names(selectors.search(pool, filter='family_name = "Reddy"')) == ["alice"]


def test_prefix_filter_orders_by_attribute_in_byte_order(pool, people):
    page = selectors.search(pool, filter='username ^= "al"')
    assert _names(page) == ["albert", "alice"]


def test_prefix_filter_is_case_sensitive_for_username(pool, people):
    assert _names(selectors.search(pool, filter='username ^= "Al"')) == ["Alina"]


def test_prefix_filter_on_email(pool, people):
    page = selectors.search(pool, filter='email ^= "bo"')
    assert _names(page) == ["bob"]


def test_filter_without_spaces_around_operator(pool, people):
    assert _names(selectors.search(pool, filter='username="bob"')) == ["bob"]


def test_escaped_quote_in_value(pool):
    factories.make_user(pool, "quoted", password=None, name='Ann "Annie" Lee')
    assert _names(selectors.search(pool, filter='name = "Ann \\"Annie\\" Lee"')) == ["quoted"]


def test_username_filter_does_not_match_aliases(pool, people):
    assert selectors.search(pool, filter='username = "bob@example.com"').users == ()


def test_sub_equality(pool, people):
    sub = str(people["bob"].sub)
    assert _names(selectors.search(pool, filter=f'sub = "{sub}"')) == ["bob"]


def test_sub_prefix(pool, people):
    sub = str(people["bob"].sub)
    assert "bob" in _names(selectors.search(pool, filter=f'sub ^= "{sub[:13]}"'))


def test_sub_that_is_not_a_uuid_matches_nobody(pool, people):
    assert selectors.search(pool, filter='sub = "not-a-uuid"').users == ()


def test_user_status_filter_is_case_insensitive(pool, people):
    page = selectors.search(pool, filter='cognito:user_status = "confirmed"')
    assert sorted(_names(page)) == ["alice", "bob"]


def test_user_status_prefix(pool, people):
    page = selectors.search(pool, filter='cognito:user_status ^= "UN"')
    assert _names(page) == ["albert"]


def test_enabled_status_filter(pool, people):
    people["bob"].enabled = False
    people["bob"].save()
    assert _names(selectors.search(pool, filter='status = "Disabled"')) == ["bob"]
    assert "bob" not in _names(selectors.search(pool, filter='status = "Enabled"'))


def test_enabled_status_is_case_sensitive(pool, people):
    assert selectors.search(pool, filter='status = "enabled"').users == ()


def test_status_narrows_the_result(pool, people):
    wanted = UserFilter("username", "^=", "al", status=UserStatus.UNCONFIRMED, exact_case=True)
    assert _names(selectors.search(pool, filter=wanted)) == ["albert"]


def test_status_must_be_a_user_status(pool):
    with pytest.raises(InvalidParameterException):
        selectors.search(pool, filter=UserFilter(status="ASLEEP"))


@pytest.mark.parametrize(
    "bad",
    [
        'custom:team = "x"',
        'address = "x"',
        'username == "x"',
        "username = bob",
        'username = "unterminated',
        'username ~ "x"',
        '= "x"',
        'username = "a" and email = "b"',
        'username = "' + "x" * 300 + '"',
    ],
)
def test_bad_filters_are_invalid_parameters(pool, bad):
    with pytest.raises(InvalidParameterException):
        selectors.search(pool, filter=bad)


@pytest.mark.parametrize("limit", [-1, 61, "10", True])
def test_limit_outside_0_to_60_is_refused(pool, limit):
    with pytest.raises(InvalidParameterException):
        selectors.search(pool, limit=limit)


def test_pages_cover_every_match_once_in_order(pool):
    for i in range(23):
        factories.make_user(pool, f"u{i:02d}", password=None, family_name=f"F{i % 4}")
    seen, token, pages = [], None, 0
    while True:
        page = selectors.search(pool, filter='family_name ^= "F"', limit=5, pagination_token=token)
        seen += [(u.family_name, u.pk) for u in page.users]
        pages += 1
        token = page.next_token
        if token is None:
            break
    assert len(seen) == 23 and len(set(seen)) == 23
    assert seen == sorted(seen)
    assert pages == 5


def test_last_page_has_no_token(pool, people):
    assert selectors.search(pool, limit=4).next_token is None
    assert selectors.search(pool, limit=3).next_token is not None


def test_pagination_without_filter_continues_after_ties(pool):
    for i in range(7):
        factories.make_user(pool, f"same{i}", password=None, email="")
    first = selectors.search(pool, filter='email ^= ""', limit=4)
    second = selectors.search(
        pool, filter='email ^= ""', limit=4, pagination_token=first.next_token
    )
    assert len(first.users) == 4 and len(second.users) == 3
    assert not {u.pk for u in first.users} & {u.pk for u in second.users}


def test_tampered_token_is_refused(pool, people):
    token = selectors.search(pool, limit=1).next_token
    with pytest.raises(InvalidParameterException):
        selectors.search(pool, limit=1, pagination_token=token[:-2] + "xx")


def test_token_is_bound_to_its_filter(pool, people):
    token = selectors.search(pool, filter='username ^= "a"', limit=1).next_token
    with pytest.raises(InvalidParameterException):
        selectors.search(pool, filter='username ^= "b"', limit=1, pagination_token=token)


def test_token_is_bound_to_its_pool(pool, people):
    token = selectors.search(pool, limit=1).next_token
    with pytest.raises(InvalidParameterException):
        selectors.search(factories.make_pool(), limit=1, pagination_token=token)


def test_token_expires_after_an_hour(pool, people):
    clock.freeze()
    token = selectors.search(pool, limit=1).next_token
    clock.advance(minutes=59)
    assert selectors.search(pool, limit=1, pagination_token=token).users
    clock.advance(minutes=2)
    with pytest.raises(InvalidParameterException):
        selectors.search(pool, limit=1, pagination_token=token)


def test_page_is_frozen(pool, people):
    page = selectors.search(pool)
    with pytest.raises(AttributeError):
        page.next_token = "x"


def _plan_of_search(pool, **kwargs) -> str:
    """EXPLAIN of the SQL that `search` really sends."""
    with CaptureQueriesContext(connection) as queries:
        selectors.search(pool, **kwargs)
    sql = queries.captured_queries[-1]["sql"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN " + sql)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(" ".join(str(c) for c in row) for row in cursor.fetchall())


def _assert_index_range(plan: str, column: str, *, prefix: bool = True) -> None:
    if connection.vendor == "postgresql":
        assert f"pool_user_{column}_c_idx" in plan, plan
        assert "Sort" not in plan, plan
    else:
        index = {"phone_number": "user_phone_idx", "preferred_username": "user_pref_username_idx"}
        assert f"SEARCH pool_user USING INDEX {index.get(column, f'user_{column}_idx')}" in plan
        if prefix:
            assert f"{column}>?" in plan and f"{column}<?" in plan, plan
        assert "TEMP B-TREE" not in plan, plan


def _assert_index_equality(plan: str, column: str) -> None:
    if connection.vendor == "postgresql":
        assert f"pool_user_{column}_c_idx" in plan and "Sort" not in plan, plan
    else:
        assert f"USING INDEX user_{column}_idx ({column}=?" in plan.replace("pool_id=? AND ", "")
        assert "TEMP B-TREE" not in plan, plan


@pytest.fixture
def indexed_pool(pool):
    for i in range(50):
        factories.make_user(pool, f"idx{i}", password=None, name=f"idx{i}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE pool_user")
            # A tiny table is cheaper to scan; ask the planner what it would do with a big one.
            # With sorting also discouraged, a plan without a Sort node shows that the index
            # delivers the rows in the order search asks for.
            for knob in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                cursor.execute(f"SET LOCAL {knob} = off")
    return pool


@pytest.mark.parametrize("column", selectors.TEXT_COLUMNS)
def test_prefix_search_is_an_index_range_scan(indexed_pool, column):
    plan = _plan_of_search(indexed_pool, filter=f'{column} ^= "idx1"')
    _assert_index_range(plan, column)


def test_next_page_is_an_index_range_scan(indexed_pool):
    token = selectors.search(indexed_pool, filter='username ^= "idx"', limit=5).next_token
    plan = _plan_of_search(
        indexed_pool, filter='username ^= "idx"', limit=5, pagination_token=token
    )
    _assert_index_range(plan, "username")


def test_unfiltered_list_reads_the_username_index_in_order(indexed_pool):
    plan = _plan_of_search(indexed_pool)
    _assert_index_range(plan, "username", prefix=False)


def test_user_status_search_reads_its_index_in_order(indexed_pool):
    plan = _plan_of_search(indexed_pool, filter='cognito:user_status = "UNCONFIRMED"')
    assert "user_status" in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan


def test_equality_search_uses_an_index(indexed_pool):
    plan = _plan_of_search(indexed_pool, filter='email = "idx1@example.com"')
    _assert_index_equality(plan, "email")


def test_search_matches_users_created_by_user_model(pool):
    User.objects.create(pool=pool, username="raw", email="raw@example.com")
    assert _names(selectors.search(pool, filter='email = "raw@example.com"')) == ["raw"]


@pytest.mark.parametrize(
    ("name", "columns"),
    [
        ("0002_admin_search_indexes", selectors.TEXT_COLUMNS),
        ("0006_user_search", selectors.FOLDED_COLUMNS),
    ],
)
def test_migrations_index_every_text_column(name, columns):
    """Each migration keeps its own frozen copy of the column list; it must not drift."""
    migration = importlib.import_module(f"pool.migrations.{name}")
    assert columns == migration.COLUMNS


# --------------------------------------------------------------------------------------------
# The console's structured search: the pool's case rule, status, enabled, custom attributes


@pytest.fixture
def mixed_case(pool):
    for username, email in [
        ("Alice", "Alice@Example.com"),
        ("albert", "albert@example.com"),
        ("ALINA", "ALINA@EXAMPLE.COM"),
        ("bob", "bob@example.com"),
    ]:
        factories.make_user(pool, username, password=None, email=email)
    return pool


def test_structured_prefix_ignores_case_where_the_pool_does(mixed_case):
    page = selectors.search(mixed_case, filter=UserFilter("email", "^=", "aL"))
    assert _names(page) == ["albert", "Alice", "ALINA"]


def test_structured_equality_ignores_case_where_the_pool_does(mixed_case):
    page = selectors.search(mixed_case, filter=UserFilter("email", "=", "alice@example.COM"))
    assert _names(page) == ["Alice"]


def test_structured_username_search_ignores_case(mixed_case):
    assert _names(selectors.search(mixed_case, filter=UserFilter("username", "=", "alina"))) == [
        "ALINA"
    ]


def test_unfiltered_list_of_a_case_insensitive_pool_is_in_case_insensitive_order(mixed_case):
    assert _names(selectors.search(mixed_case, filter=UserFilter())) == [
        "albert",
        "Alice",
        "ALINA",
        "bob",
    ]


def test_cognito_filter_string_stays_byte_exact_in_a_case_insensitive_pool(mixed_case):
    assert _names(selectors.search(mixed_case, filter='email ^= "al"')) == ["albert"]


def test_case_sensitive_pool_searches_exactly(db):
    pool = factories.make_pool(case_sensitive=True)
    factories.make_user(pool, "Alice", password=None, email="Alice@Example.com")
    factories.make_user(pool, "alice", password=None, email="alice@example.com")
    assert _names(selectors.search(pool, filter=UserFilter("email", "^=", "Ali"))) == ["Alice"]
    assert _names(selectors.search(pool, filter=UserFilter("username", "=", "alice"))) == ["alice"]


def test_status_alone_lists_users_with_that_status(pool, people):
    page = selectors.search(pool, filter=UserFilter(status=UserStatus.CONFIRMED))
    assert sorted(_names(page)) == ["alice", "bob"]


def test_enabled_filter(pool, people):
    people["bob"].enabled = False
    people["bob"].save()
    assert _names(selectors.search(pool, filter=UserFilter(enabled=False))) == ["bob"]
    enabled = _names(selectors.search(pool, filter=UserFilter(enabled=True)))
    assert sorted(enabled) == ["Alina", "albert", "alice"]


def test_enabled_status_and_attribute_combine(pool, people):
    people["alice"].enabled = False
    people["alice"].save()
    wanted = UserFilter("family_name", "^=", "red", status=UserStatus.CONFIRMED, enabled=False)
    assert _names(selectors.search(pool, filter=wanted)) == ["alice"]


@pytest.fixture
def tiers(pool):
    pools.add_custom_attribute(pool=pool, name="tier")
    for username, tier in [
        ("g1", "gold"),
        ("g2", "Gold"),
        ("g3", "golden"),
        ("s1", "silver"),
        ("n1", None),
    ]:
        factories.make_user(
            pool, username, password=None, attributes={"custom:tier": tier} if tier else {}
        )
    return pool


def test_custom_attribute_equality(tiers):
    page = selectors.search(tiers, filter=UserFilter("custom:tier", "=", "GOLD"))
    assert _names(page) == ["g1", "g2"]


def test_custom_attribute_prefix(tiers):
    page = selectors.search(tiers, filter=UserFilter("custom:tier", "^=", "gol"))
    assert sorted(_names(page)) == ["g1", "g2", "g3"]


def test_custom_attribute_search_is_exact_in_a_case_sensitive_pool(db):
    pool = factories.make_pool(case_sensitive=True)
    pools.add_custom_attribute(pool=pool, name="tier")
    factories.make_user(pool, "g1", password=None, attributes={"custom:tier": "gold"})
    factories.make_user(pool, "g2", password=None, attributes={"custom:tier": "Gold"})
    assert _names(selectors.search(pool, filter=UserFilter("custom:tier", "=", "Gold"))) == ["g2"]


def test_custom_attribute_search_follows_attribute_changes(tiers):
    silver = User.objects.get(pool=tiers, username="s1")
    attributes.update_attributes(
        user=silver,
        attributes={"custom:tier": "Gold"},
        admin=True,
        context=RequestContext(source="test"),
    )
    gold = User.objects.get(pool=tiers, username="g1")
    attributes.delete_attributes(user=gold, names=["custom:tier"], admin=True)
    page = selectors.search(tiers, filter=UserFilter("custom:tier", "=", "gold"))
    assert _names(page) == ["g2", "s1"]
    assert selectors.search(tiers, filter=UserFilter("custom:tier", "=", "silver")).users == ()


def test_custom_attribute_of_another_pool_is_not_searched(tiers):
    other = factories.make_pool()
    pools.add_custom_attribute(pool=other, name="tier")
    factories.make_user(other, "elsewhere", password=None, attributes={"custom:tier": "gold"})
    page = selectors.search(tiers, filter=UserFilter("custom:tier", "=", "gold"))
    assert _names(page) == ["g1", "g2"]


def test_long_custom_value_is_found_by_prefix_not_by_its_cut_key(pool):
    pools.add_custom_attribute(pool=pool, name="bio", max_length=2048)
    long_value = "x" * 600
    factories.make_user(pool, "long", password=None, attributes={"custom:bio": long_value})
    cut = long_value[: selectors.ATTRIBUTE_KEY_CHARS]
    assert _names(selectors.search(pool, filter=UserFilter("custom:bio", "^=", cut))) == ["long"]
    assert selectors.search(pool, filter=UserFilter("custom:bio", "=", cut)).users == ()


def test_custom_value_longer_than_the_key_is_refused(tiers):
    too_long = "x" * (selectors.ATTRIBUTE_KEY_CHARS + 1)
    with pytest.raises(InvalidParameterException) as error:
        selectors.search(tiers, filter=UserFilter("custom:tier", "^=", too_long))
    assert error.value.field == "value"


@pytest.mark.parametrize(
    "wanted",
    [
        UserFilter("custom:unknown", "=", "x"),
        UserFilter("address", "=", "x"),
        UserFilter("email", "~", "x"),
        UserFilter(enabled="yes"),
        UserFilter("email", "=", "a\x00b"),
    ],
)
def test_bad_structured_filters_are_invalid_parameters(tiers, wanted):
    with pytest.raises(InvalidParameterException):
        selectors.search(tiers, filter=wanted)


@pytest.mark.parametrize(
    "wanted",
    [
        UserFilter("email", "^=", "U"),
        UserFilter("custom:tier", "^=", "T"),
        UserFilter("custom:tier", "=", "TIER"),
        UserFilter(enabled=True),
    ],
)
def test_structured_pages_cover_every_match_once(pool, wanted):
    pools.add_custom_attribute(pool=pool, name="tier")
    for i in range(13):
        factories.make_user(
            pool,
            f"u{i:02d}",
            password=None,
            email=f"{'U' if i % 2 else 'u'}{i % 3}@example.com",
            attributes={"custom:tier": "Tier" if i % 2 else "tier"},
        )
    seen, token = [], None
    while True:
        page = selectors.search(pool, filter=wanted, limit=4, pagination_token=token)
        seen += [u.username for u in page.users]
        token = page.next_token
        if token is None:
            break
    assert sorted(seen) == [f"u{i:02d}" for i in range(13)]


def test_token_is_bound_to_its_structured_filter(pool, people):
    token = selectors.search(pool, filter=UserFilter(enabled=True), limit=1).next_token
    with pytest.raises(InvalidParameterException):
        selectors.search(pool, filter=UserFilter(), limit=1, pagination_token=token)


def test_migration_0003_indexes_the_custom_attributes_of_existing_users(tiers):
    migration = importlib.import_module("pool.migrations.0006_user_search")
    UserAttributeIndex.objects.all().delete()
    migration.fill_attribute_index(django_apps, None)
    page = selectors.search(tiers, filter=UserFilter("custom:tier", "^=", "gol"))
    assert sorted(_names(page)) == ["g1", "g2", "g3"]


# EXPLAIN: the structured searches are index range scans too.


def _assert_lower_index(plan: str, column: str, *, prefix: bool = True) -> None:
    if connection.vendor == "postgresql":
        assert f"user_{column}_lower_idx" in plan and "Sort" not in plan, plan
    else:
        condition = "<expr>>? AND <expr><?" if prefix else "<expr>=?"
        assert f"USING INDEX user_{column}_lower_idx (pool_id=? AND {condition})" in plan, plan
        assert "TEMP B-TREE" not in plan, plan


def _assert_attribute_index(plan: str, *, prefix: bool) -> None:
    if connection.vendor == "postgresql":
        assert "user_attr_idx" in plan and "Sort" not in plan, plan
    else:
        condition = "value_key>? AND value_key<?" if prefix else "value_key=?"
        assert f"user_attr_idx (pool_id=? AND name=? AND {condition})" in plan, plan
        assert "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize("column", selectors.FOLDED_COLUMNS)
def test_case_insensitive_prefix_search_is_an_index_range_scan(indexed_pool, column):
    plan = _plan_of_search(indexed_pool, filter=UserFilter(column, "^=", "IDX1"))
    _assert_lower_index(plan, column)


def test_phone_number_search_reads_its_plain_index(indexed_pool):
    """Phone numbers have no case: the pool's case rule changes nothing, no lower() index."""
    plan = _plan_of_search(indexed_pool, filter=UserFilter("phone_number", "^=", "+1"))
    _assert_index_range(plan, "phone_number")


def test_case_insensitive_equality_search_uses_an_index_without_sorting(indexed_pool):
    plan = _plan_of_search(indexed_pool, filter=UserFilter("email", "=", "IDX1@example.com"))
    _assert_lower_index(plan, "email", prefix=False)


def test_case_insensitive_next_page_is_an_index_range_scan(indexed_pool):
    wanted = UserFilter("username", "^=", "IDX")
    token = selectors.search(indexed_pool, filter=wanted, limit=5).next_token
    plan = _plan_of_search(indexed_pool, filter=wanted, limit=5, pagination_token=token)
    _assert_lower_index(plan, "username")


def test_case_insensitive_unfiltered_list_reads_the_lower_username_index(indexed_pool):
    plan = _plan_of_search(indexed_pool, filter=UserFilter())
    if connection.vendor == "postgresql":
        assert "user_username_lower_idx" in plan and "Sort" not in plan, plan
    else:
        assert "USING INDEX user_username_lower_idx (pool_id=?)" in plan, plan
        assert "TEMP B-TREE" not in plan, plan


@pytest.fixture
def indexed_tiers(indexed_pool):
    """150 users over 50 tiers: an equality matches 3 of them, as a tier matches a small part
    of a real pool, so that reading the whole user_id index and filtering never costs about
    what the (pool, name, value) range costs (with 5 tiers PostgreSQL's choice between the two
    turned on how bloated earlier tests had left each index)."""
    pools.add_custom_attribute(pool=indexed_pool, name="tier")
    for i in range(150):
        factories.make_user(
            indexed_pool, f"tier{i}", password=None, attributes={"custom:tier": f"t{i % 50}"}
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE pool_userattributeindex")
    return indexed_pool


def test_custom_attribute_prefix_search_is_an_index_range_scan(indexed_tiers):
    wanted = UserFilter("custom:tier", "^=", "T")
    _assert_attribute_index(_plan_of_search(indexed_tiers, filter=wanted), prefix=True)
    token = selectors.search(indexed_tiers, filter=wanted, limit=5).next_token
    plan = _plan_of_search(indexed_tiers, filter=wanted, limit=5, pagination_token=token)
    _assert_attribute_index(plan, prefix=True)


def test_custom_attribute_equality_search_uses_the_index_without_sorting(indexed_tiers):
    plan = _plan_of_search(indexed_tiers, filter=UserFilter("custom:tier", "=", "T1"))
    _assert_attribute_index(plan, prefix=False)


@pytest.mark.parametrize(
    ("wanted", "index"),
    [
        (UserFilter(enabled=False), "user_enabled_idx"),
        (UserFilter(status=UserStatus.UNCONFIRMED), "user_status"),
    ],
)
def test_flag_filters_alone_read_their_index_in_order(indexed_pool, wanted, index):
    plan = _plan_of_search(indexed_pool, filter=wanted)
    assert index in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan


# --- AttributesToGet ------------------------------------------------------------------------


def test_attributes_to_get_keeps_known_names(pool):
    pools.add_custom_attribute(pool=pool, name="tier")
    names = selectors.attributes_to_get(pool, ["email", "sub", "custom:tier"])
    assert names == {"email", "sub", "custom:tier"}


@pytest.mark.parametrize("names", [None, []])
def test_attributes_to_get_empty_means_every_attribute(pool, names):
    assert selectors.attributes_to_get(pool, names) is None


@pytest.mark.parametrize("name", ["custom:nope", "favourite_colour", "Email"])
def test_attributes_to_get_refuses_unknown_names(pool, name):
    with pytest.raises(InvalidParameterException, match=name):
        selectors.attributes_to_get(pool, ["email", name])


# ------------------------------------------------------------- compiled once, built as the ORM


def test_found_users_are_the_orm_instances(pool):
    """Each shape's SQL is compiled once per thread and its rows are built without the ORM's
    iteration: the users are what the ORM would give, field for field, saved-state included."""
    pools.add_custom_attribute(pool=pool, name="tier")
    alice = factories.make_user(  # with a password: its hash and change date are set
        pool, "alice", attributes={"custom:tier": "gold"}, last_sign_in_at=clock.now()
    )
    for wanted, family in (('email ^= "ali"', "Liddell"), ("", "Pleasance")):
        (found,) = selectors.search(pool, filter=wanted).users
        expected = User.objects.get(pk=alice.pk)
        for field in User._meta.concrete_fields:
            assert getattr(found, field.attname) == getattr(expected, field.attname), field
        assert found._state.adding is False and found._state.db == "default"
        assert found.pool is pool
        found.family_name = family
        found.save(update_fields=["family_name"])  # an UPDATE of the saved row, not an INSERT
        assert User.objects.get(pk=alice.pk).family_name == family


def test_a_receiver_connected_after_the_first_read_sees_the_next_ones(pool, people):
    """The rows are built without Model.__init__ only while no pre_init/post_init receiver
    listens: one connected later (the shortcut kept from the first read) gets the next rows."""
    selectors.search(pool, filter='username ^= "al"')
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.username)

    signals.post_init.connect(receiver, sender=User)
    try:
        assert _names(selectors.search(pool, filter='username ^= "al"')) == ["albert", "alice"]
    finally:
        signals.post_init.disconnect(receiver, sender=User)
    assert seen == ["albert", "alice"]


def test_search_is_one_query_each_time(pool, people, django_assert_num_queries):
    first = selectors.search(pool, filter='username ^= "al"', limit=1)
    with django_assert_num_queries(1):
        again = selectors.search(pool, filter='username ^= "al"', limit=1)
    assert _names(again) == _names(first) == ["albert"]
    with django_assert_num_queries(1):
        following = selectors.search(
            pool, filter='username ^= "al"', limit=1, pagination_token=again.next_token
        )
    assert _names(following) == ["alice"]


def test_the_same_shape_runs_with_each_searchs_own_values(pool, people, db):
    """One compiled statement per shape; the pool and the value are its parameters."""
    other = factories.make_pool(name="other")
    factories.make_user(other, "alan", password=None)
    assert _names(selectors.search(pool, filter='username ^= "al"')) == ["albert", "alice"]
    assert _names(selectors.search(other, filter='username ^= "al"')) == ["alan"]
    assert _names(selectors.search(pool, filter='username ^= "b"')) == ["bob"]
    assert _names(selectors.search(pool, filter='username ^= ""')) == _names(selectors.search(pool))
