"""Real parallel requests for race tests: each call runs in its own thread with its own database
connection, and all of them start together at a barrier, so every call is in flight before the
first one is answered."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from django.db import connections


def run_together(calls: Sequence[Callable[[], object]], *, timeout: float = 60) -> list:
    """Run every call at once; the result of each, or the exception it raised, in finishing
    order. Fails if a call does not finish within `timeout` seconds."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = []
    lock = threading.Lock()

    def worker(call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            outcome = call()
        except Exception as exc:  # the caller's assertions show anything unexpected
            outcome = exc
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert len(outcomes) == len(calls), f"{len(calls) - len(outcomes)} calls did not finish"
    return outcomes


def burst(call: Callable[[], object], times: int) -> list:
    """`call` made `times` times at once (see run_together)."""
    return run_together([call] * times)
