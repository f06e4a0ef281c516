"""OAuth error values, and the one table that maps the domain's errors to OAuth error codes."""

from __future__ import annotations

from pool import errors as domain


class OAuthError(Exception):
    """An RFC 6749 error answered as a JSON body (token, revoke) or a WWW-Authenticate header
    (userInfo). `status` is the HTTP status; `basic_auth` asks for a Basic challenge header."""

    def __init__(
        self, error: str, description: str = "", *, status: int = 400, basic_auth: bool = False
    ):
        self.error = error
        self.description = description
        self.status = status
        self.basic_auth = basic_auth
        super().__init__(f"{error}: {description}" if description else error)

    def body(self) -> dict[str, str]:
        body = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        return body


class ErrorPage(Exception):
    """An authorization request we must not redirect back from (unknown client, unregistered
    redirect_uri): the user sees our error page instead. `error` is a short code shown on it."""

    def __init__(self, error: str, description: str):
        self.error = error
        self.description = description
        super().__init__(f"{error}: {description}")


class RedirectError(Exception):
    """An authorization error sent back to a verified redirect_uri, with state and iss."""

    def __init__(self, error: str, description: str, *, location: str):
        self.error = error
        self.description = description
        self.location = location
        super().__init__(f"{error}: {description}")


# pool.errors -> (OAuth error, HTTP status) at the token and revoke endpoints. Anything not
# listed is a request the domain refused: invalid_request.
DOMAIN_TO_OAUTH: dict[type[domain.CognitoError], tuple[str, int]] = {
    domain.NotAuthorizedException: ("invalid_grant", 400),
    domain.RefreshTokenReuseException: ("invalid_grant", 400),
    domain.UserNotFoundException: ("invalid_grant", 400),
    domain.UserNotConfirmedException: ("invalid_grant", 400),
    domain.PasswordResetRequiredException: ("invalid_grant", 400),
    domain.InvalidOAuthFlowException: ("unauthorized_client", 400),
    domain.UnsupportedTokenTypeException: ("unsupported_token_type", 400),
    domain.ResourceNotFoundException: ("invalid_client", 401),
    domain.TooManyRequestsException: ("temporarily_unavailable", 429),
    domain.LimitExceededException: ("temporarily_unavailable", 429),
    domain.InternalErrorException: ("server_error", 500),
    # A trigger refused (pre-token generation at the token endpoint): the grant is refused.
    domain.UserLambdaValidationException: ("invalid_grant", 400),
    # A trigger that could not run or answered garbage: the server's side failed, briefly.
    domain.UnexpectedLambdaException: ("temporarily_unavailable", 503),
    domain.InvalidLambdaResponseException: ("server_error", 502),
}


def from_domain(exc: domain.CognitoError) -> OAuthError:
    if isinstance(exc, domain.InvalidParameterException) and exc.field == "scope":
        return OAuthError("invalid_scope", exc.message)
    if isinstance(exc, domain.InvalidParameterException) and exc.field == "AuthFlow":
        # The client's explicit_auth_flows do not allow the grant (e.g. no refresh token auth).
        return OAuthError("unauthorized_client", exc.message)
    for cls in type(exc).__mro__:
        if cls in DOMAIN_TO_OAUTH:
            error, status = DOMAIN_TO_OAUTH[cls]
            return OAuthError(error, exc.message, status=status)
    return OAuthError("invalid_request", exc.message)
