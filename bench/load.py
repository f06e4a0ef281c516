"""Load harness: starts the real server and drives bounded loads at its hot paths.

    .venv/bin/python bench/load.py [--threads 4] [--requests 400] [--signins 60] [--quick]

What it does, all on 127.0.0.1 and all bounded (fixed request counts, a time cap per scenario,
a watchdog for the whole run):
1. A scratch SQLite database under /tmp (or DATABASE_URL when set: the bench then adds a pool
   named bench-… and an operator to that database, and deletes them at the end), migrated
   with `manage.py migrate`.
2. Seeds through the management commands: `createpool`, `createclient --secret`, `createuser
   --confirmed` (with --json), and bulk-inserts users for the search scenario with the ORM.
3. Starts gunicorn (config.wsgi, gthread workers) on a free port and waits for discovery.
4. Measures, in this process, the two costs that bound the hot paths: RSA-2048 signatures/s
   (cryptography) and argon2 verifications/s (bench/argon2_rate.py, the configured parameters).
5. Scenarios, each a fixed number of requests from a small thread pool, keep-alive sessions:
   discovery, JWKS, sign-in (authorize -> hosted login page -> POST credentials -> 302 with a
   code), code exchange, userInfo, token refresh, and user search twice: over HTTP through the
   operator console's search page (an operator signed in with password + TOTP), and in-process
   through pool.selectors.users.search, the query under that page.
6. Prints a table (req/s, p50, p99) with ratios to the baselines and writes bench/results.json.

The rate limits are raised for the bench's server (RATE_LIMIT_*) since the bench measures
throughput, not the limiter. No figure is asserted; a scenario whose endpoint is missing or
answers wrongly is reported as skipped or failed with the reason.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.wait_for_server import wait_for  # noqa: E402

PASSWORD = "Bench-Horse-9!"
HOST = "127.0.0.1"


# ---------------------------------------------------------------------------------------------
# Measuring


@dataclass
class Outcome:
    name: str
    how: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    first_error: str = ""
    skipped: str = ""

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank] * 1000

    def as_dict(self) -> dict:
        if self.skipped:
            return {"how": self.how, "skipped": self.skipped}
        return {
            "how": self.how,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "per_second": round(self.per_second, 1),
            "p50_ms": round(self.percentile(50), 2),
            "p99_ms": round(self.percentile(99), 2),
            "mean_ms": round(statistics.fmean(self.latencies) * 1000, 2) if self.latencies else 0,
            "first_error": self.first_error,
        }


def drive(
    name: str,
    how: str,
    operation: Callable[[int, int], None],
    *,
    count: int,
    threads: int,
    time_cap: float,
    session_factory: Callable[[], object] | None = None,
) -> Outcome:
    """Run `operation(worker_index, request_index)` `count` times over `threads` threads, or
    until `time_cap` seconds pass. Each call is timed; an exception counts as an error (the
    first one is kept for the report). Latencies are of successful calls only."""
    outcome = Outcome(name, how)
    lock = threading.Lock()
    issued = iter(range(count))
    deadline = time.perf_counter() + time_cap
    start_line = threading.Barrier(threads + 1)

    def work(worker: int) -> None:
        start_line.wait()
        while time.perf_counter() < deadline:
            with lock:
                index = next(issued, None)
            if index is None:
                return
            began = time.perf_counter()
            try:
                operation(worker, index)
            except Exception as error:  # noqa: BLE001 (reported, not hidden)
                with lock:
                    outcome.errors += 1
                    outcome.first_error = outcome.first_error or f"{type(error).__name__}: {error}"
            else:
                elapsed = time.perf_counter() - began
                with lock:
                    outcome.latencies.append(elapsed)
            with lock:
                outcome.requests += 1

    workers = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(threads)]
    for worker in workers:
        worker.start()
    start_line.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join(timeout=time_cap + 30)
    outcome.seconds = time.perf_counter() - started
    return outcome


def rsa2048_signatures_per_second(seconds: float = 1.5) -> float:
    """RS256 signatures/s with cryptography on one thread: the cost floor of issuing a JWT."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = b"x" * 700  # about the size of a header.payload pair of an ID token
    done = 0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline and done < 100_000:
        key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        done += 1
    return done / (time.perf_counter() - started)


