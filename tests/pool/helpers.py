"""Small helpers for the pool's service tests: the code a message carries, a code that is not it,
and the client side of SRP (pycognito's)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from functools import cache

import boto3
from django.core import mail
from pycognito.aws_srp import AWSSRP


def code_in(text: str) -> str:
    """The six-digit code in a message's text."""
    return re.search(r"\b(\d{6})\b", text).group(1)


def emailed_code(to: str) -> str:
    """The code in the newest email sent to `to` (pytest-django's locmem outbox)."""
    return code_in(next(m for m in reversed(mail.outbox) if to in m.to).body)


def wrong_code(code: str) -> str:
    """A six-digit code that is not `code`."""
    return "000000" if code != "000000" else "111111"


# ------------------------------------------------------------------------------------ SRP
# The client side of USER_SRP_AUTH is pycognito's own math (AWSSRP), never ours.


@cache
def _idle_boto():
    """A real cognito-idp client for AWSSRP's constructor, which service tests never let call."""
    return boto3.client(
        "cognito-idp", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def srp_client(pool, client, username: str, password: str, *, boto=None, **options) -> AWSSRP:
    """pycognito's AWSSRP for `username` at `client` (its a and A drawn now); `boto` is the
    cognito-idp client it calls (service tests drive the services instead)."""
    return AWSSRP(
        username, password, pool.id, client.client_id, client=boto or _idle_boto(), **options
    )


def srp_claim(aws: AWSSRP, parameters: dict[str, str], timestamp: str) -> dict[str, str]:
    """The PASSWORD_VERIFIER answer to `parameters` signed at `timestamp` with pycognito's key
    derivation (its process_challenge signs at the wall clock; tests sign at the domain's)."""
    key = aws.get_password_authentication_key(
        parameters["USER_ID_FOR_SRP"],
        aws.password,
        int(parameters["SRP_B"], 16),
        parameters["SALT"],
    )
    message = (
        aws.pool_id.split("_")[1].encode()
        + parameters["USER_ID_FOR_SRP"].encode()
        + base64.b64decode(parameters["SECRET_BLOCK"])
        + timestamp.encode()
    )
    signature = hmac.new(key, message, hashlib.sha256).digest()
    return {
        "USERNAME": parameters["USERNAME"],
        "PASSWORD_CLAIM_SECRET_BLOCK": parameters["SECRET_BLOCK"],
        "PASSWORD_CLAIM_SIGNATURE": base64.b64encode(signature).decode(),
        "TIMESTAMP": timestamp,
    }
