"""Token, revocation and userInfo: each takes the parsed request and returns a body or raises
OAuthError. Grants and token rules live in pool.services.tokens; this module checks the
protocol around them (grant types per client, parameters, scopes, client authentication)."""

from __future__ import annotations

from collections.abc import Callable

from hostedui.oauth import clients, codes
from hostedui.oauth.errors import OAuthError, from_domain
from pool import errors as domain
from pool.models import UserPool
from pool.selectors import clients as client_rows
from pool.selectors import tokens as token_rows
from pool.selectors.pools import cached_pool, valid_pool_id
from pool.services import ratelimit
from pool.services import tokens as token_service
from pool.services.results import RequestContext, Tokens

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


def _one(form, name: str, *, required: bool = False) -> str | None:
    values = (
        form.getlist(name) if hasattr(form, "getlist") else [form[name]] if name in form else []
    )
    if len(values) > 1:
        raise OAuthError("invalid_request", f"{name} was sent more than once.")
    value = values[0] if values else None
    if required and not value:
        raise OAuthError("invalid_request", f"{name} is required.")
    return value


def _body(tokens: Tokens) -> dict:
    """Cognito's token response: no `scope` member; id/refresh tokens only when issued."""
    body = {"access_token": tokens.access_token}
    if tokens.id_token:
        body["id_token"] = tokens.id_token
    if tokens.refresh_token:
        body["refresh_token"] = tokens.refresh_token
    body["token_type"] = tokens.token_type
    body["expires_in"] = tokens.expires_in
    return body


def token(
    *,
    form,
    authorization: str,
    context: RequestContext,
    pool: UserPool | None = None,
    pool_id: str = "",
    find_pool: Callable[[], UserPool] | None = None,
) -> dict:
    """POST /oauth2/token, for `pool`, or for the pool `pool_id` that `find_pool` loads (or
    raises the door's not-found error for): a refresh of a known token does not load it, it
    takes pool, client and token from one read."""
    if pool is not None:
        pool_id, find_pool = pool.pk, lambda: pool
    try:
        ratelimit.check(ratelimit.TOKEN, context)
    except domain.TooManyRequestsException as exc:
        raise from_domain(exc) from exc
    try:
        for name in ("grant_type", "client_id", "client_secret"):
            _one(form, name)
        grant_type = _one(form, "grant_type", required=True)
    except OAuthError:
        find_pool()  # an unknown pool is answered as such first
        raise
    presented = clients.credentials(authorization=authorization, form=form)
    if grant_type == "refresh_token":
        fast = _refresh_of_known_token(pool_id, form, presented, context)
        if fast is not None:
            return _body(fast)
    code_read = _code_of_known_client(pool_id, form, presented, grant_type)
    known = (
        (code_read.client, code_read.pool_version)
        if code_read
        else _client_of_request(pool_id, presented, grant_type)
    )
    pool = (known and cached_pool(pool_id, version=known[1])) or find_pool()
    client = clients.authenticate(
        pool=pool, presented=presented, client=known[0] if known else None
    )
    flows = client.allowed_oauth_flows or []
    try:
        if grant_type == "authorization_code":
            if "code" not in flows or not client.allowed_oauth_flows_user_pool_client:
                raise OAuthError("unauthorized_client", "This app may not use the code grant.")
            issued = codes.exchange(
                client=client,
                code=_one(form, "code", required=True),
                redirect_uri=_one(form, "redirect_uri", required=True),
                code_verifier=_one(form, "code_verifier"),
                read=code_read,
            )
        elif grant_type == "refresh_token":
            issued = token_service.refresh(
                client=client,
                refresh_token=_one(form, "refresh_token", required=True),
                context=context,
            )
        elif grant_type == "client_credentials":
            issued = _client_credentials(client, _one(form, "scope"))
        else:
            raise OAuthError("unsupported_grant_type", f"Grant types: {', '.join(GRANT_TYPES)}.")
    except domain.CognitoError as exc:
        raise from_domain(exc) from exc
    return _body(issued)


