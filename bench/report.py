"""The targets of issue 15 as same-run ratios, and the tables bench/run.py prints and writes
(bench/RESULTS.md, pasted into the README). Pure functions of the report dict."""

from __future__ import annotations

SCENARIOS = (
    "discovery",
    "jwks",
    "userinfo",
    "getuser",
    "refresh",
    "client_credentials",
    "code_exchange",
    "code_flow",
    "hosted_sign_in",
    "initiate_auth",
)
RSS_LIMIT_MB = 150
SEARCH_P99_MS = 20
SEED_SECONDS = 600  # "minutes, not hours"
PG_VS_SQLITE = 0.8


def _rate(section: dict | None, name: str) -> float | None:
    row = (section or {}).get(name) or {}
    return row.get("per_second") or None


def _argon2_all_cores(section: dict | None) -> float | None:
    runs = (section or {}).get("runs") or []
    return max(runs, key=lambda r: r["threads"])["verifications_per_s"] if runs else None


def _after(report: dict) -> dict:
    """The references measured again right after Cognate's SQLite pass (bench/run.py)."""
    return report.get("after_sqlite") or {}


def _mean_row(before: dict | None, after: dict | None) -> dict | None:
    """A reference scenario's row for the ratios: the mean req/s and CPU ms per request of its
    two measurements (before Cognate's passes and after the SQLite one), or the one there is."""
    if not before or not after or not before.get("per_second") or not after.get("per_second"):
        return before or after
    row = {"per_second": (before["per_second"] + after["per_second"]) / 2}
    if before.get("cpu_ms_per") and after.get("cpu_ms_per"):
        row["cpu_ms_per"] = (before["cpu_ms_per"] + after["cpu_ms_per"]) / 2
    return row


def _references(report: dict) -> dict:
    """The ceilings' rows as the ratios use them (each the mean of its two measurements)."""
    before, after = report.get("ceilings") or {}, _after(report).get("ceilings") or {}
    return {
        name: _mean_row(row, after.get(name)) if isinstance(row, dict) else row
        for name, row in before.items()
    }


def _span(report: dict, name: str) -> tuple[float, float] | None:
    """The two measurements of reference `name` (a ceiling, or "argon2"), when there are two."""
    after = _after(report)
    if name == "argon2":
        pair = (_argon2_all_cores(report.get("argon2")), _argon2_all_cores(after.get("argon2")))
    else:
        pair = tuple(
            ((section or {}).get(name) or {}).get("per_second")
            for section in (report.get("ceilings"), after.get("ceilings"))
        )
    return pair if all(pair) else None


def _search_rows(search: dict | None) -> list[tuple[str, dict]]:
    queries = (search or {}).get("queries") or {}
    return [(name, row) for name, row in queries.items() if "email ^=" in name]


