"""What happened: end-user sign-in events per pool, and messages kept by the dev outbox."""

from __future__ import annotations

from django.db import models

from pool.models.fields import EncryptedTextField
from pool.models.pool import UserPool
from pool.models.user import User


class AuthEvent(models.Model):
    class Type(models.TextChoices):
        SIGN_IN = "SignIn"
        SIGN_UP = "SignUp"
        CONFIRM_SIGN_UP = "ConfirmSignUp"
        FORGOT_PASSWORD = "ForgotPassword"
        PASSWORD_CHANGE = "PasswordChange"
        TOKEN_REFRESH = "TokenRefresh"
        SIGN_OUT = "SignOut"
        MFA = "Mfa"

    # Read per pool or per user, newest first: the two indexes below serve those reads and the
    # foreign keys' cascades, so the columns have no index of their own (a sign-in writes its
    # event; each index is one more page written).
    pool = models.ForeignKey(
        UserPool, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    user = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
        db_index=False,
    )
    username = models.CharField(max_length=2048, blank=True, default="")
    event_type = models.CharField(max_length=24, choices=Type.choices)
    success = models.BooleanField()
    reason = models.CharField(max_length=128, blank=True, default="")
    client_id = models.CharField(max_length=26, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["pool", "-created_at"], name="event_pool_idx"),
            models.Index(fields=["user", "-created_at"], name="event_user_idx"),
        ]


class OutboxMessage(models.Model):
    """A message the dev outbox kept instead of sending (EMAIL_URL=outbox://, SMS outbox).
    Subject and body hold codes and temporary passwords, so they are encrypted at rest."""

    class Channel(models.TextChoices):
        EMAIL = "email"
        SMS = "sms"

    channel = models.CharField(max_length=8, choices=Channel.choices)
    to = models.CharField(max_length=2048)
    subject = EncryptedTextField(blank=True, default="")
    body = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
