"""A passwordless email-code sign-in, as AWS documents it for Cognito's custom authentication
(Define / Create / Verify auth challenge), ported to Python Lambda handlers: each is called
unchanged as `handler(event, context)`. Create mails the code itself (as the AWS sample calls
SES); the code travels in privateChallengeParameters and challengeMetadata, never to the
client. The tests reconfigure them as Python triggers and as webhooks.
"""

from __future__ import annotations

import secrets

from django.core.mail import send_mail

# Every event the handlers saw, in order (the tests read them; cleared by the tests).
SEEN: list[dict] = []
MAX_TRIES = 3


def define_auth_challenge(event, context):
    """Three tries at the emailed code; a right answer issues tokens."""
    SEEN.append(event)
    session = event["request"]["session"]
    if session and session[-1]["challengeName"] == "CUSTOM_CHALLENGE":
        if session[-1]["challengeResult"] is True:
            event["response"]["issueTokens"] = True
            event["response"]["failAuthentication"] = False
            return event
        if len(session) >= MAX_TRIES:
            event["response"]["issueTokens"] = False
            event["response"]["failAuthentication"] = True
            return event
    event["response"]["issueTokens"] = False
    event["response"]["failAuthentication"] = False
    event["response"]["challengeName"] = "CUSTOM_CHALLENGE"
    return event


def create_auth_challenge(event, context):
    """A new 6-digit code mailed on the first challenge; later tries reuse it (kept in the
    previous challenge's metadata, as the AWS sample does)."""
    SEEN.append(event)
    session = event["request"]["session"]
    if not session:
        code = f"{secrets.randbelow(1_000_000):06d}"
        email = event["request"]["userAttributes"].get("email")
        if email:
            send_mail("Your sign-in code", f"Your code is {code}", None, [email])
    else:
        code = session[-1]["challengeMetadata"].removeprefix("CODE-")
    event["response"]["publicChallengeParameters"] = {
        "email": event["request"]["userAttributes"].get("email", ""),
        "question": "Enter the code we emailed you",
    }
    event["response"]["privateChallengeParameters"] = {"secretLoginCode": code}
    event["response"]["challengeMetadata"] = f"CODE-{code}"
    return event


def verify_auth_challenge_response(event, context):
    """The answer is right when it is the code."""
    SEEN.append(event)
    expected = event["request"]["privateChallengeParameters"]["secretLoginCode"]
    event["response"]["answerCorrect"] = event["request"]["challengeAnswer"] == expected
    return event


def define_that_refuses(event, context):
    """A Define that throws (as a Lambda with a bug): UserLambdaValidationException."""
    raise RuntimeError("no custom sign-in today")


def define_that_fails_at_once(event, context):
    event["response"]["failAuthentication"] = True
    return event


def define_that_asks_for_srp(event, context):
    event["response"]["challengeName"] = "PASSWORD_VERIFIER"
    return event


def define_that_never_ends(event, context):
    """Always another challenge, whatever the answers: the round limit ends it."""
    event["response"]["challengeName"] = "CUSTOM_CHALLENGE"
    return event


def create_with_numbers(event, context):
    """Private parameters that are not strings: an unrecognizable answer."""
    event["response"]["privateChallengeParameters"] = {"code": 123456}
    return event


def define_password_then_challenge(event, context):
    """AWS's Define example: SRP_A, then PASSWORD_VERIFIER, then one custom challenge."""
    SEEN.append(event)
    session = event["request"]["session"]
    if len(session) == 1 and session[0]["challengeName"] == "SRP_A":
        event["response"]["issueTokens"] = False
        event["response"]["failAuthentication"] = False
        event["response"]["challengeName"] = "PASSWORD_VERIFIER"
    elif (
        len(session) == 2
        and session[1]["challengeName"] == "PASSWORD_VERIFIER"
        and session[1]["challengeResult"] is True
    ):
        event["response"]["issueTokens"] = False
        event["response"]["failAuthentication"] = False
        event["response"]["challengeName"] = "CUSTOM_CHALLENGE"
    elif (
        len(session) == 3
        and session[2]["challengeName"] == "CUSTOM_CHALLENGE"
        and session[2]["challengeResult"] is True
    ):
        event["response"]["issueTokens"] = True
        event["response"]["failAuthentication"] = False
    else:
        event["response"]["issueTokens"] = False
        event["response"]["failAuthentication"] = True
    return event


def create_question(event, context):
    """A fixed question (after the password, as AWS's captcha-like example)."""
    SEEN.append(event)
    event["response"]["publicChallengeParameters"] = {"question": "What is 2 + 3?"}
    event["response"]["privateChallengeParameters"] = {"answer": "5"}
    event["response"]["challengeMetadata"] = "QUESTION"
    return event


def verify_question(event, context):
    SEEN.append(event)
    expected = event["request"]["privateChallengeParameters"]["answer"]
    event["response"]["answerCorrect"] = event["request"]["challengeAnswer"] == expected
    return event


# --------------------------------------------------------------------- shared by the tests

PASSWORDLESS = {
    "DefineAuthChallenge": "define_auth_challenge",
    "CreateAuthChallenge": "create_auth_challenge",
    "VerifyAuthChallengeResponse": "verify_auth_challenge_response",
}


def install(pool, **overrides: str) -> None:
    """The AWS passwordless handlers as the pool's three triggers (some replaced by name)."""
    from pool.services import triggers as trigger_config

    for kind, name in {**PASSWORDLESS, **overrides}.items():
        trigger_config.set_trigger(pool=pool, kind=kind, python=f"{__name__}.{name}")


def mailed_code() -> str:
    """The six digits of the newest email (the code CreateAuthChallenge mailed)."""
    import re

    from django.core import mail

    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