def _refresh_of_known_token(pool_id, form, presented, context) -> Tokens | None:
    """The refresh grant in one read (token, family, user, groups, client and the pool's
    version: pool.selectors.tokens.refresh_read), when the request names an existing refresh
    token of the client it names; None sends the request down the general path, which answers
    every other case (unknown pool, client or token) exactly as before."""
    client_id = presented.claimed_client_id()
    value = _one(form, "refresh_token")
    if client_id is None or not value or not valid_pool_id(pool_id):
        return None
    read = token_rows.refresh_read(pool_id=pool_id, client_id=client_id, refresh_token=value)
    if read is None:
        return None
    pool = cached_pool(pool_id, version=read.pool_version)
    if pool is None:
        return None
    client = clients.authenticate(pool=pool, presented=presented, client=read.client)
    client.pool = pool
    try:
        return token_service.refresh(client=client, refresh_token=value, context=context, read=read)
    except domain.CognitoError as exc:
        raise from_domain(exc) from exc


def _code_of_known_client(pool_id, form, presented, grant_type):
    """For the code grant: the code's one read (code, user, groups, the client it was issued
    to and the pool's version: pool.selectors.tokens.code_read) when it names an existing code
    of the client the request names, so that neither the pool nor the client is read again;
    None sends the request down the general path, which answers every other case as before."""
    if grant_type != "authorization_code" or not valid_pool_id(pool_id):
        return None
    client_id = presented.claimed_client_id()
    value = _one(form, "code")
    if client_id is None or not value:
        return None
    read = token_rows.code_read(pool_id=pool_id, digest=codes.digest(value))
    if read is None or read.client.client_id != client_id:
        return None
    return read


def _client_of_request(pool_id, presented, grant_type):
    """For the client_credentials grant: the client the request names with its pool's
    version, in one read (pool.selectors.clients.client_credentials_client), so that the pool is
    the process's copy of that version and nothing is read again; None sends the request down
    the general path, which answers every other case (unknown pool or client) as before."""
    if grant_type != "client_credentials" or not valid_pool_id(pool_id):
        return None
    client_id = presented.claimed_client_id()
    if client_id is None:
        return None
    return client_rows.client_credentials_client(pool_id=pool_id, client_id=client_id)


def _client_credentials(client, scope: str | None) -> Tokens:
    """Confidential clients with the client_credentials flow, resource-server scopes only
    (omitted: all the client may have); the token service enforces both."""
    if not client.is_confidential:
        raise OAuthError("unauthorized_client", "client_credentials needs a confidential client.")
    return token_service.client_credentials(client=client, scopes=(scope or "").split())


def revoke(*, pool: UserPool, form, authorization: str) -> None:
    """POST /oauth2/revoke (RFC 7009): 200 also for unknown or already revoked tokens."""
    client = clients.authenticate(pool=pool, authorization=authorization, form=form)
    value = _one(form, "token", required=True)
    hint = _one(form, "token_type_hint")
    if hint not in (None, "refresh_token", "access_token"):
        raise OAuthError("unsupported_token_type", "token_type_hint must be refresh_token.")
    try:
        token_service.revoke(client=client, token=value)
    except (domain.UnsupportedOperationException, domain.UnauthorizedException) as exc:
        # Revocation disabled for the client, or another client's token (Cognito: 400).
        raise OAuthError("invalid_request", exc.message) from exc
    except domain.CognitoError as exc:
        raise from_domain(exc) from exc


def bearer_token(*, authorization: str, form=None) -> str:
    """The access token of a userInfo request (RFC 6750 §2.1 header, §2.2 form body)."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    from_form = _one(form, "access_token") if form is not None else None
    if authorization:
        if scheme.lower() != "bearer" or not value.strip():
            raise OAuthError("invalid_request", "Authorization must be a Bearer token.")
        if from_form:
            raise OAuthError("invalid_request", "Send the access token once.")
        return value.strip()
    if from_form:
        return from_form
    raise OAuthError("invalid_token", "An access token is required.", status=401)


def user_info(*, pool: UserPool, access_token: str, kept: bool = False) -> dict:
    """GET/POST /oauth2/userInfo: the claims the token's scopes allow. `kept`: `pool` is the
    process's copy, its version not read (the service reads it with the token's family)."""
    try:
        return token_service.user_info(pool=pool, access_token=access_token, kept=kept)
    except domain.CognitoError as exc:
        raise OAuthError("invalid_token", exc.message, status=401) from exc
