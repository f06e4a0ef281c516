"""The one way a code or message leaves Cognate: sign-up and resent confirmation codes, password
recovery codes, attribute verification codes, invitations with a temporary password and MFA
codes all go through `send()` here, and nothing else calls pool.messaging.

`send()` does, in order:
1. choose the destination: the attribute (`email` / `phone_number`) gives the medium (EMAIL /
   SMS) and, unless a pending value is given, the address;
2. compose the message from the pool's template for the *source* (Cognito's trigger-source
   names: SignUp, ResendCode, ForgotPassword, UpdateUserAttribute, VerifyUserAttribute,
   AdminCreateUser, Authentication), with `{####}` (the code or temporary password) and
   `{username}` filled in;
3. transmit it by email or SMS (pool.messaging; a failure is CodeDeliveryFailureException);
4. answer with the masked CodeDelivery (Cognito's CodeDeliveryDetails).

Every message is written in the user's language (pool.languages.for_user: their `locale`
attribute, else the language of the request that caused it, else English): the pool's template
for that language when it set one (pool/services/message_templates.py), else its own template,
translated when it is still Cognito's default text; the email's frame is translated too.

Triggers hook in here and nowhere else, so that they fire alike from every door: the
custom-message trigger (CustomMessage_<source>) in step 2: its smsMessage / emailMessage /
emailSubject replace the pool's templates, placeholders kept (`{####}` must stay, and
`{username}` in an invitation, or Cognito refuses the answer) and filled after it answers, so
the trigger never sees the code. The custom email and SMS sender triggers
(CustomEmailSender_<source>, CustomSMSSender_<source>) will take the place of step 3.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from enum import StrEnum

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from pool import email_body, languages, messaging, sender_codes, triggers
from pool.errors import InvalidLambdaResponseException, InvalidParameterException
from pool.models import AppClient, CodePurpose, Trigger, TriggerKind, User, UserPool
from pool.services import codes
from pool.services.results import CodeDelivery


class Source(StrEnum):
    """Why a message is sent, named as Cognito names its trigger sources."""

    SIGN_UP = "SignUp"
    RESEND_CODE = "ResendCode"
    FORGOT_PASSWORD = "ForgotPassword"
    UPDATE_USER_ATTRIBUTE = "UpdateUserAttribute"
    VERIFY_USER_ATTRIBUTE = "VerifyUserAttribute"
    ADMIN_CREATE_USER = "AdminCreateUser"
    AUTHENTICATION = "Authentication"


MEDIUM = {"email": "EMAIL", "phone_number": "SMS"}
ATTRIBUTE = {medium: attribute for attribute, medium in MEDIUM.items()}
# The code that proves ownership of each attribute.
VERIFY_PURPOSE = {
    "email": CodePurpose.VERIFY_EMAIL,
    "phone_number": CodePurpose.VERIFY_PHONE_NUMBER,
}
# Where each message-borne MFA challenge sends its code.
MFA_ATTRIBUTE = {"SMS_MFA": "phone_number", "EMAIL_OTP": "email"}
MFA_EMAIL_SUBJECT = gettext_lazy("Your sign-in code")
# Cognito's default templates (the pool's fields start with them): translated when unchanged.
DEFAULT_TEMPLATES = frozenset(
    {
        gettext_noop("Your verification code"),
        gettext_noop("Your verification code is {####}."),
        gettext_noop("Your temporary password"),
        gettext_noop("Your username is {username} and temporary password is {####}."),
        gettext_noop("Your authentication code is {####}."),
    }
)
_VERIFICATION = frozenset(
    {
        Source.SIGN_UP,
        Source.RESEND_CODE,
        Source.FORGOT_PASSWORD,
        Source.UPDATE_USER_ATTRIBUTE,
        Source.VERIFY_USER_ATTRIBUTE,
    }
)


@dataclass(frozen=True)
class Message:
    """One message, composed and ready to transmit (what a custom-message trigger may change)."""

    source: Source
    medium: str  # "EMAIL" | "SMS"
    destination: str
    subject: str  # email only
    body: str  # the text (an email's text part; an SMS)
    html: str = ""  # an email's HTML part (pool.email_body); empty for SMS


def render(template: str, *, code: str, username: str) -> str:
    """Fill Cognito's placeholders: `{####}` (code or temporary password), `{username}`."""
    return template.replace("{####}", code).replace("{username}", username)


