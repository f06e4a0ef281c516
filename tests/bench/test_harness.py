"""The bench harness's own pieces, quickly, so that `make bench` does not rot between runs:
every wrk lua script loads and checks answers, one 1-second scenario against a live server
(the bare-Django ceiling, served by the bench's own gunicorn command line), the peers' config
(skipped with the reason when a peer is not installed), the search seeder against the model,
and the report's verdicts. Figures are never asserted."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import types
import urllib.request
from pathlib import Path

import pytest

from bench import report as bench_report
from bench import run as bench

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
needs_wrk = pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bench")


@pytest.fixture(scope="module")
def ceiling(scratch):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.ceiling.settings"}
    env.pop("PYTHONPATH", None)
    server = bench.gunicorn(
        "ceiling",
        "bench.ceiling.wsgi:application",
        env=env,
        log=scratch / "ceiling.log",
        workers=1,
        threads=2,
    )
    server.start().wait_ready("/hello")
    yield server
    server.stop()


def one_second(server, script: str, args: list[str], scratch: Path, **kwargs) -> dict:
    return bench.wrk(
        server,
        script,
        args,
        seconds=1,
        connections=2,
        name=script,
        how="",
        scratch=scratch,
        **kwargs,
    )


@needs_wrk
def test_static_scenario_counts_requests_cpu_and_wrong_answers(ceiling, scratch):
    hello = bench.request_file(scratch, "GET", "/hello", {})
    good = one_second(ceiling, "static.lua", [hello, "200", "hello"], scratch)
    assert good["requests"] > 0
    assert good["errors"] == 0
    assert good["p50_ms"] > 0 and good["p99_ms"] >= good["p50_ms"]
    assert good["cpu_ms_per"] > 0  # read from the gunicorn processes' /proc/<pid>/stat
    # The same answers checked for a word they lack: every one is counted as wrong.
    wrong = one_second(ceiling, "static.lua", [hello, "200", "not-in-the-answer"], scratch)
    assert wrong["requests"] > 0
    assert wrong["error_detail"]["bad"] == wrong["requests"]
    assert ceiling.peak_rss_mb() > 0
    # The server floor: answered before Django, on the same server.
    null = bench.request_file(scratch, "GET", "/null", {})
    floor = one_second(ceiling, "static.lua", [null, "200", "null"], scratch)
    assert floor["requests"] > 0 and floor["errors"] == 0
    # The signing floors: one JWT (client_credentials), two (refresh).
    for path, word in (("/sign1", "access_token"), ("/sign2", "id_token")):
        signed = bench.request_file(scratch, "POST", path, {})
        signing = one_second(ceiling, "static.lua", [signed, "200", word], scratch)
        assert signing["requests"] > 0 and signing["errors"] == 0


@needs_wrk
def test_refresh_chain_sends_the_rotated_token_and_stops_on_a_refusal(ceiling, scratch):
    tokens = bench.lines_file(scratch, ["first-token", "second-token"])
    # /sign2 answers like a token endpoint (an id_token and a refresh_token): the chain goes on.
    chained = one_second(
        ceiling, "refresh_chain.lua", [tokens, "2", "/sign2", "Basic eDp5"], scratch
    )
    assert chained["requests"] > 2 and chained["errors"] == 0
    # /hello has no refresh token to chain: each connection counts one wrong answer and stops.
    broken = one_second(
        ceiling, "refresh_chain.lua", [tokens, "2", "/hello", "Basic eDp5"], scratch
    )
    assert broken["error_detail"]["bad"] == 2
    assert broken["requests"] <= 2


@needs_wrk
def test_single_use_values_are_spent_once_then_the_thread_stops(ceiling, scratch):
    codes = bench.lines_file(scratch, [f"code{i}" for i in range(6)])
    spent = one_second(
        ceiling,
        "single_use.lua",
        [codes, "2", "/sign2", "code={}", "200", "id_token", "X-Bench: 1"],
        scratch,
    )
    # Three values per thread, then the thread stops (unbounded, a second is hundreds).
    assert 0 < spent["requests"] <= 8
    assert spent["errors"] == 0


@needs_wrk
def test_rotate_and_code_flow_scripts_load_and_check(ceiling, scratch):
    bodies = bench.lines_file(scratch, ["a=1", "a=2"])
    rotated = one_second(
        ceiling,
        "rotate.lua",
        [bodies, "2", "POST", "/sign2", "200", "id_token", "application/x-www-form-urlencoded"],
        scratch,
    )
    assert rotated["requests"] > 0 and rotated["errors"] == 0
    # /hello never redirects with a code: every flow's first step is a wrong answer.
    cookies = bench.lines_file(scratch, ["session=a", "session=b"])
    flows = one_second(
        ceiling,
        "code_flow.lua",
        [cookies, "2", "/hello", "/sign2", "Basic eDp5", "https%3A%2F%2Frp"],
        scratch,
        per="flow",
    )
    assert flows["requests"] > 0
    assert flows["per_second"] == 0
    assert flows["error_detail"]["bad"] == flows["requests"]


def test_dot_peer_settings_pass_djangos_checks(tmp_path):
    pytest.importorskip("oauth2_provider", reason="django-oauth-toolkit is not installed")
    key = tmp_path / "key.pem"
    key.write_text(
        subprocess.run(
            ["openssl", "genrsa", "2048"], capture_output=True, text=True, check=True
        ).stdout
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.peers.dot.settings",
        "DOT_DATABASE": str(tmp_path / "dot.sqlite3"),
        "DOT_RSA_KEY_FILE": str(key),
    }
    env.pop("PYTHONPATH", None)
    minted = subprocess.run(
        [sys.executable, "-m", "bench.peers.dot.mint", str(tmp_path / "tokens"), "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert minted.returncode == 0, minted.stderr[-800:]
    assert set(json.loads(minted.stdout.splitlines()[-1])) == {"client_id", "client_secret"}
    assert len((tmp_path / "tokens").read_text().split()) == 2


def test_oidc_provider_peer_refreshes_with_rotation_and_issues_client_credentials(tmp_path):
    folder = ROOT / "bench" / "peers" / "oidc"
    if not shutil.which("node"):
        pytest.skip("node is not installed")
    if not (folder / "node_modules" / "oidc-provider").exists():
        pytest.skip("bench/peers/oidc has no node_modules (make bench runs npm ci there)")
    port = bench.free_port()
    url = f"http://127.0.0.1:{port}"
    server = bench.Service(
        "oidc-provider",
        ["node", "server.mjs", str(port), url, str(tmp_path / "tokens"), "1", f"--port={port}"],
        env={**os.environ, "NODE_ENV": "production"},
        cwd=folder,
        log=tmp_path / "oidc.log",
    )
    server.start()
    try:
        server.wait_ready("/.well-known/openid-configuration")
        token = (tmp_path / "tokens").read_text().split()[0]
        answer = _post(
            f"{url}/token",
            f"grant_type=refresh_token&refresh_token={token}",
            bench.basic("bench-app", "bench-app-secret-0123456789abcdef0123456789"),
        )
        assert answer["refresh_token"] != token  # rotated
        assert answer["id_token"].count(".") == 2
        assert answer["access_token"].count(".") == 2  # a JWT (resource indicator)
        service = _post(
            f"{url}/token",
            "grant_type=client_credentials&scope=api%3Aread",
            bench.basic("bench-service", "bench-service-secret-0123456789abcdef01234"),
        )
        assert service["access_token"].count(".") == 2
    finally:
        server.stop()


def _post(url: str, body: str, authorization: str) -> dict:
    request = urllib.request.Request(
        url,
        data=body.encode(),
        headers={
            "Authorization": authorization,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def test_search_seeder_writes_what_the_model_reads(tmp_path):
    """bench/search_users.py's raw INSERTs (COPY on PostgreSQL) against the current model: the
    searches find the seeded users, by email and by custom attribute."""
    env = {**os.environ}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "bench/search_users.py", "--users", "300", "--runs", "2", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-800:]
    found = json.loads(done.stdout[done.stdout.find("{") :])
    assert found["users"] == 300
    queries = found["queries"]
    assert queries["email = (exact)"]["rows"] == 1
    assert queries["username = (exact)"]["rows"] == 1
    assert queries["console: custom:tier = (many rows)"]["rows"] > 0
    assert "INDEX" in queries["email ^= (prefix, many rows)"]["plan"]


def test_report_gives_every_target_a_verdict():
    scenario = {"per_second": 100.0, "errors": 0}
    report = {
        "argon2": {
            "parameters": {"memory_kib": 19456, "time_cost": 2, "parallelism": 1},
            "runs": [
                {"threads": 1, "verifications_per_s": 10},
                {"threads": 2, "verifications_per_s": 20},
            ],
        },
        "ceilings": {"hello": {"per_second": 1000.0}, "sign2": {"per_second": 100.0}},
        "peers": {"oidc-provider": {"refresh": {"per_second": 200.0}}},
        "cognate": {
            "sqlite": {
                "scenarios": {"refresh": scenario, "jwks": {"per_second": 2000.0}},
                "peak_rss_mb_per_worker": 120.0,
            },
            "postgres": {"scenarios": {"refresh": {"per_second": 70.0}}},
        },
    }
    verdicts = {row["target"]: row for row in bench_report.ratios(report)}
    assert verdicts["refresh / bare Django signing two RS256 JWTs"]["verdict"] == "PASS"
    assert verdicts["refresh / oidc-provider refresh"]["value"] == 0.5
    assert verdicts["refresh / oidc-provider refresh"]["verdict"] == "MISS"
    assert verdicts["JWKS / bare Django hello"]["verdict"] == "PASS"
    assert verdicts["refresh / django-oauth-toolkit refresh"]["verdict"] == "n/a"
    assert verdicts["peak RSS per worker, SQLite"]["verdict"] == "PASS"
    assert verdicts["PostgreSQL + Redis / SQLite: refresh"]["verdict"] == "MISS"
    assert "| refresh / oidc-provider refresh | 0.50 | >= 1.0 | MISS |" in bench_report.markdown(
        report
    )
    assert "Server floor" not in bench_report.markdown(report)


def test_report_states_the_server_floor_and_the_most_a_hello_ratio_can_reach():
    report = {
        "ceilings": {
            "null": {"per_second": 9000.0, "cpu_ms_per": 0.16},
            "hello": {"per_second": 5000.0, "cpu_ms_per": 0.32},
        }
    }
    text = bench_report.markdown(report)
    assert "| bare WSGI (no Django) | null | 9,000.0 |" in text
    assert "costs 0.16 ms" in text and "more than 2.00 x hello by CPU" in text


def test_report_names_the_interpreter_build_where_the_run_recorded_it():
    built = {"python": "3.11.7", "python_build": "/usr/bin/python3.11, libpython linked in"}
    text = bench_report.markdown({"machine": built})
    assert "Python 3.11.7 (/usr/bin/python3.11, libpython linked in), Django" in text
    # results.json files written before the build was recorded still render.
    assert "Python 3.11.2, Django" in bench_report.markdown({"machine": {"python": "3.11.2"}})


@pytest.mark.skipif(not shutil.which("ldd"), reason="ldd is not installed")
def test_python_build_says_whether_libpython_is_shared_as_the_dynamic_linker_does():
    executable = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    linked = subprocess.run(["ldd", executable], capture_output=True, text=True).stdout
    build = bench.python_build()
    assert build.startswith(executable + ", libpython ")
    assert ("libpython shared" in build) == ("libpython" in linked)
    assert ("libpython linked in" in build) == ("libpython" not in linked)


def test_report_states_how_far_signing_alone_gets_against_the_node_peer():
    report = {
        "ceilings": {
            "sign1": {"per_second": 900.0, "cpu_ms_per": 1.0},
            "sign2": {"per_second": 600.0, "cpu_ms_per": 1.5},
        },
        "peers": {
            "oidc-provider": {
                "client_credentials": {"per_second": 1200.0, "cpu_ms_per": 0.8},
                "refresh": {"per_second": 600.0},
            }
        },
    }
    text = bench_report.markdown(report)
    assert "| bare Django | sign1 | 900.0 |" in text
    assert "signing one RS256 JWT answers 0.75 x its client_credentials (0.80 by CPU)" in text
    assert "signing two answers 1.00 x its refresh;" in text
    assert "Signing floor" not in bench_report.markdown({"ceilings": report["ceilings"]})


def test_profile_summary_ranks_self_time_and_cognates_frames(tmp_path):
    raw = tmp_path / "profile.txt"
    raw.write_text(
        "handle_request (gunicorn/workers/gthread.py:1);token (hostedui/views/oauth.py:2);"
        "sign (/venv/lib/python3.11/site-packages/jwt/algorithms.py:3) 3\n"
        "handle_request (gunicorn/workers/gthread.py:1);token (hostedui/views/oauth.py:2) 1\n"
        "select (selectors.py:4) 50\n"
    )
    summary = bench.summarize_profile([raw])
    assert summary["samples"] == 4  # the idle loop is not a request
    assert summary["self"][0] == ["sign (jwt/algorithms.py)", 75.0]
    assert summary["inclusive"] == [["token (hostedui/views/oauth.py)", 100.0]]


@needs_wrk
def test_a_single_request_scenario_runs_as_slices_of_whole_seconds(ceiling, scratch):
    args = types.SimpleNamespace(seconds=2.0, slices=2, connections=2)
    run = bench._runner(ceiling, args, scratch)
    hello = bench.request_file(scratch, "GET", "/hello", {})
    result = run("hello", "static.lua", [hello, "200", "hello"], "")
    assert len(result["slices"]) == 2 and result["errors"] == 0
    assert result["per_second"] == min(result["slices"])  # the lower of two


def test_only_leaves_out_the_scenarios_it_does_not_name(ceiling, scratch):
    args = types.SimpleNamespace(seconds=1.0, slices=1, connections=1)
    run = bench._runner(ceiling, args, scratch, only={"jwks"})
    hello = bench.request_file(scratch, "GET", "/hello", {})
    assert run("hello", "static.lua", [hello, "200", "hello"], "") is None
    assert run("warm-up", "static.lua", [hello, "200", "hello"], "", seconds=1)["errors"] == 0


def test_a_sliced_scenario_reports_its_median_run_and_every_slice():
    runs = [{"per_second": rate, "cpu_ms_per": rate / 100} for rate in (900.0, 300.0, 1000.0)]
    median = bench.median_slice(runs)
    assert median["per_second"] == 900.0 and median["cpu_ms_per"] == 9.0
    assert median["slices"] == [900.0, 300.0, 1000.0]
    assert bench.median_slice(runs[:2])["per_second"] == 300.0  # the lower of two
    assert bench.median_slice([runs[0]]) == runs[0]
    assert bench.median_slice([runs[0], {"failed": "wrk: gone"}]) == {"failed": "wrk: gone"}


@pytest.mark.skipif(not shutil.which("valgrind"), reason="valgrind is not installed")
@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="bench/instructions.py runs on its own SQLite file whatever DATABASE_URL says: "
    "the SQLite run of the suite ran this test",
)
def test_instructions_counts_only_the_requests_of_a_scenario():
    """bench/instructions.py: callgrind counts the scenario's requests, not the process's
    start, migrations and seeding (instrumented, those are hundreds of millions)."""
    done = _instructions_script("jwks", "--requests", "5")
    assert done.returncode == 0, done.stderr[-3000:]
    found = re.fullmatch(r"jwks: ([\d,]+) instructions per request \(5 requests\)\n", done.stdout)
    assert found, done.stdout
    assert 0 < int(found[1].replace(",", "")) < 5_000_000


def _instructions_script(
    scenario: str, *options: str, timeout: int = 900
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "bench/instructions.py", scenario, *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _served(scenario: str) -> int:
    done = _instructions_script(scenario, "--requests", "20", "--served")
    assert done.returncode == 0, done.stdout[-1000:] + done.stderr[-3000:]
    found = re.fullmatch(
        rf"{scenario}: ([\d,]+) instructions per request served \(20 requests\)\n", done.stdout
    )
    assert found, done.stdout
    return int(found[1].replace(",", ""))


@pytest.mark.skipif(not shutil.which("valgrind"), reason="valgrind is not installed")
@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="bench/instructions.py runs on its own SQLite file whatever DATABASE_URL says",
)
def test_served_instructions_count_the_worker_answering_over_http():
    """bench/instructions.py --served: a gunicorn worker under callgrind answers the requests
    over HTTP, and what it does for them is counted: the server's own work (the `null`
    ceiling, answered before Django, is hundreds of thousands of instructions: gunicorn
    parses, polls, checks and writes headers in Python), not the worker's start or the
    seeding (hundreds of millions). A kept JWKS answer costs its server floor and a little
    more; a bearer-token userInfo answer (read in the database, rendered) more still."""
    null = _served("null")
    assert 100_000 < null < 5_000_000
    jwks = _served("jwks")
    assert null < jwks < 5_000_000
    assert jwks < _served("userinfo") < 10_000_000


def _syscalls(scenario: str) -> dict[str, float]:
    done = _instructions_script(scenario, "--requests", "20", "--syscalls", timeout=600)
    if "Operation not permitted" in done.stderr:
        pytest.skip("strace may not attach to another process here (ptrace)")
    assert done.returncode == 0, done.stderr[-3000:]
    found = re.fullmatch(
        rf"{scenario}: [\d.]+ system calls per request \(20 requests\)(?:: (.*))?\n", done.stdout
    )
    assert found, done.stdout
    return {
        name: float(count)
        for name, count in (part.split() for part in (found[1] or "").split(", ") if part)
    }


@pytest.mark.skipif(not shutil.which("strace"), reason="strace is not installed")
@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="bench/instructions.py runs on its own SQLite file whatever DATABASE_URL says",
)
def test_syscalls_of_the_read_paths_write_nothing_and_open_nothing():
    """bench/instructions.py --syscalls counts the scenario's requests' system calls only
    (not the process's start and seeding, which open and write hundreds of files). A kept
    JWKS answer makes none; userInfo reads (SQLite's shared lock: two fcntl) and writes its
    log line, but writes no database page, syncs nothing and opens no file."""
    jwks = _syscalls("jwks")
    assert sum(jwks.values()) < 1, jwks
    user_info = _syscalls("userinfo")
    assert user_info.get("fcntl") == 2.0, user_info
    assert not {"pwrite64", "fdatasync", "fsync", "openat", "flock"} & set(user_info), user_info


@pytest.mark.skipif(not shutil.which("strace"), reason="strace is not installed")
@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="bench/instructions.py runs on its own SQLite file whatever DATABASE_URL says",
)
def test_the_code_flows_two_halves_are_counted_on_a_signed_in_browser_and_single_use_codes():
    """bench/instructions.py authorize and code_exchange: a browser signed in through the
    hosted login page in-process gets a 302 with a code on every authorize (the script fails
    on any other answer), and each minted code is spent once at the token endpoint (a code
    spent twice is refused, which fails the script). Authorize writes its code; the exchange
    writes more (the code's use, the new refresh family and token) and counts its client
    against the token endpoint's rate limit (the counter file's lock)."""
    authorize = _syscalls("authorize")
    exchange = _syscalls("code_exchange")
    assert authorize.get("pwrite64", 0) > 0, authorize
    assert exchange.get("pwrite64", 0) > authorize["pwrite64"], (authorize, exchange)
    assert exchange.get("flock") == 1.0, exchange


def test_references_measured_twice_give_ratios_against_their_mean_and_each():
    def argon2(all_cores: float) -> dict:
        return {
            "parameters": {"memory_kib": 19456, "time_cost": 2, "parallelism": 1},
            "runs": [
                {"threads": 1, "verifications_per_s": all_cores / 2},
                {"threads": 2, "verifications_per_s": all_cores},
            ],
        }

    report = {
        "argon2": argon2(80.0),
        "ceilings": {"hello": {"per_second": 4000.0, "cpu_ms_per": 0.4}},
        "after_sqlite": {
            "argon2": argon2(60.0),
            "ceilings": {"hello": {"per_second": 2000.0, "cpu_ms_per": 0.6}},
        },
        "cognate": {
            "sqlite": {
                "scenarios": {
                    "userinfo": {"per_second": 2100.0, "cpu_ms_per": 1.0},
                    "initiate_auth": {"per_second": 63.0},
                }
            }
        },
    }
    verdicts = {row["target"]: row for row in bench_report.ratios(report)}
    user_info = verdicts["userInfo / bare Django hello"]
    # Against the mean of the two hellos (3,000 req/s); in between, against each.
    assert (user_info["value"], user_info["verdict"]) == (0.7, "PASS")
    assert user_info["against_each"] == [0.53, 1.05]
    assert user_info["by_cpu"] == 0.5  # the mean CPU per hello: 0.5 ms
    sign_in = verdicts["InitiateAuth USER_PASSWORD_AUTH / argon2 verifications/s (all cores)"]
    assert (sign_in["value"], sign_in["against_each"]) == (0.9, [0.79, 1.05])
    text = bench_report.markdown(report)
    assert "| userInfo / bare Django hello | 0.70 (0.53 / 1.05) | >= 0.7 | PASS |" in text
    assert "hello 4,000.0 → 2,000.0 req/s (× 0.50)" in text
    assert "argon2 80.0 → 60.0 verifications/s (× 0.75)" in text
    assert "| bare Django, after Cognate (SQLite) | hello | 2,000.0 |" in text
    # One measurement: the ratio against it, no brackets, no drift.
    del report["after_sqlite"]
    single = bench_report.markdown(report)
    assert "| userInfo / bare Django hello | 0.53 | >= 0.7 | MISS |" in single
    assert "Drift" not in single
