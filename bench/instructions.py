"""Instructions per request of one hot path, counted by callgrind: what a change to a request's
own work costs, to a fraction of a percent, where wall-clock timings on a shared 2-core VM move
by ten percent within minutes (the host's noise, not the code's).

In-process, through config.wsgi.application as gunicorn calls it (no server, no sockets, so the
server's own floor is not counted): a scratch SQLite pool seeded as `make bench` seeds it, the
same N requests of the scenario each time, and callgrind's instrumentation switched on around
them only (callgrind_control), so Django's start, the migrations and the seeding are not
counted. Compare two commits' counts (`git stash`, run, `git stash pop`, run); never a count
with a timing. Two runs of the same code agreed within 0.1 % (repeat a run before trusting a
difference of a percent or two).

    .venv/bin/python bench/instructions.py userinfo [--requests 300]
    .venv/bin/python bench/instructions.py userinfo --syscalls   # the kernel's side (strace)

Scenarios: userinfo, getuser, refresh, client_credentials, jwks, discovery, initiate_auth,
authorize, code_exchange. The last two are the two halves of `make bench`'s code flow:
authorize is GET /oauth2/authorize of a browser signed in to the hosted UI (its session
cookie; answered 302 with a code), code_exchange the POST of such a code to the token endpoint
(codes minted beforehand, each spent once). initiate_auth (a USER_PASSWORD_AUTH sign-in,
the seeded users in turn) runs with argon2 at its cheapest (8 KiB, one pass): argon2's own
cost is the configured parameters', which bench/argon2_rate.py measures; what is counted here
is the rest of the sign-in, the part the sign-in target's 15 % margin is for. Needs valgrind.

callgrind counts the process's own instructions only. `--syscalls` runs the same child without
it and counts the system calls of the same requests with strace attached around them (SQLite's
page writes and locks, random bytes from the kernel, files opened): the part of a request's
CPU the instruction count leaves out. Needs strace.

`--served` counts what the in-process count leaves out on the other side: the server. The
child seeds and makes the same requests, but does not answer them: one gunicorn worker (the
bench's command line and config/gunicorn.py, 4 threads) runs under callgrind on the seeded
file, and the requests go to it over HTTP on 4 keep-alive connections; counted is everything
the worker process does for them (gunicorn's parsing, its poller and threads, the headers it
checks and writes, the app). `null` (a WSGI callable answering before Django), `hello` (the
bare Django view), `sign1` and `sign2` (views that only sign one and two RS256 JWTs) are the
bench's ceilings served the same way: the same-server references of `make bench`'s ratios,
counted instead of timed. (A count is not a time: RSA's instructions run at about 3.5 per
cycle, the interpreter's at about one.)

    .venv/bin/python bench/instructions.py hello --served
    .venv/bin/python bench/instructions.py ratios --requests 200   # every same-server target
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = (
    "userinfo",
    "getuser",
    "refresh",
    "client_credentials",
    "jwks",
    "discovery",
    "initiate_auth",
    "authorize",
    "code_exchange",
)
# The bench's ceilings (bench/ceiling), counted served only (--served): their requests.
CEILINGS = {
    "null": ("GET", "/null"),
    "hello": ("GET", "/hello"),
    "sign1": ("POST", "/sign1"),
    "sign2": ("POST", "/sign2"),
}
# `ratios`: make bench's same-server targets, each as (request, its ceiling, the bound on
# their req/s ratio), counted served.
SERVED_RATIOS = (
    ("jwks", "hello", 1.5),
    ("discovery", "hello", 1.5),
    ("userinfo", "hello", 0.7),
    ("getuser", "hello", 0.7),
    ("refresh", "sign2", 0.9),
    ("client_credentials", "sign1", None),
)
# --served: the worker's threads and the client's keep-alive connections.
SERVED_THREADS = 4
# initiate_auth's argon2 parameters (module docstring).
CHEAPEST_ARGON2 = {"ARGON2_MEMORY_KIB": "8", "ARGON2_TIME_COST": "1", "ARGON2_PARALLELISM": "1"}
HOST = "127.0.0.1"  # bench.run.HOST, which cognate_env allows
URL = f"http://{HOST}:8000"
WARM_UP = 20
# The environ key of the status a request must get (_environ, _call, _http_request).
EXPECT = "bench.expect"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=(*SCENARIOS, *CEILINGS, "ratios"))
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--dump",
        type=Path,
        help="keep callgrind's dump of the requests here (for callgrind_annotate --inclusive=yes)",
    )
    parser.add_argument(
        "--syscalls",
        action="store_true",
        help="count the requests' system calls with strace instead (the kernel work callgrind "
        "does not see: SQLite's page writes and locks, random bytes, files opened)",
    )
    parser.add_argument(
        "--served",
        action="store_true",
        help="count a gunicorn worker serving the requests over HTTP (the server included)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--write-requests", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.scenario, args.requests, args.write_requests)
    if args.scenario == "ratios":
        print(served_ratios(args.requests))
        return 0
    if args.served:
        count = count_served(args.scenario, args.requests)
        print(
            f"{args.scenario}: {count:,} instructions per request served ({args.requests} requests)"
        )
        return 0
    if args.scenario in CEILINGS:
        parser.error(f"{args.scenario} is counted served only (--served)")
    if args.syscalls:
        calls = count_syscalls(args.scenario, args.requests)
        each = ", ".join(f"{name} {count:.2f}" for name, count in calls.items())
        print(
            f"{args.scenario}: {sum(calls.values()):.2f} system calls per request "
            f"({args.requests} requests){': ' + each if each else ''}"
        )
        return 0
    count = count_instructions(args.scenario, args.requests, dump=args.dump)
    print(f"{args.scenario}: {count:,} instructions per request ({args.requests} requests)")
    return 0


def count_instructions(scenario: str, requests: int, dump: Path | None = None) -> int:
    """Run the child under callgrind and count the instructions of its requests only."""
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    scratch = Path(tempfile.mkdtemp(prefix="cognate-instructions-"))
    out = scratch / "callgrind.out"
    valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
    child_process = _start_child(
        [*valgrind, f"--callgrind-out-file={out}"], scenario, requests, scratch
    )
    try:
        _expect(child_process, "ready", scratch)
        _control("--instr=on", child_process.pid)
        _say(child_process, "go")
        _expect(child_process, "done", scratch)
        _control("--instr=off", child_process.pid)
        _control("--dump", child_process.pid)
        _say(child_process, "bye")
        child_process.wait(timeout=120)
    finally:
        if child_process.poll() is None:
            child_process.kill()
    dumps = sorted(scratch.glob("callgrind.out.*"), key=lambda path: path.stat().st_mtime)
    totals = re.search(r"^totals: (\d+)", dumps[-1].read_text(), re.MULTILINE) if dumps else None
    if totals is None:
        raise SystemExit(f"no callgrind dump in {scratch}")
    if dump is not None:
        shutil.copyfile(dumps[-1], dump)
    shutil.rmtree(scratch, ignore_errors=True)
    return int(totals[1]) // requests


def count_syscalls(scenario: str, requests: int) -> dict[str, float]:
    """Run the child, attach strace to every thread of it around its requests only, and count
    their system calls: name -> calls per request, most first. As deterministic as the
    instruction count: the same requests make the same calls."""
    if not shutil.which("strace"):
        raise SystemExit("strace is not installed (apt-get install strace)")
    scratch = Path(tempfile.mkdtemp(prefix="cognate-syscalls-"))
    out = scratch / "strace.out"
    child_process = _start_child([], scenario, requests, scratch)
    tracer = None
    try:
        _expect(child_process, "ready", scratch)
        tracer = subprocess.Popen(
            ["strace", "-f", "-c", "-o", str(out), "-p", str(child_process.pid)],
            stderr=subprocess.PIPE,
            text=True,
        )
        attached = tracer.stderr.readline()  # "strace: Process N attached"
        if "attached" not in attached:
            raise SystemExit(f"strace did not attach: {attached!r}")
        time.sleep(0.5)  # the process's other threads, attached after the first
        _say(child_process, "go")
        _expect(child_process, "done", scratch)
        tracer.send_signal(signal.SIGINT)  # detaches and writes the summary
        tracer.wait(timeout=60)
        _say(child_process, "bye")
        child_process.wait(timeout=120)
    finally:
        for process in (tracer, child_process):
            if process is not None and process.poll() is None:
                process.kill()
    counts = {}
    for line in out.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[3].isdigit() and parts[-1] != "total":
            counts[parts[-1]] = int(parts[3]) / requests
    shutil.rmtree(scratch, ignore_errors=True)
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def count_served(scenario: str, requests: int) -> int:
    """One gunicorn worker under callgrind answers the scenario's requests over HTTP; its
    instructions for them, per request (module docstring)."""
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    bench = _bench()
    scratch = Path(tempfile.mkdtemp(prefix="cognate-served-"))
    log = scratch / "server.log"
    if scenario in CEILINGS:
        method, path = CEILINGS[scenario]
        request = {"method": method, "path": path, "headers": {"Host": HOST}}
        batch = [request] * (requests + WARM_UP)
        server = bench.ceiling_server(log=log, workers=1, threads=SERVED_THREADS)
        ready = "/hello"
    else:
        env = _cognate_env(scratch, scenario)
        written = scratch / "requests.json"
        arguments = ("--write-requests", str(written))
        seeding = _start_child([], scenario, requests, scratch, arguments, env)
        if seeding.wait(timeout=600) or not written.exists():
            raise SystemExit(f"the child failed:\n{(scratch / 'child.log').read_text()[-3000:]}")
        batch = json.loads(written.read_text())
        server = bench.django_server(
            "served",
            "config.wsgi:application",
            env=env,
            log=log,
            workers=1,
            threads=SERVED_THREADS,
            cognate=True,
        )
        ready = "/healthz"
    valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
    # One dump file per process (the master and its forked worker); no worker timeout, as
    # everything runs tens of times slower under valgrind.
    server.argv = [
        *valgrind,
        f"--callgrind-out-file={scratch}/callgrind.%p",
        "--trace-children=yes",
        *server.argv,
        "--timeout",
        "0",
    ]
    try:
        server.start().wait_ready(ready, timeout=900)
        (worker,) = server.workers()
        _send(server.url, batch[requests:])  # warm-up: imports, the pool's key, connections
        _control("--instr=on", worker)
        _control("--zero", worker)
        _send(server.url, batch[:requests])
        _control("--dump", worker)
        _control("--instr=off", worker)
    finally:
        server.stop()
    # The worker's dumps: the one asked for above, and the one at its exit (instrumentation
    # off by then: nothing in it).
    totals = [
        int(found[1])
        for path in scratch.glob(f"callgrind.{worker}*")
        if (found := re.search(r"^totals: (\d+)", path.read_text(), re.MULTILINE))
    ]
    if not totals:
        raise SystemExit(f"no callgrind dump of the worker in {scratch}")
    shutil.rmtree(scratch, ignore_errors=True)
    return max(totals) // requests


def served_ratios(requests: int) -> str:
    """`make bench`'s same-server ratios as instruction counts (--served), a markdown table:
    each request's ceiling's count over its own (more than 1: fewer instructions than the
    ceiling). Deterministic where the timed ratios move by a quarter between runs on a shared
    VM, but a count is not a time (RSA's instructions are cheaper than the interpreter's)."""
    needed = dict.fromkeys(name for row in SERVED_RATIOS for name in row[:2])
    counts = {name: count_served(name, requests) for name in needed}
    null = count_served("null", requests)
    lines = [
        f"Served instructions per request ({requests} requests each, one gthread worker, "
        f"{SERVED_THREADS} connections); null (the server alone): {null:,}",
        "",
        "| request | instructions | ceiling | its instructions | ceiling / request "
        "| bound (req/s) |",
        "|---|---|---|---|---|---|",
    ]
    for name, ceiling, bound in SERVED_RATIOS:
        ratio = counts[ceiling] / counts[name]
        lines.append(
            f"| {name} | {counts[name]:,} | {ceiling} | {counts[ceiling]:,} | {ratio:.3f} "
            f"| {'-' if bound is None else f'>= {bound}'} |"
        )
    return "\n".join(lines)


def _http_request(environ: dict) -> dict:
    """A WSGI environ made by _environ as the HTTP request it stands for (JSON-ready)."""
    headers = {"Host": environ["HTTP_HOST"]}
    for key, value in environ.items():
        if key.startswith("HTTP_") and key != "HTTP_HOST":
            headers[key[5:].replace("_", "-").title()] = value
    if "CONTENT_TYPE" in environ:
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    body = environ["wsgi.input"].getvalue().decode("latin-1")
    query = environ["QUERY_STRING"]
    return {
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"] + (f"?{query}" if query else ""),
        "headers": headers,
        "body": body,
        "status": int(environ.get(EXPECT, "200")),
    }


def _send(url: str, batch: list[dict]) -> None:
    """The requests of `batch` over SERVED_THREADS keep-alive connections at once, each
    connection's share in turn; each must be answered 200."""
    address = urlsplit(url)

    def connection_share(share: list[dict]) -> None:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=900)
        try:
            for request in share:
                body = request.get("body") or None
                connection.request(
                    request["method"],
                    request["path"],
                    body=body.encode("latin-1") if body else None,
                    headers=request["headers"],
                )
                answer = connection.getresponse()
                content = answer.read()
                if answer.status != request.get("status", 200):
                    raise SystemExit(f"{request['path']}: {answer.status} {content[:300]!r}")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=SERVED_THREADS) as pool:
        shares = [batch[start::SERVED_THREADS] for start in range(SERVED_THREADS)]
        for done in [pool.submit(connection_share, share) for share in shares if share]:
            done.result()


