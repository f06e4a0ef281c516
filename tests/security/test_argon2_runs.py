"""A password sign-in costs exactly one argon2 run, whoever signs in.

An existing user's sign-in verifies their hash once (no rehash, no second check, no argon2 for
session or token secrets); an unknown name and a wrong password cost the same one verification
(enumeration resistance). Counted with a wrapper around argon2-cffi's two entry points, not
timed. And the runs happen on the process's argon2 threads (pool/hashers.py), at most
ARGON2_CONCURRENCY of them."""

from __future__ import annotations

import json
import threading
from collections import Counter

import argon2.low_level
import pytest
from argon2 import _password_hasher
from django.contrib.auth.hashers import check_password, identify_hasher

from pool import hashers
from pool.services import passwords
from tests import factories
from tests.api.conftest import Api
from tests.hostedui.conftest import authorize_url, redirect_params, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def argon2_runs(monkeypatch) -> Counter:
    """Every argon2 hash and verification from here on, by kind, and the threads they ran on
    (under "thread:<name>")."""
    runs: Counter = Counter()
    lock = threading.Lock()

    def counted(kind, real):
        def wrapper(*args, **kwargs):
            with lock:
                runs[kind] += 1
                runs[f"thread:{threading.current_thread().name}"] += 1
            return real(*args, **kwargs)

        return wrapper

    hash_secret = counted("hash", argon2.low_level.hash_secret)
    verify_secret = counted("verify", argon2.low_level.verify_secret)
    # Django calls argon2.low_level.hash_secret; argon2.PasswordHasher its own imported names.
    for module in (argon2.low_level, _password_hasher):
        monkeypatch.setattr(module, "hash_secret", hash_secret)
        monkeypatch.setattr(module, "verify_secret", verify_secret)
    return runs


def _kinds(runs: Counter) -> dict[str, int]:
    return {kind: runs[kind] for kind in ("hash", "verify")}


@pytest.fixture
def api_client(pool):
    return factories.make_client(
        pool, explicit_auth_flows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )


def _initiate(client, app, username: str, password: str):
    return Api(client).post(
        "InitiateAuth",
        {
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": app.client_id,
            "AuthParameters": {"USERNAME": username, "PASSWORD": password},
        },
        sign=False,
    )


def test_initiate_auth_of_an_existing_user_is_one_verification(
    client, pool, api_client, user, argon2_runs
):
    response = _initiate(client, api_client, "alice", factories.PASSWORD)
    assert response.status_code == 200, response.content
    assert "AccessToken" in json.loads(response.content)["AuthenticationResult"]
    assert _kinds(argon2_runs) == {"hash": 0, "verify": 1}


def test_hosted_sign_in_of_an_existing_user_is_one_verification(
    client, pool, app_client, user, argon2_runs
):
    response = sign_in(client, authorize_url(pool, app_client))
    assert "code" in redirect_params(response)
    assert _kinds(argon2_runs) == {"hash": 0, "verify": 1}


def test_a_wrong_password_and_an_unknown_name_cost_the_same_one_verification(
    client, pool, api_client, user, argon2_runs, monkeypatch
):
    # As in a process that never met an unknown name: its first one costs no extra hashing.
    monkeypatch.setattr(hashers, "_unmatchable", {})
    wrong = _initiate(client, api_client, "alice", "Not-the-password-1")
    assert wrong.status_code == 400
    assert _kinds(argon2_runs) == {"hash": 0, "verify": 1}
    argon2_runs.clear()
    unknown = _initiate(client, api_client, "nobody", factories.PASSWORD)
    assert unknown.status_code == 400
    assert _kinds(argon2_runs) == {"hash": 0, "verify": 1}


def test_argon2_runs_on_at_most_concurrency_threads(settings, monkeypatch, argon2_runs):
    settings.ARGON2_CONCURRENCY = 2
    monkeypatch.setattr(hashers, "_pool", None)  # a pool sized from the setting above
    hasher = hashers.CognateArgon2Hasher()
    encoded = hasher.encode("Correct-Horse-9", hasher.salt())
    start = threading.Barrier(8)
    results: list[bool] = []

    def sign_in_thread() -> None:
        start.wait()
        results.append(hasher.verify("Correct-Horse-9", encoded))

    threads = [threading.Thread(target=sign_in_thread) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 8
    ran_on = {kind for kind in argon2_runs if kind.startswith("thread:")}
    assert 1 <= len(ran_on) <= 2
    assert all(name.startswith("thread:argon2_") for name in ran_on)
    assert _kinds(argon2_runs) == {"hash": 1, "verify": 8}
    hashers._executor().shutdown()


def test_the_hash_unknown_names_are_checked_against_is_made_without_a_run_and_matches_nothing(
    settings, argon2_runs, monkeypatch
):
    monkeypatch.setattr(hashers, "_unmatchable", {})
    encoded = hashers.unmatchable_hash()
    assert _kinds(argon2_runs) == {"hash": 0, "verify": 0}
    hasher = identify_hasher(encoded)
    assert isinstance(hasher, hashers.CognateArgon2Hasher)
    assert not hasher.must_update(encoded)  # the configured parameters, salt and digest sizes
    assert not passwords.verify(None, "anything")
    assert not check_password("", encoded)
    assert _kinds(argon2_runs) == {"hash": 0, "verify": 2}
    assert hashers.unmatchable_hash() == encoded  # one per process and parameters
    settings.ARGON2_TIME_COST += 1
    stronger = hashers.unmatchable_hash()
    assert f"t={settings.ARGON2_TIME_COST}," in stronger and stronger != encoded
