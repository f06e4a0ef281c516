"""Recording end-user events (sign-ins, sign-ups, resets) for the console and for audits."""

from __future__ import annotations

from pool.models import AppClient, AuthEvent, User, UserPool
from pool.selectors import compiled
from pool.services.results import RequestContext


def record(
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
    """Store the event (one INSERT compiled once: every sign-in, refused or not, writes one);
    the returned row's pk is not read back."""
    context = context or RequestContext()
    event = AuthEvent(
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
    compiled.insert(event)
    return event
