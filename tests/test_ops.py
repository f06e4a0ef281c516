"""Operating Cognate: /healthz, /readyz, /metrics, the request id and request log line, the
domain's metrics counted where their events happen, and the gunicorn settings' refusal to run
several workers on a per-process cache. (tests/test_scale.py runs real servers.)"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from prometheus_client import REGISTRY

from config import metrics
from config.observability import JsonFormatter, RequestIdFilter, new_request_id
from pool.errors import NotAuthorizedException, UserLambdaValidationException
from pool.models import TriggerKind
from pool.services import authenticate, lockout
from pool.services import triggers as trigger_config
from tests import factories
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# ------------------------------------------------------------------------------ probes


def test_healthz_answers_without_touching_the_database(client):
    # No django_db mark: any query would fail the test.
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}
    assert "no-store" in answer["Cache-Control"]


@pytest.mark.django_db
def test_readyz_reads_the_database_and_cache_and_writes_nothing(client, settings):
    settings.CACHES = {
        "default": {"BACKEND": "config.cache.SharedDatabaseCache", "LOCATION": "cognate_cache"}
    }
    with CaptureQueriesContext(connection) as queries:
        answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    statements = [query["sql"].lstrip().split()[0].upper() for query in queries]
    assert statements and set(statements) == {"SELECT"}


@pytest.mark.django_db
def test_readyz_is_503_when_the_cache_does_not_answer(client, settings):
    # A real Redis client pointed at a port where nothing listens.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "unavailable", "database": "ok", "cache": "unavailable"}


def test_probes_answer_get_and_head_only(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200


def test_probes_keep_the_host_check(client):
    assert client.get("/healthz", HTTP_HOST="evil.example").status_code == 400


# ------------------------------------------------------------------------------ /metrics


def test_metrics_from_loopback_without_a_token(client):
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain")
    assert b"cognate_http_requests_total" in answer.content


def test_metrics_refused_from_elsewhere_or_through_a_proxy(client):
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403


def test_metrics_with_a_token_need_it_from_everywhere(client, settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    assert client.get("/metrics").status_code == 403
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 403
    right = client.get(
        "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token"
    )
    assert right.status_code == 200


def test_static_files_are_counted_as_one_route(client):
    before = sample("cognate_http_requests_total", route="/static/", method="GET", status="404")
    client.get("/static/no-such-file.css")
    after = sample("cognate_http_requests_total", route="/static/", method="GET", status="404")
    assert after == before + 1


def test_requests_are_counted_by_route_and_status(client):
    before = sample("cognate_http_requests_total", route="/healthz", method="GET", status="200")
    client.get("/healthz")
    assert (
        sample("cognate_http_requests_total", route="/healthz", method="GET", status="200")
        == before + 1
    )
    unmatched = sample(
        "cognate_http_requests_total", route="unmatched", method="OTHER", status="404"
    )
    client.generic("BREW", "/no/such/page")
    assert (
        sample("cognate_http_requests_total", route="unmatched", method="OTHER", status="404")
        == unmatched + 1
    )


def test_a_clients_odd_methods_are_one_metrics_series_not_one_each():
    before = sample("cognate_http_requests_total", route="/odd", method="OTHER", status="405")
    for odd in ("BREW", "PROPFIND", "X" * 40):
        metrics.observe("/odd", odd, 405, 0.001)
    after = sample("cognate_http_requests_total", route="/odd", method="OTHER", status="405")
    assert after == before + 3
    assert [key for key in metrics._children if key[0] == "/odd"] == [("/odd", "OTHER", 405)]


@pytest.mark.django_db
def test_sign_ins_failures_and_lockouts_are_counted_in_the_services(pool, app_client, user):
    ok = sample("cognate_sign_ins_total", method="pwd")
    wrong = sample("cognate_sign_in_failures_total", reason="wrong password")
    locks = sample("cognate_lockouts_total", kind="password")
    authenticate.password(pool=pool, username="alice", password=factories.PASSWORD)
    assert sample("cognate_sign_ins_total", method="pwd") == ok + 1
    for _ in range(lockout.FREE_FAILURES):
        with pytest.raises(NotAuthorizedException):
            authenticate.password(pool=pool, username="alice", password="Wrong-pass-1")
    assert sample("cognate_sign_in_failures_total", reason="wrong password") == wrong + 5
    assert sample("cognate_lockouts_total", kind="password") == locks + 1
    assert sample("cognate_sign_ins_total", method="pwd") == ok + 1


@pytest.mark.django_db
def test_trigger_calls_are_counted_by_kind_and_outcome(pool, app_client, user):
    kind = TriggerKind.PRE_AUTHENTICATION.value
    denied = sample("cognate_trigger_calls_total", kind=kind, outcome="denied")
    trigger_config.set_trigger(
        pool=pool, kind=kind, python="tests.triggers_support.deny_maintenance"
    )
    with pytest.raises(UserLambdaValidationException):
        authenticate.password(pool=pool, username="alice", password=factories.PASSWORD)
    assert sample("cognate_trigger_calls_total", kind=kind, outcome="denied") == denied + 1


# ------------------------------------------------------------------------------ request id, logs


def test_a_request_id_is_echoed_or_made(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-1234.abc")["X-Request-Id"] == (
        "lb-1234.abc"
    )
    for odd in ("has space", "x" * 129, "new\nline", ""):
        made = client.get("/healthz", HTTP_X_REQUEST_ID=odd)["X-Request-Id"]
        assert made != odd and len(made) == 32 and int(made, 16) >= 0


def test_a_forked_worker_makes_other_request_ids_than_its_parent():
    """Ids come from a generator per process: a worker forked from the server's master draws
    its own, not the ones its parent (or a sibling) draws next."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        os.write(write, new_request_id("").encode())
        os._exit(0)
    os.close(write)
    made_by_child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(child, 0)
    assert len(made_by_child) == 32 and made_by_child != new_request_id("")


