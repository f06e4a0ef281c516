"""Recording end-user events (sign-ins, sign-ups, resets) for the console and for audits."""

from __future__ import annotations

from typing import Any

from pool.models import AppClient, AuthEvent, User, UserPool
from pool.selectors import compiled
from pool.services.results import RequestContext


def event(
    *,
    pool: UserPool,
    event_type: str,
    success: bool,
    user: User | None = None,
    username: str = "",
    reason: str = "",
    client: AppClient | None = None,
    context: RequestContext | None = None,
) -> AuthEvent:
    """The event's row, not stored yet (`record` stores it; a successful sign-in stores it
    with its stamp on the user, pool.services.sign_in.finish)."""
    context = context or RequestContext()
    return AuthEvent(
        pool=pool,
        user=user,
        username=(user.username if user else username)[:2048],
        event_type=event_type,
        success=success,
        reason=reason[:128],
        client_id=client.client_id if client else "",
        ip=context.ip,
        user_agent=context.user_agent[:512],
    )


def record(**fields: Any) -> AuthEvent:
    """Store the event `event(**fields)` describes: one INSERT compiled once (every sign-in,
    refused or not, writes one); the returned row's pk is not read back."""
    row = event(**fields)
    compiled.insert(row)
    return row
