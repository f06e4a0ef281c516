"""N servers that behave as one: two real gunicorn servers on two ports share one database and
one cache, and are driven over HTTP (the hosted pages, the OAuth endpoints, the JSON API).

Two set-ups, each a full pair of servers:
- "postgres+redis": the scale-out deployment. Runs when DATABASE_URL is PostgreSQL and
  REDIS_URL is set (CI's second run); skipped, saying so, otherwise. Its own database on that
  server and this test process's Redis database.
- "sqlite": the default without Redis, on one SQLite file; the cache is the database
  (config/cache.py), so two processes count the same wrong passwords.

Every check would fail if the state it checks lived in process memory: a lockout counted in
one server's memory lets the other accept the right password; a signing-key version held per
process lets the other keep signing with the retired key; a code or session held per process
is unknown to the other; a pool's trigger configuration cached per process keeps the old one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import jwt
import pytest
import requests

from scripts.wait_for_server import wait_for
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
TARGET = "AWSCognitoIdentityProviderService."

# One xdist worker runs them all (`make test` distributes with --dist loadgroup): each worker
# that ran some would start its own pair of servers.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("two-servers")]


@dataclass
class Cluster:
    name: str
    servers: list[str]  # base URLs of the two servers
    env: dict[str, str]
    pool_id: str
    client_id: str
    username: str
    password: str
    processes: list[subprocess.Popen]
    logs: list[Path]

    @property
    def callback(self) -> str:
        return f"{self.servers[0]}/demo/callback"

    def manage(self, *args: str) -> dict:
        done = subprocess.run(
            [sys.executable, "manage.py", *args, "--json"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(done.stdout)


def _postgres_and_redis() -> tuple[str, str] | None:
    database, redis = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if database.startswith(("postgres://", "postgresql://")) and redis:
        return database, redis
    return None


def _create_database(url: str) -> str:
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    name = f"{parsed.path.lstrip('/') or 'cognate'}_two_{os.getpid()}"
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return parsed._replace(path=f"/{name}").geturl()


def _drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(parsed.path.lstrip("/"))
            )
        )


@pytest.fixture(scope="module", params=["postgres+redis", "sqlite"])
def cluster(request, tmp_path_factory):
    from django.conf import settings

    var = tmp_path_factory.mktemp(f"cluster-{request.param.replace('+', '-')}")
    ports = [free_port(), free_port()]
    servers = [f"http://127.0.0.1:{port}" for port in ports]
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "SECRET_KEY",
            "COGNATE_CACHE",
            "PYTEST_XDIST_WORKER",
            "PROMETHEUS_MULTIPROC_DIR",
        }
    }
    env.update(
        COGNATE_VAR_DIR=str(var),
        # One public URL for both, as behind a load balancer; and one secret for both.
        PUBLIC_URL=servers[0],
        DEBUG="1",
        SECRET_KEY=secrets.token_urlsafe(40),
        LOG_FORMAT="json",
    )
    database = None
    if request.param == "postgres+redis":
        backends = _postgres_and_redis()
        if backends is None:
            pytest.skip(
                "the two-server test on PostgreSQL + Redis needs DATABASE_URL=postgres://... "
                "and REDIS_URL (CI's second run sets both); the SQLite variant ran instead"
            )
        database = _create_database(backends[0])
        # This process's own Redis database (tests/conftest.py gives each xdist worker one),
        # with a key prefix of its own.
        env.update(
            DATABASE_URL=database,
            REDIS_URL=settings.CACHES["default"]["LOCATION"],
            CACHE_KEY_PREFIX=f"two-{secrets.token_hex(4)}",
        )
    manage = [sys.executable, "manage.py"]
    processes: list[subprocess.Popen] = []
    logs: list[Path] = []
    try:
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        boot = subprocess.run(
            [*manage, "bootstrap", "--json"], cwd=ROOT, env=env, check=True, capture_output=True
        )
        demo = json.loads(boot.stdout)
        for number, port in enumerate(ports):
            log = var / f"server-{number}.log"
            logs.append(log)
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "gunicorn",
                        "-c",
                        "config/gunicorn.py",
                        "config.wsgi:application",
                    ],
                    cwd=ROOT,
                    env={
                        **env,
                        "BIND": f"127.0.0.1:{port}",
                        # The first server runs two worker processes of its own.
                        "WORKERS": "2" if number == 0 else "1",
                        "THREADS": "4",
                        "PROMETHEUS_MULTIPROC_DIR": str(var / f"metrics-{number}"),
                    },
                    stdout=log.open("w"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        for server, log in zip(servers, logs, strict=True):
            assert wait_for(f"{server}/healthz", timeout=60), log.read_text()
        yield Cluster(
            name=request.param,
            servers=servers,
            env=env,
            pool_id=demo["pool_id"],
            client_id=demo["client_id"],
            username=demo["demo_user"]["username"],
            password=demo["demo_user"]["password"],
            processes=processes,
            logs=logs,
        )
        # Graceful shutdown: SIGTERM lets each server finish and exit cleanly.
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process, log in zip(processes, logs, strict=True):
            assert process.wait(timeout=60) == 0, log.read_text()[-3000:]
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        if database:
            _drop_database(database)


@pytest.fixture(autouse=True)
def _ready(cluster):
    for server in cluster.servers:
        assert requests.get(f"{server}/readyz", timeout=10).json()["status"] == "ok"


def call(server: str, action: str, body: dict) -> requests.Response:
    return requests.post(
        f"{server}/",
        data=json.dumps(body),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": TARGET + action,
        },
        timeout=30,
    )


def password_sign_in(cluster: Cluster, server: str, password: str) -> requests.Response:
    return call(
        server,
        "InitiateAuth",
        {
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": cluster.client_id,
            "AuthParameters": {"USERNAME": cluster.username, "PASSWORD": password},
        },
    )


def kid_of(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorize_url(cluster: Cluster, server: str, challenge: str) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": cluster.client_id,
            "redirect_uri": cluster.callback,
            "scope": "openid email",
            "state": secrets.token_urlsafe(8),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{server}/{cluster.pool_id}/oauth2/authorize?{query}"


def code_from(location: str) -> str:
    assert location.startswith("http://127.0.0.1") and "/demo/callback" in location, location
    return parse_qs(urlparse(location).query)["code"][0]


def sign_in_on_the_page(cluster: Cluster, server: str, browser: requests.Session) -> str:
    """Be a browser on `server`: authorize, post the sign-in form; return the code."""
    verifier, challenge = pkce()
    url = authorize_url(cluster, server, challenge)
    to_login = browser.get(url, allow_redirects=False, timeout=30)
    assert to_login.status_code == 302, to_login.text[:300]
    # The page itself is asked of `server` too, whatever host PUBLIC_URL names.
    login = urlparse(urljoin(url, to_login.headers["Location"]))
    login_url = f"{server}{login.path}?{login.query}"
    page = browser.get(login_url, timeout=30)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    done = browser.post(
        login_url,
        data={
            "csrfmiddlewaretoken": csrf,
            "username": cluster.username,
            "password": cluster.password,
            "signInSubmitButton": "Sign in",
        },
        allow_redirects=False,
        timeout=30,
    )
    assert done.status_code == 302, done.text[:500]
    return code_from(done.headers["Location"]), verifier


def redeem(cluster: Cluster, server: str, code: str, verifier: str) -> requests.Response:
    return requests.post(
        f"{server}/{cluster.pool_id}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": cluster.client_id,
            "code": code,
            "redirect_uri": cluster.callback,
            "code_verifier": verifier,
        },
        timeout=30,
    )


def test_a_code_issued_by_one_is_redeemed_once_across_both(cluster):
    one, other = cluster.servers
    code, verifier = sign_in_on_the_page(cluster, one, requests.Session())
    # Both servers at once: exactly one of them hands out tokens.
    barrier = threading.Barrier(2)
    answers: list[requests.Response] = []

    def redeem_on(server: str) -> None:
        barrier.wait(timeout=10)
        answers.append(redeem(cluster, server, code, verifier))

    threads = [threading.Thread(target=redeem_on, args=(server,)) for server in (one, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answer.status_code for answer in answers) == [200, 400]
    refused = next(answer for answer in answers if answer.status_code == 400)
    assert refused.json()["error"] == "invalid_grant"
    # And afterwards, on either.
    for server in (one, other):
        again = redeem(cluster, server, code, verifier)
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def refresh(cluster: Cluster, server: str, token: str) -> requests.Response:
    return requests.post(
        f"{server}/{cluster.pool_id}/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": cluster.client_id,
            "refresh_token": token,
        },
        timeout=30,
    )


def test_a_refresh_token_rotated_on_one_is_spent_on_the_other(cluster):
    one, other = cluster.servers
    first = password_sign_in(cluster, one, cluster.password).json()["AuthenticationResult"]
    rotated = refresh(cluster, other, first["RefreshToken"])
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["refresh_token"]
    assert second != first["RefreshToken"]
    # The retired token replayed on the first server: refused, and its family revoked there
    # and everywhere.
    replayed = refresh(cluster, one, first["RefreshToken"])
    assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_grant"
    for server in (other, one):
        revoked = refresh(cluster, server, second)
        assert revoked.status_code == 400 and revoked.json()["error"] == "invalid_grant"


def test_a_session_started_on_one_continues_on_the_other(cluster):
    one, other = cluster.servers
    browser = requests.Session()
    sign_in_on_the_page(cluster, one, browser)
    # The other server knows the session: authorize answers with a code, no sign-in page.
    verifier, challenge = pkce()
    again = browser.get(authorize_url(cluster, other, challenge), allow_redirects=False, timeout=30)
    assert again.status_code == 302
    code = code_from(again.headers["Location"])
    tokens = redeem(cluster, one, code, verifier)
    assert tokens.status_code == 200
    assert jwt.decode(tokens.json()["id_token"], options={"verify_signature": False})[
        "cognito:username"
    ] == (cluster.username)
    # A stranger without the cookie is sent to sign in.
    stranger = requests.get(authorize_url(cluster, other, challenge), allow_redirects=False)
    assert "/login" in stranger.headers["Location"]


def test_a_lockout_on_one_holds_on_the_other(cluster):
    one, other = cluster.servers
    # Five wrong passwords, alternating between the servers: three on one, two on the other.
    # Counted per process, neither would reach five and the right password would pass.
    for attempt in range(5):
        wrong = password_sign_in(cluster, cluster.servers[attempt % 2], "Wrong-password-1")
        assert wrong.status_code == 400
        assert wrong.json()["__type"] == "NotAuthorizedException"
    # The lock grows with each failure after its end (1 s, 2 s, 4 s): wait two out, so that the
    # checks below run well inside a 4-second lock.
    for pause in (1.2, 2.2):
        time.sleep(pause)
        wrong = password_sign_in(cluster, cluster.servers[0], "Wrong-password-1")
        assert wrong.json()["__type"] == "NotAuthorizedException"
    for server in (other, one):
        locked = password_sign_in(cluster, server, cluster.password)
        assert locked.status_code == 400, locked.text
        assert locked.json()["message"] == "Password attempts exceeded"
    # Once the lock is over the right password passes (the lock never keeps anyone out).
    time.sleep(4.2)
    assert password_sign_in(cluster, other, cluster.password).status_code == 200


def test_a_key_rotated_on_one_is_used_by_the_other_at_once(cluster):
    one, other = cluster.servers
    # Both servers sign with (and hold in memory) the current key.
    before = {
        server: kid_of(
            password_sign_in(cluster, server, cluster.password).json()["AuthenticationResult"][
                "IdToken"
            ]
        )
        for server in (one, other)
    }
    assert before[one] == before[other]
    rotated = cluster.manage("rotatekeys", cluster.pool_id)["kid"]
    assert rotated != before[one]
    # The very next token from either server carries the new key, and both publish it.
    for server in (other, one):
        signed_in = password_sign_in(cluster, server, cluster.password).json()
        assert kid_of(signed_in["AuthenticationResult"]["IdToken"]) == rotated
        assert kid_of(signed_in["AuthenticationResult"]["AccessToken"]) == rotated
        jwks = requests.get(f"{server}/{cluster.pool_id}/.well-known/jwks.json", timeout=10)
        assert {key["kid"] for key in jwks.json()["keys"]} >= {rotated, before[one]}


def test_a_key_rotated_elsewhere_shows_in_the_jwks_both_keep(cluster):
    """Both servers keep their JWKS answer (no version read per request:
    pool.config_generation's shared count on SQLite, LISTEN/NOTIFY on PostgreSQL); a rotation
    committed by a third process shows in both. A notification reaches a server moments after
    the commit, so each server gets a second to show it (it never does if none arrives)."""
    jwks = "{}/" + cluster.pool_id + "/.well-known/jwks.json"
    for server in cluster.servers:
        for _ in range(4):  # each worker process of the server keeps its own answer
            assert requests.get(jwks.format(server), timeout=10).status_code == 200
    rotated = cluster.manage("rotatekeys", cluster.pool_id)["kid"]
    for server in cluster.servers:
        for _ in range(4):
            deadline = time.monotonic() + 1.0
            while True:
                kids = [
                    key["kid"]
                    for key in requests.get(jwks.format(server), timeout=10).json()["keys"]
                ]
                if kids[0] == rotated or time.monotonic() > deadline:
                    break
            assert kids[0] == rotated, (server, kids)


def test_a_pool_change_made_elsewhere_holds_on_both_at_once(cluster):
    one, other = cluster.servers
    # Both servers have looked at the pool's (empty) trigger configuration.
    for server in (one, other):
        assert password_sign_in(cluster, server, cluster.password).status_code == 200
    cluster.manage(
        "settrigger",
        cluster.pool_id,
        "PreAuthentication",
        "--callable",
        "tests.triggers_support.deny_maintenance",
    )
    try:
        for server in (other, one):
            refused = password_sign_in(cluster, server, cluster.password)
            assert refused.status_code == 400, refused.text
            assert refused.json()["__type"] == "UserLambdaValidationException"
    finally:
        cluster.manage("settrigger", cluster.pool_id, "PreAuthentication", "--remove")
    for server in (other, one):
        assert password_sign_in(cluster, server, cluster.password).status_code == 200


def sign_ins_counted(server: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    text = requests.get(f"{server}/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "cognate_sign_ins"
        for sample in family.samples
        if sample.name == "cognate_sign_ins_total" and sample.labels == {"method": "pwd"}
    )


def test_metrics_sum_every_worker_of_a_server(cluster):
    one, _ = cluster.servers  # two workers
    before = sign_ins_counted(one)
    for _ in range(6):
        assert password_sign_in(cluster, one, cluster.password).status_code == 200
    assert sign_ins_counted(one) == before + 6


def test_each_server_logs_one_json_line_per_request_with_its_id(cluster):
    one, _ = cluster.servers
    answer = requests.get(
        f"{one}/{cluster.pool_id}/oauth2/authorize?client_id=x&code=not-logged",
        headers={"X-Request-Id": "probe-4711"},
        timeout=10,
    )
    assert answer.headers["X-Request-Id"] == "probe-4711"
    deadline = time.monotonic() + 10
    lines: list[dict] = []
    while time.monotonic() < deadline and not lines:
        lines = [
            json.loads(line)
            for line in cluster.logs[0].read_text().splitlines()
            if line.startswith("{") and "probe-4711" in line and '"cognate.request"' in line
        ]
        time.sleep(0.1)
    assert len(lines) == 1
    assert lines[0]["path"] == f"/{cluster.pool_id}/oauth2/authorize"
    assert lines[0]["status"] == answer.status_code
    assert "not-logged" not in cluster.logs[0].read_text()
