"""Per-pool RSA signing keys. The private key is encrypted at rest."""

from __future__ import annotations

from django.db import models

from pool.models.pool import UserPool


class SigningKey(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "ACTIVE"  # signs new tokens (one per pool)
        RETIRED = "RETIRED"  # still in JWKS until tokens signed by it have expired

    pool = models.ForeignKey(
        UserPool, on_delete=models.CASCADE, related_name="signing_keys", db_index=False
    )
    kid = models.CharField(max_length=64, unique=True)
    private_key = models.TextField()  # encrypted PEM
    public_jwk = models.JSONField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["pool", "status"], name="signingkey_pool_status_idx")]

    def __str__(self) -> str:
        return self.kid
