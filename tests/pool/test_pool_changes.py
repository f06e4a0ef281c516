"""Changing a pool after creation (pool/services/pool_changes.py): each change on a pool with
users in every status — the dry run's exact report, the migration, who signs in by what
afterwards — and a migration that fails half-way changing nothing."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from pool.errors import (
    AliasExistsException,
    InternalErrorException,
    InvalidParameterException,
    NotAuthorizedException,
    UsernameExistsException,
)
from pool.models import (
    CustomAttribute,
    RetiredAttributeValue,
    SignInName,
    User,
    UserAttributeIndex,
    UserPool,
    UserStatus,
)
from pool.selectors.users import find_for_sign_in
from pool.services import authenticate, pools, users
from pool.services.pool_changes import (
    DROP,
    KEEP,
    MISSING_REQUIRED,
    NAME_COLLISION,
    SIGN_IN_NAME_REMOVED,
    VALUE_DROPPED,
    VALUE_HIDDEN,
    VALUE_MOVED,
    PoolChange,
    Problem,
    apply,
    missing_required,
    plan,
)
from pool.services.results import Authenticated, Challenge
from tests import factories, parallel
from tests.factories import PASSWORD


def retired(user):
    """The values of removed attributes kept hidden for `user`."""
    return dict(user.retired_values.values_list("name", "value"))


pytestmark = pytest.mark.django_db


def snapshot(pool):
    """Everything a pool change may touch, to compare before and after a refusal."""
    pool.refresh_from_db()
    return {
        "pool": {
            f: getattr(pool, f)
            for f in (
                "name",
                "username_attributes",
                "alias_attributes",
                "case_sensitive",
                "required_attributes",
            )
        },
        "custom": sorted(pool.custom_attributes.values_list("name", flat=True)),
        "users": list(
            User.objects.filter(pool=pool)
            .order_by("pk")
            .values(
                "username_key",
                "email_key",
                "phone_number_key",
                "preferred_username_key",
                "attributes",
            )
        ),
        "retired": sorted(
            RetiredAttributeValue.objects.filter(user__pool=pool).values_list("user", "name")
        ),
        "names": sorted(SignInName.objects.filter(pool=pool).values_list("key", "kind", "user")),
        "index": sorted(
            UserAttributeIndex.objects.filter(pool=pool).values_list("name", "value_key", "user")
        ),
        "clients": list(pool.clients.order_by("pk").values("read_attributes", "write_attributes")),
    }


def signer(pool, name):
    """Who `name` signs in as now (the pool's register), or None."""
    user = find_for_sign_in(pool, name)
    return user.username if user else None


def sign_in(pool, name, client):
    return authenticate.password(pool=pool, username=name, password=PASSWORD, client=client)


@pytest.fixture
def everyone(pool):
    return factories.make_users_in_every_status(pool)


# --------------------------------------------------------------------------------- aliases


def test_adding_an_alias_reports_collisions_exactly(pool, everyone):
    factories.make_user(pool, "zed", email="ALICE@example.com", email_verified=True)
    factories.make_user(pool, "dave@example.com", email="", email_verified=False)

    report = plan(pool=pool, change=PoolChange(alias_attributes=("email",)))

    assert report.changes == (("alias_attributes", [], ["email"]),)
    assert report.users == 8
    assert report.problems == (
        Problem(
            NAME_COLLISION, "dave@example.com", "username", other="dave", value="dave@example.com"
        ),
        Problem(NAME_COLLISION, "zed", "email", other="alice", value="alice@example.com"),
    )
    assert not report.applied


def test_a_blocked_change_is_refused_with_its_report_and_changes_nothing(pool, everyone):
    factories.make_user(pool, "zed", email="ALICE@example.com", email_verified=True)
    before = snapshot(pool)

    with pytest.raises(AliasExistsException) as refused:
        apply(pool=pool, change=PoolChange(alias_attributes=("email",)))

    assert [p.username for p in refused.value.report.blocking] == ["zed"]
    assert snapshot(pool) == before
    assert signer(pool, "alice@example.com") is None


def test_adding_an_alias_lets_verified_addresses_sign_in(pool, everyone, app_client):
    report = apply(pool=pool, change=PoolChange(alias_attributes=("email", "phone_number")))

    assert report.applied and report.problems == ()
    assert isinstance(sign_in(pool, "Alice@Example.com", app_client), Authenticated)
    assert signer(pool, "+15550000001") == "alice"
    assert signer(pool, "carol@example.com") == "carol"
    assert signer(pool, "dave@example.com") == "dave"
    assert signer(pool, "google_erin@example.com") is None  # federated: its provider only
    assert signer(pool, "frank@example.com") == "frank"
    assert signer(pool, "bob@example.com") is None  # not verified: no alias
    challenge = sign_in(pool, "carol@example.com", app_client)
    assert isinstance(challenge, Challenge) and challenge.name == "NEW_PASSWORD_REQUIRED"
    with pytest.raises(NotAuthorizedException, match="disabled"):
        sign_in(pool, "frank@example.com", app_client)


def test_preferred_username_alias_counts_only_confirmed_users(pool, everyone):
    User.objects.filter(pk=everyone["bob"].pk).update(preferred_username="bobby")

    apply(pool=pool, change=PoolChange(alias_attributes=("preferred_username",)))

    assert signer(pool, "ALLY") == "alice"
    assert signer(pool, "bobby") is None


def test_removing_an_alias_reports_who_loses_it_and_refuses_it_afterwards(app_client):
    pool = factories.make_pool(alias_attributes=["email", "phone_number"])
    app_client = factories.make_client(pool)
    factories.make_users_in_every_status(pool)

    report = plan(pool=pool, change=PoolChange(alias_attributes=("phone_number",)))

    assert report.problems == tuple(
        Problem(SIGN_IN_NAME_REMOVED, name, "email", value=f"{name}@example.com")
        for name in ("alice", "carol", "dave", "frank")
    )
    assert not report.blocking
    apply(pool=pool, change=PoolChange(alias_attributes=("phone_number",)))
    with pytest.raises(NotAuthorizedException):
        sign_in(pool, "alice@example.com", app_client)
    assert isinstance(sign_in(pool, "alice", app_client), Authenticated)
    assert isinstance(sign_in(pool, "+15550000001", app_client), Authenticated)


def test_switching_to_email_as_username_signs_in_by_any_email(pool, everyone):
    report = apply(pool=pool, change=PoolChange(username_attributes=("email",)))

    assert report.changes == (("username_attributes", [], ["email"]),)
    pool.refresh_from_db()
    assert pool.username_attributes == ["email"] and pool.alias_attributes == []
    # A username attribute signs in whether or not it is verified; usernames still do.
    assert signer(pool, "bob@example.com") == "bob"
    assert signer(pool, "BOB") == "bob"


def test_username_and_alias_attributes_stay_exclusive(pool, everyone):
    with pytest.raises(InvalidParameterException, match="exclusive"):
        plan(
            pool=pool,
            change=PoolChange(username_attributes=("email",), alias_attributes=("phone_number",)),
        )


# --------------------------------------------------------------------------- case rule


def test_turning_case_sensitivity_off_reports_usernames_that_collide():
    pool = factories.make_pool(case_sensitive=True)
    factories.make_users_in_every_status(pool)
    factories.make_user(pool, "Alice", email="other@example.com")

    report = plan(pool=pool, change=PoolChange(case_sensitive=False))

    assert report.changes == (("case_sensitive", True, False),)
    assert report.blocking == (
        Problem(NAME_COLLISION, "Alice", "username", other="alice", value="alice"),
    )
    with pytest.raises(UsernameExistsException):
        apply(pool=pool, change=PoolChange(case_sensitive=False))


def test_turning_case_sensitivity_off_signs_in_whatever_the_case(app_client):
    pool = factories.make_pool(case_sensitive=True, alias_attributes=["email"])
    client = factories.make_client(pool)
    factories.make_users_in_every_status(pool)
    factories.make_user(pool, "Zoe", email="Zoe@Example.com")
    assert signer(pool, "zoe") is None

    apply(pool=pool, change=PoolChange(case_sensitive=False))

    assert isinstance(sign_in(pool, "ZOE", client), Authenticated)
    assert signer(pool, "zoe@example.com") == "Zoe"
    assert signer(pool, "GOOGLE_ERIN") == "Google_erin"


def test_turning_case_sensitivity_on_keeps_each_name_and_rebuilds_the_index(pool, everyone):
    pools.add_custom_attribute(pool=pool, name="tier")
    alice = everyone["alice"]
    alice.attributes = {**alice.attributes, "custom:tier": "Gold"}
    alice.save()
    assert UserAttributeIndex.objects.get(user=alice).value_key == "gold"

    apply(pool=pool, change=PoolChange(case_sensitive=True))

    assert UserAttributeIndex.objects.get(user=alice).value_key == "Gold"
    assert signer(pool, "Google_erin") == "Google_erin"
    assert signer(pool, "google_erin") is None


# ------------------------------------------------------------------- required attributes


def test_a_newly_required_attribute_flags_users_without_it(pool, everyone, app_client):
    User.objects.filter(pk=everyone["alice"].pk).update(given_name="Alice")

    report = plan(pool=pool, change=PoolChange(required_attributes=("email", "given_name")))

    assert report.changes == (("required_attributes", ["email"], ["email", "given_name"]),)
    assert report.problems == tuple(
        Problem(MISSING_REQUIRED, name, "given_name")
        for name in ("Google_erin", "bob", "carol", "dave", "frank")
    )
    assert not report.blocking
    apply(pool=pool, change=PoolChange(required_attributes=("email", "given_name")))
    carol = User.objects.get(pk=everyone["carol"].pk)
    assert missing_required(carol) == ["given_name"]
    assert missing_required(User.objects.get(pk=everyone["alice"].pk)) == []


def test_a_required_attribute_cannot_also_be_the_preferred_username_alias(pool, everyone):
    with pytest.raises(InvalidParameterException, match="preferred_username"):
        plan(
            pool=pool,
            change=PoolChange(
                alias_attributes=("preferred_username",),
                required_attributes=("preferred_username",),
            ),
        )


# ---------------------------------------------------------------------- custom attributes


@pytest.fixture
def tiered(pool, everyone):
    pools.add_custom_attribute(pool=pool, name="tier")
    pools.add_custom_attribute(pool=pool, name="team")
    for name, tier in (("alice", "gold"), ("carol", "silver")):
        user = everyone[name]
        user.attributes = {**user.attributes, "custom:tier": tier, "custom:team": "red"}
        user.save()
    client = factories.make_client(
        pool,
        read_attributes=["email", "custom:tier", "custom:team"],
        write_attributes=["custom:tier"],
    )
    return client


def test_removing_a_custom_attribute_and_keeping_its_values_hides_them(pool, everyone, tiered):
    change = PoolChange(remove_attributes=(("custom:tier", KEEP),))

    report = plan(pool=pool, change=change)
    assert report.problems == (
        Problem(VALUE_HIDDEN, "alice", "custom:tier"),
        Problem(VALUE_HIDDEN, "carol", "custom:tier"),
    )
    apply(pool=pool, change=change)

    alice = User.objects.get(pk=everyone["alice"].pk)
    assert "custom:tier" not in alice.attribute_map()
    assert retired(alice) == {"custom:tier": "gold"}
    assert not UserAttributeIndex.objects.filter(pool=pool, name="custom:tier").exists()
    assert list(pool.custom_attributes.values_list("name", flat=True)) == ["team"]
    tiered.refresh_from_db()
    assert tiered.read_attributes == ["email", "custom:team"]
    assert tiered.write_attributes == []


def test_removing_a_custom_attribute_and_dropping_its_values(pool, everyone, tiered):
    change = PoolChange(remove_attributes=(("custom:tier", DROP),))
    assert plan(pool=pool, change=change).count(VALUE_DROPPED) == 2

    apply(pool=pool, change=change)

    alice = User.objects.get(pk=everyone["alice"].pk)
    assert "custom:tier" not in alice.attributes and retired(alice) == {}
    assert alice.attributes["custom:team"] == "red"


def test_removing_needs_to_know_whether_values_are_kept(pool, everyone, tiered):
    with pytest.raises(InvalidParameterException, match="kept or dropped"):
        plan(pool=pool, change=PoolChange(remove_attributes=(("custom:tier", "maybe"),)))
    with pytest.raises(InvalidParameterException, match="not a custom attribute"):
        plan(pool=pool, change=PoolChange(remove_attributes=(("custom:nope", KEEP),)))


def test_renaming_a_custom_attribute_moves_its_values(pool, everyone, tiered):
    change = PoolChange(rename_attributes=(("custom:tier", "custom:level"),))

    report = plan(pool=pool, change=change)
    assert report.problems == (
        Problem(VALUE_MOVED, "alice", "custom:tier", value="custom:level"),
        Problem(VALUE_MOVED, "carol", "custom:tier", value="custom:level"),
    )
    apply(pool=pool, change=change)

    alice = User.objects.get(pk=everyone["alice"].pk)
    assert alice.attribute_map()["custom:level"] == "gold"
    assert "custom:tier" not in alice.attributes
    assert sorted(
        UserAttributeIndex.objects.filter(pool=pool, name="custom:level").values_list(
            "value_key", flat=True
        )
    ) == ["gold", "silver"]
    assert CustomAttribute.objects.filter(pool=pool, name="level").exists()
    tiered.refresh_from_db()
    assert tiered.read_attributes == ["email", "custom:level", "custom:team"]
    assert tiered.write_attributes == ["custom:level"]


def test_renaming_onto_an_existing_attribute_is_refused(pool, everyone, tiered):
    with pytest.raises(InvalidParameterException, match="already exists"):
        plan(pool=pool, change=PoolChange(rename_attributes=(("custom:tier", "custom:team"),)))


# ------------------------------------------------------------------------------- the name


def test_renaming_the_pool(pool, everyone):
    old_name = pool.name
    report = apply(pool=pool, change=PoolChange(name="Renamed pool"))

    assert report.changes == (("name", old_name, "Renamed pool"),)
    pool.refresh_from_db()
    assert pool.name == "Renamed pool"
    with pytest.raises(InvalidParameterException):
        plan(pool=pool, change=PoolChange(name="bad/name"))


# ------------------------------------------------------------------------------- rollback


def test_a_migration_failing_half_way_changes_nothing(pool, everyone, tiered):
    """A register row the plan cannot see (it names a user of another pool) takes the name
    carol's email would get: the migration has by then saved the pool, the schema and every
    user, and fails on the register. All of it is rolled back."""
    other = factories.make_user(factories.make_pool(), "stray")
    SignInName.objects.create(pool=pool, key="carol@example.com", user=other, kind="email")
    before = snapshot(pool)
    change = PoolChange(
        name="Half way",
        alias_attributes=("email",),
        case_sensitive=True,
        required_attributes=("email", "given_name"),
        remove_attributes=(("custom:team", KEEP),),
        rename_attributes=(("custom:tier", "custom:level"),),
    )
    assert not plan(pool=pool, change=change).blocking

    with pytest.raises(InternalErrorException, match="nothing was changed"):
        apply(pool=pool, change=change)

    assert snapshot(pool) == before
    assert signer(pool, "alice") == "alice"
    assert User.objects.get(pk=everyone["alice"].pk).attributes["custom:tier"] == "gold"


def test_status_and_enabled_flags_survive_a_change(pool, everyone):
    apply(pool=pool, change=PoolChange(alias_attributes=("email",), case_sensitive=True))

    rows = dict(User.objects.filter(pool=pool).values_list("username", "status"))
    assert rows["bob"] == UserStatus.UNCONFIRMED
    assert rows["dave"] == UserStatus.RESET_REQUIRED
    assert rows["Google_erin"] == UserStatus.EXTERNAL_PROVIDER
    assert not User.objects.get(pk=everyone["frank"].pk).enabled


# -------------------------------------------------------------------- changepool command


def changepool(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("changepool", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_changepool_dry_run_reports_as_json_and_changes_nothing(pool, everyone):
    factories.make_user(pool, "zed", email="ALICE@example.com", email_verified=True)
    before = snapshot(pool)

    out, _ = changepool(
        pool.id, "--add-alias", "email", "--require", "given_name", "--dry-run", "--json"
    )

    report = json.loads(out)
    assert report["applied"] is False and report["blocking"] == 1
    assert report["changes"] == [
        {"setting": "alias_attributes", "before": [], "after": ["email"]},
        {"setting": "required_attributes", "before": ["email"], "after": ["email", "given_name"]},
    ]
    assert report["problems"][0] == {
        "kind": NAME_COLLISION,
        "username": "zed",
        "attribute": "email",
        "other": "alice",
        "value": "alice@example.com",
        "blocking": True,
    }
    assert sum(p["kind"] == MISSING_REQUIRED for p in report["problems"]) == 7
    assert snapshot(pool) == before


def test_changepool_refuses_a_blocked_change_with_the_report(pool, everyone):
    factories.make_user(pool, "zed", email="ALICE@example.com", email_verified=True)
    before = snapshot(pool)

    with pytest.raises(CommandError, match="AliasExistsException"):
        changepool(pool.id, "--add-alias", "email")

    assert snapshot(pool) == before


def test_changepool_applies_every_kind_of_change(pool, everyone, tiered):
    out, _ = changepool(
        pool.id,
        "--add-alias",
        "email",
        "--case-sensitive",
        "--remove-attribute",
        "custom:team",
        "--keep-values",
        "--rename-attribute",
        "custom:tier=custom:level",
        "--name",
        "Changed",
    )

    assert out.startswith(f"Applied pool {pool.id} (6 users):")
    pool.refresh_from_db()
    assert (pool.name, pool.alias_attributes, pool.case_sensitive) == ("Changed", ["email"], True)
    alice = User.objects.get(pk=everyone["alice"].pk)
    assert retired(alice) == {"custom:team": "red"}
    assert alice.attributes["custom:level"] == "gold"
    assert signer(pool, "alice@example.com") == "alice"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--remove-attribute", "custom:tier"], "--keep-values or --drop-values"),
        (["--rename-attribute", "custom:tier"], "OLD=NEW"),
        (["--add-alias", "nickname"], "InvalidParameterException"),
        (["--require", "custom:tier"], "InvalidParameterException"),
    ],
)
def test_changepool_bad_input_is_a_clear_error(pool, everyone, tiered, args, message):
    before = snapshot(pool)
    with pytest.raises(CommandError, match=message):
        changepool(pool.id, *args)
    assert snapshot(pool) == before


def test_changepool_unknown_pool():
    with pytest.raises(CommandError, match="No user pool"):
        changepool("local_nope", "--name", "x")


# ---------------------------------------------------------------------------------- races


@pytest.mark.django_db(transaction=True)
def test_two_changes_that_collide_only_together_one_wins_and_one_is_refused():
    """Each change is fine alone; together, `Zed@example.com` (a username) and zz's verified
    `zed@example.com` would be one name. Applied at once, the second plans again under the
    pool's lock, sees the first, and is refused with its report."""
    pool = factories.make_pool(case_sensitive=True)
    factories.make_users_in_every_status(pool)
    factories.make_user(pool, "Zed@example.com", email="")
    factories.make_user(pool, "zz", email="zed@example.com", email_verified=True)
    alias = PoolChange(alias_attributes=("email",))
    insensitive = PoolChange(case_sensitive=False)
    assert not plan(pool=pool, change=alias).blocking
    assert not plan(pool=pool, change=insensitive).blocking

    results = parallel.run_together(
        [lambda: apply(pool=pool, change=alias), lambda: apply(pool=pool, change=insensitive)]
    )

    applied = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(applied) == 1 and len(refused) == 1, results
    assert isinstance(refused[0], AliasExistsException | UsernameExistsException), refused
    assert refused[0].report.blocking
    pool.refresh_from_db()
    assert (pool.alias_attributes == ["email"]) != (pool.case_sensitive is False)


def test_a_change_to_the_current_values_changes_nothing(pool, everyone):
    before = snapshot(pool)
    report = apply(
        pool=pool,
        change=PoolChange(name=pool.name, alias_attributes=(), case_sensitive=False),
    )
    assert report.applied and report.changes == () and report.problems == ()
    assert snapshot(pool) == before


def test_a_user_created_from_a_pool_read_before_a_change_follows_the_change():
    """A sign-up that read the pool before a change committed (the race: it was waiting while
    the change ran) claims its names under the pool's new rules, not the ones it read."""
    pool = factories.make_pool(case_sensitive=True)
    factories.make_user(pool, "alice")
    read_before = UserPool.objects.get(pk=pool.pk)
    apply(pool=pool, change=PoolChange(case_sensitive=False, alias_attributes=("email",)))

    with pytest.raises(UsernameExistsException):
        users.create(
            pool=read_before,
            username="ALICE",
            attributes={"email": "other@example.com"},
            status=UserStatus.CONFIRMED,
            password=PASSWORD,
        )
    zed = users.create(
        pool=UserPool.objects.get(pk=pool.pk),
        username="zed",
        attributes={"email": "Zed@Example.com", "email_verified": "true"},
        status=UserStatus.CONFIRMED,
        password=PASSWORD,
        admin=True,
    )
    assert signer(pool, "ZED@example.com") == zed.username
