"""Per-client-IP rate limits, kept in the shared cache (Redis with REDIS_URL, otherwise the
database: config/cache.py), so that every server process counts the same requests.

Each guessable door has a *scope*: `sign_in`, `sign_up`, `verify_code` (confirm sign-up,
confirm forgot password, MFA answers, TOTP verification), `forgot_password` (and resending
codes) and `token` (the OAuth token endpoint). A scope allows `limit` requests per client IP in
a fixed window of `window` seconds on the domain clock (tests move to the next window with
`clock.advance`); the request past the limit raises TooManyRequestsException, which every door
maps to its own format (OAuth 429, a page message with 429, the JSON API's 429).

This sits next to the per-user lockout (pool.services.lockout): lockout stops guessing at one
account from many addresses, the rate limit stops one address guessing at many accounts.
Counting is per IP only, never per account, so an attacker cannot use it to lock anyone out.
"""

from __future__ import annotations

import hashlib

from django.conf import settings

from pool import clock
from pool.errors import TooManyRequestsException
from pool.services import counters
from pool.services.results import RequestContext

SIGN_IN = "sign_in"
SIGN_UP = "sign_up"
VERIFY_CODE = "verify_code"
FORGOT_PASSWORD = "forgot_password"
TOKEN = "token"
SCOPES = (SIGN_IN, SIGN_UP, VERIFY_CODE, FORGOT_PASSWORD, TOKEN)
WINDOW_SECONDS = 60


def limit_for(scope: str) -> int:
    """Requests per minute per client IP for `scope`, from settings (0 turns the scope off).
    The token endpoint has its own, higher limit: one backend behind one address may refresh
    and exchange codes for many users (settings.RATE_LIMIT_TOKEN_PER_MINUTE)."""
    if scope == TOKEN:
        return settings.RATE_LIMIT_TOKEN_PER_MINUTE
    return settings.RATE_LIMIT_PER_MINUTE


def _key(scope: str, key: str, bucket: int) -> str:
    # Hashed: IPv6 addresses and odd forwarded values make poor cache keys (memcached-safe).
    who = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"ratelimit:{scope}:{who}:{bucket}"


def hit(scope: str, key: str, *, limit: int, window: int = WINDOW_SECONDS) -> int:
    """Count one request by `key` in `scope`; raise TooManyRequestsException once more than
    `limit` were made in the current window. Returns the count so far."""
    if limit <= 0:
        return 0
    bucket = clock.timestamp() // window
    # The entry outlives its window a little, so a slow clock never resets a count early.
    count = counters.hit(_key(scope, key, bucket), timeout=window + 5)
    if count > limit:
        raise TooManyRequestsException("Rate exceeded.")
    return count


def check(scope: str, context: RequestContext | None) -> None:
    """Apply `scope`'s per-IP limit to the request `context` describes. Calls without a client
    address (management commands, the console acting for an operator) are not limited."""
    if context is None or not context.ip:
        return
    hit(scope, context.ip, limit=limit_for(scope))


def remaining(scope: str, key: str, *, limit: int, window: int = WINDOW_SECONDS) -> int:
    """How many requests `key` may still make in `scope` this window (for tests and the console)."""
    count = counters.value(_key(scope, key, clock.timestamp() // window))
    return max(limit - count, 0)
