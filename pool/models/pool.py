"""A user pool: its sign-in identifiers, attribute schema, policies and MFA configuration."""

from __future__ import annotations

import secrets
import string

from django.conf import settings
from django.db import models
from django.db.models.signals import post_delete
from django.dispatch import receiver

from pool import config_generation, crypto
from pool.names import sign_in_key

SIGN_IN_ATTRIBUTES = ("email", "phone_number", "preferred_username")
USERNAME_ATTRIBUTES = ("email", "phone_number")
MFA_METHODS = ("SOFTWARE_TOKEN_MFA", "SMS_MFA", "EMAIL_OTP")
RECOVERY_MECHANISMS = ("verified_email", "verified_phone_number", "admin_only")


def default_region() -> str:
    """The region of pools created without one: COGNATE_DEFAULT_REGION (`local` unless set)."""
    return settings.DEFAULT_REGION


def new_config_version() -> int:
    return secrets.randbits(62) + 1


def bump_config_version(pool: UserPool | str) -> int:
    """Replace the pool's config_version (inside the caller's transaction, so that other
    processes see the new version together with the change it stands for), and count the
    change once committed (pool.config_generation). Sets it on `pool` too when given the
    instance."""
    version = new_config_version()
    pool_id = pool if isinstance(pool, str) else pool.pk
    UserPool.objects.filter(pk=pool_id).update(config_version=version)
    config_generation.bump_after_commit()
    if not isinstance(pool, str):
        pool.config_version = version
    return version


def new_pool_id(region: str | None = None) -> str:
    """Cognito's shape: `<region>_<9 mixed-case alphanumerics>`, in the default region unless
    `region` is given."""
    region = region or default_region()
    return f"{region}_{crypto.random_string(9, string.ascii_letters + string.digits)}"


def _default_mfa_methods() -> list[str]:
    return ["SOFTWARE_TOKEN_MFA"]


def _default_recovery() -> list[str]:
    return ["verified_email", "verified_phone_number"]


def _default_required() -> list[str]:
    return ["email"]


def _default_auto_verified() -> list[str]:
    return ["email"]


