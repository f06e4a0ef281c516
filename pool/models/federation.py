"""Identity providers of a pool (Cognito's CreateIdentityProvider) and the links between a pool
user and an upstream identity (a federated sign-in, or AdminLinkProviderForUser)."""

from __future__ import annotations

import json

from django.db import models

from pool.models.fields import UNREADABLE, EncryptedTextField
from pool.models.pool import UserPool
from pool.models.user import User


class ProviderType(models.TextChoices):
    SAML = "SAML"
    FACEBOOK = "Facebook"
    GOOGLE = "Google"
    LOGIN_WITH_AMAZON = "LoginWithAmazon"
    SIGN_IN_WITH_APPLE = "SignInWithApple"
    OIDC = "OIDC"


# The ProviderDetails keys kept encrypted at rest (never in `details`).
SECRET_DETAIL_KEYS = frozenset({"client_secret", "private_key"})


class IdentityProvider(models.Model):
    """One upstream identity provider of a pool. `details` holds the non-secret ProviderDetails
    (as Cognito names their keys); the secret ones (`SECRET_DETAIL_KEYS`) are a JSON object
    encrypted in `secret_details`. `attribute_mapping` is Cognito's AttributeMapping, pool
    attribute -> provider claim. `enabled` is a Cognate addition: a disabled provider keeps its
    configuration and links but signs nobody in."""

    Type = ProviderType

    pool = models.ForeignKey(
        UserPool, on_delete=models.CASCADE, related_name="identity_providers", db_index=False
    )
    provider_name = models.CharField(max_length=32)
    provider_type = models.CharField(max_length=16, choices=ProviderType.choices)
    details = models.JSONField(default=dict, blank=True)
    secret_details = EncryptedTextField(blank=True, default="")
    attribute_mapping = models.JSONField(default=dict, blank=True)
    idp_identifiers = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pool", "provider_name"], name="idp_unique_name")
        ]
        ordering = ["provider_name"]

    def __str__(self) -> str:
        return f"{self.provider_name} ({self.provider_type})"

    def secrets(self) -> dict[str, str]:
        if not self.secret_details or self.secret_details == UNREADABLE:
            return {}
        return json.loads(self.secret_details)

    def set_secrets(self, values: dict[str, str]) -> None:
        self.secret_details = json.dumps(values) if values else ""

    def provider_details(self) -> dict[str, str]:
        """Every ProviderDetails key, the secret ones decrypted (for the protocol code)."""
        return {**self.details, **self.secrets()}

    @property
    def group_name(self) -> str:
        """The pool's automatic group of this provider's users (Cognito's `<pool id>_<name>`)."""
        return f"{self.pool_id}_{self.provider_name}"


class FederatedIdentity(models.Model):
    """A pool user's link to an upstream identity: `subject` is the provider's user id (the
    claim mapped to `username`, Cognito_Subject). Made when a federated user is created
    (`primary`) or by AdminLinkProviderForUser (a native user, not primary). One subject of a
    provider belongs to one user."""

    pool = models.ForeignKey(UserPool, on_delete=models.CASCADE, related_name="+", db_index=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="federated_identities")
    provider_name = models.CharField(max_length=32)
    subject = models.CharField(max_length=2048)
    primary = models.BooleanField(default=False)
    # The provider's issuer as the `identities` claim names it (a SAML IdP's entity id).
    issuer = models.CharField(max_length=2048, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["pool", "provider_name", "subject"], name="fed_identity_unique_subject"
            )
        ]
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.provider_name}:{self.subject} -> {self.user_id}"
