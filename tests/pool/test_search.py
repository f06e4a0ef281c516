"""ListUsers search: Cognito's filter grammar, keyset pagination, index use."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pool import clock
from pool.errors import InvalidParameterException
from pool.models import User, UserStatus
from pool.selectors import users as selectors
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


def test_status_argument_narrows_the_result(pool, people):
    page = selectors.search(pool, filter='username ^= "al"', status=UserStatus.UNCONFIRMED)
    assert _names(page) == ["albert"]


def test_status_argument_must_be_a_user_status(pool):
    with pytest.raises(InvalidParameterException):
        selectors.search(pool, status="ASLEEP")


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


def test_migration_0002_indexes_every_text_column():
    """The migration keeps its own frozen copy of the column list; it must not drift."""
    migration = importlib.import_module("pool.migrations.0002_admin_search_indexes")
    assert migration.COLUMNS == selectors.TEXT_COLUMNS
