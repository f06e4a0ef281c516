"""The domain's exceptions, named as Cognito names them.

Services raise these; each door (hosted UI, console, OAuth endpoints, JSON API) maps them to its
own format with one small table. `http_status` is the status Cognito's JSON API sends.
"""

from __future__ import annotations


class CognitoError(Exception):
    """Base of every error a service may raise on purpose."""

    default_message = "An error occurred."
    http_status = 400

    def __init__(self, message: str | None = None, *, field: str | None = None):
        self.message = message or self.default_message
        # The input the error is about (e.g. "password", "email"), so forms can show it in place.
        self.field = field
        super().__init__(self.message)

    @property
    def code(self) -> str:
        return type(self).__name__


class NotAuthorizedException(CognitoError):
    default_message = "Incorrect username or password."
    http_status = 400


class UserNotFoundException(CognitoError):
    default_message = "User does not exist."


class UsernameExistsException(CognitoError):
    default_message = "User already exists."


class AliasExistsException(CognitoError):
    default_message = "An account with the given email already exists."


class InvalidPasswordException(CognitoError):
    default_message = "Password did not conform with policy."


class InvalidParameterException(CognitoError):
    default_message = "Invalid parameter."


class CodeMismatchException(CognitoError):
    default_message = "Invalid verification code provided, please try again."


class ExpiredCodeException(CognitoError):
    default_message = "Invalid code provided, please request a code again."


class UserNotConfirmedException(CognitoError):
    default_message = "User is not confirmed."


class PasswordResetRequiredException(CognitoError):
    default_message = "Password reset required for the user."


class LimitExceededException(CognitoError):
    default_message = "Attempt limit exceeded, please try after some time."


class TooManyRequestsException(CognitoError):
    default_message = "Rate exceeded."
    http_status = 429


class TooManyFailedAttemptsException(CognitoError):
    default_message = "Too many failed attempts."


class CodeDeliveryFailureException(CognitoError):
    default_message = "Unable to deliver the verification code."


class DeviceKeyExistsException(CognitoError):
    default_message = "Device key already exists."


class InvalidUserPoolConfigurationException(CognitoError):
    default_message = "The user pool is not configured for this operation."


class InvalidOAuthFlowException(CognitoError):
    default_message = "Invalid OAuth flow."


class EnableSoftwareTokenMFAException(CognitoError):
    default_message = "Code mismatch and fail enable Software Token MFA."


class SoftwareTokenMFANotFoundException(CognitoError):
    default_message = "Software token MFA is not set up for the user."


class MFAMethodNotFoundException(CognitoError):
    default_message = "No MFA method is available for the user."


class GroupExistsException(CognitoError):
    default_message = "A group with the name already exists."


class UnsupportedTokenTypeException(CognitoError):
    default_message = "Unsupported token type."


class RefreshTokenReuseException(CognitoError):
    default_message = "Refresh token has been reused; the session has been revoked."


class UnsupportedUserStateException(CognitoError):
    """The user is in a state the request does not apply to (AdminCreateUser's RESEND for a
    user who is no longer FORCE_CHANGE_PASSWORD)."""

    default_message = "The user is in an unsupported state for this request."


class UnsupportedOperationException(CognitoError):
    """An operation the app client has not enabled (RevokeToken without token revocation)."""

    default_message = "The operation is not enabled for this app client."


class UnauthorizedException(CognitoError):
    """RevokeToken's refusal of a token the calling client may not revoke."""

    default_message = "The request is not authorized."


class ResourceNotFoundException(CognitoError):
    default_message = "Resource not found."


class ManagedLoginBrandingExistsException(CognitoError):
    """The app client already has a branding (CreateManagedLoginBranding)."""

    default_message = "A managed login branding already exists for this app client."


class DuplicateProviderException(CognitoError):
    """An identity provider of that name (or an IdpIdentifier) already exists in the pool."""

    default_message = "A provider with the specified name already exists."


class InvalidLambdaResponseException(CognitoError):
    """A trigger answered something that is not its event with a response (pool.triggers)."""

    default_message = "Unrecognizable lambda output"


class UserLambdaValidationException(CognitoError):
    """A trigger refused: "<Kind> failed with error <its message>." (pool.triggers)."""

    default_message = "Trigger validation failed."


class UnexpectedLambdaException(CognitoError):
    """A trigger could not be run: timeout, unreachable, an error status (pool.triggers)."""

    default_message = "Trigger invocation failed."


class InternalErrorException(CognitoError):
    default_message = "Internal error."
    http_status = 500


def all_errors() -> dict[str, type[CognitoError]]:
    """Every error class by its Cognito name, for doors that map names to formats."""
    found: dict[str, type[CognitoError]] = {}
    pending = [CognitoError]
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return found
