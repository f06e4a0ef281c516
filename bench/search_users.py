"""ListUsers search at scale: seeds users into one pool of a scratch database and times
`pool.selectors.users.search` for equality and prefix filters, first and later pages.

    .venv/bin/python bench/search_users.py [--users 100000] [--runs 200] [--json] [--keep]

The database is a new SQLite file under /tmp unless DATABASE_URL is set (PostgreSQL: the bench
adds a pool named bench-search-… to that database and deletes it afterwards). With --keep and
DATABASE_URL (a SQLite file or a PostgreSQL database kept for the bench), the pool is named
bench-kept-<users>, stays, and the next run with the same --users times it again without
seeding: seed once, measure each change. Users are
bulk-inserted with one precomputed password hash (multi-row INSERTs, COPY on PostgreSQL), so
seeding a million takes minutes. Prints
p50/p99 latency in ms per query and the first line of the query plan that names the index.
Asserts nothing; figures only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
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
from django.utils.timezone import now as django_now  # noqa: E402

from pool.models import CustomAttribute, User, UserAttributeIndex, UserPool, UserStatus  # noqa: E402
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


def _rows(pool: UserPool, count: int):
    """The seeded users as {column: value} dicts (reproducible fake data)."""
    rng = random.Random(42)  # noqa: S311 - reproducible fake data
    password = make_password("Bench-Pass-123")
    now = connection.ops.adapt_datetimefield_value(django_now())
    template = {}
    for field in User._meta.local_concrete_fields:
        if field.primary_key:
            continue
        template[field.column] = field.get_default() if field.has_default() else None
    template.update(pool_id=pool.pk, password=password, created_at=now, updated_at=now)
    for i in range(count):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        username = f"user{i:07d}"
        email = f"{given.lower()}.{family.lower()}{i}@example.com"
        tier = rng.choice(TIERS)
        yield (
            {
                **template,
                "username": username,
                "username_key": username,
                "sub": uuid.UUID(int=rng.getrandbits(128), version=4),
                "status": rng.choice(STATUSES),
                "enabled": rng.random() > 0.02,
                "email": email,
                "email_verified": True,
                "email_key": email,
                "given_name": given,
                "family_name": family,
                "name": f"{given} {family}",
                "phone_number": f"+1555{i:07d}",
                "attributes": {"custom:tier": tier},
            },
            tier,
        )


def seed(pool: UserPool, count: int, *, batch: int = 20_000) -> float:
    """Bulk-insert `count` users and their custom-attribute index rows; returns seconds taken.

    Plain multi-row INSERTs through the database cursor (COPY on PostgreSQL), in batches of
    `batch` rows each in one transaction: a million users in minutes, where building a million
    model instances for bulk_create takes much longer. The rows are what User.save would write
    (the model's defaults, the sign-in keys, the attribute index of `custom:tier`)."""
    started = time.perf_counter()
    user_table = User._meta.db_table
    index_table = UserAttributeIndex._meta.db_table
    # Into empty tables (a scratch database), build the secondary indexes once at the end: one
    # sort per index instead of a million random B-tree inserts each.
    empty = not User.objects.exclude(pool=pool).exists()
    dropped = _drop_indexes([user_table, index_table]) if empty else []
    try:
        _seed_rows(pool, count, batch=batch)
    finally:
        with connection.cursor() as cursor:
            for statement in dropped:
                cursor.execute(statement)
    return time.perf_counter() - started


def _drop_indexes(tables: list[str]) -> list[str]:
    """Drop the tables' plain secondary indexes (not primary keys or constraints); returns
    the statements that make them again."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            marks = ", ".join(["%s"] * len(tables))
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({marks})",
                tables,
            )
        else:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                [tables],
            )
        found = cursor.fetchall()
        for name, _ in found:
            cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in found]


def _seed_rows(pool: UserPool, count: int, *, batch: int) -> None:
    columns = [f.column for f in User._meta.local_concrete_fields if not f.primary_key]
    index_columns = ["pool_id", "user_id", "name", "value_key", "whole"]
    user_table = User._meta.db_table
    index_table = UserAttributeIndex._meta.db_table
    rows = _rows(pool, count)
    done = 0
    while done < count:
        chunk = [next(rows) for _ in range(min(batch, count - done))]
        done += len(chunk)
        with transaction.atomic(), connection.cursor() as cursor:
            values = [[_adapt(row[c]) for c in columns] for row, _ in chunk]
            _insert(cursor, user_table, columns, values)
            names = [row["username_key"] for row, _ in chunk]
            cursor.execute(
                f"SELECT username_key, id FROM {user_table} WHERE pool_id = %s "
                "AND username_key >= %s AND username_key <= %s",
                [pool.pk, min(names), max(names)],
            )
            ids = dict(cursor.fetchall())
            index_rows = [
                [pool.pk, ids[row["username_key"]], name, key, whole]
                for row, tier in chunk
                for name, key, whole in [("custom:tier", pool.normalize(tier), True)]
            ]
            _insert(cursor, index_table, index_columns, index_rows)


def _adapt(value):
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, uuid.UUID) and connection.vendor == "sqlite":
        return value.hex
    return value


def _insert(cursor, table: str, columns: list[str], rows: list[list]) -> None:
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    width = len(columns)
    per = max(1, 999 // width)  # SQLite's host-parameter limit on older builds
    for offset in range(0, len(rows), per):
        part = rows[offset : offset + per]
        marks = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(part))
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES {marks}",
            [value for row in part for value in row],
        )


def remove(pool: UserPool) -> None:
    """Delete the seeded pool: its users and index rows with one statement each (the ORM's
    cascade would load a million users first), then the pool."""
    if _SCRATCH is not None:
        return  # the whole scratch database goes
    if connection.vendor == "postgresql" and not User.objects.exclude(pool=pool).exists():
        # No other pool has users: every row that references a user is this pool's. TRUNCATE
        # skips a million deferred foreign-key checks at COMMIT (minutes) that DELETE costs.
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {User._meta.db_table} CASCADE")
    with transaction.atomic(), connection.cursor() as cursor:
        for model in (UserAttributeIndex, User):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE pool_id = %s", [pool.pk])
    UserPool.objects.filter(pk=pool.pk).delete()


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
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the seeded pool (bench-kept-<users>) in DATABASE_URL and reuse it next time: "
        "seed once, measure many times",
    )
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    kept = None
    if args.keep:
        if _SCRATCH is not None:
            parser.error("--keep needs DATABASE_URL (a scratch database is deleted)")
        kept = UserPool.objects.filter(name=f"bench-kept-{args.users}").first()
    if kept is None and (_SCRATCH is not None or args.keep) and connection.vendor == "sqlite":
        # A throwaway (or bench-only) file: no need to wait for the disk while seeding.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")
            # A million users' indexes do not fit SQLite's default 2 MB page cache: every
            # insert would then read index pages back from the file.
            cursor.execute("PRAGMA cache_size=-1000000")
    if kept is not None:
        pool, seconds = kept, 0.0
    else:
        name = f"bench-kept-{args.users}" if args.keep else f"bench-search-{uuid.uuid4().hex[:8]}"
        pool = UserPool.objects.create(name=name)
        CustomAttribute.objects.create(pool=pool, name="tier")
    try:
        if kept is None:
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
        if not args.keep:
            remove(pool)
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
    try:
        main()
    finally:
        if _SCRATCH is not None:
            shutil.rmtree(_SCRATCH.parent, ignore_errors=True)
