"""Changing a pool's sign-in names and schema in the console: Preview shows the dry run's
report and changes nothing; Apply migrates, or is refused with the report."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pool.models import User
from pool.selectors.users import find_for_sign_in
from pool.services import pools
from tests import factories
from tests.console.helpers import last_audit


def retired(user):
    """The values of removed attributes kept hidden for `user`."""
    return dict(user.retired_values.values_list("name", "value"))


pytestmark = pytest.mark.django_db


@pytest.fixture
def pool():
    pool = factories.make_pool(name="Shop")
    factories.make_users_in_every_status(pool)
    return pool


def form_data(pool, **changes):
    data = {
        "name": pool.name,
        "username_attributes": pool.username_attributes,
        "alias_attributes": pool.alias_attributes,
        "required_attributes": pool.required_attributes,
        "removed_values": "keep",
        "rename_attributes": "",
    }
    if pool.case_sensitive:
        data["case_sensitive"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def post(console, pool, action, **changes):
    return console.post(
        reverse("console:pool_change", args=[pool.id]),
        {**form_data(pool, **changes), "action": action},
    )


def test_the_pool_page_links_to_the_change_page(console, pool):
    page = console.get(reverse("console:pool", args=[pool.id])).content.decode()
    assert reverse("console:pool_change", args=[pool.id]) in page


def test_preview_shows_the_report_and_changes_nothing(console, pool):
    factories.make_user(pool, "zed", email="ALICE@example.com", email_verified=True)

    response = post(console, pool, "preview", alias_attributes=["email"])

    assert response.status_code == 200
    report = response.context["report"]
    assert [(p.kind, p.username, p.other) for p in report.blocking] == [
        ("name_collision", "zed", "alice")
    ]
    page = response.content.decode()
    assert "Preview: 7 users" in page and "blocking" in page
    pool.refresh_from_db()
    assert pool.alias_attributes == []


def test_apply_is_refused_with_the_report_while_names_collide(console, pool):
    factories.make_user(pool, "zed", email="ALICE@example.com", email_verified=True)

    response = post(console, pool, "apply", alias_attributes=["email"])

    assert response.status_code == 400
    assert "zed and alice" in response.content.decode()
    assert response.context["report"].blocking
    pool.refresh_from_db()
    assert pool.alias_attributes == []


def test_apply_migrates_and_is_audited(console, pool):
    pools.add_custom_attribute(pool=pool, name="tier")
    alice = User.objects.get(pool=pool, username="alice")
    alice.attributes = {**alice.attributes, "custom:tier": "gold"}
    alice.save()

    response = post(
        console,
        pool,
        "apply",
        name="Shop 2",
        alias_attributes=["email"],
        required_attributes=["email", "name"],
        rename_attributes="custom:tier=custom:level",
    )

    assert response.status_code == 302
    pool.refresh_from_db()
    assert (pool.name, pool.alias_attributes) == ("Shop 2", ["email"])
    assert pool.required_attributes == ["email", "name"]
    assert find_for_sign_in(pool, "alice@example.com").username == "alice"
    alice.refresh_from_db()
    assert alice.attributes["custom:level"] == "gold"
    assert last_audit("pool.change").detail["changes"] == [
        "name",
        "alias_attributes",
        "required_attributes",
        "rename custom:tier",
    ]


def test_removing_an_attribute_with_its_values_dropped(console, pool):
    pools.add_custom_attribute(pool=pool, name="tier")
    alice = User.objects.get(pool=pool, username="alice")
    alice.attributes = {**alice.attributes, "custom:tier": "gold"}
    alice.save()

    response = post(
        console, pool, "apply", remove_attributes=["custom:tier"], removed_values="drop"
    )

    assert response.status_code == 302
    alice.refresh_from_db()
    assert "custom:tier" not in alice.attributes and retired(alice) == {}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"rename_attributes": "custom:tier"}, "rename_attributes", "custom:old=custom:new"),
        ({"rename_attributes": "custom:nope=custom:x"}, None, "not a custom attribute"),
        ({"alias_attributes": ["email"], "username_attributes": ["email"]}, None, "exclusive"),
        ({"name": "bad/name"}, "name", "name must be"),
    ],
)
def test_bad_changes_are_shown_on_the_form(console, pool, changes, field, message):
    response = post(console, pool, "apply", **changes)

    assert response.status_code == 400
    form = response.context["form"]
    shown = (
        form.errors.get(field) if field else form.non_field_errors() + sum(form.errors.values(), [])
    )
    assert any(message in error for error in shown), form.errors
    pool.refresh_from_db()
    assert (pool.name, pool.alias_attributes) == ("Shop", [])


def test_read_only_operators_cannot_apply(readonly_console, pool):
    response = post(readonly_console, pool, "apply", alias_attributes=["email"])
    assert response.status_code == 403
    pool.refresh_from_db()
    assert pool.alias_attributes == []
