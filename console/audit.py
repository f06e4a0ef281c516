"""Writing the audit log. A state change and its entry commit together or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from console.access import client_ip
from console.models import AuditEntry


def _identifier(target: Any, attribute: str) -> str:
    return str(getattr(target, attribute, target) or "")


def write(
    request: HttpRequest,
    action: str,
    *,
    pool: Any = None,
    user: Any = None,
    client: Any = None,
    detail: dict | None = None,
) -> AuditEntry:
    """Record `action` by the signed-in operator. Targets may be model instances or identifiers."""
    operator = request.user
    signed_in = operator.is_authenticated
    return AuditEntry.objects.create(
        operator=operator if signed_in else None,
        operator_name=operator.get_username() if signed_in else "",
        action=action,
        target_pool=_identifier(pool, "pk"),
        target_user=_identifier(user, "username"),
        target_client=_identifier(client, "client_id"),
        detail=detail or {},
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
    )


@dataclass
class Pending:
    """An entry about to be written; the body of `recording` may fill in targets and detail
    it learns from the service (the id of a pool it just created, say)."""

    pool: Any = None
    user: Any = None
    client: Any = None
    detail: dict = field(default_factory=dict)


@contextmanager
def recording(
    request: HttpRequest,
    action: str,
    *,
    pool: Any = None,
    user: Any = None,
    client: Any = None,
    detail: dict | None = None,
) -> Iterator[Pending]:
    """Run the body (one service call) and write the entry in the same transaction. If the body
    raises, nothing is written and the change rolls back with it."""
    pending = Pending(pool=pool, user=user, client=client, detail=dict(detail or {}))
    with transaction.atomic():
        yield pending
        write(
            request,
            action,
            pool=pending.pool,
            user=pending.user,
            client=pending.client,
            detail=pending.detail,
        )
