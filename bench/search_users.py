"""ListUsers search at scale: seeds users into one pool of a scratch database and times
`pool.selectors.users.search` for equality and prefix filters, first and later pages.

    .venv/bin/python bench/search_users.py [--users 100000] [--runs 200] [--json]

The database is a new SQLite file under /tmp unless DATABASE_URL is set (PostgreSQL: the bench
adds a pool named bench-search-… to that database and deletes it afterwards). Users are
bulk-inserted with one precomputed password hash, so seeding 100,000 takes seconds. Prints
p50/p99 latency in ms per query and the first line of the query plan that names the index.
Asserts nothing; figures only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
_SCRATCH = None
if not os.environ.get("DATABASE_URL"):
    _SCRATCH = Path(tempfile.mkdtemp(prefix="cognate-search-bench-")) / "bench.sqlite3"
    os.environ["DATABASE_URL"] = f"sqlite:///{_SCRATCH}"

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from pool.models import CustomAttribute, User, UserAttributeIndex, UserPool, UserStatus  # noqa: E402
from pool.models.user import attribute_index_rows  # noqa: E402
from pool.selectors import users as selectors  # noqa: E402
from pool.selectors.users import UserFilter  # noqa: E402

GIVEN = [
    "Ada", "Alan", "Alice", "Amir", "Ana", "Bao", "Bea", "Ben", "Carla", "Chen", "Dana", "Dev",
    "Elif", "Emma", "Femi", "Gita", "Hana", "Ivan", "Jana", "Jon", "Kofi", "Lea", "Li", "Mara",
    "Maria", "Mark", "Nia", "Noah", "Olga", "Omar", "Pia", "Raj", "Rosa", "Sam", "Sara", "Tom",
    "Uma", "Vera", "Wei", "Yara", "Zoe",
]  # fmt: skip
FAMILY = [
    "Abe", "Bauer", "Costa", "Diaz", "Eze", "Fischer", "Garcia", "Hahn", "Ito", "Jensen",
    "Kim", "Lopez", "Meyer", "Nakamura", "Okafor", "Perez", "Quinn", "Reddy", "Silva", "Smith",
    "Tanaka", "Usman", "Vogel", "Wang", "Xu", "Yilmaz", "Zhang",
]  # fmt: skip
TIERS = ["Gold", "silver", "bronze", "platinum"]
STATUSES = [UserStatus.CONFIRMED] * 8 + [UserStatus.UNCONFIRMED, UserStatus.FORCE_CHANGE_PASSWORD]


def seed(pool: UserPool, count: int, *, batch: int = 5000) -> float:
    """Bulk-insert `count` users; returns seconds taken."""
    rng = random.Random(42)  # noqa: S311 - reproducible fake data
    password = make_password("Bench-Pass-123")
    started = time.perf_counter()
    for offset in range(0, count, batch):
        rows = []
        for i in range(offset, min(offset + batch, count)):
            given, family = rng.choice(GIVEN), rng.choice(FAMILY)
            username = f"user{i:07d}"
            email = f"{given.lower()}.{family.lower()}{i}@example.com"
            rows.append(
                User(
                    pool=pool,
                    username=username,
                    username_key=username,
                    sub=uuid.UUID(int=rng.getrandbits(128), version=4),
                    status=rng.choice(STATUSES),
                    enabled=rng.random() > 0.02,
                    password=password,
                    email=email,
                    email_verified=True,
                    email_key=email,
                    given_name=given,
                    family_name=family,
                    name=f"{given} {family}",
                    phone_number=f"+1555{i:07d}",
                    attributes={"custom:tier": rng.choice(TIERS)},
                )
            )
        with transaction.atomic():
            User.objects.bulk_create(rows, batch_size=batch)
            # bulk_create skips User.save, which keeps the custom-attribute index: do it here.
            UserAttributeIndex.objects.bulk_create(
                [
                    UserAttributeIndex(pool=pool, user=user, name=name, value_key=key, whole=whole)
                    for user in rows
                    for name, key, whole in attribute_index_rows(user)
                ],
                batch_size=batch,
            )
    return time.perf_counter() - started


def plan_line(pool: UserPool, **kwargs) -> str:
    """The line of the query plan that says how pool_user is read."""
    with CaptureQueriesContext(connection) as queries:
        selectors.search(pool, **kwargs)
    sql = queries.captured_queries[-1]["sql"]
    explain = "EXPLAIN " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(explain + sql)
        lines = [" ".join(str(c) for c in row) for row in cursor.fetchall()]
    wanted = ("pool_user ", "on pool_user", "pool_user USING", "pool_userattributeindex")
    found = [line.strip() for line in lines if any(w in line for w in wanted)]
    return (found or lines)[0][:200]


def timed(pool: UserPool, runs: int, **kwargs) -> dict:
    samples = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = selectors.search(pool, **kwargs)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 2),
        "rows": len(result.users),
        "plan": plan_line(pool, **kwargs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    if _SCRATCH is not None:  # a throwaway file: no need to wait for the disk while seeding
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")
    pool = UserPool.objects.create(name=f"bench-search-{uuid.uuid4().hex[:8]}")
    CustomAttribute.objects.create(pool=pool, name="tier")
    try:
        seconds = seed(pool, args.users)
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("ANALYZE")
            else:
                cursor.execute("ANALYZE pool_user")
                cursor.execute("ANALYZE pool_userattributeindex")
        middle = f"user{args.users // 2:07d}"
        second_page = selectors.search(pool, filter='email ^= "maria."', limit=60).next_token
        queries = {
            "username = (exact)": {"filter": f'username = "{middle}"'},
            "email = (exact)": {
                "filter": f'email = "{User.objects.get(pool=pool, username=middle).email}"'
            },
            "username ^= (prefix, ~100 rows)": {"filter": f'username ^= "{middle[:-2]}"'},
            "email ^= (prefix, many rows)": {"filter": 'email ^= "maria."'},
            "email ^= page 2 (keyset)": {
                "filter": 'email ^= "maria."',
                "pagination_token": second_page,
            },
            "family_name = (many rows)": {"filter": 'family_name = "Reddy"'},
            "given_name ^= (many rows)": {"filter": 'given_name ^= "Ma"'},
            "cognito:user_status =": {"filter": 'cognito:user_status = "unconfirmed"'},
            "no filter (first page)": {"filter": ""},
            # The console's structured searches: the pool's case rule, flags, custom attributes.
            "console: email ^= ignoring case": {"filter": UserFilter("email", "^=", "MARIA.")},
            "console: disabled users": {"filter": UserFilter(enabled=False)},
            "console: custom:tier = (many rows)": {
                "filter": UserFilter("custom:tier", "=", "gold")
            },
            "console: custom:tier ^= (many rows)": {
                "filter": UserFilter("custom:tier", "^=", "PLAT")
            },
            "console: list (first page)": {"filter": UserFilter()},
        }
        results = {name: timed(pool, args.runs, **kwargs) for name, kwargs in queries.items()}
    finally:
        UserPool.objects.filter(pk=pool.pk).delete()
    report = {
        "database": connection.vendor,
        "users": args.users,
        "seed_seconds": round(seconds, 1),
        "runs": args.runs,
        "queries": results,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"{connection.vendor}: {args.users} users seeded in {seconds:.1f} s; {args.runs} runs each"
    )
    for name, figures in results.items():
        print(
            f"  {name:34} p50 {figures['p50_ms']:7.2f} ms  p99 {figures['p99_ms']:7.2f} ms  "
            f"rows {figures['rows']:3}"
        )
        print(f"      plan: {figures['plan']}")


if __name__ == "__main__":
    main()
