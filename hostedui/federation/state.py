"""The state of an upstream round trip, kept server-side in the browser's Django session.

One entry per round trip, under the keyed digest of its `state` (the value itself never rests
in the session table): the provider, the nonce and PKCE verifier (encrypted), a SAML
AuthnRequest's ID, and the app's original authorization request. `take` removes the entry it
returns (single use, also against parallel callbacks: a session is saved last-writer-wins, so
the state's use is claimed once more with an atomic cache add); an entry is good for
`LIFETIME` seconds, only in the browser that started it and only for its pool. At most
`MAX_PENDING` round trips wait at once per browser (the oldest go first).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest

from hostedui.federation.oidc import Pending
from pool import clock, crypto
from pool.models import UserPool

KEY = "hostedui:federation"
LIFETIME = 600
MAX_PENDING = 5


@dataclass(frozen=True)
class RoundTrip:
    provider_name: str
    pending: Pending
    query: str  # the app's authorization request, as the hosted pages carry it


def keep(
    request: HttpRequest, *, pool: UserPool, provider_name: str, pending: Pending, query: str
) -> None:
    now = clock.timestamp()
    entries = {
        digest: entry
        for digest, entry in (request.session.get(KEY) or {}).items()
        if now - entry.get("at", 0) < LIFETIME
    }
    entries[crypto.digest(pending.state)] = {
        "pool": pool.id,
        "provider": provider_name,
        "nonce": crypto.encrypt(pending.nonce),
        "verifier": crypto.encrypt(pending.code_verifier),
        "request_id": pending.request_id,
        "query": query,
        "at": now,
    }
    newest = sorted(entries.items(), key=lambda item: item[1]["at"])[-MAX_PENDING:]
    request.session[KEY] = dict(newest)


def take(request: HttpRequest, *, pool: UserPool, state: str) -> RoundTrip | None:
    """The round trip `state` names in this browser, removed; None when there is none (never
    started here, already used, expired, or another pool's)."""
    if not state or len(state) > 512:
        return None
    entries = dict(request.session.get(KEY) or {})
    digest = crypto.digest(state)
    entry = entries.pop(digest, None)
    if entry is None:
        return None
    request.session[KEY] = entries
    if not cache.add(f"{KEY}:used:{digest}", 1, timeout=LIFETIME):
        return None  # a parallel callback with the same state claimed it first
    if entry.get("pool") != pool.id or clock.timestamp() - entry.get("at", 0) >= LIFETIME:
        return None
    try:
        pending = Pending(
            state=state,
            nonce=crypto.decrypt(entry["nonce"]),
            code_verifier=crypto.decrypt(entry["verifier"]),
            request_id=entry.get("request_id", ""),
        )
    except (ValueError, KeyError):
        return None
    return RoundTrip(provider_name=entry["provider"], pending=pending, query=entry["query"])
