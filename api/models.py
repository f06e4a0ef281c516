"""Access keys: the credentials that sign (SigV4) the JSON API's admin actions."""

from __future__ import annotations

from django.db import models

from pool import crypto


class AccessKey(models.Model):
    """An AWS-style access key pair. The secret is stored encrypted (pool.crypto), not hashed:
    verifying a SigV4 signature needs the secret itself to derive the signing key."""

    access_key_id = models.CharField(primary_key=True, max_length=128)
    secret = models.TextField()  # encrypted secret access key
    description = models.CharField(max_length=256, blank=True, default="")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.access_key_id

    @property
    def secret_plaintext(self) -> str:
        return crypto.decrypt(self.secret)
