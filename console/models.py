"""The console's own data: the audit log of what operators changed."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    """One state change made through the console: who, what, on which target, from where."""

    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as well as the foreign key so the entry still names its operator after deletion.
    operator_name = models.CharField(max_length=150)
    action = models.CharField(max_length=64, db_index=True)
    # Targets are kept as plain identifiers: a pool, user or client may be deleted, the audit
    # entry about it may not.
    target_pool = models.CharField(max_length=55, blank=True, default="", db_index=True)
    target_user = models.CharField(max_length=128, blank=True, default="")
    target_client = models.CharField(max_length=26, blank=True, default="")
    detail = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        permissions = [
            ("change_pools", "Can change pools, users, clients and keys in the console"),
        ]

    def __str__(self) -> str:
        return f"{self.operator_name} {self.action} {self.target_pool}"