class UserPool(models.Model):
    class Mfa(models.TextChoices):
        OFF = "OFF"
        OPTIONAL = "OPTIONAL"
        ON = "ON"

    id = models.CharField(primary_key=True, max_length=55, editable=False)
    name = models.CharField(max_length=128)
    region = models.CharField(max_length=32, default=default_region, editable=False)

    # Sign-in identifiers. `username_attributes` (email / phone_number) make that attribute the
    # sign-in name and the username a UUID; `alias_attributes` let a verified attribute stand in
    # for the username. The two are exclusive, as in Cognito. Changed after creation only by
    # pool/services/pool_changes.py, which migrates the users' sign-in keys with them.
    username_attributes = models.JSONField(default=list, blank=True)
    alias_attributes = models.JSONField(default=list, blank=True)
    case_sensitive = models.BooleanField(default=False)

    required_attributes = models.JSONField(default=_default_required, blank=True)
    auto_verified_attributes = models.JSONField(default=_default_auto_verified, blank=True)

    # Password policy.
    password_min_length = models.PositiveSmallIntegerField(default=8)
    password_require_uppercase = models.BooleanField(default=True)
    password_require_lowercase = models.BooleanField(default=True)
    password_require_numbers = models.BooleanField(default=True)
    password_require_symbols = models.BooleanField(default=True)
    temporary_password_validity_days = models.PositiveSmallIntegerField(default=7)

    mfa_configuration = models.CharField(max_length=8, choices=Mfa.choices, default=Mfa.OPTIONAL)
    mfa_methods = models.JSONField(default=_default_mfa_methods, blank=True)
    account_recovery = models.JSONField(default=_default_recovery, blank=True)

    allow_self_sign_up = models.BooleanField(default=True)
    # Users may delete their own account (DeleteUser, the hosted account page), as Cognito's
    # DeleteUser always allows; an operator can turn it off.
    allow_self_deletion = models.BooleanField(default=True)
    prevent_user_existence_errors = models.BooleanField(default=True)
    deletion_protection = models.BooleanField(default=False)

    # Messages; `{####}` is replaced by the code and `{username}` by the username.
    verification_email_subject = models.CharField(max_length=140, default="Your verification code")
    verification_email_message = models.TextField(default="Your verification code is {####}.")
    verification_sms_message = models.CharField(
        max_length=140, default="Your verification code is {####}."
    )
    invitation_email_subject = models.CharField(max_length=140, default="Your temporary password")
    invitation_email_message = models.TextField(
        default="Your username is {username} and temporary password is {####}."
    )
    mfa_message = models.CharField(max_length=140, default="Your authentication code is {####}.")
    # The same templates per language, {"de": {"verification_email_message": ..., ...}, ...}
    # (pool/services/message_templates.py); a message in a language without its own template
    # uses the fields above, translated when they are still Cognito's defaults.
    message_templates = models.JSONField(default=dict, blank=True)
    email_from = models.EmailField(blank=True, default="")

    # How long a challenge session (MFA, new password) stays valid, 3 to 15 minutes.
    auth_session_validity_minutes = models.PositiveSmallIntegerField(default=3)
    # DeviceConfiguration: present (track_devices) means Cognito remembers devices; the two
    # flags are its ChallengeRequiredOnNewDevice and DeviceOnlyRememberedOnUserPrompt.
    track_devices = models.BooleanField(default=False)
    device_challenge_required_on_new_device = models.BooleanField(default=False)
    device_only_remembered_on_user_prompt = models.BooleanField(default=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Replaced (a random number, never a counter that could come back to a value a process
    # still holds) by every save of the row and by every change to what processes keep in
    # memory per pool: signing keys, triggers, resource servers. Read in the same SQL as a hot
    # path's own row, it tells each process at once whether its copies still hold.
    config_version = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    def save(self, *args, **kwargs):
        if not self.id:
            self.id = new_pool_id(self.region)
        self.config_version = new_config_version()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "config_version"}
        super().save(*args, **kwargs)
        config_generation.bump_after_commit()

    @property
    def id_suffix(self) -> str:
        """The part after `_`: SRP's pool name."""
        return self.id.split("_", 1)[1]

    @property
    def sign_in_attributes(self) -> list[str]:
        """Attributes, besides the username, that a user may type to sign in."""
        return list(self.username_attributes or self.alias_attributes)

    def normalize(self, value: str) -> str:
        """How usernames and aliases are compared in this pool (see `pool.names`)."""
        return sign_in_key(value, case_sensitive=self.case_sensitive)


@receiver(post_delete, sender=UserPool, dispatch_uid="pool-deleted-generation")
def _pool_deleted(sender, instance: UserPool, **kwargs) -> None:
    """A pool's row (and version) gone is a configuration change too, however it was deleted."""
    config_generation.bump_after_commit()


class CustomAttribute(models.Model):
    """A `custom:` attribute declared in a pool's schema. Its definition cannot change; it is
    renamed or removed only by pool/services/pool_changes.py, which moves users' values."""

    class DataType(models.TextChoices):
        STRING = "String"
        NUMBER = "Number"
        BOOLEAN = "Boolean"
        DATETIME = "DateTime"

    pool = models.ForeignKey(
        UserPool, on_delete=models.CASCADE, related_name="custom_attributes", db_index=False
    )
    name = models.CharField(max_length=20)  # without the `custom:` prefix
    data_type = models.CharField(max_length=8, choices=DataType.choices, default=DataType.STRING)
    mutable = models.BooleanField(default=True)
    developer_only = models.BooleanField(default=False)
    min_length = models.PositiveIntegerField(null=True, blank=True)
    max_length = models.PositiveIntegerField(null=True, blank=True)
    min_value = models.BigIntegerField(null=True, blank=True)
    max_value = models.BigIntegerField(null=True, blank=True)

    class Meta:
        unique_together = [("pool", "name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{'dev:' if self.developer_only else ''}custom:{self.name}"
