"""gunicorn settings, read from the environment: `gunicorn -c config/gunicorn.py config.wsgi`
(what `make run` starts).

  BIND              address to listen on (default HOST:PORT, 127.0.0.1:8000)
  WORKERS           worker processes (default 2); THREADS threads each (default 4, gthread)
  TIMEOUT           seconds a request may run before its worker is killed and replaced (30)
  GRACEFUL_TIMEOUT  on SIGTERM, seconds the workers get to finish the requests in flight
                    before they are killed (30): a rolling restart drops no request
  KEEPALIVE         seconds an idle keep-alive connection from the proxy stays open (5)
  MAX_REQUESTS      recycle a worker after this many requests, with jitter (0 = never)

Several workers need a cache they all see (lockout counts, rate limits, key rotations): the
default one is (Redis with REDIS_URL, otherwise the database: config/cache.py). The
per-process cache (COGNATE_CACHE=memory) with more than one worker is refused here, at start:
each worker would allow the full number of wrong passwords.

Prometheus: each worker writes its metrics to files in PROMETHEUS_MULTIPROC_DIR (default
var/prometheus/, emptied at start) and /metrics sums them (config/metrics.py).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


bind = os.environ.get("BIND") or (
    f"{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or '8000'}"
)
workers = _int("WORKERS", 2)
threads = _int("THREADS", 4)
worker_class = "gthread"
timeout = _int("TIMEOUT", 30)
graceful_timeout = _int("GRACEFUL_TIMEOUT", 30)
keepalive = _int("KEEPALIVE", 5)
max_requests = _int("MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
# Cognate writes one line per request itself (config/observability.py, with its request id).
accesslog = None
errorlog = "-"
loglevel = (os.environ.get("LOG_LEVEL") or "info").lower()

if (
    workers > 1
    and not os.environ.get("REDIS_URL")
    and (os.environ.get("COGNATE_CACHE") or "").strip().lower() == "memory"
):
    raise SystemExit(
        f"Cognate refuses to start {workers} workers with COGNATE_CACHE=memory: each process "
        "would keep its own lockout and rate-limit counts. Unset COGNATE_CACHE (the database "
        "then holds the cache), set REDIS_URL, or set WORKERS=1."
    )

_base = Path(__file__).resolve().parent.parent
_var = Path(os.environ.get("COGNATE_VAR_DIR") or _base / "var")
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_var / "prometheus"))


def on_starting(server) -> None:
    """Start with no metrics files: counts of a previous run would be summed in."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
