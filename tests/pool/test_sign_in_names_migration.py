"""Migration 0004: keys stored before NFKC are recomputed, the register of sign-in names is
filled, and names that now collide keep one holder."""

from __future__ import annotations

import importlib
import unicodedata

import pytest
from django.apps import apps

from pool.models import SignInName, User, UserStatus
from pool.selectors.users import find_for_sign_in
from tests import factories

pytestmark = pytest.mark.django_db
migration = importlib.import_module("pool.migrations.0004_sign_in_names")
NFC = unicodedata.normalize("NFC", "alicé")
NFD = unicodedata.normalize("NFD", "alicé")


def old_row(pool, username, **fields):
    """A user as the code before 0004 stored it: keys only lower-cased, no register rows."""
    return User(pool=pool, username=username, username_key=username.lower(), **fields)


@pytest.fixture
def migrated():
    pool = factories.make_pool(alias_attributes=["email", "preferred_username"])
    User.objects.bulk_create(
        [
            old_row(pool, NFD),  # older, but its key was not normal
            old_row(pool, NFC),
            old_row(pool, "ＢＯＢ"),
            old_row(
                pool,
                "carol",
                status=UserStatus.UNCONFIRMED,
                preferred_username="caz",
                preferred_username_key="caz",
            ),
            old_row(
                pool,
                "dave",
                email="Dave@Example.com",
                email_verified=True,
                email_key="dave@example.com",
            ),
            old_row(
                pool,
                "eve",
                preferred_username="DAVE@example.com",
                preferred_username_key="dave@example.com",
            ),
        ]
    )
    migration.forwards(apps, None)
    return pool


def test_decomposed_and_precomposed_names_keep_one_holder(migrated):
    winner = User.objects.get(pool=migrated, username=NFC)
    assert find_for_sign_in(migrated, NFD) == winner
    assert User.objects.get(pool=migrated, username=NFD).username_key == NFD  # kept, distinct


def test_fullwidth_names_are_recomputed(migrated):
    assert find_for_sign_in(migrated, "bob").username == "ＢＯＢ"


def test_unconfirmed_preferred_username_stops_being_a_name(migrated):
    assert find_for_sign_in(migrated, "caz") is None
    assert User.objects.get(pool=migrated, username="carol").preferred_username_key is None


def test_a_preferred_username_equal_to_a_verified_email_loses(migrated):
    assert find_for_sign_in(migrated, "dave@example.com").username == "dave"
    assert User.objects.get(pool=migrated, username="eve").preferred_username_key is None


def test_every_key_has_its_row_in_the_register(migrated):
    for user in User.objects.filter(pool=migrated):
        rows = dict(SignInName.objects.filter(user=user).values_list("key", "kind"))
        assert rows == user.sign_in_keys()