@pytest.mark.django_db
def test_one_request_line_without_the_query_string(client, pool, caplog):
    caplog.set_level(logging.INFO, logger="cognate.request")
    answer = client.get(
        f"/{pool.id}/oauth2/authorize?code=SECRET-CODE&state=SECRET-STATE",
        HTTP_X_REQUEST_ID="req-77",
    )
    lines = [record for record in caplog.records if record.name == "cognate.request"]
    assert len(lines) == 1
    line = lines[0]
    assert line.path == f"/{pool.id}/oauth2/authorize"
    assert line.route == "/<str:pool_id>/oauth2/authorize"
    assert line.request_id == "req-77"
    formatted = JsonFormatter().format(line)
    assert "SECRET" not in formatted and "SECRET" not in line.getMessage()
    entry = json.loads(formatted)
    assert entry["request_id"] == "req-77"
    assert entry["method"] == "GET" and entry["status"] == answer.status_code
    assert entry["logger"] == "cognate.request" and isinstance(entry["duration_ms"], float)


def test_the_request_line_names_the_function_that_writes_it(client, caplog):
    caplog.set_level(logging.INFO, logger="cognate.request")
    client.get("/no/such/page")
    [line] = [record for record in caplog.records if record.name == "cognate.request"]
    assert (line.funcName, Path(line.pathname).name) == ("finish", "observability.py")
    assert line.getMessage().startswith("GET /no/such/page 404 ")


def test_records_outside_a_request_get_a_dash():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    assert RequestIdFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["request_id"] == "-" and entry["message"] == "hello world"


# ------------------------------------------------------------------------------ gunicorn settings


def load_gunicorn_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "COGNATE_CACHE", "WORKERS", "PROMETHEUS_MULTIPROC_DIR"}
    }
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import runpy; s = runpy.run_path('config/gunicorn.py'); "
            "print(s['workers'], s['threads'], s['graceful_timeout'], s['bind'])",
        ],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
    )


def test_gunicorn_refuses_several_workers_on_a_per_process_cache():
    refused = load_gunicorn_settings(WORKERS="3", COGNATE_CACHE="memory")
    assert refused.returncode != 0
    assert "refuses to start 3 workers with COGNATE_CACHE=memory" in refused.stderr


def test_gunicorn_runs_several_workers_on_a_shared_cache():
    default = load_gunicorn_settings(WORKERS="3", GRACEFUL_TIMEOUT="20", BIND="0.0.0.0:9000")
    assert default.returncode == 0, default.stderr
    assert default.stdout.split() == ["3", "4", "20", "0.0.0.0:9000"]
    with_redis = load_gunicorn_settings(
        WORKERS="3", COGNATE_CACHE="memory", REDIS_URL="redis://127.0.0.1:6379/0"
    )
    assert with_redis.returncode == 0, with_redis.stderr
    single = load_gunicorn_settings(WORKERS="1", COGNATE_CACHE="memory")
    assert single.returncode == 0, single.stderr