def ratios(report: dict) -> list[dict]:
    """Every target: its name, measured value, the bound, PASS/MISS (or n/a with why)."""
    sqlite = (report.get("cognate") or {}).get("sqlite", {}).get("scenarios")
    postgres = (report.get("cognate") or {}).get("postgres", {}).get("scenarios")
    ceilings = _references(report)
    peers = report.get("peers") or {}
    oidc = peers.get("oidc-provider") or {}
    dot = peers.get("django-oauth-toolkit") or {}
    argon2_span = _span(report, "argon2")
    argon2 = sum(argon2_span) / 2 if argon2_span else _argon2_all_cores(report.get("argon2"))
    rows: list[dict] = []

    def ratio(name: str, numerator, denominator, bound: float, cpu: tuple = (), span=None) -> None:
        """`cpu`: the two scenarios' rows, for the same ratio computed from server CPU ms per
        request (how many requests a core-second buys), which a busy machine skews less.
        `span`: the denominator's two measurements (it is their mean), for the ratio against
        each."""
        by_cpu = None
        if cpu:
            mine, theirs = ((section or {}).get(key) or {} for section, key in cpu)
            if mine.get("cpu_ms_per") and theirs.get("cpu_ms_per"):
                by_cpu = round(theirs["cpu_ms_per"] / mine["cpu_ms_per"], 2)
        if not numerator or not denominator:
            rows.append(
                {
                    "target": name,
                    "value": None,
                    "by_cpu": by_cpu,
                    "bound": f">= {bound}",
                    "verdict": "n/a",
                }
            )
            return
        value = round(numerator / denominator, 2)
        verdict = "PASS" if value >= bound else "MISS"
        row = {
            "target": name,
            "value": value,
            "by_cpu": by_cpu,
            "bound": f">= {bound}",
            "verdict": verdict,
        }
        if span:
            row["against_each"] = [round(numerator / measured, 2) for measured in span]
        rows.append(row)

    def at_most(name: str, value, bound: float, unit: str) -> None:
        if value is None:
            rows.append(
                {"target": name, "value": None, "bound": f"<= {bound} {unit}", "verdict": "n/a"}
            )
            return
        verdict = "PASS" if value <= bound else "MISS"
        rows.append(
            {"target": name, "value": value, "bound": f"<= {bound} {unit}", "verdict": verdict}
        )

    refresh = _rate(sqlite, "refresh")
    mine = (sqlite, "refresh")
    ratio(
        "refresh / bare Django signing two RS256 JWTs",
        refresh,
        _rate(ceilings, "sign2"),
        0.9,
        (mine, (ceilings, "sign2")),
        _span(report, "sign2"),
    )
    ratio(
        "refresh / oidc-provider refresh",
        refresh,
        _rate(oidc, "refresh"),
        1.0,
        (mine, (oidc, "refresh")),
    )
    ratio(
        "refresh / django-oauth-toolkit refresh",
        refresh,
        _rate(dot, "refresh"),
        10,
        (mine, (dot, "refresh")),
    )
    ratio(
        "client_credentials / oidc-provider client_credentials",
        _rate(sqlite, "client_credentials"),
        _rate(oidc, "client_credentials"),
        1.0,
        ((sqlite, "client_credentials"), (oidc, "client_credentials")),
    )
    hello = _rate(ceilings, "hello")
    hello_span = _span(report, "hello")
    ratio(
        "JWKS / bare Django hello",
        _rate(sqlite, "jwks"),
        hello,
        1.5,
        ((sqlite, "jwks"), (ceilings, "hello")),
        hello_span,
    )
    ratio(
        "discovery / bare Django hello",
        _rate(sqlite, "discovery"),
        hello,
        1.5,
        ((sqlite, "discovery"), (ceilings, "hello")),
        hello_span,
    )
    ratio(
        "userInfo / bare Django hello",
        _rate(sqlite, "userinfo"),
        hello,
        0.7,
        ((sqlite, "userinfo"), (ceilings, "hello")),
        hello_span,
    )
    ratio(
        "GetUser (JSON API) / bare Django hello",
        _rate(sqlite, "getuser"),
        hello,
        0.7,
        ((sqlite, "getuser"), (ceilings, "hello")),
        hello_span,
    )
    ratio(
        "hosted sign-in / argon2 verifications/s (all cores)",
        _rate(sqlite, "hosted_sign_in"),
        argon2,
        0.85,
        span=argon2_span,
    )
    ratio(
        "InitiateAuth USER_PASSWORD_AUTH / argon2 verifications/s (all cores)",
        _rate(sqlite, "initiate_auth"),
        argon2,
        0.85,
        span=argon2_span,
    )
    flows = _rate(sqlite, "code_flow")
    rows.append(
        {
            "target": "complete code flows/s (SQLite)",
            "value": flows,
            "bound": ">= 300",
            "verdict": "n/a" if flows is None else ("PASS" if flows >= 300 else "MISS"),
        }
    )
    for database in ("sqlite", "postgres"):
        search = (report.get("search") or {}).get(database)
        found = _search_rows(search)
        label = "SQLite" if database == "sqlite" else "PostgreSQL"
        users = (search or {}).get("users")
        worst = max((row["p99_ms"] for _, row in found), default=None)
        at_most(
            f"search by email prefix p99 at {users or '?'} users, {label}",
            worst,
            SEARCH_P99_MS,
            "ms",
        )
        at_most(
            f"seeding {users or '?'} users, {label}",
            (search or {}).get("seed_seconds"),
            SEED_SECONDS,
            "s",
        )
    for database, section in (("SQLite", "sqlite"), ("PostgreSQL + Redis", "postgres")):
        rss = (report.get("cognate") or {}).get(section, {}).get("peak_rss_mb_per_worker")
        at_most(f"peak RSS per worker, {database}", rss, RSS_LIMIT_MB, "MB")
    if postgres:
        for name in SCENARIOS:
            ratio(
                f"PostgreSQL + Redis / SQLite: {name}",
                _rate(postgres, name),
                _rate(sqlite, name),
                PG_VS_SQLITE,
                ((postgres, name), (sqlite, name)),
            )
    return rows


def _against_each(target: dict) -> str:
    """A ratio against each of its reference's two measurements, after the one against their
    mean."""
    each = target.get("against_each")
    return f" ({_fmt(each[0], 2)} / {_fmt(each[1], 2)})" if each else ""


def _drift(report: dict) -> str:
    """How far the references moved between their two measurements (bench/run.py: before
    Cognate's passes, and right after its SQLite pass)."""
    moved = []
    for name, unit in (("hello", "req/s"), ("sign2", "req/s"), ("argon2", "verifications/s")):
        span = _span(report, name)
        if span:
            first, second = span
            moved.append(f"{name} {_fmt(first)} → {_fmt(second)} {unit} (× {second / first:.2f})")
    if not moved:
        return ""
    return (
        "Drift: the references were measured before Cognate's passes and again right after "
        "its SQLite pass: " + ", ".join(moved) + ". Ratios against them use the mean of the "
        "two; in brackets, the ratio against the first and against the second alone (where "
        "they straddle a bound, the verdict is the host's as much as the code's)."
    )