def _start_child(
    wrapper: list[str],
    scenario: str,
    requests: int,
    scratch: Path,
    arguments: tuple = (),
    env: dict | None = None,
) -> subprocess.Popen:
    """This script as the child (`--child`), under `wrapper` (valgrind's command line, or
    nothing), with its log and its seeded SQLite file in `scratch`."""
    command = [sys.executable, str(Path(__file__).resolve()), scenario, f"--requests={requests}"]
    return subprocess.Popen(
        [*wrapper, *command, "--child", *arguments],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=(scratch / "child.log").open("w"),
        text=True,
        env=env or _cognate_env(scratch, scenario),
        cwd=ROOT,
    )


def _bench():
    """bench/run.py, the harness whose seeding, settings and server command line these
    counts share."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from bench import run

    return run


def _cognate_env(scratch: Path, scenario: str) -> dict:
    """Cognate's settings as `make bench` serves it (production, rate limits raised), on a
    SQLite file in `scratch`: the child's, and under --served the worker's too (one
    SECRET_KEY for both)."""
    env = {**_bench().cognate_env(scratch, URL, database="", redis=""), "PYTHONHASHSEED": "0"}
    for name in ("REDIS_URL", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    if scenario == "initiate_auth":
        env.update(CHEAPEST_ARGON2)
    return env


def _control(option: str, pid: int) -> None:
    subprocess.run(["callgrind_control", option, str(pid)], check=True, capture_output=True)


def _say(process: subprocess.Popen, word: str) -> None:
    process.stdin.write(word + "\n")
    process.stdin.flush()


def _expect(process: subprocess.Popen, word: str, scratch: Path) -> None:
    line = process.stdout.readline().strip()
    if line != word:
        log = (scratch / "child.log").read_text()[-3000:]
        raise SystemExit(f"expected {word!r} from the child, got {line!r}:\n{log}")


# --------------------------------------------------------------------------- the child


def child(scenario: str, count: int, write_requests: Path | None = None) -> int:
    """Seed, build the requests, warm up, then run them when the parent says go. With
    `write_requests` (--served): write them there as HTTP requests instead, and end."""
    bench = _bench()
    import django

    django.setup()
    from config.wsgi import application

    seeded = bench.seed_cognate(URL, users=8)
    make = _requests(application, seeded, bench, scenario, count + WARM_UP)
    if write_requests is not None:
        http = [_http_request(make(index)) for index in range(count + WARM_UP)]
        write_requests.write_text(json.dumps(http))
        return 0
    for index in range(WARM_UP):
        _call(application, make(count + index))
    batch = [make(index) for index in range(count)]
    print("ready", flush=True)
    sys.stdin.readline()
    for environ in batch:
        _call(application, environ)
    print("done", flush=True)
    sys.stdin.readline()
    return 0


def _environ(
    method: str,
    path: str,
    headers: dict | None = None,
    body: bytes = b"",
    *,
    query: str = "",
    expect: str = "200",
) -> dict:
    """A request as gunicorn hands it to the application; `expect`: the status it must get."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": HOST,
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": HOST,
        "HTTP_HOST": f"{HOST}:8000",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        EXPECT: expect,
    }
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    return environ


