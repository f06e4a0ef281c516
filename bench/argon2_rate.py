"""How many argon2 hashes and verifications per second this machine does with the configured
parameters (settings.ARGON2_*), through Django's make_password/check_password and our hasher.

A password sign-in costs one verification, so this is the ceiling for sign-ins per second per
core; bench/load.py compares the measured sign-in rate with it. Prints figures, asserts nothing.

    .venv/bin/python bench/argon2_rate.py [--seconds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import check_password, identify_hasher, make_password  # noqa: E402

PASSWORD = "Correct-Horse-9-bench"


def _rate(operation, *, seconds: float, threads: int, max_ops: int) -> tuple[float, int]:
    """Operations per second over `threads` threads, each running `operation` until `seconds`
    pass or the threads together have done `max_ops`. argon2-cffi releases the GIL while
    hashing, so threads use every core."""
    done = [0] * threads
    deadline = time.perf_counter() + seconds
    budget = threading.Semaphore(max_ops)
    start_line = threading.Barrier(threads + 1)

    def work(index: int) -> None:
        start_line.wait()
        while time.perf_counter() < deadline and budget.acquire(blocking=False):
            operation()
            done[index] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    start_line.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    total = sum(done)
    return total / elapsed, total


def measure(*, seconds: float = 3.0, max_ops: int = 2000) -> dict:
    encoded = make_password(PASSWORD)
    hasher = identify_hasher(encoded)
    assert check_password(PASSWORD, encoded), "the configured hasher does not verify its own hash"
    cores = os.cpu_count() or 1
    results = {
        "hasher": f"{type(hasher).__module__}.{type(hasher).__name__}",
        "parameters": {
            "memory_kib": settings.ARGON2_MEMORY_KIB,
            "time_cost": settings.ARGON2_TIME_COST,
            "parallelism": settings.ARGON2_PARALLELISM,
        },
        "encoded_prefix": encoded.rsplit("$", 2)[0],
        "cores": cores,
        "runs": [],
    }
    for threads in sorted({1, cores}):
        hash_rate, hashes = _rate(
            lambda: make_password(PASSWORD), seconds=seconds, threads=threads, max_ops=max_ops
        )
        verify_rate, verifications = _rate(
            lambda: check_password(PASSWORD, encoded),
            seconds=seconds,
            threads=threads,
            max_ops=max_ops,
        )
        results["runs"].append(
            {
                "threads": threads,
                "hashes_per_s": round(hash_rate, 1),
                "hashes": hashes,
                "verifications_per_s": round(verify_rate, 1),
                "verifications": verifications,
            }
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    results = measure(seconds=args.seconds)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    p = results["parameters"]
    print(
        f"argon2id m={p['memory_kib']} KiB, t={p['time_cost']}, p={p['parallelism']} "
        f"({results['hasher']}; {results['encoded_prefix']}$...)"
    )
    print(f"{'threads':>8} {'hashes/s':>10} {'verifications/s':>16}")
    for run in results["runs"]:
        hashes, verifications = run["hashes_per_s"], run["verifications_per_s"]
        print(f"{run['threads']:>8} {hashes:>10.1f} {verifications:>16.1f}")


if __name__ == "__main__":
    main()
