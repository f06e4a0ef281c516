"""Configuring a pool's triggers: the management command `settrigger` and the JSON API's
LambdaConfig (Create/Update/DescribeUserPool) both come here.

Where Cognito takes a Lambda ARN, Cognate takes a webhook URL (https, or http to loopback) or
`python:dotted.path` for a handler called in-process. A webhook's signing secret is encrypted at
rest; it is given (or made, and shown once) by `settrigger`, and kept when LambdaConfig names
the same URL again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from pool import crypto, sender_codes, triggers
from pool.errors import InvalidParameterException, ResourceNotFoundException
from pool.models import SENDER_KINDS, Trigger, TriggerKind, UserPool

# LambdaConfig keys Cognito has that Cognate does not fire yet: refused, never silently ignored.
NOT_YET = (
    "KMSKeyID",
    "InboundFederation",
)
SECRET_BYTES = 32


@dataclass(frozen=True)
class TriggerSetting:
    """A trigger as configured; `new_secret` is the webhook secret when this call made it."""

    kind: str
    transport: str
    target: str
    version: str
    new_secret: str = ""
    new_code_key: str = ""  # a custom sender's code key, when this call made it


def _kind(kind: str) -> TriggerKind:
    if kind in NOT_YET:
        raise InvalidParameterException(
            f"The {kind} trigger is not supported by Cognate yet.", field="kind"
        )
    try:
        return TriggerKind(kind)
    except ValueError:
        choices = ", ".join(TriggerKind.values)
        raise InvalidParameterException(
            f"Unknown trigger {kind!r}; one of: {choices}.", field="kind"
        ) from None


def _version(version: str | None) -> str:
    if version is None:
        return Trigger.Version.V1_0
    if version not in Trigger.Version.values:
        raise InvalidParameterException(
            "LambdaVersion must be V1_0, V2_0 or V3_0.", field="version"
        )
    return version


def set_trigger(
    *,
    pool: UserPool,
    kind: str,
    webhook: str | None = None,
    secret: str | None = None,
    python: str | None = None,
    version: str | None = None,
    code_key: str | None = None,
) -> TriggerSetting:
    """Point the pool's `kind` trigger at a webhook or a Python callable (one of the two).
    A webhook without `secret` keeps its current one for the same URL, else gets a new one.
    A custom sender (CustomEmailSender, CustomSMSSender) encrypts codes under `code_key`
    (base64 AES-256); without one it keeps its key for the same target, else gets a new one,
    returned once as `new_code_key`."""
    trigger_kind = _kind(kind)
    is_sender = trigger_kind in SENDER_KINDS
    if code_key is not None:
        if not is_sender:
            raise InvalidParameterException(
                "Only the custom sender triggers take a code key.", field="code_key"
            )
        sender_codes.check_key(code_key)
    if (webhook is None) == (python is None):
        raise InvalidParameterException("Give either a webhook URL or a Python callable.")
    chosen_version = _version(version)
    if chosen_version != Trigger.Version.V1_0 and trigger_kind != TriggerKind.PRE_TOKEN_GENERATION:
        raise InvalidParameterException(
            "Only the PreTokenGeneration trigger has a version.", field="version"
        )
    if python is not None:
        triggers.check_callable(python)
    else:
        triggers.check_webhook_url(webhook)
        if secret is not None and len(secret) < 16:
            raise InvalidParameterException(
                "A webhook secret has at least 16 characters.", field="secret"
            )
    with transaction.atomic():
        current = Trigger.objects.select_for_update().filter(pool=pool, kind=trigger_kind).first()
        new_secret = ""
        if python is not None:
            stored_secret = ""
        elif secret is not None:
            stored_secret = secret
        elif current is not None and current.target == webhook and current.secret:
            stored_secret = current.secret
        else:
            stored_secret = new_secret = crypto.token(SECRET_BYTES)
        new_code_key = stored_code_key = ""
        if is_sender:
            if code_key is not None:
                stored_code_key = code_key
            elif current is not None and current.target == (python or webhook):
                stored_code_key = current.code_key
            if not stored_code_key:
                stored_code_key = new_code_key = sender_codes.new_key()
        trigger = current or Trigger(pool=pool, kind=trigger_kind)
        trigger.code_key = stored_code_key
        trigger.transport = Trigger.Transport.PYTHON if python else Trigger.Transport.WEBHOOK
        trigger.target = python or webhook
        trigger.secret = stored_secret
        trigger.version = chosen_version
        trigger.save()
        triggers.forget_configuration(pool)
    return TriggerSetting(
        kind=trigger.kind,
        transport=trigger.transport,
        target=trigger.target,
        version=trigger.version,
        new_secret=new_secret,
        new_code_key=new_code_key,
    )


def remove_trigger(*, pool: UserPool, kind: str) -> bool:
    """Remove the pool's `kind` trigger; False when there was none."""
    deleted, _ = Trigger.objects.filter(pool=pool, kind=_kind(kind)).delete()
    triggers.forget_configuration(pool)
    return bool(deleted)