def _server_floor(report: dict) -> str:
    """What the server costs before any application code, and so the most any "/ hello" ratio
    can reach on it: an answer that cost nothing of ours would still cost the floor."""
    ceilings = _references(report)
    null = (ceilings.get("null") or {}).get("cpu_ms_per")
    hello = (ceilings.get("hello") or {}).get("cpu_ms_per")
    if not null or not hello:
        return ""
    return (
        f"Server floor: a WSGI callable answering before Django costs {null:.2f} ms of server "
        f"CPU per request on this server, the bare Django hello {hello:.2f} ms; no answer can "
        f"reach more than {hello / null:.2f} x hello by CPU here."
    )


def _signing_floor(report: dict) -> str:
    """How far the bare Django views that only sign (one JWT, two) get against oidc-provider's
    client_credentials and refresh in the same run: no Django view on this server that signs
    as much can do better, so the peer ratios of client_credentials and refresh are bounded by
    these."""
    ceilings = _references(report)
    oidc = (report.get("peers") or {}).get("oidc-provider") or {}
    parts = []
    for ceiling, grant, what in (
        ("sign1", "client_credentials", "one RS256 JWT"),
        ("sign2", "refresh", "two"),
    ):
        mine, theirs = ceilings.get(ceiling) or {}, oidc.get(grant) or {}
        if not mine.get("per_second") or not theirs.get("per_second"):
            continue
        by_rate = mine["per_second"] / theirs["per_second"]
        by_cpu = ""
        if mine.get("cpu_ms_per") and theirs.get("cpu_ms_per"):
            by_cpu = f" ({theirs['cpu_ms_per'] / mine['cpu_ms_per']:.2f} by CPU)"
        parts.append(f"signing {what} answers {by_rate:.2f} x its {grant}{by_cpu}")
    if not parts:
        return ""
    return (
        "Signing floor: against oidc-provider in this run, a bare Django view "
        + " and ".join(parts)
        + "; no Django view on this server that signs as much can do better."
    )


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _scenario_rows(report: dict) -> list[list[str]]:
    rows = []
    cognate = report.get("cognate") or {}
    for database, label in (("sqlite", "SQLite"), ("postgres", "PG+Redis")):
        section = cognate.get(database) or {}
        if "scenarios" not in section:
            rows.append(
                [
                    f"Cognate ({label})",
                    "-",
                    section.get("skipped") or section.get("failed", "-"),
                    "",
                    "",
                    "",
                    "",
                    "",
                ]
            )
            continue
        for name in SCENARIOS:
            rows.append(_row(f"Cognate ({label})", name, section["scenarios"].get(name)))
    for ceilings, when in (
        (report.get("ceilings") or {}, ""),
        (_after(report).get("ceilings"), ", after Cognate (SQLite)"),
    ):
        if ceilings is None:
            continue
        if ceilings.get("null"):
            rows.append(_row(f"bare WSGI (no Django){when}", "null", ceilings["null"]))
        for name in ("hello", "sign1", "sign2"):
            if name in ceilings or name != "sign1":
                rows.append(_row(f"bare Django{when}", name, ceilings.get(name)))
    for peer, section in (report.get("peers") or {}).items():
        if "skipped" in section:
            rows.append([peer, "-", section["skipped"], "", "", "", "", ""])
            continue
        for name in ("refresh", "client_credentials", "jwks"):
            if name in section:
                rows.append(
                    _row(f"{peer} {section.get('version', '')}".strip(), name, section[name])
                )
    return rows


def _row(server: str, name: str, row: dict | None) -> list[str]:
    if not row:
        return [server, name, "-", "", "", "", "", ""]
    if "failed" in row:
        return [server, name, row["failed"][:80], "", "", "", "", ""]
    unit = " flows/s" if row.get("unit") == "flows/s" else ""
    return [
        server,
        name,
        f"{row.get('per_second') or 0:,.1f}{unit}",
        _fmt(row.get("p50_ms"), 2),
        _fmt(row.get("p99_ms"), 2),
        _fmt(row.get("cpu_ms_per"), 2),
        str(row.get("errors", "-")),
        str(row.get("requests", "-")),
    ]


