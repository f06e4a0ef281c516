"""UpdateUserPool changing what Cognito refuses to (pool/services/pool_changes.py), through the
door with Django's test client: CreateUserPool's AliasAttributes, UsernameAttributes,
UsernameConfiguration and Schema, Cognate's CognateSchemaChanges and CognateDryRun, and
Cognito's JSON errors with nothing changed."""

from __future__ import annotations

import json

import pytest

from pool.models import User
from pool.selectors.users import find_for_sign_in
from pool.services import pools
from tests import factories


def retired(user):
    """The values of removed attributes kept hidden for `user`."""
    return dict(user.retired_values.values_list("name", "value"))


pytestmark = pytest.mark.django_db


def answer(response):
    body = json.loads(response.content)
    return response.status_code, body


@pytest.fixture
def pool():
    pool = factories.make_pool()
    factories.make_users_in_every_status(pool)
    return pool


def state(pool):
    pool.refresh_from_db()
    return (
        pool.alias_attributes,
        pool.case_sensitive,
        pool.required_attributes,
        sorted(pool.custom_attributes.values_list("name", flat=True)),
        list(User.objects.filter(pool=pool).order_by("pk").values("email_key", "attributes")),
    )


def test_dry_run_answers_the_report_and_changes_nothing(api, access_key, pool):
    factories.make_user(pool, "zed", email="ALICE@example.com", email_verified=True)
    before = state(pool)

    status, body = answer(
        api.post(
            "UpdateUserPool",
            {"UserPoolId": pool.id, "AliasAttributes": ["email"], "CognateDryRun": True},
        )
    )

    assert status == 200
    assert body["CognatePoolChange"] == {
        "Applied": False,
        "Users": 7,
        "Changes": [{"Setting": "AliasAttributes", "Before": [], "After": ["email"]}],
        "Problems": [
            {
                "Kind": "name_collision",
                "Username": "zed",
                "Attribute": "email",
                "Other": "alice",
                "Value": "alice@example.com",
                "Blocking": True,
            }
        ],
    }
    assert state(pool) == before


def test_dry_run_reports_a_new_pool_name(api, access_key, pool):
    status, body = answer(
        api.post(
            "UpdateUserPool",
            {"UserPoolId": pool.id, "PoolName": "Renamed", "CognateDryRun": True},
        )
    )
    assert status == 200
    assert body["CognatePoolChange"]["Changes"] == [
        {"Setting": "PoolName", "Before": pool.name, "After": "Renamed"}
    ]
    pool.refresh_from_db()
    assert pool.name != "Renamed"


def test_a_blocked_change_is_cognitos_alias_error_and_changes_nothing(api, access_key, pool):
    factories.make_user(pool, "zed", email="ALICE@example.com", email_verified=True)
    before = state(pool)

    status, body = answer(
        api.post("UpdateUserPool", {"UserPoolId": pool.id, "AliasAttributes": ["email"]})
    )

    assert status == 400
    assert body["__type"] == "AliasExistsException"
    assert "zed and alice" in body["message"]
    assert state(pool) == before


def test_aliases_case_and_required_attributes_change(api, access_key, pool):
    status, body = answer(
        api.post(
            "UpdateUserPool",
            {
                "UserPoolId": pool.id,
                "AliasAttributes": ["email", "preferred_username"],
                "UsernameConfiguration": {"CaseSensitive": True},
                "Schema": [
                    {"Name": "email", "AttributeDataType": "String", "Required": True},
                    {"Name": "name", "AttributeDataType": "String", "Required": True},
                ],
            },
        )
    )

    assert status == 200, body
    assert body["CognatePoolChange"]["Applied"] is True
    kinds = {p["Kind"] for p in body["CognatePoolChange"]["Problems"]}
    assert kinds == {"missing_required"}
    pool.refresh_from_db()
    assert pool.alias_attributes == ["email", "preferred_username"]
    assert pool.case_sensitive is True
    assert pool.required_attributes == ["email", "name"]
    assert find_for_sign_in(pool, "ally").username == "alice"
    assert find_for_sign_in(pool, "ALICE") is None
    described = json.loads(api.post("DescribeUserPool", {"UserPoolId": pool.id}).content)
    assert described["UserPool"]["UsernameConfiguration"] == {"CaseSensitive": True}