# ------------------------------------------------------------------- the JSON API's LambdaConfig


def _target_of(value: Any, key: str) -> dict[str, str]:
    if not isinstance(value, str) or not value:
        raise InvalidParameterException(f"LambdaConfig.{key} must be a string.")
    if value.startswith(triggers.PYTHON_PREFIX):
        return {"python": value.removeprefix(triggers.PYTHON_PREFIX)}
    if value.startswith("arn:"):
        raise InvalidParameterException(
            f"LambdaConfig.{key}: Cognate calls a webhook URL or python:dotted.path, not a "
            "Lambda ARN."
        )
    return {"webhook": value}


def parse_lambda_config(config: Any) -> dict[str, dict[str, str]]:
    """LambdaConfig -> {kind: {"webhook"|"python": target, "version"?: V}}, checked (no
    writes): the caller applies it with `replace_all` in its own transaction."""
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise InvalidParameterException("LambdaConfig must be an object.")
    wanted: dict[str, dict[str, str]] = {}
    for key, value in config.items():
        if key in SENDER_KINDS:
            raise InvalidParameterException(
                f"LambdaConfig.{key}: configure a custom sender with `settrigger` or the console, "
                "which show its code key once."
            )
        if key == "PreTokenGenerationConfig":
            if not isinstance(value, dict):
                raise InvalidParameterException("PreTokenGenerationConfig must be an object.")
            unknown = set(value) - {"LambdaArn", "LambdaVersion"}
            if unknown:
                raise InvalidParameterException(
                    f"Unknown PreTokenGenerationConfig fields: {', '.join(sorted(unknown))}."
                )
            entry = _target_of(value.get("LambdaArn"), "PreTokenGenerationConfig.LambdaArn")
            entry["version"] = _version(value.get("LambdaVersion"))
            previous = wanted.get(TriggerKind.PRE_TOKEN_GENERATION)
            if previous and previous.get("webhook", previous.get("python")) != entry.get(
                "webhook", entry.get("python")
            ):
                raise InvalidParameterException(
                    "PreTokenGeneration and PreTokenGenerationConfig.LambdaArn differ."
                )
            wanted[TriggerKind.PRE_TOKEN_GENERATION] = entry
            continue
        kind = _kind(key)
        entry = _target_of(value, key)
        if kind in wanted:  # PreTokenGenerationConfig came first: keep its version
            entry["version"] = wanted[kind].get("version", Trigger.Version.V1_0)
        wanted[kind] = entry
    for entry in wanted.values():
        if "python" in entry:
            triggers.check_callable(entry["python"])
        else:
            triggers.check_webhook_url(entry["webhook"])
    return wanted


def replace_all(*, pool: UserPool, config: Any) -> None:
    """Make the pool's triggers exactly what LambdaConfig says (as UpdateUserPool replaces
    the whole LambdaConfig): kinds not named are removed."""
    wanted = parse_lambda_config(config)
    with transaction.atomic():
        # The custom senders are not LambdaConfig's to change (their code key is shown once).
        Trigger.objects.filter(pool=pool).exclude(kind__in=[*wanted, *SENDER_KINDS]).delete()
        triggers.forget_configuration(pool)
        for kind, entry in wanted.items():
            set_trigger(
                pool=pool,
                kind=kind,
                webhook=entry.get("webhook"),
                python=entry.get("python"),
                version=entry.get("version"),
            )


def lambda_config(pool: UserPool) -> dict[str, Any]:
    """The pool's triggers as DescribeUserPool's LambdaConfig."""
    config: dict[str, Any] = {}
    for trigger in (
        Trigger.objects.filter(pool=pool).exclude(kind__in=SENDER_KINDS).order_by("kind")
    ):
        target = (
            triggers.PYTHON_PREFIX + trigger.target
            if trigger.transport == Trigger.Transport.PYTHON
            else trigger.target
        )
        config[trigger.kind] = target
        if trigger.kind == TriggerKind.PRE_TOKEN_GENERATION:
            config["PreTokenGenerationConfig"] = {
                "LambdaVersion": trigger.version,
                "LambdaArn": target,
            }
    return config


# ------------------------------------------------------------------------ sample (test) events

SAMPLE_USER_NAME = "sample-user"
SAMPLE_CODE = "123456"
SAMPLE_ATTRIBUTES = {
    "sub": "00000000-0000-4000-8000-000000000000",
    "email": "sample.user@example.com",
    "email_verified": "true",
    "phone_number": "+15555550100",
    "phone_number_verified": "false",
    "cognito:user_status": "CONFIRMED",
}