def _grid(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _machine(report: dict) -> str:
    m = report.get("machine") or {}
    s = report.get("settings") or {}
    return (
        f"{m.get('cores')} cores, {m.get('cpu')}, {m.get('memory')}, {m.get('kernel')}; "
        f"Python {m.get('python')}{_build(m)}, Django {m.get('django')}, node {m.get('node')}, "
        f"{m.get('wrk')}; "
        f"gunicorn {s.get('workers')} workers x {s.get('threads')} threads (gthread); "
        f"wrk {s.get('connections')} connections, {s.get('seconds')} s per scenario"
        f"{_sliced(s.get('slices'))}; "
        f"{m.get('when')}"
    )


def _build(machine: dict) -> str:
    """The interpreter's build (bench.run.python_build), where the run recorded it."""
    build = machine.get("python_build")
    return f" ({build})" if build else ""


def _sliced(slices) -> str:
    if not slices or slices <= 1:
        return ""
    return f" (single-request scenarios: median of {slices} runs sharing that time)"


def table(report: dict) -> str:
    """The plain-text summary printed at the end of a run (markdown, readable as text)."""
    return markdown(report)


def markdown(report: dict, *, searches: str = "") -> str:
    """The whole report as markdown; `searches` keeps only the search rows whose name holds
    it (the README shows the email-prefix ones)."""
    parts = [f"Machine: {_machine(report)}. Whole run: {report.get('seconds')} s.", ""]
    for argon2, when in (
        (report.get("argon2") or {}, ""),
        (_after(report).get("argon2") or {}, ", after Cognate (SQLite)"),
    ):
        if argon2.get("runs"):
            p = argon2["parameters"]
            runs = ", ".join(
                f"{r['verifications_per_s']}/s with {r['threads']} thread(s)"
                for r in argon2["runs"]
            )
            parts += [
                f"argon2id m={p['memory_kib']} KiB t={p['time_cost']} p={p['parallelism']}"
                f"{when}: verifications {runs}.",
                "",
            ]
    parts.append(
        _grid(
            [
                "server",
                "scenario",
                "req/s",
                "p50 ms",
                "p99 ms",
                "server CPU ms/req",
                "errors",
                "requests",
            ],
            _scenario_rows(report),
        )
    )
    parts.append("")
    search_rows = []
    for database, search in (report.get("search") or {}).items():
        if "queries" not in search:
            search_rows.append([database, "-", search.get("failed", "-")[:80], "", "", ""])
            continue
        for name, row in search["queries"].items():
            if searches not in name:
                continue
            search_rows.append(
                [
                    f"{search['database']} ({search['users']:,} users, "
                    f"seeded in {search['seed_seconds']} s)",
                    name,
                    _fmt(row["p50_ms"], 2),
                    _fmt(row["p99_ms"], 2),
                    str(row["rows"]),
                    row["plan"][:60].replace("|", "/"),
                ]
            )
    if search_rows:
        parts += [
            _grid(
                [
                    "database",
                    "search (pool.selectors.users.search)",
                    "p50 ms",
                    "p99 ms",
                    "rows",
                    "plan",
                ],
                search_rows,
            ),
            "",
        ]
    rss = []
    for database in ("sqlite", "postgres"):
        value = ((report.get("cognate") or {}).get(database) or {}).get("peak_rss_mb_per_worker")
        if value:
            rss.append(f"Cognate ({database}) {value} MB")
    for peer, section in (report.get("peers") or {}).items():
        if section.get("peak_rss_mb_per_worker"):
            rss.append(f"{peer} {section['peak_rss_mb_per_worker']} MB")
    if (report.get("ceilings") or {}).get("peak_rss_mb_per_worker"):
        rss.append(f"bare Django {report['ceilings']['peak_rss_mb_per_worker']} MB")
    if rss:
        parts += ["Peak RSS per worker process (VmHWM): " + ", ".join(rss) + ".", ""]
    targets = report.get("targets") or ratios(report)
    parts.append(
        _grid(
            ["target", "measured (req/s ratio)", "bound", "verdict", "same ratio by CPU ms/req"],
            [
                [
                    t["target"],
                    _fmt(t["value"], 2) + _against_each(t),
                    t["bound"],
                    t["verdict"],
                    _fmt(t.get("by_cpu"), 2),
                ]
                for t in targets
            ],
        )
    )
    for floor in (_drift(report), _server_floor(report), _signing_floor(report)):
        if floor:
            parts += ["", floor]
    profile = ((report.get("cognate") or {}).get("sqlite") or {}).get("profile")
    if profile:
        parts.append("")
        for name, found in profile.items():
            if not found.get("samples"):
                continue
            self_part = ", ".join(f"{frame} {pct}%" for frame, pct in found["self"][:6])
            incl_part = ", ".join(f"{frame} {pct}%" for frame, pct in found["inclusive"][:6])
            parts.append(
                f"Profile of {name} (py-spy, {found['samples']} samples in request threads): "
                f"self time: {self_part}. On the stack: {incl_part}."
            )
            parts.append("")
    return "\n".join(parts).rstrip() + "\n"
