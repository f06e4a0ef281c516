"""`make bench`: Cognate side by side with its peers and two bare-Django ceilings, one command.

    .venv/bin/python bench/run.py [--quick] [--seconds 8] [--users 1000000] [--no-postgres]
                                  [--no-peers] [--no-search] [--no-profile] [--max-minutes 30]

One run, everything on 127.0.0.1, every load driven by `wrk` (a separate process) and bounded in
time, a watchdog over the whole run:
1. Machine facts, and argon2 verifications/s of the configured parameters on all cores
   (bench/argon2_rate.py).
2. The ceilings (bench/ceiling/: a bare Django "hello" view and a view that signs two RS256
   JWTs) and the peers: node oidc-provider (bench/peers/oidc/, from the npm registry, the
   machine's node) and django-oauth-toolkit (bench/peers/dot/, from PyPI). The Django ones are
   served by the same gunicorn settings as Cognate.
3. Cognate with production settings (DEBUG=0) on a scratch SQLite database, then on
   PostgreSQL + Redis when they answer: seeded through the services, single-use refresh tokens
   and codes minted before the load, then every scenario (`cognate_pass` below, run in a child
   process per database). Between the two, argon2 and the ceilings are measured again: the
   targets against them use the mean of both measurements (the host's drift over the minutes
   between them is printed, with each ratio against each measurement).
4. User search by email prefix through pool.selectors.users.search at --users users
   (bench/search_users.py: bulk seeding, seconds reported, p50/p99), per database.
5. Per scenario req/s, p50, p99, server CPU ms per request (utime+stime of the server's
   processes from /proc, before/after), peak RSS per worker (VmHWM), then every target ratio
   with PASS/MISS. Writes bench/results.json and bench/RESULTS.md (a table the README pastes).

Rate limits are raised on the servers under test (the bench measures throughput, not the
limiter). Nothing here asserts a figure: a missed target is printed as MISS.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlencode, urljoin

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA = BENCH / "lua"
PEERS = BENCH / "peers"
HOST = "127.0.0.1"
PASSWORD = "Bench-Horse-9!"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PYTHON = sys.executable

# ---------------------------------------------------------------------------------------------
# Processes under test


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime, stime


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


STARTED: list = []  # every Service and child process this run started, for the watchdog


def stop_everything(*_ignored) -> None:
    """Stop what this process started (servers in their own sessions, child passes)."""
    for started in reversed(STARTED):
        try:
            if isinstance(started, subprocess.Popen):
                started.terminate()
                started.wait(timeout=20)
            else:
                started.stop()
        except Exception:  # noqa: BLE001 (best effort on the way out)
            pass


def start_watchdog(minutes: float) -> threading.Timer:
    """Bound the whole run: on expiry stop everything this process started and exit 3. A
    SIGTERM (the parent's watchdog) does the same."""

    def expire() -> None:
        _say(f"*** watchdog: {minutes:g} minutes are up, stopping")
        stop_everything()
        os._exit(3)

    def terminated(*_ignored) -> None:
        stop_everything()
        os._exit(3)

    signal.signal(signal.SIGTERM, terminated)
    timer = threading.Timer(minutes * 60, expire)
    timer.daemon = True
    timer.start()
    return timer


class Service:
    """A server process (gunicorn, granian or node) in its own session, so stop() ends all of it."""

    def __init__(self, name: str, argv: list[str], *, env: dict, cwd: Path, log: Path) -> None:
        self.name, self.argv, self.env, self.cwd, self.log = name, argv, env, cwd, log
        self.port = int(next(a for a in argv if a.startswith("--port=")).split("=")[1])
        self.argv = [a for a in argv if not a.startswith("--port=")]
        self.url = f"http://{HOST}:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> Service:
        STARTED.append(self)
        self.process = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def wait_ready(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=2) as answer:
                    if answer.status < 500:
                        return
            except urllib.error.HTTPError as error:
                if error.code < 500:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer {path}; see {self.log}:\n{self.tail()}")

    def tail(self) -> str:
        try:
            return self.log.read_text()[-1500:]
        except OSError:
            return ""

    def pids(self) -> list[int]:
        if not self.process:
            return []
        tree, found, todo = _children(), [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(tree.get(pid, []))
        return found

    def workers(self) -> list[int]:
        """gunicorn's or granian's worker processes (the master's children), or node's one
        process."""
        pids = self.pids()
        return pids[1:] or pids

    def cpu_seconds(self) -> float:
        return sum(_cpu_ticks(pid) for pid in self.pids()) / CLK_TCK

    def wait_quiet(self, timeout: float = 30) -> None:
        """Until the server has finished what a previous load queued (requests wrk gave up
        on still run): less than 5% of a core used over half a second."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = self.cpu_seconds()
            time.sleep(0.5)
            if self.cpu_seconds() - before < 0.025:
                return

    def peak_rss_mb(self) -> float:
        return round(max((_peak_rss_mb(pid) for pid in self.workers()), default=0.0), 1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


# Which server runs every Django server of the run (--server).
SERVER = {"name": "gunicorn"}


def django_server(
    name: str,
    app: str,
    *,
    env: dict,
    log: Path,
    workers: int,
    threads: int,
    port: int = 0,
    cognate: bool = False,
) -> Service:
    """Every Django server of the run (Cognate, the ceilings, DOT) on the run's server, with
    the same workers and threads; `cognate` adds Cognate's own production settings."""
    start = granian if SERVER["name"] == "granian" else gunicorn
    return start(
        name, app, env=env, log=log, workers=workers, threads=threads, port=port, cognate=cognate
    )


def gunicorn(
    name: str,
    app: str,
    *,
    env: dict,
    log: Path,
    workers: int,
    threads: int,
    port: int = 0,
    cognate: bool = False,
) -> Service:
    """The one gunicorn command line of every Django server in the bench: gthread workers,
    one per core unless told, 4 threads each, keep-alive 5 s, no access log. Cognate also
    reads its gunicorn settings file (config/gunicorn.py); the flags here win over it, so
    every server runs alike."""
    port = port or free_port()
    argv = [PYTHON, "-m", "gunicorn", app, "--bind", f"{HOST}:{port}", f"--port={port}"]
    if cognate:
        argv[3:3] = ["-c", "config/gunicorn.py"]
    argv += ["--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread"]
    argv += ["--keep-alive", "5", "--log-level", "warning"]
    return Service(name, argv, env=env, cwd=ROOT, log=log)


def granian(
    name: str,
    app: str,
    *,
    env: dict,
    log: Path,
    workers: int,
    threads: int,
    port: int = 0,
    cognate: bool = False,
) -> Service:
    """The same on granian (Rust HTTP/1.1, its WSGI interface): `threads` blocking threads
    per worker (the Python threads that run requests, as gthread's), backpressure 1,000
    connections per worker (gthread's worker_connections), no access log."""
    port = port or free_port()
    if cognate:  # as config/gunicorn.py: each worker's metrics in files, summed by /metrics
        metrics = Path(env["COGNATE_VAR_DIR"]) / "prometheus"
        metrics.mkdir(parents=True, exist_ok=True)
        env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
    argv = [PYTHON, "-m", "granian", "--interface", "wsgi", "--http", "1", "--no-ws"]
    argv += ["--host", HOST, "--port", str(port), f"--port={port}"]
    argv += ["--workers", str(workers), "--blocking-threads", str(threads)]
    argv += ["--backpressure", "1000", "--log-level", "warning", app]
    return Service(name, argv, env=env, cwd=ROOT, log=log)


# ---------------------------------------------------------------------------------------------
# wrk


def wrk(
    service: Service,
    script: str,
    args: list[str],
    *,
    path: str = "/",
    seconds: float,
    connections: int,
    name: str,
    how: str,
    scratch: Path,
    per: str = "request",
) -> dict:
    """One bounded wrk run against `service` with bench/lua/<script> (+ common.lua): one
    thread per connection. Returns req/s, p50, p99, errors, server CPU ms per request."""
    lua = scratch / f"{script}-{secrets.token_hex(3)}.lua"
    lua.write_text((LUA / "common.lua").read_text() + "\n" + (LUA / script).read_text())
    argv = ["wrk", "-t", str(connections), "-c", str(connections), "-d", f"{seconds:g}s"]
    argv += ["--latency", "--timeout", "10s", "-s", str(lua), service.url + path, "--", *args]
    service.wait_quiet()
    cpu_before = service.cpu_seconds()
    result = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    cpu = service.cpu_seconds() - cpu_before
    line = next((x for x in result.stdout.splitlines() if x.startswith("BENCHJSON ")), None)
    if line is None:
        return {
            "how": how,
            "failed": f"wrk: {result.stderr.strip()[-300:] or result.stdout[-300:]}",
        }
    raw = json.loads(line.split(" ", 1)[1])
    duration = raw["duration_us"] / 1e6
    socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    count = raw["flows"] if per == "flow" else raw["requests"]
    return {
        "how": how,
        "server": service.name,
        "requests": raw["requests"],
        "seconds": round(duration, 2),
        "per_second": round(count / duration, 1) if duration else 0.0,
        "unit": f"{per}s/s",
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "errors": socket_errors + raw["status"] + raw["bad"],
        "error_detail": {
            k: raw[k] for k in ("connect", "read", "write", "timeout", "status", "bad")
        },
        "cpu_ms_per": round(cpu * 1000 / count, 2) if count else None,
        "connections": connections,
    }


def request_file(scratch: Path, method: str, path: str, headers: dict, body: str = "") -> str:
    """The request file of static.lua: "METHOD PATH", header lines, a blank line, the body."""
    out = scratch / f"request-{secrets.token_hex(4)}.txt"
    lines = [f"{method} {path}", *(f"{k}: {v}" for k, v in headers.items())]
    out.write_text("\n".join(lines) + "\n\n" + body)
    return str(out)


def lines_file(scratch: Path, lines: list[str]) -> str:
    out = scratch / f"lines-{secrets.token_hex(4)}.txt"
    out.write_text("\n".join(lines) + "\n")
    return str(out)


def basic(client_id: str, secret: str) -> str:
    import base64

    pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return "Basic " + base64.b64encode(pair).decode()


# ---------------------------------------------------------------------------------------------
# Cognate: one pass per database, in a child process (Django settings are read once)


class _Form(HTMLParser):
    """The first POST form of a page: its action and its fields."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._inside = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and self.action is None and attributes.get("method", "").lower() == "post":
            self._inside = True
            self.action = attributes.get("action") or ""
        elif tag == "input" and self._inside and attributes.get("name"):
            self.fields[attributes["name"]] = attributes.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False


def cognate_env(scratch: Path, url: str, database: str, redis: str) -> dict:
    env = {
        **os.environ,
        "COGNATE_VAR_DIR": str(scratch),
        "SECRET_KEY": secrets.token_urlsafe(40),
        "DEBUG": "0",
        "PUBLIC_URL": url,
        "ALLOWED_HOSTS": HOST,
        # Production settings refuse a development email backend; the bench sends no email.
        "EMAIL_URL": "smtp://127.0.0.1:9",
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_PER_MINUTE": str(10**9),
        "RATE_LIMIT_TOKEN_PER_MINUTE": str(10**9),
        "RATE_LIMIT_API_PER_MINUTE": str(10**9),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database or f"sqlite:///{scratch / 'cognate.sqlite3'}",
    }
    env.pop("REDIS_URL", None)
    if redis:
        env["REDIS_URL"] = redis
    env.pop("PYTHONPATH", None)
    return env


@dataclass
class Seeded:
    pool_id: str
    app_id: str
    app_secret: str
    api_id: str
    service_id: str
    service_secret: str
    callback: str
    usernames: list[str]


def seed_cognate(url: str, users: int) -> Seeded:
    """A pool with a resource server, three clients (a confidential web app with the code flow,
    a public API client with USER_PASSWORD_AUTH, a client_credentials service) and users."""
    from django.core.management import call_command

    from pool.models import UserStatus
    from pool.services import app_clients, pools, resource_servers
    from pool.services import users as user_services

    call_command("migrate", verbosity=0, interactive=False)
    pool = pools.create_pool(name=f"bench-{secrets.token_hex(3)}")
    resource_servers.create_resource_server(
        pool=pool,
        identifier="bench-api",
        name="bench api",
        scopes=[{"name": "read", "description": "read"}],
    )
    callback = f"{url}/bench/callback"
    app, app_secret = app_clients.create_client(
        pool=pool,
        name="bench-app",
        generate_secret=True,
        callback_urls=[callback],
        allowed_oauth_flows=["code"],
        allowed_oauth_scopes=["openid", "email", "profile", "aws.cognito.signin.user.admin"],
        explicit_auth_flows=["ALLOW_REFRESH_TOKEN_AUTH"],
    )
    api, _ = app_clients.create_client(
        pool=pool,
        name="bench-api-client",
        allowed_oauth_flows=[],
        explicit_auth_flows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )
    service, service_secret = app_clients.create_client(
        pool=pool,
        name="bench-service",
        generate_secret=True,
        allowed_oauth_flows=["client_credentials"],
        allowed_oauth_scopes=["bench-api/read"],
    )
    names = []
    for index in range(users):
        name = f"bench{index}"
        user_services.create(
            pool=pool,
            username=name,
            attributes={"email": f"{name}@example.com", "email_verified": "true"},
            status=UserStatus.CONFIRMED,
            password=PASSWORD,
            admin=True,
        )
        names.append(name)
    return Seeded(
        pool.id,
        app.client_id,
        app_secret,
        api.client_id,
        service.client_id,
        service_secret,
        callback,
        names,
    )


def mint_refresh_tokens(seeded: Seeded, count: int) -> list[str]:
    """Refresh tokens as completed sign-ins leave them (tokens.issue), one family each."""
    from django.utils import timezone

    from pool.models import AppClient, User
    from pool.services import tokens

    client = AppClient.objects.get(client_id=seeded.app_id)
    users = list(User.objects.filter(pool_id=seeded.pool_id, username__in=seeded.usernames))
    minted = []
    for index in range(count):
        issued = tokens.issue(
            user=users[index % len(users)],
            client=client,
            scopes=["openid", "email", "profile"],
            auth_time=timezone.now(),
        )
        minted.append(issued.refresh_token)
    return minted


def authorize_query(seeded: Seeded) -> str:
    return urlencode(
        {
            "response_type": "code",
            "client_id": seeded.app_id,
            "redirect_uri": seeded.callback,
            "scope": "openid email profile",
        }
    )


def hosted_sign_in(base: str, seeded: Seeded, username: str):
    """A browser signing in through the hosted login page; returns its requests.Session (the
    hosted UI's session cookie) and the login page's form (for the sign-in scenario)."""
    import requests

    browser = requests.Session()
    page = browser.get(f"{base}/oauth2/authorize?{authorize_query(seeded)}", timeout=15)
    form = _Form()
    form.feed(page.text)
    if page.status_code != 200 or form.action is None:
        raise RuntimeError(f"authorize -> login page: {page.status_code} {page.url}")
    data = {**form.fields, "username": username, "password": PASSWORD}
    answer = browser.post(
        urljoin(page.url, form.action), data=data, allow_redirects=False, timeout=15
    )
    location = answer.headers.get("Location", "")
    if answer.status_code != 302 or "code=" not in location:
        raise RuntimeError(f"hosted sign-in: {answer.status_code} {location[:100]!r}")
    return browser, page, form


def mint_codes(base: str, seeded: Seeded, browsers: list, count: int) -> list[str]:
    """Authorization codes from signed-in browsers (authorize with a session -> 302 code)."""
    codes: list[str] = []
    lock = threading.Lock()
    url = f"{base}/oauth2/authorize?{authorize_query(seeded)}"

    def work(browser) -> None:
        while True:
            with lock:
                if len(codes) >= count:
                    return
            answer = browser.get(url, allow_redirects=False, timeout=15)
            found = re.search(r"[?&]code=([^&]+)", answer.headers.get("Location", ""))
            if not found:
                raise RuntimeError(f"authorize with a session: {answer.status_code}")
            with lock:
                codes.append(found.group(1))

    workers = [threading.Thread(target=work, args=(b,)) for b in browsers]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return codes[:count]


def api_access_token(url: str, seeded: Seeded) -> str:
    import requests

    answer = requests.post(
        url + "/",
        data=json.dumps(
            {
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": seeded.api_id,
                "AuthParameters": {"USERNAME": seeded.usernames[0], "PASSWORD": PASSWORD},
            }
        ),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
        timeout=15,
    )
    return answer.json()["AuthenticationResult"]["AccessToken"]


def cognate_pass(args) -> dict:
    """Seed, start gunicorn, mint, drive every Cognate scenario; returns the pass's report."""
    scratch = Path(tempfile.mkdtemp(prefix="cognate-bench-"))
    port = free_port()
    url = f"http://{HOST}:{port}"
    env = cognate_env(scratch, url, args.database, args.redis)
    for key in (
        "COGNATE_VAR_DIR",
        "SECRET_KEY",
        "DEBUG",
        "PUBLIC_URL",
        "EMAIL_URL",
        "DATABASE_URL",
    ):
        os.environ[key] = env[key]
    os.environ.pop("REDIS_URL", None)
    if args.redis:
        os.environ["REDIS_URL"] = args.redis
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    conns = args.connections
    seeded = seed_cognate(url, users=max(conns, 8))
    server = django_server(
        "cognate",
        "config.wsgi:application",
        env=env,
        log=scratch / "server.log",
        workers=args.workers,
        threads=args.threads,
        port=port,
        cognate=True,
    )
    base = f"/{seeded.pool_id}"
    report: dict = {
        "database": "PostgreSQL + Redis" if args.database else "SQLite",
        "scenarios": {},
    }
    try:
        server.start().wait_ready(f"{base}/.well-known/openid-configuration")
        refresh_tokens = mint_refresh_tokens(seeded, conns + 1)
        userinfo_token = _token_for_userinfo(url + base, seeded, refresh_tokens.pop())
        browsers = [
            hosted_sign_in(url + base, seeded, seeded.usernames[i % len(seeded.usernames)])
            for i in range(conns)
        ]
        sessions = ["; ".join(f"{k}={v}" for k, v in b[0].cookies.items()) for b in browsers]
        codes = mint_codes(url + base, seeded, [b[0] for b in browsers], args.codes)
        get_user_token = api_access_token(url, seeded)
        run = _runner(server, args, scratch, only=args.only)
        scenarios = report["scenarios"]
        json_api = {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.GetUser",
        }
        # Warm every worker (imports, URL resolver, the pool's key) before any measurement.
        run(
            "warm-up",
            "static.lua",
            [request_file(scratch, "GET", f"{base}/.well-known/jwks.json", {}), "200"],
            "",
            seconds=2,
        )
        scenarios["discovery"] = run(
            "discovery",
            "static.lua",
            [
                request_file(scratch, "GET", f"{base}/.well-known/openid-configuration", {}),
                "200",
                "issuer",
            ],
            "GET /{pool}/.well-known/openid-configuration",
        )
        scenarios["jwks"] = run(
            "jwks",
            "static.lua",
            [request_file(scratch, "GET", f"{base}/.well-known/jwks.json", {}), "200", '"kid"'],
            "GET /{pool}/.well-known/jwks.json",
        )
        scenarios["userinfo"] = run(
            "userinfo",
            "static.lua",
            [
                request_file(
                    scratch,
                    "GET",
                    f"{base}/oauth2/userInfo",
                    {"Authorization": f"Bearer {userinfo_token}"},
                ),
                "200",
                '"sub"',
            ],
            "GET /{pool}/oauth2/userInfo, bearer access token",
        )
        scenarios["getuser"] = run(
            "getuser",
            "static.lua",
            [
                request_file(
                    scratch, "POST", "/", json_api, json.dumps({"AccessToken": get_user_token})
                ),
                "200",
                "UserAttributes",
            ],
            "POST / X-Amz-Target GetUser (JSON API), access token",
        )
        scenarios["refresh"] = run(
            "refresh",
            "refresh_chain.lua",
            [
                lines_file(scratch, refresh_tokens[:conns]),
                str(conns),
                f"{base}/oauth2/token",
                basic(seeded.app_id, seeded.app_secret),
            ],
            "POST /{pool}/oauth2/token refresh_token, rotated (each request spends the "
            "token the previous answer carried), new ID + access JWTs, client_secret_basic",
        )
        scenarios["client_credentials"] = run(
            "client_credentials",
            "static.lua",
            [
                request_file(
                    scratch,
                    "POST",
                    f"{base}/oauth2/token",
                    {
                        "Authorization": basic(seeded.service_id, seeded.service_secret),
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                    "grant_type=client_credentials&scope=bench-api%2Fread",
                ),
                "200",
                "access_token",
            ],
            "POST /{pool}/oauth2/token client_credentials, JWT access token",
        )
        scenarios["code_exchange"] = run(
            "code_exchange",
            "single_use.lua",
            [
                lines_file(scratch, codes),
                str(conns),
                f"{base}/oauth2/token",
                "grant_type=authorization_code&code={}&redirect_uri="
                + quote(seeded.callback, safe=""),
                "200",
                "refresh_token",
                f"Authorization: {basic(seeded.app_id, seeded.app_secret)}",
            ],
            f"POST /{{pool}}/oauth2/token authorization_code ({len(codes)} codes minted "
            "beforehand, each spent once; the run ends when they do)",
        )
        scenarios["code_flow"] = run(
            "code_flow",
            "code_flow.lua",
            [
                lines_file(scratch, sessions),
                str(conns),
                f"{base}/oauth2/authorize?{authorize_query(seeded)}",
                f"{base}/oauth2/token",
                basic(seeded.app_id, seeded.app_secret),
                quote(seeded.callback, safe=""),
            ],
            "complete code flows/s of signed-in browsers: GET authorize with the session "
            "-> 302 code -> POST token (two requests a flow)",
            per="flow",
        )
        page, form = browsers[0][1], browsers[0][2]
        csrf_cookie = "; ".join(
            f"{k}={v}" for k, v in browsers[0][0].cookies.items() if "csrf" in k
        )
        login_path = page.url[len(url) :]
        bodies = [
            urlencode({**form.fields, "username": name, "password": PASSWORD})
            for name in seeded.usernames
        ]
        scenarios["hosted_sign_in"] = run(
            "hosted_sign_in",
            "rotate.lua",
            [
                lines_file(scratch, bodies),
                str(conns),
                "POST",
                login_path,
                "302",
                "code=",
                "application/x-www-form-urlencoded",
                f"Cookie: {csrf_cookie}",
            ],
            "POST the hosted login form (username + password, a new visitor each) -> 302 code",
        )
        initiate = [
            json.dumps(
                {
                    "AuthFlow": "USER_PASSWORD_AUTH",
                    "ClientId": seeded.api_id,
                    "AuthParameters": {"USERNAME": name, "PASSWORD": PASSWORD},
                }
            )
            for name in seeded.usernames
        ]
        scenarios["initiate_auth"] = run(
            "initiate_auth",
            "rotate.lua",
            [
                lines_file(scratch, initiate),
                str(conns),
                "POST",
                "/",
                "200",
                "AccessToken",
                "application/x-amz-json-1.1",
                "X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth",
            ],
            "POST / X-Amz-Target InitiateAuth USER_PASSWORD_AUTH (JSON API)",
        )
        report["peak_rss_mb_per_worker"] = server.peak_rss_mb()
        if args.profile:
            report["profile"] = profile(server, run, scenarios, scratch, seeded, base, args)
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
        if args.database:
            from pool.models import UserPool

            UserPool.objects.filter(pk=seeded.pool_id).delete()
    return report


def _token_for_userinfo(base_url: str, seeded: Seeded, refresh_token: str) -> str:
    import requests

    answer = requests.post(
        f"{base_url}/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(seeded.app_id, seeded.app_secret),
        timeout=15,
    )
    return answer.json()["access_token"]


def _runner(server: Service, args, scratch: Path, *, only: set[str] = frozenset()):
    """`run(...)`: one scenario. One that repeats a single request (static.lua) runs as
    `args.slices` wrk runs of an equal share of its time (whole seconds, as wrk takes them),
    and the median one is reported: on a shared machine a few noisy seconds then skew one
    slice, not the figure. Scenarios that spend single-use values (refresh chains, codes,
    sign-ins) run once. `only` (Cognate's pass: --only): the scenarios run; the others
    answer None."""

    def run(name, script, script_args, how, *, seconds=None, per="request"):
        if only and name != "warm-up" and name not in only:
            return None  # left out by --only: the report shows "-" and its ratios "n/a"
        seconds = seconds or args.seconds
        slices = max(1, args.slices) if script == "static.lua" else 1
        if slices > 1:  # wrk takes whole seconds
            seconds = max(1, round(seconds / slices))
        results = [
            wrk(
                server,
                script,
                script_args,
                seconds=seconds,
                connections=args.connections,
                name=name,
                how=how,
                scratch=scratch,
                per=per,
            )
            for _ in range(slices)
        ]
        result = median_slice(results)
        _say(f"    {server.name} {name}: {_brief(result)}")
        return result

    return run


def median_slice(results: list[dict]) -> dict:
    """The run with the median req/s of a scenario's slices (the lower one of an even count),
    with every slice's req/s beside it; the first failed run if one failed."""
    failed = [result for result in results if "failed" in result]
    if failed:
        return failed[0]
    if len(results) == 1:
        return results[0]
    ranked = sorted(results, key=lambda result: result["per_second"])
    return {
        **ranked[(len(ranked) - 1) // 2],
        "slices": [result["per_second"] for result in results],
    }


def profile(server: Service, run, scenarios, scratch, seeded, base, args) -> dict:
    """py-spy on every worker while refresh and JWKS run again (not the measured runs):
    the functions where samples were taken (self %) and the frames most often on the stack
    (inclusive %)."""
    spy = shutil.which("py-spy") or str(Path(PYTHON).parent / "py-spy")
    if not Path(spy).exists():
        return {"skipped": "py-spy is not installed"}
    found = {}
    requests_files = {
        "jwks": (
            "static.lua",
            [request_file(scratch, "GET", f"{base}/.well-known/jwks.json", {}), "200"],
        ),
    }
    tokens = mint_refresh_tokens(seeded, args.connections)
    requests_files["refresh"] = (
        "refresh_chain.lua",
        [
            lines_file(scratch, tokens),
            str(args.connections),
            f"{base}/oauth2/token",
            basic(seeded.app_id, seeded.app_secret),
        ],
    )
    for name, (script, script_args) in requests_files.items():
        server.wait_quiet()
        outputs, spies = [], []
        for pid in server.workers():
            out = scratch / f"profile-{name}-{pid}.txt"
            outputs.append(out)
            spies.append(
                subprocess.Popen(
                    [
                        spy,
                        "record",
                        "--pid",
                        str(pid),
                        "--duration",
                        str(int(args.seconds)),
                        "--rate",
                        "200",
                        "--format",
                        "raw",
                        "--output",
                        str(out),
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        time.sleep(1)  # py-spy attached
        run(f"{name} (profiled)", script, script_args, "", seconds=args.seconds)
        for spy_process in spies:
            try:
                spy_process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                spy_process.kill()
        found[name] = summarize_profile([o for o in outputs if o.exists()])
    return found


def summarize_profile(files: list[Path], top: int = 8) -> dict:
    """Collapsed stacks ("frame;frame;frame count", py-spy --gil: samples of the thread
    holding the GIL, so CPU spent in Python) of request-handling threads -> the functions the
    samples landed in (self %), and Cognate's own functions on the stack (inclusive %)."""
    self_counts: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for path in files:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = stack.split(";")
            if not any("handle_request" in frame for frame in frames):
                continue  # the gthread loop itself, gunicorn's master bookkeeping
            n = int(count)
            total += n
            leaf = _frame(frames[-1])[0]
            self_counts[leaf] = self_counts.get(leaf, 0) + n
            for name in {_frame(f)[0] for f in frames if _frame(f)[1]}:
                inclusive[name] = inclusive.get(name, 0) + n
    if not total:
        return {"samples": 0}

    def ranked(counts: dict[str, int]) -> list[list]:
        rows = sorted(counts.items(), key=lambda item: -item[1])[:top]
        return [[name, round(100 * n / total, 1)] for name, n in rows]

    return {"samples": total, "self": ranked(self_counts), "inclusive": ranked(inclusive)}


PROJECT_PACKAGES = {"pool", "hostedui", "api", "console", "config"}


def _frame(frame: str) -> tuple[str, bool]:
    """py-spy's "function (path/to/file.py:line)" -> ("function (package/file.py)", whether
    the file is Cognate's own code rather than a library's)."""
    match = re.match(r"(.*) \((.*?)(?::\d+)?\)$", frame)
    if not match:
        return frame, False
    function, file = match.groups()
    parts = Path(file).parts
    if "site-packages" in parts:
        short = "/".join(parts[parts.index("site-packages") + 1 :][:3])
        return f"{function} ({short})", False
    if file.startswith(str(ROOT) + "/"):
        file = str(Path(file).relative_to(ROOT))
    if Path(file).parts[0] in PROJECT_PACKAGES:
        return f"{function} ({file})", True
    return f"{function} ({'/'.join(parts[-2:])})", False


# ---------------------------------------------------------------------------------------------
# Ceilings and peers


def ceiling_server(*, log: Path, workers: int, threads: int) -> Service:
    """The ceilings' project (bench/ceiling) on the run's server; ready once /hello answers."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.ceiling.settings"}
    env.pop("PYTHONPATH", None)
    return django_server(
        "ceiling",
        "bench.ceiling.wsgi:application",
        env=env,
        log=log,
        workers=workers,
        threads=threads,
    )


def run_ceilings(args, scratch: Path) -> dict:
    server = ceiling_server(log=scratch / "ceiling.log", workers=args.workers, threads=args.threads)
    run = _runner(server, args, scratch)
    out = {}
    try:
        server.start().wait_ready("/hello")
        run(
            "warm-up",
            "static.lua",
            [request_file(scratch, "GET", "/sign2", {}), "200"],
            "",
            seconds=2,
        )
        out["hello"] = run(
            "hello",
            "static.lua",
            [request_file(scratch, "GET", "/hello", {}), "200", "hello"],
            'bare Django view answering "hello"',
        )
        out["null"] = run(
            "null",
            "static.lua",
            [request_file(scratch, "GET", "/null", {}), "200", "null"],
            "a WSGI callable answering before Django: the server's own cost per request",
        )
        out["sign2"] = run(
            "sign2",
            "static.lua",
            [request_file(scratch, "POST", "/sign2", {}), "200", "id_token"],
            "bare Django view signing two RS256 JWTs (PyJWT + cryptography, key loaded once)",
        )
        out["sign1"] = run(
            "sign1",
            "static.lua",
            [request_file(scratch, "POST", "/sign1", {}), "200", "access_token"],
            "bare Django view signing one RS256 JWT (a client_credentials answer's one signature)",
        )
        out["peak_rss_mb_per_worker"] = server.peak_rss_mb()
    finally:
        server.stop()
    return out


def run_oidc_provider(args, scratch: Path) -> dict:
    """node oidc-provider from bench/peers/oidc (npm ci from its lock), the machine's node."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        return {"skipped": "node/npm not installed"}
    folder = PEERS / "oidc"
    if not (folder / "node_modules" / "oidc-provider").exists():
        _say("    npm ci in bench/peers/oidc ...")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode:
            return {"skipped": f"npm ci failed: {done.stderr[-300:]}"}
    port = free_port()
    tokens = scratch / "oidc-tokens.txt"
    url = f"http://{HOST}:{port}"
    server = Service(
        "oidc-provider",
        [node, "server.mjs", str(port), url, str(tokens), str(args.connections), f"--port={port}"],
        env={**os.environ, "NODE_ENV": "production"},
        cwd=folder,
        log=scratch / "oidc.log",
    )
    run = _runner(server, args, scratch)
    out = {}
    try:
        server.start().wait_ready("/.well-known/openid-configuration")
        app = basic("bench-app", "bench-app-secret-0123456789abcdef0123456789")
        service = basic("bench-service", "bench-service-secret-0123456789abcdef01234")
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        out["refresh"] = run(
            "refresh",
            "refresh_chain.lua",
            [str(tokens), str(args.connections), "/token", app],
            "POST /token refresh_token, rotateRefreshToken, ID token + JWT access token",
        )
        out["client_credentials"] = run(
            "client_credentials",
            "static.lua",
            [
                request_file(
                    scratch,
                    "POST",
                    "/token",
                    {**form, "Authorization": service},
                    "grant_type=client_credentials&scope=api%3Aread",
                ),
                "200",
                "access_token",
            ],
            "POST /token client_credentials, JWT access token (resourceIndicators)",
        )
        out["jwks"] = run(
            "jwks",
            "static.lua",
            [request_file(scratch, "GET", "/jwks", {}), "200", "keys"],
            "GET /jwks",
        )
        out["peak_rss_mb_per_worker"] = server.peak_rss_mb()
        out["version"] = json.loads(
            (folder / "node_modules" / "oidc-provider" / "package.json").read_text()
        )["version"]
    finally:
        server.stop()
    return out


def run_dot(args, scratch: Path) -> dict:
    """django-oauth-toolkit (requirements-dev.txt) in bench/peers/dot, gunicorn as Cognate."""
    try:
        from importlib.metadata import version

        dot_version = version("django-oauth-toolkit")
    except Exception:  # noqa: BLE001
        return {
            "skipped": "django-oauth-toolkit is not installed (pip install -r requirements-dev.txt)"
        }
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = scratch / "dot-key.pem"
    key.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.peers.dot.settings",
        "DOT_DATABASE": str(scratch / "dot.sqlite3"),
        "DOT_RSA_KEY_FILE": str(key),
    }
    env.pop("PYTHONPATH", None)
    tokens = scratch / "dot-tokens.txt"
    minted = subprocess.run(
        [PYTHON, "-m", "bench.peers.dot.mint", str(tokens), str(args.connections)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if minted.returncode:
        return {"skipped": f"DOT mint failed: {minted.stderr[-300:]}"}
    client = json.loads(minted.stdout.strip().splitlines()[-1])
    server = django_server(
        "dot",
        "bench.peers.dot.wsgi:application",
        env=env,
        log=scratch / "dot.log",
        workers=args.workers,
        threads=args.threads,
    )
    run = _runner(server, args, scratch)
    out = {"version": dot_version}
    try:
        server.start().wait_ready("/o/.well-known/openid-configuration/")
        out["refresh"] = run(
            "refresh",
            "refresh_chain.lua",
            [
                str(tokens),
                str(args.connections),
                "/o/token/",
                basic(client["client_id"], client["client_secret"]),
            ],
            "POST /o/token/ refresh_token, ROTATE_REFRESH_TOKEN, OIDC ID token "
            "(client secret hashed, DOT's default)",
        )
        out["peak_rss_mb_per_worker"] = server.peak_rss_mb()
    finally:
        server.stop()
    return out


# ---------------------------------------------------------------------------------------------
# The run


def _say(text: str) -> None:
    print(text, flush=True)


def _brief(result: dict) -> str:
    if "failed" in result or "skipped" in result:
        return result.get("failed") or result.get("skipped")
    return (
        f"{result['per_second']:.1f} {result['unit']}, p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms, "
        f"cpu {result['cpu_ms_per']} ms, errors {result['errors']}"
    )


def machine_info() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        memory = f"{int(Path('/proc/meminfo').read_text().split()[1]) // 1024 // 1024 + 1} GiB"

    def version_of(argv: list[str]) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (done.stdout or done.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "not installed"

    import django

    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory": memory,
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "python_build": python_build(),
        "django": django.get_version(),
        "node": version_of(["node", "--version"]),
        "wrk": version_of(["wrk", "-v"]).split(" Copyright")[0],
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def python_build() -> str:
    """Which CPython serves the run: its executable, and whether the interpreter runs from a
    shared libpython or is linked into the executable. Both are in a run's figures: on this
    machine kind Debian's python3.11 (linked in, PGO) did Cognate's requests in 2-42 % less
    time than pyenv's CPython (a shared libpython, built without PGO), which moves every ratio
    against node or argon2 (README, Deployment)."""
    executable = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return executable
    shared = any("/libpython" in line for line in maps.splitlines())
    built = f"{executable}, libpython {'shared' if shared else 'linked in'}"
    # python.org's and the official container images' builds say so; distributions that
    # optimize (Debian) do it outside configure, so its absence proves nothing.
    if "--enable-optimizations" in (sysconfig.get_config_var("CONFIG_ARGS") or ""):
        built += ", --enable-optimizations"
    return built


def postgres_answers(database: str, redis: str) -> str:
    """'' when PostgreSQL and Redis answer (creating the bench's database if missing), else
    why not."""
    try:
        import psycopg
        import redis as redis_lib

        redis_lib.Redis.from_url(redis, socket_timeout=2).ping()
        name = database.rsplit("/", 1)[1]
        admin = database.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as connection:
            if not connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone():
                connection.execute(f'CREATE DATABASE "{name}"')
        return ""
    except Exception as error:  # noqa: BLE001 (the reason is printed)
        return f"{type(error).__name__}: {error}"


def child_pass(args, database: str, redis: str, scratch: Path) -> dict:
    """Run cognate_pass in a child process (its own Django settings)."""
    out = scratch / f"pass-{secrets.token_hex(3)}.json"
    argv = [PYTHON, str(Path(__file__)), "--cognate-pass", str(out), "--seconds", str(args.seconds)]
    argv += ["--max-minutes", str(args.max_minutes), "--server", args.server]
    argv += [
        "--connections",
        str(args.connections),
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--codes",
        str(args.codes),
        "--slices",
        str(args.slices),
    ]
    if database:
        argv += ["--database", database, "--redis", redis]
    if args.only:
        argv += ["--only", ",".join(sorted(args.only))]
    if not args.profile:
        argv.append("--no-profile")
    child = subprocess.Popen(argv, cwd=ROOT)
    STARTED.append(child)
    returncode = child.wait()
    STARTED.remove(child)
    if returncode or not out.exists():
        return {"failed": f"the Cognate pass exited with {returncode}"}
    return json.loads(out.read_text())


def search_pass(args, database: str) -> dict:
    """bench/search_users.py in a child process: seeding seconds, p50/p99 per query."""
    env = {**os.environ}
    env.pop("DATABASE_URL", None)
    if database:
        env["DATABASE_URL"] = database
    argv = [PYTHON, str(BENCH / "search_users.py"), "--users", str(args.users)]
    argv += ["--runs", str(args.search_runs), "--json"]
    returncode, stdout, stderr = _child(argv, env)
    if returncode:
        return {"failed": stderr[-500:]}
    return json.loads(stdout[stdout.find("{") :])


def _child(argv: list[str], env: dict | None = None) -> tuple[int, str, str]:
    """A child process the watchdog stops with the rest (output captured)."""
    child = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    STARTED.append(child)
    stdout, stderr = child.communicate()
    STARTED.remove(child)
    return child.returncode, stdout, stderr


def argon2_pass() -> dict:
    _, stdout, _ = _child([PYTHON, str(BENCH / "argon2_rate.py"), "--seconds", "3", "--json"])
    return json.loads(stdout[stdout.find("{") :])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="3 s per scenario, 20,000 search users"
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="wrk duration per scenario")
    parser.add_argument(
        "--connections", type=int, default=8, help="wrk connections (one thread each)"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument(
        "--slices",
        type=int,
        default=3,
        help="wrk runs sharing a single-request scenario's seconds, the median one reported",
    )
    parser.add_argument(
        "--only",
        type=lambda names: set(names.split(",")),
        default=set(),
        help="Cognate scenarios to run, comma-separated (e.g. initiate_auth,hosted_sign_in)",
    )
    parser.add_argument("--users", type=int, default=1_000_000, help="users of the search scenario")
    parser.add_argument("--search-runs", type=int, default=200)
    parser.add_argument("--codes", type=int, default=4000, help="authorization codes minted")
    parser.add_argument("--database", default="", help=argparse.SUPPRESS)
    parser.add_argument("--redis", default="", help=argparse.SUPPRESS)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cognate_bench"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--no-search", action="store_true")
    parser.add_argument(
        "--no-profile",
        dest="profile",
        action="store_false",
        help="skip the py-spy profile of refresh and JWKS",
    )
    parser.add_argument(
        "--server",
        choices=("gunicorn", "granian"),
        default="gunicorn",
        help="the server of every Django server in the run (Cognate, ceilings, DOT)",
    )
    parser.add_argument("--max-minutes", type=float, default=30.0, help="watchdog, whole run")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directories")
    parser.add_argument("--output", default=str(BENCH / "results.json"))
    parser.add_argument("--markdown", default=str(BENCH / "RESULTS.md"))
    parser.add_argument("--cognate-pass", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    SERVER["name"] = args.server
    if args.quick:
        args.seconds, args.users, args.search_runs, args.codes = 3.0, 20_000, 100, 1500

    if args.cognate_pass:
        start_watchdog(args.max_minutes)
        Path(args.cognate_pass).write_text(json.dumps(cognate_pass(args), indent=2))
        return 0

    # The watchdog: the whole run is bounded; on expiry every server started here is stopped
    # (each in its own session) and the run exits 3.
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="cognate-bench-run-"))
    watchdog = start_watchdog(args.max_minutes)
    report: dict = {
        "machine": machine_info(),
        "settings": {
            k: getattr(args, k)
            for k in (
                "seconds",
                "slices",
                "connections",
                "workers",
                "threads",
                "users",
                "quick",
                "server",
            )
        },
    }
    try:
        _say(f"machine: {report['machine']}")
        _say("argon2 verifications/s (configured parameters) ...")
        report["argon2"] = argon2_pass()
        _say("ceilings (bare Django) ...")
        report["ceilings"] = run_ceilings(args, scratch)
        report["peers"] = {}
        if not args.no_peers:
            _say("peer: node oidc-provider ...")
            report["peers"]["oidc-provider"] = run_oidc_provider(args, scratch)
            _say("peer: django-oauth-toolkit ...")
            report["peers"]["django-oauth-toolkit"] = run_dot(args, scratch)
        report["cognate"] = {}
        _say("Cognate on SQLite ...")
        report["cognate"]["sqlite"] = child_pass(args, "", "", scratch)
        # The references again, right after the pass they are compared with: on a shared VM
        # the host's speed drifts over minutes (a run measured argon2 at 79.9/s and sign-ins
        # five minutes later at the pace of a host a quarter slower). Ratios use the mean of
        # the two; bench/report.py prints how far each moved and the ratio against each.
        _say("argon2 and the ceilings again, after Cognate on SQLite ...")
        report["after_sqlite"] = {
            "argon2": argon2_pass(),
            "ceilings": run_ceilings(args, scratch),
        }
        why_not = (
            "--no-postgres" if args.no_postgres else postgres_answers(args.postgres, args.redis_url)
        )
        if not why_not:
            _say("Cognate on PostgreSQL + Redis ...")
            pg_args = argparse.Namespace(**{**vars(args), "profile": False})
            report["cognate"]["postgres"] = child_pass(
                pg_args, args.postgres, args.redis_url, scratch
            )
        else:
            report["cognate"]["postgres"] = {"skipped": f"PostgreSQL/Redis: {why_not}"}
        report["search"] = {}
        if not args.no_search:
            _say(f"user search at {args.users} users, SQLite ...")
            report["search"]["sqlite"] = search_pass(args, "")
            if not why_not:
                _say(f"user search at {args.users} users, PostgreSQL ...")
                report["search"]["postgres"] = search_pass(args, args.postgres)
        report["seconds"] = round(time.monotonic() - started, 1)
        from bench.report import markdown, ratios, table

        report["targets"] = ratios(report)
        text = table(report)
        _say("\n" + text)
        Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
        Path(args.markdown).write_text(markdown(report))
        _say(f"\nwrote {args.output} and {args.markdown} ({report['seconds']:.0f} s)")
        return 0
    finally:
        watchdog.cancel()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
