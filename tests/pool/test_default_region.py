"""COGNATE_DEFAULT_REGION: the region of pools created by the services and commands (the
console's and the API's are in tests/console/test_pools.py and tests/api/test_pool_settings.py);
a value no pool id can carry stops the server at start (cognate.E003)."""

from __future__ import annotations

import json

import pytest
from django.core.checks import run_checks
from django.core.management import call_command

from config.checks import TAG
from pool.models.pool import new_pool_id
from pool.services import pools

pytestmark = pytest.mark.django_db


@pytest.fixture
def frankfurt(settings):
    settings.DEFAULT_REGION = "eu-central-1"


def test_the_default_is_local():
    assert new_pool_id().startswith("local_")


def test_the_service_uses_the_default_region(frankfurt):
    pool = pools.create_pool(name="Shop")
    assert pool.region == "eu-central-1" and pool.id.startswith("eu-central-1_")
    assert pools.create_pool(name="Other", region="us-east-1").id.startswith("us-east-1_")


def test_the_createpool_command_uses_the_default_region(frankfurt, capsys):
    call_command("createpool", "Shop", "--json")
    assert json.loads(capsys.readouterr().out)["pool_id"].startswith("eu-central-1_")
    call_command("createpool", "Other", "--region", "ap-south-1", "--json")
    assert json.loads(capsys.readouterr().out)["pool_id"].startswith("ap-south-1_")


@pytest.mark.parametrize("region", ["EU-WEST-1", "eu_west_1", "", "x" * 33])
def test_a_default_region_no_pool_id_can_carry_stops_the_start(settings, region):
    settings.DEFAULT_REGION = region
    assert [p.id for p in run_checks(tags=[TAG]) if p.id == "cognate.E003"] == ["cognate.E003"]


def test_a_good_default_region_passes_the_check(frankfurt):
    assert not [p for p in run_checks(tags=[TAG]) if p.id == "cognate.E003"]
