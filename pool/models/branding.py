"""Hosted-page branding: one row for a pool (client empty) and one per app client that
overrides it, as Cognito's UI customization (`ClientId` ALL vs a client) and managed-login
branding (per client) do.

Everything a row holds is validated by pool/services/branding.py before it is stored; the
stylesheet built from it is served by us (hostedui/views/branding.py), never inlined.
"""

from __future__ import annotations

import uuid

from django.db import models

from pool.models.client import AppClient
from pool.models.pool import UserPool


class Branding(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pool = models.ForeignKey(UserPool, on_delete=models.CASCADE, related_name="brandings")
    # Empty: the pool's branding, shown for every client that has none of its own.
    client = models.OneToOneField(
        AppClient, null=True, blank=True, on_delete=models.CASCADE, related_name="branding"
    )
    # Validated settings: mode, font, colours per colour mode (see services.branding.SETTINGS).
    settings = models.JSONField(default=dict, blank=True)
    custom_css = models.TextField(blank=True, default="")
    logo = models.BinaryField(blank=True, default=b"")
    logo_type = models.CharField(max_length=32, blank=True, default="")
    # sha256 prefix of the bytes: the version in the image's URL, read without the bytes.
    logo_digest = models.CharField(max_length=16, blank=True, default="")
    background = models.BinaryField(blank=True, default=b"")
    background_type = models.CharField(max_length=32, blank=True, default="")
    background_digest = models.CharField(max_length=16, blank=True, default="")
    # Cognito's managed-login UseCognitoProvidedValues: the defaults, whatever settings say.
    use_defaults = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["pool"],
                condition=models.Q(client__isnull=True),
                name="branding_one_per_pool",
            )
        ]

    def __str__(self) -> str:
        return f"branding of {self.client_id or self.pool_id}"