def _call(application, environ: dict, headers: dict | None = None) -> bytes:
    """The answer's body (its headers into `headers`); it must have the status the request
    expects."""
    seen = {}

    def start_response(status, answer_headers, exc_info=None):
        seen["status"], seen["headers"] = status, answer_headers

    chunks = application(environ, start_response)
    body = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    if not seen["status"].startswith(environ.get(EXPECT, "200")):
        raise SystemExit(f"{environ['PATH_INFO']}: {seen['status']} {body[:300]!r}")
    if headers is not None:
        for name, value in seen["headers"]:
            headers.setdefault(name.lower(), []).append(value)
    return body


def _requests(application, seeded, bench, scenario: str, needed: int):
    """What makes the scenario's request number `index` (refresh tokens are single-use)."""
    base = f"/{seeded.pool_id}"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    app_auth = _basic(seeded.app_id, seeded.app_secret)
    refresh_tokens = bench.mint_refresh_tokens(seeded, needed + 1)

    def token(data: dict, authorization: str) -> dict:
        headers = {**form, "Authorization": authorization}
        return _environ("POST", f"{base}/oauth2/token", headers, urlencode(data).encode())

    first = {"grant_type": "refresh_token", "refresh_token": refresh_tokens.pop()}
    access = json.loads(_call(application, token(first, app_auth)))["access_token"]
    json_api = {"Content-Type": "application/x-amz-json-1.1"}
    sign_in = {
        "AuthFlow": "USER_PASSWORD_AUTH",
        "ClientId": seeded.api_id,
        "AuthParameters": {"USERNAME": seeded.usernames[0], "PASSWORD": bench.PASSWORD},
    }
    target = "AWSCognitoIdentityProviderService."
    api_access = ""
    if scenario == "getuser":
        headers = {**json_api, "X-Amz-Target": target + "InitiateAuth"}
        answer = _call(application, _environ("POST", "/", headers, json.dumps(sign_in).encode()))
        api_access = json.loads(answer)["AuthenticationResult"]["AccessToken"]
    service_auth = _basic(seeded.service_id, seeded.service_secret)
    get_user = json.dumps({"AccessToken": api_access}).encode()
    query = bench.authorize_query(seeded)

    def authorize(cookie: str) -> dict:
        return _environ(
            "GET", f"{base}/oauth2/authorize", {"Cookie": cookie}, query=query, expect="302"
        )

    codes: list[str] = []
    if scenario in ("authorize", "code_exchange"):
        cookie = _hosted_session(application, bench, f"{base}/oauth2/authorize", query, seeded)
    if scenario == "code_exchange":
        for _ in range(needed):
            answer: dict = {}
            _call(application, authorize(cookie), answer)
            codes.append(re.search(r"[?&]code=([^&]+)", answer["location"][0])[1])
    return {
        "userinfo": lambda index: _environ(
            "GET", f"{base}/oauth2/userInfo", {"Authorization": f"Bearer {access}"}
        ),
        "getuser": lambda index: _environ(
            "POST", "/", {**json_api, "X-Amz-Target": target + "GetUser"}, get_user
        ),
        "refresh": lambda index: token(
            {"grant_type": "refresh_token", "refresh_token": refresh_tokens[index]}, app_auth
        ),
        "client_credentials": lambda index: token(
            {"grant_type": "client_credentials", "scope": "bench-api/read"}, service_auth
        ),
        "initiate_auth": lambda index: _environ(
            "POST",
            "/",
            {**json_api, "X-Amz-Target": target + "InitiateAuth"},
            json.dumps(
                _with_username(sign_in, seeded.usernames[index % len(seeded.usernames)])
            ).encode(),
        ),
        "authorize": lambda index: authorize(cookie),
        "code_exchange": lambda index: token(
            {
                "grant_type": "authorization_code",
                "code": codes[index],
                "redirect_uri": seeded.callback,
            },
            app_auth,
        ),
        "jwks": lambda index: _environ("GET", f"{base}/.well-known/jwks.json"),
        "discovery": lambda index: _environ("GET", f"{base}/.well-known/openid-configuration"),
    }[scenario]