def template(pool: UserPool, field: str) -> str:
    """The pool's template `field` in the active language: its own for that language, else the
    pool's field (Cognito's default text translated, a text the operator wrote as written)."""
    language = translation.get_language() or ""
    own = ((pool.message_templates or {}).get(language) or {}).get(field)
    if own:
        return own
    value = getattr(pool, field)
    return gettext(value) if value in DEFAULT_TEMPLATES else value


def templates(pool: UserPool, source: Source, medium: str) -> tuple[str, str]:
    """The pool's (subject, body) templates for a message from `source` by `medium`, in the
    active language (see `template`)."""
    if source in _VERIFICATION:
        if medium == "SMS":
            return "", template(pool, "verification_sms_message")
        return (
            template(pool, "verification_email_subject"),
            template(pool, "verification_email_message"),
        )
    if source == Source.ADMIN_CREATE_USER:
        # The pool keeps one invitation text; an SMS invitation carries it too.
        return (
            template(pool, "invitation_email_subject"),
            template(pool, "invitation_email_message"),
        )
    if source == Source.AUTHENTICATION:
        return str(MFA_EMAIL_SUBJECT), template(pool, "mfa_message")
    raise ValueError(f"no template for {source!r}")


CODE_PARAMETER = "{####}"
LINK_PARAMETER = "{##Click Here##}"
USERNAME_PARAMETER = "{username}"
# Cognito's limits on a message, with the code in it (reference B5).
MAX_EMAIL_MESSAGE = 20_000
MAX_SMS_MESSAGE = 140
MAX_EMAIL_SUBJECT = 140


def custom_templates(
    user: User,
    *,
    source: Source,
    medium: str,
    client: AppClient | None = None,
    client_metadata: dict[str, str] | None = None,
) -> tuple[str, str] | None:
    """The (subject, body) templates the pool's custom-message trigger answers for this
    message, or None to keep the pool's own. The event carries the placeholders, never the
    code; an answer without them (or too long) is InvalidLambdaResponseException."""
    answer = triggers.fire(
        user.pool,
        TriggerKind.CUSTOM_MESSAGE,
        trigger_source=f"CustomMessage_{source}",
        user_name=user.username,
        client=client,
        request=triggers.request_for(
            user,
            client_metadata=client_metadata,
            codeParameter=CODE_PARAMETER,
            linkParameter=LINK_PARAMETER,
            usernameParameter=USERNAME_PARAMETER if source == Source.ADMIN_CREATE_USER else None,
        ),
        response={"smsMessage": None, "emailMessage": None, "emailSubject": None},
    )
    if not answer:
        return None
    subject, body = templates(user.pool, source, medium)
    if medium == "SMS":
        custom_body, custom_subject, limit = answer.get("smsMessage"), None, MAX_SMS_MESSAGE
    else:
        custom_body, custom_subject = answer.get("emailMessage"), answer.get("emailSubject")
        limit = MAX_EMAIL_MESSAGE
    for value in (custom_body, custom_subject):
        if value is not None and not isinstance(value, str):
            raise InvalidLambdaResponseException(triggers.UNRECOGNIZABLE)
    if custom_subject:
        if len(custom_subject) > MAX_EMAIL_SUBJECT:
            raise InvalidLambdaResponseException("The custom message's subject is too long.")
        subject = custom_subject
    if custom_body:
        if CODE_PARAMETER not in custom_body:
            raise InvalidLambdaResponseException(
                f"The custom message must contain the code parameter {CODE_PARAMETER}."
            )
        if source == Source.ADMIN_CREATE_USER and USERNAME_PARAMETER not in custom_body:
            raise InvalidLambdaResponseException(
                f"The invitation must contain the username parameter {USERNAME_PARAMETER}."
            )
        if len(custom_body) > limit:
            raise InvalidLambdaResponseException("The custom message is too long.")
        body = custom_body
    return subject, body


