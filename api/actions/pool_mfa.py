"""SetUserPoolMfaConfig and GetUserPoolMfaConfig, over pool/services/pools.update_pool.

The pool keeps MFA as `mfa_configuration` (OFF / OPTIONAL / ON), `mfa_methods` and the SMS
message `mfa_message`. As Cognito's "set" reads: a method is on when its member is given
(SoftwareTokenMfaConfiguration with Enabled true; SmsMfaConfiguration; EmailMfaConfiguration)
and off when it is left out; MfaConfiguration left out keeps the pool's. Email MFA messages use
the pool's own template, so EmailMfaConfiguration is accepted without a Message or Subject, as
are the SNS settings and passkeys, which Cognate does not implement (wire.refuse_unsupported).
"""

from __future__ import annotations

from typing import Any

from api import wire
from api.registry import Auth, Call, action
from pool.models import UserPool
from pool.services import pools

FIELD_NAMES = {
    "mfa_configuration": "MfaConfiguration",
    "mfa_methods": "MfaConfiguration",
    "mfa_message": "SmsMfaConfiguration.SmsAuthenticationMessage",
}


def mfa_config(pool: UserPool) -> dict[str, Any]:
    """The pool's MFA configuration as Get/SetUserPoolMfaConfig answer it."""
    methods = pool.mfa_methods or []
    answer: dict[str, Any] = {
        "SoftwareTokenMfaConfiguration": {"Enabled": "SOFTWARE_TOKEN_MFA" in methods},
        "MfaConfiguration": pool.mfa_configuration,
    }
    if "SMS_MFA" in methods:
        answer["SmsMfaConfiguration"] = {"SmsAuthenticationMessage": pool.mfa_message}
    if "EMAIL_OTP" in methods:
        answer["EmailMfaConfiguration"] = {}
    return answer


@action("SetUserPoolMfaConfig", auth=Auth.SIGV4)
def set_user_pool_mfa_config(call: Call) -> dict[str, Any]:
    params = call.params
    pool = wire.get_pool(params["UserPoolId"])
    wire.refuse_unsupported(params, ("WebAuthnConfiguration",))
    sms = params.get("SmsMfaConfiguration")
    email = params.get("EmailMfaConfiguration")
    totp = params.get("SoftwareTokenMfaConfiguration") or {}
    if sms is not None:
        wire.refuse_unsupported(sms, ("SmsConfiguration",), "SmsMfaConfiguration.")
    if email is not None:
        wire.refuse_unsupported(email, ("Message", "Subject"), "EmailMfaConfiguration.")
    methods = [
        method
        for method, on in (
            ("SOFTWARE_TOKEN_MFA", totp.get("Enabled", False)),
            ("SMS_MFA", sms is not None),
            ("EMAIL_OTP", email is not None),
        )
        if on
    ]
    changes: dict[str, Any] = {"mfa_methods": methods}
    if "MfaConfiguration" in params:
        changes["mfa_configuration"] = params["MfaConfiguration"]
    if sms and sms.get("SmsAuthenticationMessage"):
        changes["mfa_message"] = sms["SmsAuthenticationMessage"]
    with wire.in_api_terms(FIELD_NAMES):
        pool = pools.update_pool(pool=pool, **changes)
    return mfa_config(pool)


@action("GetUserPoolMfaConfig", auth=Auth.SIGV4)
def get_user_pool_mfa_config(call: Call) -> dict[str, Any]:
    return mfa_config(wire.get_pool(call.params["UserPoolId"]))