def _hosted_session(application, bench, authorize_path: str, query: str, seeded) -> str:
    """The Cookie header of a browser signed in through the hosted login page (as
    bench.run.hosted_sign_in, in-process): authorize sends it to the login page, whose form
    it posts with the first seeded user's password."""
    jar: dict[str, str] = {}

    def visit(method: str, path: str, query: str, body: bytes = b"", expect: str = "200"):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        answer: dict = {}
        environ = _environ(method, path, headers, body, query=query, expect=expect)
        content = _call(application, environ, answer)
        for cookie in answer.get("set-cookie", []):
            name, value = cookie.split(";", 1)[0].strip().split("=", 1)
            jar[name] = value
        return answer, content

    answer, _ = visit("GET", authorize_path, query, expect="302")
    login = urlsplit(answer["location"][0])
    _, page = visit("GET", login.path, login.query)
    form = bench._Form()
    form.feed(page.decode())
    action = urlsplit(urljoin(f"{login.path}?{login.query}", form.action or ""))
    fields = {**form.fields, "username": seeded.usernames[0], "password": bench.PASSWORD}
    visit("POST", action.path, action.query, urlencode(fields).encode(), expect="302")
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def _with_username(sign_in: dict, username: str) -> dict:
    return {**sign_in, "AuthParameters": {**sign_in["AuthParameters"], "USERNAME": username}}


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


if __name__ == "__main__":
    sys.exit(main())