def compose(
    user: User,
    *,
    source: Source,
    medium: str,
    destination: str,
    code: str,
    username: str = "",
    client: AppClient | None = None,
    custom: tuple[str, str] | None = None,
) -> Message:
    """The message for `source`, from the pool's templates (or the `custom` ones a
    custom-message trigger answered). An email gets a text and an HTML part from the same
    template (pool.email_body), branded by `client` when there is one."""
    subject, body = custom or templates(user.pool, source, medium)
    username = username or user.username
    if medium != "EMAIL":
        return Message(
            source=source,
            medium=medium,
            destination=destination,
            subject="",
            body=render(body, code=code, username=username),
        )
    subject = render(subject, code=code, username=username)
    return Message(
        source=source,
        medium=medium,
        destination=destination,
        subject=subject,
        body=email_body.text_part(body, code=code, username=username),
        html=email_body.html_part(
            body, code=code, username=username, subject=subject, pool=user.pool, client=client
        ),
    )


def _transmit(message: Message, pool: UserPool) -> None:
    # The custom email / SMS sender triggers take over here when the pool configures them.
    if message.medium == "EMAIL":
        messaging.send_email(
            message.destination,
            message.subject,
            message.body,
            from_email=pool.email_from,
            html=message.html,
        )
    else:
        messaging.send_sms(message.destination, message.body)


SENDER_KIND = {"EMAIL": TriggerKind.CUSTOM_EMAIL_SENDER, "SMS": TriggerKind.CUSTOM_SMS_SENDER}
SENDER_REQUEST_TYPE = {
    TriggerKind.CUSTOM_EMAIL_SENDER: "customEmailSenderRequestV1",
    TriggerKind.CUSTOM_SMS_SENDER: "customSMSSenderRequestV1",
}


def _hand_to_sender(
    sender: Trigger,
    user: User,
    *,
    source: Source,
    attribute: str,
    destination: str,
    code: str,
    client: AppClient | None,
    client_metadata: dict[str, str] | None,
) -> None:
    """Give the message to the pool's custom sender trigger instead of sending it: the event
    (CustomEmailSender_<source> / CustomSMSSender_<source>) carries the code encrypted under the
    trigger's key (pool.sender_codes), a temporary password HTML-escaped as Cognito sends it,
    and the address in userAttributes (the pending one for a changed attribute). The answer
    is ignored; a failure raises Cognito's error, so the caller's transaction rolls back."""
    trigger_source = f"{sender.kind}_{source}"
    plain = html.escape(code) if source == Source.ADMIN_CREATE_USER else code
    request = triggers.request_for(
        user,
        client_metadata=client_metadata,
        type=SENDER_REQUEST_TYPE[sender.kind],
        code=sender_codes.encrypt(
            sender.code_key, plain, pool_id=user.pool_id, trigger_source=trigger_source
        ),
    )
    request["userAttributes"][attribute] = destination
    payload = triggers.event(
        user.pool,
        trigger_source=trigger_source,
        user_name=user.username,
        client=client,
        request=request,
    )
    triggers.run(sender, payload, answer_expected=False)


