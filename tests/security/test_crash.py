"""Crash test: the real server (gunicorn, config.wsgi) on a free loopback port over a scratch
database takes a bounded sign-up load through the hosted sign-up form from several threads, and
is killed with SIGKILL in the middle of it. After a restart, every sign-up that was acknowledged
(the form answered with its redirect to the confirm page) exists, and no user is half-written:
each has its argon2id hash, its SRP salt and verifier and, being unconfirmed, its sign-up code;
no code or event row points at a user that does not exist.

SQLite always (a scratch file); PostgreSQL as well when DATABASE_URL names one (a dedicated
scratch database on that server, dropped afterwards). Bounded: at most LOAD sign-ups, each
request with a timeout, and the whole run stops by itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import pytest
import requests

from hostedui.oauth import pkce
from tests.conftest import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
LOAD = 120  # sign-ups at most, across all threads
THREADS = 4
KILL_AFTER = 12  # acknowledged sign-ups before the SIGKILL
PASSWORD = "Crash-Test-Pass-1"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

SETUP = """
import json
from pool.models import AppClient, UserPool
pool = UserPool.objects.create(name="crash")
client = AppClient(pool=pool, name="crash-app", callback_urls=["http://localhost:3000/callback"])
client.save()
print(json.dumps({"pool": pool.pk, "client": client.client_id}))
"""

INSPECT = """
import json
from django.db import connection
from pool.models import AuthEvent, CodePurpose, User, VerificationCode
users = []
for user in User.objects.all():
    users.append({
        "username": user.username,
        "status": user.status,
        "hash": user.password.startswith("argon2$argon2id$"),
        "srp": bool(user.srp_salt) and bool(user.srp_verifier),
        "code": VerificationCode.objects.filter(user=user, purpose=CodePurpose.SIGN_UP).exists(),
    })
