"""The domain's Prometheus counters, each counted once where its event happens (services, never
doors), so every door's sign-ins, lockouts and trigger calls show the same way.

prometheus_client keeps them per process, or in PROMETHEUS_MULTIPROC_DIR's files when gunicorn
runs several workers (config/gunicorn.py sets it); config/metrics.py serves them at /metrics.
Label values come from code, never from a request, so the number of series stays bounded.
"""

from __future__ import annotations

from prometheus_client import Counter

SIGN_INS = Counter(
    "cognate_sign_ins_total",
    "Completed sign-ins, by the methods that proved the user (pwd, pwd+otp, srp, ...).",
    ["method"],
)
SIGN_IN_FAILURES = Counter(
    "cognate_sign_in_failures_total",
    "Refused sign-in steps, by reason (wrong password, unknown user, locked out, ...).",
    ["reason"],
)
LOCKOUTS = Counter(
    "cognate_lockouts_total",
    "Locks set on a user (or an unknown name) after repeated wrong guesses, by kind.",
    ["kind"],
)
TRIGGER_CALLS = Counter(
    "cognate_trigger_calls_total",
    "Trigger (webhook or Python callable) calls, by trigger kind and outcome.",
    ["kind", "outcome"],
)

# Reasons are short strings chosen by the services; anything longer is cut, never a user value.
_MAX_LABEL = 64


def signed_in(methods: tuple[str, ...] | list[str]) -> None:
    SIGN_INS.labels(method="+".join(methods)[:_MAX_LABEL]).inc()


def sign_in_failed(reason: str) -> None:
    SIGN_IN_FAILURES.labels(reason=reason[:_MAX_LABEL]).inc()


def locked(kind: str) -> None:
    LOCKOUTS.labels(kind=kind).inc()


def trigger_called(kind: str, outcome: str) -> None:
    TRIGGER_CALLS.labels(kind=kind, outcome=outcome).inc()
