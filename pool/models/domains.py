"""User pool domains: the host names a pool's hosted pages would be served at.

A pool has at most one domain of each kind, as in Cognito: a *prefix* (Cognito serves it at
`{prefix}.auth.{region}.amazoncognito.com`) and a *custom* domain (a full host name the operator
owns, with the ARN of the certificate Cognito would present). Each domain string names one pool
on the whole server. The hosted UI serves a pool's domains by Host header (hostedui.hosts).
"""

from __future__ import annotations

from django.db import models

from pool.models.pool import UserPool


class UserPoolDomain(models.Model):
    class Kind(models.TextChoices):
        PREFIX = "prefix"
        CUSTOM = "custom"

    domain = models.CharField(max_length=63, unique=True)
    pool = models.ForeignKey(
        UserPool, on_delete=models.CASCADE, related_name="domains", db_index=False
    )
    kind = models.CharField(max_length=6, choices=Kind.choices)
    # Custom domains only: the certificate's ARN, stored as given (Cognate terminates no TLS).
    certificate_arn = models.CharField(max_length=2048, blank=True, default="")
    # Cognito's ManagedLoginVersion: 1 (classic hosted UI) or 2 (managed login). Kept so that
    # infrastructure code reads back what it set; Cognate's pages are the same for both.
    managed_login_version = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pool", "kind"], name="domain_one_per_kind")]
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain
