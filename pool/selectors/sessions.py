"""A user's open sign-ins, as the account page lists them: one per refresh-token family that is
neither revoked nor expired nor voided by a later global sign-out (pool.services.tokens
revokes them)."""

from __future__ import annotations

from django.db.models import QuerySet

from pool import clock
from pool.models import RefreshFamily, User


def open_sessions(user: User) -> QuerySet[RefreshFamily]:
    """The user's live refresh families, newest first, with their app client."""
    rows = RefreshFamily.objects.filter(
        user=user, revoked_at__isnull=True, expires_at__gt=clock.now()
    )
    if user.tokens_valid_after is not None:
        rows = rows.filter(auth_time__gte=user.tokens_valid_after)
    return rows.select_related("client").order_by("-created_at")
