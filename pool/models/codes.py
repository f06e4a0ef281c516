"""One-time verification codes: six digits, stored as digests, expiring, attempt-limited."""

from __future__ import annotations

from django.db import models

from pool.models.user import User


class CodePurpose(models.TextChoices):
    SIGN_UP = "SIGN_UP"  # 24 h
    VERIFY_EMAIL = "VERIFY_EMAIL"  # 24 h
    VERIFY_PHONE_NUMBER = "VERIFY_PHONE_NUMBER"  # 24 h
    FORGOT_PASSWORD = "FORGOT_PASSWORD"  # 1 h
    MFA_SMS = "MFA_SMS"  # auth session length
    MFA_EMAIL = "MFA_EMAIL"  # auth session length


class VerificationCode(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="codes", db_index=False)
    purpose = models.CharField(max_length=24, choices=CodePurpose.choices)
    digest = models.CharField(max_length=64)
    destination = models.CharField(max_length=2048, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "purpose"], name="code_unique_purpose")
        ]
