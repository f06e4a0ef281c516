"""Authorization codes, refresh-token families and challenge sessions: stored only as digests."""

from __future__ import annotations

import uuid

from django.db import models

from pool.models.client import AppClient
from pool.models.pool import UserPool
from pool.models.user import User


class RefreshFamily(models.Model):
    """One sign-in's chain of refresh tokens. Its id is the tokens' `origin_jti`; revoking the
    family voids every refresh token in it and every access/ID token that carries its id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pool = models.ForeignKey(UserPool, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="refresh_families", db_index=False
    )
    client = models.ForeignKey(AppClient, on_delete=models.CASCADE, related_name="+")
    scopes = models.JSONField(default=list)
    auth_time = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=64, blank=True, default="")
    # The tracked device the sign-in was made on (its access tokens carry `device_key`).
    device_key = models.CharField(max_length=55, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"], name="family_user_idx")]


class RefreshToken(models.Model):
    digest = models.CharField(primary_key=True, max_length=64)
    family = models.ForeignKey(RefreshFamily, on_delete=models.CASCADE, related_name="tokens")
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when this token was exchanged for its successor; presenting it again is reuse.
    rotated_at = models.DateTimeField(null=True, blank=True)


class AuthorizationCode(models.Model):
    digest = models.CharField(primary_key=True, max_length=64)
    pool = models.ForeignKey(UserPool, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(AppClient, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    redirect_uri = models.CharField(max_length=2048)
    scopes = models.JSONField(default=list)
    nonce = models.CharField(max_length=512, blank=True, default="")
    code_challenge = models.CharField(max_length=128, blank=True, default="")
    code_challenge_method = models.CharField(max_length=8, blank=True, default="")
    auth_time = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # What the code was exchanged for, so a replay can revoke it.
    family = models.ForeignKey(
        RefreshFamily, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)


class ChallengeSession(models.Model):
    """The server side of a challenge's `Session` string (MFA, new password, MFA setup)."""

    digest = models.CharField(primary_key=True, max_length=64)
    pool = models.ForeignKey(UserPool, on_delete=models.CASCADE, related_name="+")
    # None only for a custom-auth sign-in of an unknown user in a pool that prevents user
    # existence errors: the challenge runs on (userNotFound in the events) and always fails.
    user = models.ForeignKey(User, null=True, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(
        AppClient, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    challenge_name = models.CharField(max_length=32)
    data = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