def send(
    user: User,
    *,
    source: Source,
    attribute: str,
    code: str,
    destination: str = "",
    username: str = "",
    client: AppClient | None = None,
    client_metadata: dict[str, str] | None = None,
) -> CodeDelivery:
    """Send `code` (already issued) for `source` to the user's `attribute` (`email` or
    `phone_number`), or to `destination` when the code is for a value not yet applied.
    `username` fills `{username}` (default: the user's username); `client`, the app the
    message concerns, brands an email (logo, colour). Returns the masked
    CodeDelivery; raises CodeDeliveryFailureException if the message could not leave."""
    medium = MEDIUM[attribute]
    destination = destination or getattr(user, attribute)
    sender = triggers.configured(user.pool, SENDER_KIND[medium])
    if sender is not None:
        _hand_to_sender(
            sender,
            user,
            source=source,
            attribute=attribute,
            destination=destination,
            code=code,
            client=client,
            client_metadata=client_metadata,
        )
        return CodeDelivery(
            destination=messaging.mask(destination), medium=medium, attribute=attribute
        )
    with translation.override(languages.for_user(user, fallback=translation.get_language())):
        custom = custom_templates(
            user, source=source, medium=medium, client=client, client_metadata=client_metadata
        )
        message = compose(
            user,
            source=source,
            medium=medium,
            destination=destination,
            code=code,
            username=username,
            client=client,
            custom=custom,
        )
    _transmit(message, user.pool)
    return CodeDelivery(destination=messaging.mask(destination), medium=medium, attribute=attribute)


def code_purpose(source: Source, attribute: str) -> str:
    """Which one-time code a message from `source` carries."""
    if source in (Source.SIGN_UP, Source.RESEND_CODE):
        return CodePurpose.SIGN_UP
    if source == Source.FORGOT_PASSWORD:
        return CodePurpose.FORGOT_PASSWORD
    if source in (Source.UPDATE_USER_ATTRIBUTE, Source.VERIFY_USER_ATTRIBUTE):
        return VERIFY_PURPOSE[attribute]
    raise ValueError(f"{source!r} carries no verification code")


def send_code(
    user: User,
    *,
    source: Source,
    attribute: str,
    destination: str = "",
    client: AppClient | None = None,
    client_metadata: dict[str, str] | None = None,
) -> CodeDelivery:
    """Issue a new code for `source` (the previous one stops working) and send it to the
    user's `attribute`, or to `destination` (a value waiting for verification). One
    transaction: when the message cannot leave (a trigger refuses or fails, the provider
    refuses), no new code exists and the previous one still works."""
    destination = destination or getattr(user, attribute)
    with transaction.atomic():
        code = codes.issue(user, code_purpose(source, attribute), destination=destination)
        return send(
            user,
            source=source,
            attribute=attribute,
            code=code,
            destination=destination,
            client=client,
            client_metadata=client_metadata,
        )


def send_invitation(
    user: User,
    *,
    sign_in_name: str,
    temporary_password: str,
    mediums,
    client_metadata: dict[str, str] | None = None,
) -> list[CodeDelivery]:
    """AdminCreateUser's invitation: the sign-in name and temporary password, by each of
    `mediums` (EMAIL, SMS) with the pool's invitation template. A medium the user has no
    address for is the operator's input error."""
    for medium in mediums:
        attribute = ATTRIBUTE[medium]
        if not getattr(user, attribute):
            raise InvalidParameterException(
                f"The user has no {attribute.replace('_', ' ')} to send the invitation to; "
                "give one or suppress the message.",
                field=attribute,
            )
    return [
        send(
            user,
            source=Source.ADMIN_CREATE_USER,
            attribute=ATTRIBUTE[medium],
            code=temporary_password,
            username=sign_in_name,
            client_metadata=client_metadata,
        )
        for medium in mediums
    ]


def send_mfa_code(
    user: User, challenge_name: str, code: str, *, client: AppClient | None = None
) -> CodeDelivery:
    """Send a sign-in code for an SMS_MFA or EMAIL_OTP challenge with the pool's MFA message;
    the CodeDelivery gives the challenge's CODE_DELIVERY_* parameters."""
    return send(
        user,
        source=Source.AUTHENTICATION,
        attribute=MFA_ATTRIBUTE[challenge_name],
        code=code,
        client=client,
    )
