"""How the JSON API answers an error: `{"__type": name, "message": ...}` with the
`x-amzn-ErrorType` header and Cognito's HTTP status.

Domain errors (pool.errors.CognitoError) go through ERROR_STATUS, this door's one table; errors
that only this door can raise (the request's framing and its signature, before any service is
called) are the WireError subclasses below, named as AWS names them.
"""

from __future__ import annotations

from pool.errors import (
    CognitoError,
    InternalErrorException,
    TooManyRequestsException,
    UnauthorizedException,
)

# Cognito's status for a domain error; every other CognitoError is a 400.
ERROR_STATUS: dict[type[CognitoError], int] = {
    TooManyRequestsException: 429,
    UnauthorizedException: 401,
    InternalErrorException: 500,
}


def status_of(error: CognitoError) -> int:
    for cls in type(error).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]
    return 400


class WireError(Exception):
    """An error of the protocol itself (framing, operation, signature), not of a service."""

    status = 400
    default_message = ""

    def __init__(self, message: str | None = None):
        self.message = self.default_message if message is None else message
        super().__init__(self.message)

    @property
    def code(self) -> str:
        return type(self).__name__


class UnknownOperationException(WireError):
    """No X-Amz-Target, or one that names no Cognito operation Cognate answers."""


class SerializationException(WireError):
    """The body is not a JSON object, or not sent as application/x-amz-json-1.1."""


class RequestEntityTooLargeException(WireError):
    status = 413
    default_message = "Request entity too large."


class MissingAuthenticationTokenException(WireError):
    """An admin action without an Authorization header. 403, as AWS documents
    MissingAuthenticationToken (the other signature errors are 400s in real Cognito traffic)."""

    status = 403
    default_message = "Missing Authentication Token"


class IncompleteSignatureException(WireError):
    """An Authorization header without its Credential, SignedHeaders or Signature."""


class InvalidSignatureException(WireError):
    """A signature that does not verify, a stale date, or a scope for another service."""

    default_message = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service "
        "documentation for details."
    )


class UnrecognizedClientException(WireError):
    """An access key id Cognate does not know, or one that was deactivated."""

    default_message = "The security token included in the request is invalid."