# ---------------------------------------------------------------------------------------------
# The server under test


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Server:
    """A scratch environment and gunicorn serving config.wsgi on 127.0.0.1."""

    def __init__(self, *, workers: int, threads: int, keep: bool) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.scratch = Path(tempfile.mkdtemp(prefix="cognate-bench-"))
        self.keep = keep
        self.workers = workers
        self.threads = threads
        self.process: subprocess.Popen | None = None
        self.log = self.scratch / "server.log"
        self.env = {
            **os.environ,
            "COGNATE_VAR_DIR": str(self.scratch),
            "SECRET_KEY": secrets.token_urlsafe(40),
            "DEBUG": "0",
            "PUBLIC_URL": self.url,
            "ALLOWED_HOSTS": HOST,
            # Production settings refuse a development email backend (config/checks.py); the
            # bench sends no email, so an SMTP address that nothing listens on will do.
            "EMAIL_URL": "smtp://127.0.0.1:9",
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_PER_MINUTE": str(10**9),
            "RATE_LIMIT_TOKEN_PER_MINUTE": str(10**9),
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        self.env.pop("PYTHONPATH", None)

    @property
    def database(self) -> str:
        return self.env.get("DATABASE_URL") or f"sqlite:///{self.scratch / 'cognate.sqlite3'}"

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-2000:]}")
        return result.stdout

    def manage_json(self, *args: str) -> dict:
        output = self.manage(*args, "--json")
        start = output.find("{")
        return json.loads(output[start:])

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"{HOST}:{self.port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--worker-class",
                "gthread",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def cleanup(self) -> None:
        self.stop()
        if not self.keep:
            shutil.rmtree(self.scratch, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Seeding


def _pick(data: dict, *names: str) -> str:
    """The first of `names` present in `data` (or one level down), for the commands' --json."""
    for name in names:
        if data.get(name):
            return data[name]
    for value in data.values():
        if isinstance(value, dict):
            found = _pick(value, *names) if value else ""
            if found:
                return found
    raise KeyError(f"none of {names} in {data}")


@dataclass
class Seed:
    pool_id: str
    client_id: str
    client_secret: str
    callback: str
    usernames: list[str]
    search_prefix: str


def seed(server: Server, *, users: int, search_users: int) -> Seed:
    server.manage("migrate", "--noinput", "-v", "0")
    name = f"bench-{secrets.token_hex(3)}"
    pool_id = _pick(server.manage_json("createpool", name), "pool_id", "id", "Id")
    callback = f"{server.url}/bench/callback"
    client = server.manage_json(
        "createclient",
        pool_id,
        "bench-app",
        "--callback-url",
        callback,
        "--secret",
        "--flows",
        "code",
        "--scopes",
        "openid,email,profile",
    )
    client_id = _pick(client, "client_id", "ClientId", "id")
    client_secret = _pick(client, "client_secret", "ClientSecret", "secret")
    usernames = []
    for index in range(users):
        username = f"bench{index}"
        server.manage_json(
            "createuser",
            pool_id,
            username,
            "--password",
            PASSWORD,
            "--attr",
            f"email={username}@example.com",
            "--confirmed",
        )
        usernames.append(username)
    prefix = "searcher"
    if search_users:
        seed_search_users(pool_id, count=search_users, prefix=prefix)
    return Seed(pool_id, client_id, client_secret, callback, usernames, prefix)


def seed_search_users(pool_id: str, *, count: int, prefix: str) -> None:
    """Bulk-insert users for the search scenario (the ORM, one shared password hash: these
    users are searched, never signed in)."""
    from django.contrib.auth.hashers import make_password

    from pool.models import User, UserPool, UserStatus

    pool = UserPool.objects.get(pk=pool_id)
    password = make_password(PASSWORD)
    batch = []
    for index in range(count):
        username = f"{prefix}{index:06d}"
        batch.append(
            User(
                pool=pool,
                username=username,
                username_key=pool.normalize(username),
                status=UserStatus.CONFIRMED,
                email=f"{username}@example.com",
                email_verified=True,
                given_name=f"Given{index % 500}",
                family_name=f"Family{index % 997}",
                password=password,
            )
        )
    User.objects.bulk_create(batch, batch_size=1000)


def seed_operator() -> tuple[str, str, bytes]:
    """An operator (superuser) with a confirmed TOTP device, for the console's search page."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    username = f"bench-operator-{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(16)
    operator = get_user_model().objects.create_superuser(username, password=password)
    device = TOTPDevice.objects.create(user=operator, name="bench", confirmed=True)
    return username, password, device.bin_key


def remove_seeded(pool_id: str, operator: str) -> None:
    """On a DATABASE_URL that outlives the bench: delete the bench's pool and operator."""
    from django.contrib.auth import get_user_model

    from pool.models import UserPool

    if pool_id:
        UserPool.objects.filter(pk=pool_id).delete()
    if operator:
        get_user_model().objects.filter(username=operator).delete()
    print(f"removed the bench's pool {pool_id or '-'} and operator {operator or '-'}")


def setup_django(env: dict[str, str]) -> None:
    """Configure Django in this process against the bench's database and var dir."""
    for key in ("COGNATE_VAR_DIR", "SECRET_KEY", "DEBUG", "PUBLIC_URL", "EMAIL_URL", "LOG_LEVEL"):
        os.environ[key] = env[key]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


# ---------------------------------------------------------------------------------------------
# HTTP scenarios


class _Form(HTMLParser):
    """The first POST form of a page: its action and its input fields."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.types: dict[str, str] = {}
        self._inside = False
        self._done = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and not self._done and (attributes.get("method") or "").lower() == "post":
            self._inside = True
            self.action = attributes.get("action") or ""
        elif tag == "input" and self._inside and attributes.get("name"):
            kind = (attributes.get("type") or "text").lower()
            if kind in {"checkbox", "radio"} and "checked" not in attributes:
                return
            self.fields[attributes["name"]] = attributes.get("value") or ""
            self.types[attributes["name"]] = kind

    def handle_endtag(self, tag):
        if tag == "form" and self._inside:
            self._inside = False
            self._done = True


def _post_form(browser, page, values: dict[str, str], **kwargs):
    """Fill the page's first POST form with `values` (hidden fields kept) and submit it."""
    form = _Form()
    form.feed(page.text)
    if form.action is None:
        raise RuntimeError(f"no POST form on {page.url}")
    data = {**form.fields, **values}
    return browser.post(
        urljoin(page.url, form.action), data=data, headers={"Referer": page.url}, **kwargs
    )


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Bench:
    def __init__(self, server: Server, seeded: Seed, *, threads: int, time_cap: float) -> None:
        import requests

        self.requests = requests
        self.server = server
        self.seed = seeded
        self.threads = threads
        self.time_cap = time_cap
        self.issuer = f"{server.url}/{seeded.pool_id}"
        self.local = threading.local()
        self.codes: list[tuple[str, str]] = []  # (code, PKCE verifier)
        self.tokens: list[dict] = []
        self.lock = threading.Lock()

    def session(self):
        """One keep-alive session per worker thread."""
        if not hasattr(self.local, "session"):
            self.local.session = self.requests.Session()
        return self.local.session

    def _get(self, url: str, **kwargs):
        response = self.session().get(url, timeout=15, **kwargs)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} -> {response.status_code}")
        return response

    def discovery(self, worker: int, index: int) -> None:
        self._get(f"{self.issuer}/.well-known/openid-configuration").json()

    def jwks(self, worker: int, index: int) -> None:
        keys = self._get(f"{self.issuer}/.well-known/jwks.json").json()["keys"]
        if not keys:
            raise RuntimeError("JWKS lists no key")

    def sign_in(self, worker: int, index: int) -> None:
        """A browser's sign-in: authorize -> hosted login page -> POST credentials -> 302 to
        the callback with a code. A fresh cookie jar each time (a new visitor)."""
        browser = self.requests.Session()
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(8)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.seed.client_id,
                "redirect_uri": self.seed.callback,
                "scope": "openid email profile",
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        page = browser.get(f"{self.issuer}/oauth2/authorize?{query}", timeout=15)
        if page.status_code != 200:
            raise RuntimeError(f"authorize -> login page answered {page.status_code}")
        form = _Form()
        form.feed(page.text)
        if form.action is None:
            raise RuntimeError(f"no POST form on {page.url}")
        password_field = next((n for n, t in form.types.items() if t == "password"), "password")
        username_field = next(
            (n for n in form.fields if n.lower() in {"username", "email", "login"}), "username"
        )
        data = dict(form.fields)
        data[username_field] = self.seed.usernames[index % len(self.seed.usernames)]
        data[password_field] = PASSWORD
        answer = browser.post(
            urljoin(page.url, form.action),
            data=data,
            headers={"Referer": page.url, "Origin": self.server.url},
            allow_redirects=False,
            timeout=15,
        )
        location = answer.headers.get("Location", "")
        if answer.status_code not in (302, 303) or not location.startswith(self.seed.callback):
            raise RuntimeError(f"login POST -> {answer.status_code} {location[:120]!r}")
        params = parse_qs(urlparse(location).query)
        if params.get("state") != [state] or "code" not in params:
            raise RuntimeError(f"callback without code/state: {location[:160]!r}")
        with self.lock:
            self.codes.append((params["code"][0], verifier))

    def _token(self, data: dict) -> dict:
        response = self.session().post(
            f"{self.issuer}/oauth2/token",
            data=data,
            auth=(self.seed.client_id, self.seed.client_secret),
            timeout=15,
        )
        if response.status_code != 200:
            raise RuntimeError(f"token -> {response.status_code} {response.text[:160]}")
        return response.json()

    def exchange(self, worker: int, index: int) -> None:
        code, verifier = self.codes[index]
        tokens = self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.seed.callback,
                "code_verifier": verifier,
            }
        )
        if "access_token" not in tokens or "refresh_token" not in tokens:
            raise RuntimeError(f"token response lacks tokens: {sorted(tokens)}")
        with self.lock:
            self.tokens.append(tokens)

    def user_info(self, worker: int, index: int) -> None:
        access = self.tokens[index % len(self.tokens)]["access_token"]
        claims = self._get(
            f"{self.issuer}/oauth2/userInfo", headers={"Authorization": f"Bearer {access}"}
        ).json()
        if "sub" not in claims:
            raise RuntimeError(f"userInfo without sub: {claims}")

    def refresh(self, worker: int, index: int) -> None:
        """Each worker refreshes its own token family, keeping the rotated token."""
        chain = self.tokens[worker % len(self.tokens)]
        tokens = self._token(
            {"grant_type": "refresh_token", "refresh_token": chain["refresh_token"]}
        )
        if "access_token" not in tokens:
            raise RuntimeError(f"refresh response lacks an access token: {sorted(tokens)}")
        if tokens.get("refresh_token"):
            chain["refresh_token"] = tokens["refresh_token"]