ids = set(User.objects.values_list("pk", flat=True))
orphans = {
    "codes": VerificationCode.objects.exclude(user_id__in=ids).count(),
    "events": AuthEvent.objects.filter(user_id__isnull=False).exclude(user_id__in=ids).count(),
}
print(json.dumps({"users": users, "orphans": orphans}))
"""


def postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


class Server:
    """gunicorn over a scratch database, in its own process group so it can be killed whole."""

    def __init__(self, env: dict[str, str], port: int):
        self.env, self.port, self.process = env, port, None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str, script: str | None = None) -> str:
        command = (
            [PYTHON, "manage.py", *args]
            if script is None
            else [
                PYTHON,
                "manage.py",
                "shell",
                "-c",
                script,
            ]
        )
        result = subprocess.run(
            command, env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    def start(self, probe: str) -> None:
        self.process = subprocess.Popen(
            [
                GUNICORN,
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--threads",
                "2",
                "--timeout",
                "30",
            ],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base + probe, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            assert self.process.poll() is None, "gunicorn exited during start-up"
            time.sleep(0.2)
        raise AssertionError("gunicorn did not start within 30 s")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        self.process.wait(timeout=30)
        self.process = None


def sign_up(server: Server, signup_url: str, username: str) -> bool:
    """One sign-up through the hosted form; True when the server acknowledged it."""
    with requests.Session() as browser:
        page = browser.get(signup_url, timeout=10)
        token = CSRF.search(page.text)
        if page.status_code != 200 or token is None:
            return False
        response = browser.post(
            signup_url,
            data={
                "csrfmiddlewaretoken": token.group(1),
                "username": username,
                "email": f"{username}@example.com",
                "password": PASSWORD,
            },
            headers={"Referer": signup_url},
            allow_redirects=False,
            timeout=10,
        )
    return response.status_code == 302 and "/confirm?" in response.headers.get("Location", "")


def run_load(server: Server, signup_url: str, prefix: str) -> tuple[set[str], int]:
    """Sign-ups from THREADS threads until LOAD are tried or the server dies; the SIGKILL
    comes from here once KILL_AFTER are acknowledged. Returns (acknowledged, attempted)."""
    acknowledged: set[str] = set()
    lock = threading.Lock()
    counter = iter(range(LOAD))
    dead = threading.Event()
    attempted = 0

    def worker() -> None:
        nonlocal attempted
        while not dead.is_set():
            with lock:
                n = next(counter, None)
                if n is None:
                    return
                attempted += 1
            username = f"{prefix}{n:04d}"
            try:
                ok = sign_up(server, signup_url, username)
            except requests.RequestException:
                ok = False
            if not ok:
                continue
            with lock:
                acknowledged.add(username)
                if len(acknowledged) == KILL_AFTER and not dead.is_set():
                    dead.set()
                    server.kill(signal.SIGKILL)  # mid-load: other threads are mid-request

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return acknowledged, attempted


def crash_and_check(env: dict[str, str]) -> None:
    server = Server(env, free_port())
    server.manage("migrate", "--noinput")
    ids = json.loads(server.manage(script=SETUP).strip().splitlines()[-1])
    query = urlencode(
        {
            "response_type": "code",
            "client_id": ids["client"],
            "redirect_uri": "http://localhost:3000/callback",
            "code_challenge": pkce.s256("c" * 43),
            "code_challenge_method": "S256",
        }
    )
    signup_path = f"/{ids['pool']}/signup?{query}"
    probe = f"/{ids['pool']}/.well-known/openid-configuration"
    try:
        server.start(probe)
        acknowledged, attempted = run_load(server, server.base + signup_path, "crash")
        assert server.process is None, "the load ended before the kill: raise LOAD"
        server.start(probe)  # restart over the same database
        after = {
            name
            for name in (f"after{n}" for n in range(3))
            if sign_up(server, server.base + signup_path, name)
        }
    finally:
        server.kill(signal.SIGTERM)
    state = json.loads(server.manage(script=INSPECT).strip().splitlines()[-1])
    users = {row["username"]: row for row in state["users"]}
    print(
        f"attempted {attempted}, acknowledged {len(acknowledged)}, stored {len(users)} "
        f"(in flight at the kill: {len(users) - len(acknowledged) - len(after)})"
    )
    assert acknowledged <= set(users), sorted(acknowledged - set(users))
    assert after == {"after0", "after1", "after2"}, "the restarted server takes sign-ups"
    half_written = [
        row
        for row in users.values()
        if not (row["hash"] and row["srp"] and (row["status"] != "UNCONFIRMED" or row["code"]))
    ]
    assert half_written == []
    assert state["orphans"] == {"codes": 0, "events": 0}


def scratch_env(tmp_path: Path, database_url: str, smtp_port: int) -> dict[str, str]:
    """Production settings (DEBUG off), so email goes to a real SMTP server: the test's sink."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "EMAIL_URL", "PYTEST_CURRENT_TEST")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        COGNATE_VAR_DIR=str(tmp_path),
        SECRET_KEY="crash-test-secret-key-" + "x" * 32,
        PUBLIC_URL="http://127.0.0.1",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        RATE_LIMIT_PER_MINUTE="0",
        ARGON2_MEMORY_KIB="4096",
        DEBUG="0",
        DATABASE_CONN_MAX_AGE="0",
    )
    return env


def test_acknowledged_sign_ups_survive_sigkill_on_sqlite(tmp_path, smtp_sink):
    database = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
    crash_and_check(scratch_env(tmp_path, database, smtp_sink.port))


@pytest.mark.skipif(postgres_url() is None, reason="needs DATABASE_URL=postgres://...")
def test_acknowledged_sign_ups_survive_sigkill_on_postgresql(tmp_path, smtp_sink):
    import psycopg

    base = urlsplit(postgres_url())
    name = f"cognate_crash_{os.getpid()}"
    admin_url = urlunsplit(base._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        database = urlunsplit(base._replace(path=f"/{name}"))
        crash_and_check(scratch_env(tmp_path, database, smtp_sink.port))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
