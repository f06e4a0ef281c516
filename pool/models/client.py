"""App clients and resource servers."""

from __future__ import annotations

import string

from django.db import models

from pool import crypto
from pool.models.pool import UserPool

OAUTH_FLOWS = ("code", "implicit", "client_credentials")
STANDARD_SCOPES = ("openid", "email", "phone", "profile", "aws.cognito.signin.user.admin")
EXPLICIT_AUTH_FLOWS = (
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_CUSTOM_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_USER_AUTH",
)

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR
# Cognito's ranges, in seconds.
ACCESS_ID_VALIDITY_RANGE = (5 * MINUTE, DAY)
REFRESH_VALIDITY_RANGE = (HOUR, 3650 * DAY)
RETRY_GRACE_RANGE = (0, 60)  # RefreshTokenRotation.RetryGracePeriodSeconds


def new_client_id() -> str:
    return crypto.random_string(26, string.ascii_lowercase + string.digits)


def new_client_secret() -> str:
    return crypto.random_string(51, string.ascii_lowercase + string.digits)


def _default_explicit_flows() -> list[str]:
    return ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"]


def _default_oauth_flows() -> list[str]:
    return ["code"]


def _default_scopes() -> list[str]:
    return ["openid", "email", "phone", "profile"]


def _cognito() -> list[str]:
    return ["COGNITO"]


class AppClient(models.Model):
    client_id = models.CharField(primary_key=True, max_length=26, editable=False)
    pool = models.ForeignKey(UserPool, on_delete=models.CASCADE, related_name="clients")
    name = models.CharField(max_length=128)
    # Encrypted at rest; the JSON API needs the plaintext to check SECRET_HASH.
    secret = models.TextField(blank=True, default="")
    secret_created_at = models.DateTimeField(null=True, blank=True)

    callback_urls = models.JSONField(default=list, blank=True)
    logout_urls = models.JSONField(default=list, blank=True)
    default_redirect_uri = models.CharField(max_length=1024, blank=True, default="")
    allowed_oauth_flows = models.JSONField(default=_default_oauth_flows, blank=True)
    allowed_oauth_scopes = models.JSONField(default=_default_scopes, blank=True)
    allowed_oauth_flows_user_pool_client = models.BooleanField(default=True)
    explicit_auth_flows = models.JSONField(default=_default_explicit_flows, blank=True)
    supported_identity_providers = models.JSONField(default=_cognito, blank=True)
    # Empty lists mean "all attributes" (read) and "all mutable attributes" (write).
    read_attributes = models.JSONField(default=list, blank=True)
    write_attributes = models.JSONField(default=list, blank=True)

    access_token_validity = models.PositiveIntegerField(default=HOUR)  # seconds
    id_token_validity = models.PositiveIntegerField(default=HOUR)
    refresh_token_validity = models.PositiveIntegerField(default=30 * DAY)
    auth_session_validity = models.PositiveIntegerField(default=3 * MINUTE)
    enable_token_revocation = models.BooleanField(default=True)
    # Cognito's RefreshTokenRotation.Feature: each refresh returns a new refresh token and
    # retires the old one; replaying a retired token revokes the whole family. On by default
    # (Cognito's default is off).
    refresh_token_rotation = models.BooleanField(default=True)
    # Cognito's RefreshTokenRotation.RetryGracePeriodSeconds (0-60): for this long after a
    # rotation the retired token still refreshes (a client retrying a lost answer, or parallel
    # tabs); after it, reuse revokes the family. 0: the first rotation retires it at once.
    refresh_token_retry_grace_seconds = models.PositiveSmallIntegerField(default=0)
    # Stricter than Cognito (which lets public clients skip PKCE): a public client must send
    # an S256 code_challenge. An operator may switch it off for an app written without PKCE.
    require_pkce = models.BooleanField(default=True)

    # Hosted-page branding.
    logo_url = models.URLField(blank=True, default="")
    brand_color = models.CharField(max_length=7, blank=True, default="")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    def save(self, *args, **kwargs):
        if not self.client_id:
            self.client_id = new_client_id()
        super().save(*args, **kwargs)

    @property
    def is_confidential(self) -> bool:
        return bool(self.secret)

    @property
    def needs_pkce(self) -> bool:
        """A public client must send a PKCE challenge unless an operator switched it off."""
        return self.require_pkce and not self.is_confidential

    @property
    def secret_plaintext(self) -> str:
        return crypto.decrypt_kept(self.secret) if self.secret else ""

    def set_secret(self, plaintext: str | None = None) -> str:
        """Store a new secret (generated unless given) and return its plaintext, once."""
        from pool import clock

        plaintext = plaintext or new_client_secret()
        self.secret = crypto.encrypt(plaintext)
        self.secret_created_at = clock.now()
        return plaintext

    def check_secret(self, candidate: str) -> bool:
        """Constant-time comparison against the decrypted secret (cheap: no password hasher)."""
        return self.is_confidential and crypto.equals(self.secret_plaintext, candidate or "")


class ResourceServer(models.Model):
    """An API protected by the pool's access tokens, with custom scopes `identifier/scope`."""

    pool = models.ForeignKey(
        UserPool, on_delete=models.CASCADE, related_name="resource_servers", db_index=False
    )
    identifier = models.CharField(max_length=256)
    name = models.CharField(max_length=256)
    # [{"name": "read", "description": "..."}]
    scopes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pool", "identifier"], name="rs_unique_identifier")
        ]
        ordering = ["identifier"]

    def __str__(self) -> str:
        return self.identifier

    @property
    def full_scopes(self) -> list[str]:
        return [f"{self.identifier}/{scope['name']}" for scope in self.scopes]
