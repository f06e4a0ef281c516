"""Per-pool trigger configuration (Cognito's LambdaConfig) and the log of their invocations."""

from __future__ import annotations

from django.db import models

from pool.models.fields import EncryptedTextField
from pool.models.pool import UserPool


class TriggerKind(models.TextChoices):
    """The LambdaConfig keys Cognate fires (one configuration per pool and kind)."""

    PRE_SIGN_UP = "PreSignUp"
    POST_CONFIRMATION = "PostConfirmation"
    PRE_AUTHENTICATION = "PreAuthentication"
    POST_AUTHENTICATION = "PostAuthentication"
    CUSTOM_MESSAGE = "CustomMessage"
    PRE_TOKEN_GENERATION = "PreTokenGeneration"
    USER_MIGRATION = "UserMigration"
    DEFINE_AUTH_CHALLENGE = "DefineAuthChallenge"
    CREATE_AUTH_CHALLENGE = "CreateAuthChallenge"
    VERIFY_AUTH_CHALLENGE_RESPONSE = "VerifyAuthChallengeResponse"
    CUSTOM_EMAIL_SENDER = "CustomEmailSender"
    CUSTOM_SMS_SENDER = "CustomSMSSender"


# The triggers that deliver a message in Cognate's place; their event carries the code
# encrypted under the trigger's own `code_key` (pool/sender_codes.py).
SENDER_KINDS = frozenset({TriggerKind.CUSTOM_EMAIL_SENDER, TriggerKind.CUSTOM_SMS_SENDER})


class Trigger(models.Model):
    """One trigger of a pool: a webhook (`target` is an https or loopback http URL, the event
    signed with `secret`) or a Python callable (`target` is a dotted path)."""

    class Transport(models.TextChoices):
        WEBHOOK = "webhook"
        PYTHON = "python"

    class Version(models.TextChoices):
        """PreTokenGenerationConfig.LambdaVersion: the event shape of the pre-token trigger."""

        V1_0 = "V1_0"
        V2_0 = "V2_0"
        V3_0 = "V3_0"  # V2_0's shape, also fired for client-credentials (M2M) tokens

    pool = models.ForeignKey(
        UserPool, on_delete=models.CASCADE, related_name="triggers", db_index=False
    )
    kind = models.CharField(max_length=32, choices=TriggerKind.choices)
    transport = models.CharField(max_length=8, choices=Transport.choices)
    target = models.CharField(max_length=2048)
    secret = EncryptedTextField(blank=True, default="")
    version = models.CharField(max_length=4, choices=Version.choices, default=Version.V1_0)
    # A custom sender's AES-256-GCM key (base64), shown once when it is made.
    code_key = EncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pool", "kind"], name="trigger_pool_kind_unique")
        ]

    def __str__(self) -> str:
        return f"{self.pool_id} {self.kind} -> {self.target}"


class TriggerInvocation(models.Model):
    """One call of a trigger, for the console and audits. Holds no event, code or secret."""

    class Status(models.TextChoices):
        OK = "ok"
        DENIED = "denied"  # the handler refused: UserLambdaValidationException
        FAILED = "failed"  # timeout, unreachable, non-2xx: UnexpectedLambdaException
        INVALID = "invalid"  # an answer that is not the event: InvalidLambdaResponseException

    pool = models.ForeignKey(
        UserPool, on_delete=models.CASCADE, related_name="trigger_calls", db_index=False
    )
    kind = models.CharField(max_length=32, choices=TriggerKind.choices)
    trigger_source = models.CharField(max_length=64)
    status = models.CharField(max_length=8, choices=Status.choices)
    duration_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=512, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["pool", "-created_at"], name="trigger_call_pool_idx")]