def console_session(bench: Bench, operator: tuple[str, str, bytes]) -> dict[str, str]:
    """Sign an operator in to the console (password, then a TOTP code) and return the session
    cookies, which every client thread then sends."""
    from django_otp.oath import TOTP

    username, password, key = operator
    browser = bench.requests.Session()
    url = f"{bench.server.url}/console/login"
    page = browser.get(url, timeout=15)
    step = _post_form(browser, page, {"username": username, "password": password}, timeout=15)
    if "/console/otp" not in step.url:
        raise RuntimeError(f"console password step ended at {step.url} ({step.status_code})")
    done = _post_form(browser, step, {"token": f"{TOTP(key).token():06d}"}, timeout=15)
    if "/console/otp" in done.url or done.status_code != 200:
        raise RuntimeError(f"console TOTP step ended at {done.url} ({done.status_code})")
    return browser.cookies.get_dict()


def search_over_http(bench: Bench, cookies: dict[str, str], count: int):
    """The console's user search page (GET, the operator's session), equality and prefix."""
    prefix = bench.seed.search_prefix
    url = f"{bench.server.url}/console/pools/{bench.seed.pool_id}/users/"

    def search(worker: int, index: int) -> None:
        username = f"{prefix}{(index * 7919) % count:06d}"
        queries = [
            {"attribute": "email", "op": "^=", "value": username[:-1]},
            {"attribute": "username", "op": "=", "value": username},
        ]
        session = bench.session()
        session.cookies.update(cookies)
        response = session.get(url, params=queries[index % 2], timeout=15)
        if response.status_code != 200 or username[:-1] not in response.text:
            raise RuntimeError(f"console search -> {response.status_code}, {username} not listed")

    return search