def test_custom_attributes_are_removed_and_renamed(api, access_key, pool):
    pools.add_custom_attribute(pool=pool, name="tier")
    pools.add_custom_attribute(pool=pool, name="team")
    alice = User.objects.get(pool=pool, username="alice")
    alice.attributes = {**alice.attributes, "custom:tier": "gold", "custom:team": "red"}
    alice.save()

    status, body = answer(
        api.post(
            "UpdateUserPool",
            {
                "UserPoolId": pool.id,
                "CognateSchemaChanges": {
                    "RemoveAttributes": [{"Name": "custom:team", "KeepValues": True}],
                    "RenameAttributes": [{"Name": "custom:tier", "NewName": "custom:level"}],
                },
            },
        )
    )

    assert status == 200, body
    alice.refresh_from_db()
    assert alice.attributes["custom:level"] == "gold"
    assert retired(alice) == {"custom:team": "red"}
    listed = json.loads(
        api.post("AdminGetUser", {"UserPoolId": pool.id, "Username": "alice"}).content
    )
    names = {a["Name"] for a in listed["UserAttributes"]}
    assert "custom:level" in names and "custom:team" not in names


@pytest.mark.parametrize(
    ("extra", "code", "named"),
    [
        ({"AliasAttributes": ["nickname"]}, "InvalidParameterException", "aliasAttributes"),
        ({"UsernameConfiguration": {}}, "InvalidParameterException", "caseSensitive"),
        (
            {"UsernameAttributes": ["email"], "AliasAttributes": ["phone_number"]},
            "InvalidParameterException",
            "exclusive",
        ),
        ({"Schema": [{"Name": "custom:new", "AttributeDataType": "String"}]}, "Invalid", "Add"),
        ({"CognateSchemaChanges": []}, "InvalidParameterException", "CognateSchemaChanges"),
        (
            {"CognateSchemaChanges": {"RemoveAttributes": [{"Name": "custom:nope"}]}},
            "InvalidParameterException",
            "custom:nope",
        ),
        (
            {"CognateSchemaChanges": {"RenameAttributes": [{"Name": "custom:x", "NewName": 5}]}},
            "InvalidParameterException",
            "RenameAttributes",
        ),
        ({"AliasAttributes": ["email"], "CognateDryRun": "yes"}, "Invalid", "CognateDryRun"),
    ],
)
def test_bad_changes_are_refused_in_cognitos_format(api, access_key, pool, extra, code, named):
    before = state(pool)

    status, body = answer(api.post("UpdateUserPool", {"UserPoolId": pool.id, **extra}))

    assert status == 400, body
    assert body["__type"].startswith(code)
    assert named in body["message"]
    assert state(pool) == before


def test_usernames_that_would_collide_are_cognitos_username_error(api, access_key):
    pool = factories.make_pool(case_sensitive=True)
    factories.make_user(pool, "alice")
    factories.make_user(pool, "Alice", email="other@example.com")

    status, body = answer(
        api.post(
            "UpdateUserPool",
            {"UserPoolId": pool.id, "UsernameConfiguration": {"CaseSensitive": False}},
        )
    )

    assert (status, body["__type"]) == (400, "UsernameExistsException")
    pool.refresh_from_db()
    assert pool.case_sensitive is True


def test_a_plain_update_leaves_the_sign_in_settings_alone(api, access_key):
    pool = factories.make_pool(alias_attributes=["email"], case_sensitive=False)
    status, _ = answer(api.post("UpdateUserPool", {"UserPoolId": pool.id, "PoolName": "x"}))
    assert status == 200
    pool.refresh_from_db()
    assert (pool.name, pool.alias_attributes, pool.case_sensitive) == ("x", ["email"], False)
