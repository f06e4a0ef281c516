"""Argon2id with the parameters from settings (OWASP: m=19 MiB, t=2, p=1 by default), run on a
small per-process pool of threads.

Django's own Argon2 hasher has fixed class attributes; this subclass reads them from settings so an
operator can raise the cost, and Django's `must_update` then rehashes on the next sign-in.

Why a pool of threads: each argon2 run needs its `ARGON2_MEMORY_KIB` of working memory, and glibc
keeps what a thread freed in that thread's own malloc arena for its next allocation. Run in the
request threads (4 per gthread worker), every request thread ends up holding 19 MiB, ~76 MB per
worker. Here at most `ARGON2_CONCURRENCY` threads per process ever run argon2 (default: the cores
this process may use, so one worker alone can still keep every core busy hashing and sign-in
throughput is unchanged), and they reuse their memory from run to run (no page faults either).
A request thread hands the run over and waits; argon2 releases the GIL, so the other request
threads go on meanwhile. A run never starts another, so waiting cannot deadlock; a run called
from a pool thread itself (nothing does) is done in place rather than queued behind itself.
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher

_THREAD_PREFIX = "argon2"
_T = TypeVar("_T")
_pool: tuple[int, ThreadPoolExecutor] | None = None  # (pid, executor): made again after a fork
_pool_lock = threading.Lock()


def concurrency() -> int:
    """How many argon2 runs one process does at once: settings.ARGON2_CONCURRENCY, or (0) the
    number of cores this process may run on."""
    configured = int(getattr(settings, "ARGON2_CONCURRENCY", 0) or 0)
    if configured > 0:
        return configured
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _executor() -> ThreadPoolExecutor:
    global _pool
    pid = os.getpid()
    kept = _pool
    if kept is None or kept[0] != pid:
        with _pool_lock:
            if _pool is None or _pool[0] != pid:
                _pool = (
                    pid,
                    ThreadPoolExecutor(
                        max_workers=concurrency(), thread_name_prefix=_THREAD_PREFIX
                    ),
                )
            kept = _pool
    return kept[1]


def _run(operation: Callable[..., _T], *args) -> _T:
    """`operation(*args)` on one of the process's argon2 threads, waiting for its result."""
    if threading.current_thread().name.startswith(_THREAD_PREFIX + "_"):
        return operation(*args)
    return _executor().submit(operation, *args).result()


class CognateArgon2Hasher(Argon2PasswordHasher):
    algorithm = "argon2"

    @property
    def memory_cost(self) -> int:  # KiB
        return settings.ARGON2_MEMORY_KIB

    @property
    def time_cost(self) -> int:
        return settings.ARGON2_TIME_COST

    @property
    def parallelism(self) -> int:
        return settings.ARGON2_PARALLELISM

    def encode(self, password: str, salt: str) -> str:
        return _run(super().encode, password, salt)

    def verify(self, password: str, encoded: str) -> bool:
        return _run(super().verify, password, encoded)


_unmatchable: dict[tuple, str] = {}


def unmatchable_hash() -> str:
    """An encoded hash in the configured algorithm and parameters that no password matches (its
    digest is random bytes, not the output of a run), made without running argon2. Verifying a
    password against it costs one argon2 run, as verifying against a user's hash does, from a
    process's first call on: a hash made on first use would cost that first call an extra run,
    which tells an unknown name from a known one."""
    hasher = CognateArgon2Hasher()
    params = hasher.params()
    key = (params.memory_cost, params.time_cost, params.parallelism, params.hash_len)
    kept = _unmatchable.get(key)
    if kept is None:

        def b64(raw: bytes) -> str:  # argon2's encoding: standard base64 without padding
            return base64.b64encode(raw).decode("ascii").rstrip("=")

        salt = hasher.salt().encode()  # the salt encode() would be given
        kept = _unmatchable[key] = (
            f"{hasher.algorithm}$argon2id$v={params.version}"
            f"$m={params.memory_cost},t={params.time_cost},p={params.parallelism}"
            f"${b64(salt)}${b64(os.urandom(params.hash_len))}"
        )
    return kept