def search_in_process(pool_id: str, prefix: str, count: int) -> Callable[[int, int], None]:
    """Equality and prefix searches that each match at least one of the `count` seeded users."""
    from pool.models import UserPool
    from pool.selectors import users
    from pool.selectors.users import UserFilter

    pool = UserPool.objects.get(pk=pool_id)

    def search(worker: int, index: int) -> None:
        username = f"{prefix}{(index * 7919) % count:06d}"
        # The console's structured filters (the pool's case rule), as its search page sends.
        filters = [
            UserFilter("email", "^=", username[:-1]),
            UserFilter("username", "=", username),
            UserFilter("family_name", "^=", f"Family{index % min(count, 97)}"),
        ]
        page = users.search(pool, filter=filters[index % 3], limit=60)
        if not page.users:
            raise RuntimeError(f"search found nothing for {filters[index % 3]}")

    return search


# ---------------------------------------------------------------------------------------------
# Report


def ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if numerator and denominator else None


def print_report(report: dict) -> None:
    base = report["baselines"]
    print()
    print(
        f"server: gunicorn {report['server']['workers']} worker(s) x "
        f"{report['server']['threads']} threads, {report['server']['database']}; "
        f"client: {report['client_threads']} threads; {report['cores']} cores"
    )
    print(
        f"baselines (this process): RSA-2048 signatures/s {base['rsa2048_signatures_per_s']:.0f} "
        f"(1 thread); argon2 verifications/s {base['argon2_verifications_per_s_1_thread']:.1f} "
        f"(1 thread), {base['argon2_verifications_per_s_all_cores']:.1f} (all cores)"
    )
    print()
    header = ("scenario", "requests", "errors", "req/s", "p50 ms", "p99 ms")
    print("{:<16} {:>8} {:>6} {:>9} {:>9} {:>9}".format(*header))
    for name, row in report["scenarios"].items():
        if "skipped" in row:
            print(f"{name:<16} skipped: {row['skipped']}")
            continue
        print(
            f"{name:<16} {row['requests']:>8} {row['errors']:>6} {row['per_second']:>9.1f} "
            f"{row['p50_ms']:>9.2f} {row['p99_ms']:>9.2f}"
        )
        if row["first_error"]:
            print(f"{'':<16} first error: {row['first_error'][:150]}")
    print()
    for name, value in report["ratios"].items():
        print(f"{name}: {value if value is not None else 'n/a'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument("--requests", type=int, default=400, help="requests per cheap scenario")
    parser.add_argument("--signins", type=int, default=60, help="sign-ins (and code exchanges)")
    parser.add_argument("--refreshes", type=int, default=200)
    parser.add_argument("--users", type=int, default=4, help="users created with createuser")
    parser.add_argument("--search-users", type=int, default=5000)
    parser.add_argument("--time-cap", type=float, default=30.0, help="seconds per scenario")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="watchdog, whole run")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="gunicorn")
    parser.add_argument("--server-threads", type=int, default=4, help="gunicorn threads")
    parser.add_argument("--quick", action="store_true", help="a tenth of the counts")
    parser.add_argument("--keep", action="store_true", help="keep the scratch dir")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results.json"))
    args = parser.parse_args()
    if args.quick:
        args.requests, args.signins, args.refreshes = 40, 8, 20
        args.search_users = 500

    server = Server(workers=args.workers, threads=args.server_threads, keep=args.keep)
    created_pool = created_operator = ""
    watchdog = threading.Timer(args.max_seconds, lambda: (server.stop(), os._exit(3)))
    watchdog.daemon = True
    watchdog.start()
    try:
        print(f"scratch: {server.scratch}  database: {server.database}")
        setup_django(server.env)
        started = time.perf_counter()
        seeded = seed(server, users=args.users, search_users=args.search_users)
        created_pool = seeded.pool_id
        print(
            f"seeded pool {seeded.pool_id}, client {seeded.client_id}, {len(seeded.usernames)} "
            f"users + {args.search_users} search users in {time.perf_counter() - started:.1f}s"
        )

        operator = seed_operator()
        created_operator = operator[0]
        rsa_rate = rsa2048_signatures_per_second()
        from bench.argon2_rate import measure

        argon2 = measure(seconds=2.0)
        argon2_runs = {run["threads"]: run for run in argon2["runs"]}
        argon2_one = argon2_runs[1]["verifications_per_s"]
        argon2_all = argon2_runs[max(argon2_runs)]["verifications_per_s"]

        server.start()
        if not wait_for(f"{server.url}/{seeded.pool_id}/.well-known/openid-configuration"):
            raise RuntimeError(f"the server did not answer; see {server.log}")
        bench = Bench(server, seeded, threads=args.threads, time_cap=args.time_cap)
        # Warm-up, not measured: every worker process imports its lazy parts (URL resolver,
        # templates, the pool's signing key) before the first timed request.
        warm = 4 * args.workers * args.server_threads
        drive("warm-up", "", bench.discovery, count=warm, threads=args.threads, time_cap=30)
        drive("warm-up", "", bench.jwks, count=warm, threads=args.threads, time_cap=30)
        common = {"threads": args.threads, "time_cap": args.time_cap}
        outcomes: dict[str, Outcome] = {}

        def run(name: str, how: str, operation, count: int, needs: str = "") -> None:
            if needs:
                outcomes[name] = Outcome(name, how, skipped=needs)
            else:
                outcomes[name] = drive(name, how, operation, count=count, **common)
            print(f"  {name}: done", flush=True)

        discovery = "GET /{pool}/.well-known/openid-configuration"
        run("discovery", discovery, bench.discovery, args.requests)
        run("jwks", "GET /{pool}/.well-known/jwks.json", bench.jwks, args.requests)
        run(
            "sign-in",
            "GET authorize -> login page, POST credentials -> 302 code (new visitor each)",
            bench.sign_in,
            args.signins,
        )
        run(
            "code-exchange",
            "POST /{pool}/oauth2/token authorization_code + PKCE, client_secret_basic",
            bench.exchange,
            len(bench.codes),
            "" if bench.codes else "no codes: sign-in did not succeed",
        )
        run(
            "userinfo",
            "GET /{pool}/oauth2/userInfo with a bearer access token",
            bench.user_info,
            args.requests,
            "" if bench.tokens else "no access tokens: code exchange did not succeed",
        )
        run(
            "refresh",
            "POST /{pool}/oauth2/token refresh_token (rotated; one family per client thread)",
            bench.refresh,
            args.refreshes,
            "" if len(bench.tokens) >= args.threads else "too few refresh tokens",
        )
        try:
            cookies, no_console = console_session(bench, operator), ""
        except Exception as error:  # noqa: BLE001 (reported as the scenario's skip reason)
            cookies, no_console = {}, f"console sign-in failed: {error}"
        run(
            "search-http",
            f"GET /console/pools/{{pool}}/users/?attribute=…&op=…&value=… over "
            f"{args.search_users} users (operator session, = and ^=)",
            search_over_http(bench, cookies, max(args.search_users, 1)),
            args.requests,
            no_console or ("" if args.search_users else "--search-users 0"),
        )
        server.stop()
        run(
            "search-selector",
            f"in-process pool.selectors.users.search over {args.search_users} users "
            "(= and ^= filters), the query under the console's search page",
            search_in_process(seeded.pool_id, seeded.search_prefix, max(args.search_users, 1)),
            args.requests,
            "" if args.search_users else "--search-users 0",
        )

        rate = {name: outcome.per_second for name, outcome in outcomes.items()}
        report = {
            "cores": os.cpu_count(),
            "client_threads": args.threads,
            "server": {
                "workers": args.workers,
                "threads": args.server_threads,
                "database": "PostgreSQL" if "postgres" in server.database else "SQLite (scratch)",
            },
            "baselines": {
                "rsa2048_signatures_per_s": round(rsa_rate, 1),
                "argon2_parameters": argon2["parameters"],
                "argon2_verifications_per_s_1_thread": argon2_one,
                "argon2_verifications_per_s_all_cores": argon2_all,
            },
            "scenarios": {name: outcome.as_dict() for name, outcome in outcomes.items()},
            "ratios": {
                "refresh req/s / RSA-2048 signatures/s (1 thread)": ratio(
                    rate.get("refresh", 0), rsa_rate
                ),
                "code-exchange req/s / RSA-2048 signatures/s (1 thread)": ratio(
                    rate.get("code-exchange", 0), rsa_rate
                ),
                "sign-in/s / argon2 verifications/s (all cores)": ratio(
                    rate.get("sign-in", 0), argon2_all
                ),
                "refresh req/s / JWKS req/s": ratio(rate.get("refresh", 0), rate.get("jwks", 0)),
                "userinfo req/s / JWKS req/s": ratio(rate.get("userinfo", 0), rate.get("jwks", 0)),
            },
        }
        print_report(report)
        Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwrote {args.output}")
        failed = [n for n, o in outcomes.items() if not o.skipped and o.errors]
        return 1 if failed else 0
    finally:
        watchdog.cancel()
        server.cleanup()
        if server.env.get("DATABASE_URL"):
            remove_seeded(created_pool, created_operator)


if __name__ == "__main__":
    sys.exit(main())