def _sample(trigger: Trigger) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
    """(triggerSource, request, response) of a representative event of the trigger's kind."""
    attributes = dict(SAMPLE_ATTRIBUTES)
    kind = trigger.kind
    if kind == TriggerKind.PRE_SIGN_UP:
        response = {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False}
        return "PreSignUp_SignUp", {"userAttributes": attributes, "validationData": {}}, response
    if kind == TriggerKind.POST_CONFIRMATION:
        return "PostConfirmation_ConfirmSignUp", {"userAttributes": attributes}, None
    if kind == TriggerKind.PRE_AUTHENTICATION:
        request = {"userAttributes": attributes, "validationData": {}}
        return "PreAuthentication_Authentication", request, None
    if kind == TriggerKind.POST_AUTHENTICATION:
        request = {"userAttributes": attributes, "newDeviceUsed": False}
        return "PostAuthentication_Authentication", request, None
    if kind == TriggerKind.CUSTOM_MESSAGE:
        request = {
            "userAttributes": attributes,
            "codeParameter": "{####}",
            "linkParameter": "{##Click Here##}",
            "usernameParameter": None,
        }
        response = {"smsMessage": None, "emailMessage": None, "emailSubject": None}
        return "CustomMessage_SignUp", request, response
    if kind == TriggerKind.PRE_TOKEN_GENERATION:
        request = {
            "userAttributes": attributes,
            "groupConfiguration": {
                "groupsToOverride": [],
                "iamRolesToOverride": [],
                "preferredRole": None,
            },
        }
        if trigger.version == Trigger.Version.V1_0:
            return "TokenGeneration_Authentication", request, {"claimsOverrideDetails": None}
        request["scopes"] = ["openid", "email"]
        return (
            "TokenGeneration_Authentication",
            request,
            {"claimsAndScopeOverrideDetails": None},
        )
    if kind == TriggerKind.USER_MIGRATION:
        # The forgot-password source: a sample carries no password, real or made up.
        response = dict.fromkeys(
            (
                "userAttributes",
                "finalUserStatus",
                "messageAction",
                "desiredDeliveryMediums",
                "forceAliasCreation",
                "enableSMSMFA",
            )
        )
        return "UserMigration_ForgotPassword", {"validationData": None}, response
    if kind == TriggerKind.DEFINE_AUTH_CHALLENGE:
        request = {"userAttributes": attributes, "session": [], "userNotFound": False}
        response = {"challengeName": None, "issueTokens": None, "failAuthentication": None}
        return "DefineAuthChallenge_Authentication", request, response
    if kind == TriggerKind.CREATE_AUTH_CHALLENGE:
        request = {
            "userAttributes": attributes,
            "challengeName": "CUSTOM_CHALLENGE",
            "session": [],
            "userNotFound": False,
        }
        response = dict.fromkeys(
            ("publicChallengeParameters", "privateChallengeParameters", "challengeMetadata")
        )
        return "CreateAuthChallenge_Authentication", request, response
    if kind == TriggerKind.VERIFY_AUTH_CHALLENGE_RESPONSE:
        request = {
            "userAttributes": attributes,
            "privateChallengeParameters": {},
            "challengeAnswer": "sample answer",
            "userNotFound": False,
        }
        return "VerifyAuthChallengeResponse_Authentication", request, {"answerCorrect": None}
    if kind not in SENDER_KINDS:
        raise ValueError(f"no sample event for {kind!r}")
    # A custom sender: the sample code encrypted as a real event's is.
    source = f"{kind}_SignUp"
    request_type = (
        "customEmailSenderRequestV1"
        if kind == TriggerKind.CUSTOM_EMAIL_SENDER
        else "customSMSSenderRequestV1"
    )
    code = sender_codes.encrypt(
        trigger.code_key, SAMPLE_CODE, pool_id=trigger.pool_id, trigger_source=source
    )
    return source, {"type": request_type, "code": code, "userAttributes": attributes}, None


def send_test_event(*, pool: UserPool, kind: str) -> dict[str, Any]:
    """Call the pool's `kind` trigger with a sample event of its kind (a made-up user; a custom
    sender gets SAMPLE_CODE encrypted) and return the `response` it answered. Logged like any
    call; raises Cognito's trigger errors, or ResourceNotFoundException when none is set."""
    trigger = Trigger.objects.filter(pool=pool, kind=_kind(kind)).first()
    if trigger is None:
        raise ResourceNotFoundException(f"The pool has no {kind} trigger.")
    source, request, response = _sample(trigger)
    payload = triggers.event(
        pool,
        trigger_source=source,
        user_name=SAMPLE_USER_NAME,
        client=None,
        request=request,
        response=response,
    )
    if trigger.version in (Trigger.Version.V2_0, Trigger.Version.V3_0):
        payload["version"] = "2" if trigger.version == Trigger.Version.V2_0 else "3"
    return triggers.run(trigger, payload, answer_expected=trigger.kind not in SENDER_KINDS)
