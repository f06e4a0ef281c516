"""Verifying AWS Signature Version 4 on the JSON API's admin calls.

The verifier rebuilds the canonical request from what arrived (method, path, query, the headers
the client says it signed, the SHA-256 of the body), derives the signing key from the stored
secret and the credential scope, and compares signatures in constant time. Cognito's rules:
the scope is `<key id>/<YYYYMMDD>/<any region>/cognito-idp/aws4_request`, the date within 15
minutes of ours. Stricter than AWS: `host` and `x-amz-target` must be signed, so a captured call
cannot be replayed against another operation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, quote

from django.http import HttpRequest

from api.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)
from api.models import AccessKey
from pool import clock

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "cognito-idp"
TERMINATOR = "aws4_request"
MAX_SKEW = dt.timedelta(minutes=15)
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
REQUIRED_SIGNED_HEADERS = ("host", "x-amz-target")
_REGION = re.compile(r"^[a-z0-9-]{1,32}$")
# A key is marked used at most this often, so signed calls are not each a write.
_TOUCH_EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class SignedBy:
    """Who signed a verified call, and the region its credential scope names."""

    access_key: AccessKey
    region: str


def _parse_authorization(header: str) -> dict[str, str]:
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise IncompleteSignatureException(
            f"Unsupported AWS 'algorithm': '{algorithm}'. Use {ALGORITHM}."
        )
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, value = item.strip().partition("=")
        if sep:
            parts[name.strip()] = value.strip()
    missing = [f"'{p}'" for p in ("Credential", "SignedHeaders", "Signature") if not parts.get(p)]
    if missing:
        raise IncompleteSignatureException(
            " ".join(f"Authorization header requires {name} parameter." for name in missing)
        )
    return parts


def _request_time(request: HttpRequest, signed: list[str]) -> tuple[dt.datetime, str]:
    """The request's date (X-Amz-Date, else Date) and its ISO-8601 basic form."""
    amz_date = request.headers.get("X-Amz-Date")
    if amz_date:
        if "x-amz-date" not in signed:
            raise InvalidSignatureException("'X-Amz-Date' must be a 'SignedHeader'.")
        try:
            moment = dt.datetime.strptime(amz_date, AMZ_DATE_FORMAT).replace(tzinfo=dt.UTC)
        except ValueError:
            raise IncompleteSignatureException(
                f"Date must be in ISO-8601 'basic format'. Got '{amz_date[:32]}'."
            ) from None
        return moment, amz_date
    date = request.headers.get("Date")
    if not date:
        raise IncompleteSignatureException(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    try:
        moment = parsedate_to_datetime(date).astimezone(dt.UTC)
    except (TypeError, ValueError, IndexError):
        raise IncompleteSignatureException("The 'Date' header is not an HTTP date.") from None
    return moment, moment.strftime(AMZ_DATE_FORMAT)


def _check_fresh(moment: dt.datetime, stamp: str) -> None:
    now = clock.now().astimezone(dt.UTC)
    earliest, latest = now - MAX_SKEW, now + MAX_SKEW
    fmt = AMZ_DATE_FORMAT
    if moment < earliest:
        raise InvalidSignatureException(
            f"Signature expired: {stamp} is now earlier than {earliest.strftime(fmt)} "
            f"({now.strftime(fmt)} - 15 min.)"
        )
    if moment > latest:
        raise InvalidSignatureException(
            f"Signature not yet current: {stamp} is still later than {latest.strftime(fmt)} "
            f"({now.strftime(fmt)} + 15 min.)"
        )


def _canonical_query(query_string: str) -> str:
    pairs = parse_qsl(query_string, keep_blank_values=True)
    encoded = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def canonical_request(request: HttpRequest, signed: list[str], payload_hash: str) -> str:
    """AWS's canonical form of `request` over the `signed` header names."""
    headers = []
    for name in signed:
        value = request.headers.get(name)
        if value is None:
            raise InvalidSignatureException(
                f"The request does not carry the signed header '{name}'."
            )
        headers.append(f"{name}:{' '.join(value.split())}\n")
    return "\n".join(
        [
            request.method,
            quote(request.path, safe="/~"),
            _canonical_query(request.META.get("QUERY_STRING", "")),
            "".join(headers),
            ";".join(signed),
            payload_hash,
        ]
    )


def signing_key(secret: str, date: str, region: str, service: str = SERVICE) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, TERMINATOR):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def verify(request: HttpRequest) -> SignedBy:
    """Check the call's SigV4 signature; raise the error AWS would send if it does not hold."""
    header = request.headers.get("Authorization")
    if not header:
        raise MissingAuthenticationTokenException()
    parts = _parse_authorization(header)

    scope = parts["Credential"].split("/")
    if len(scope) != 5:
        raise IncompleteSignatureException(
            f"Credential should be scoped to a valid region, not of the form "
            f"'<key>/<date>/<region>/<service>/{TERMINATOR}'."
        )
    key_id, scope_date, region, service, terminator = scope
    signed = parts["SignedHeaders"].split(";")
    if signed != sorted(signed) or any(name != name.lower() or not name for name in signed):
        raise IncompleteSignatureException("SignedHeaders must be lower-case and sorted.")
    for name in REQUIRED_SIGNED_HEADERS:
        if name not in signed:
            raise InvalidSignatureException(f"'{name}' must be a 'SignedHeader' in the request.")

    moment, stamp = _request_time(request, signed)
    if scope_date != stamp[:8]:
        raise InvalidSignatureException(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{scope_date[:16]}' != '{stamp[:8]}'."
        )
    if terminator != TERMINATOR:
        raise InvalidSignatureException(
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', not "
            f"'{terminator[:32]}'."
        )
    if service != SERVICE:
        raise InvalidSignatureException(
            f"Credential should be scoped to correct service: '{SERVICE}'."
        )
    if not _REGION.match(region):
        raise InvalidSignatureException("Credential should be scoped to a valid region.")
    _check_fresh(moment, stamp)

    if request.headers.get("X-Amz-Security-Token"):
        # Cognate issues no temporary credentials: a session token is never one of ours.
        raise UnrecognizedClientException()
    access_key = AccessKey.objects.filter(pk=key_id, active=True).first()
    if access_key is None:
        raise UnrecognizedClientException()

    payload_hash = hashlib.sha256(request.body).hexdigest()
    claimed = request.headers.get("X-Amz-Content-Sha256")
    if claimed is not None and claimed != payload_hash:
        raise InvalidSignatureException(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        )
    canonical = canonical_request(request, signed, payload_hash)
    string_to_sign = "\n".join(
        [
            ALGORITHM,
            stamp,
            f"{scope_date}/{region}/{service}/{terminator}",
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = signing_key(access_key.secret_plaintext, scope_date, region)
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    given = parts["Signature"].encode("utf-8", "surrogatepass")
    if not hmac.compare_digest(expected.encode(), given):
        raise InvalidSignatureException()

    now = clock.now()
    if access_key.last_used_at is None or now - access_key.last_used_at > _TOUCH_EVERY:
        AccessKey.objects.filter(pk=access_key.pk).update(last_used_at=now)
    return SignedBy(access_key=access_key, region=region)
