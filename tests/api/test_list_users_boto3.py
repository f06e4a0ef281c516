"""boto3's ListUsers against a live Cognate: Cognito's filter string (=, ^=, status, sub, email),
AttributesToGet, Limit and PaginationToken, with every answer checked against its output shape."""

from __future__ import annotations

import pytest

from pool.models import UserStatus
from pool.services import pools
from tests import factories
from tests.api.shape_check import assert_fits

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(pool):
    made = {}
    for username, family, status, enabled in [
        ("alice", "Reddy", UserStatus.CONFIRMED, True),
        ("albert", "Redford", UserStatus.UNCONFIRMED, True),
        ("bob", "Smith", UserStatus.CONFIRMED, False),
        ("Alina", "reddy", UserStatus.FORCE_CHANGE_PASSWORD, True),
    ]:
        made[username] = factories.make_user(
            pool, username, password=None, status=status, family_name=family, enabled=enabled
        )
    return made


def usernames(answer) -> list[str]:
    return sorted(u["Username"] for u in answer["Users"])


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('username = "alice"', ["alice"]),
        ('username ^= "al"', ["albert", "alice"]),
        ('family_name = "Reddy"', ["alice"]),
        ('family_name ^= "Red"', ["albert", "alice"]),
        ('email = "bob@example.com"', ["bob"]),
        ('email ^= "al"', ["albert", "alice"]),
        ('cognito:user_status = "UNCONFIRMED"', ["albert"]),
        ('cognito:user_status = "force_change_password"', ["Alina"]),
        ('status = "Disabled"', ["bob"]),
        ('status = "Enabled"', ["Alina", "albert", "alice"]),
        ("", ["Alina", "albert", "alice", "bob"]),
    ],
)
def test_filters(cognito, recorder, pool, people, expression, expected):
    answer = cognito.list_users(UserPoolId=pool.id, Filter=expression)
    assert usernames(answer) == expected
    assert "PaginationToken" not in answer
    assert_fits(recorder)


def test_filter_by_sub(cognito, recorder, pool, people):
    sub = str(people["bob"].sub)
    assert usernames(cognito.list_users(UserPoolId=pool.id, Filter=f'sub = "{sub}"')) == ["bob"]
    assert usernames(cognito.list_users(UserPoolId=pool.id, Filter=f'sub ^= "{sub[:8]}"')) == [
        "bob"
    ]
    assert_fits(recorder)


def test_listed_users_have_cognitos_shape(cognito, recorder, pool, people):
    listed = cognito.list_users(UserPoolId=pool.id, Filter='username = "bob"')["Users"][0]
    assert listed["Enabled"] is False and listed["UserStatus"] == "CONFIRMED"
    names = [a["Name"] for a in listed["Attributes"]]
    assert names[0] == "sub" and "family_name" in names
    assert "UserAttributes" not in listed
    assert_fits(recorder)


def test_attributes_to_get(cognito, recorder, pool, people):
    pools.add_custom_attribute(pool=pool, name="tier")
    answer = cognito.list_users(
        UserPoolId=pool.id, Filter='username = "alice"', AttributesToGet=["email", "custom:tier"]
    )
    assert answer["Users"][0]["Attributes"] == [{"Name": "email", "Value": "alice@example.com"}]
    assert_fits(recorder)


def test_attributes_to_get_an_unknown_attribute(cognito, pool, people):
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="shoe_size"):
        cognito.list_users(UserPoolId=pool.id, AttributesToGet=["email", "shoe_size"])


def test_paging_through_three_pages(cognito, recorder, pool):
    for index in range(7):
        factories.make_user(pool, f"page{index}", password=None)
    seen: list[str] = []
    answer = cognito.list_users(UserPoolId=pool.id, Limit=3)
    pages = 1
    seen += usernames(answer)
    while "PaginationToken" in answer:
        answer = cognito.list_users(
            UserPoolId=pool.id, Limit=3, PaginationToken=answer["PaginationToken"]
        )
        pages += 1
        seen += usernames(answer)
    assert pages == 3
    assert sorted(seen) == [f"page{index}" for index in range(7)]
    assert_fits(recorder)


def test_botocores_paginator_walks_every_page(cognito, pool):
    for index in range(5):
        factories.make_user(pool, f"walk{index}", password=None)
    paginator = cognito.get_paginator("list_users")
    pages = list(paginator.paginate(UserPoolId=pool.id, Filter='username ^= "walk"', Limit=2))
    assert len(pages) == 3
    assert sorted(u["Username"] for p in pages for u in p["Users"]) == [
        f"walk{index}" for index in range(5)
    ]


@pytest.mark.parametrize(
    "expression",
    [
        "username = alice",
        'username == "alice"',
        'username = "alice" and email = "x"',
        'shoe_size = "44"',
        'custom:tier = "gold"',
    ],
)
def test_invalid_filters(cognito, pool, people, expression):
    refused = cognito.exceptions.InvalidParameterException
    with pytest.raises(refused, match="Invalid Filter|search attribute"):
        cognito.list_users(UserPoolId=pool.id, Filter=expression)


def test_a_forged_pagination_token(cognito, pool, people):
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="pagination token"):
        cognito.list_users(UserPoolId=pool.id, PaginationToken="forged-token")


def test_a_token_for_another_filter(cognito, pool):
    for index in range(3):
        factories.make_user(pool, f"tok{index}", password=None)
    token = cognito.list_users(UserPoolId=pool.id, Limit=1)["PaginationToken"]
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="another filter"):
        cognito.list_users(UserPoolId=pool.id, Limit=1, PaginationToken=token, Filter='sub ^= "a"')


def test_limit_above_sixty_is_refused(cognito, pool):
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.list_users(UserPoolId=pool.id, Limit=61)


def test_list_users_of_an_unknown_pool(cognito, db):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.list_users(UserPoolId="eu-west-1_nothere1")
