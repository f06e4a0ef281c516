"""The authorization endpoint's rules: who may be redirected where, with what.

`validate` turns query parameters into an `AuthorizationRequest` or raises:
- `ErrorPage` while the client or redirect_uri is not verified (never redirect then, not even
  with prompt=none: that is how open redirectors are made);
- `RedirectError` afterwards, with `state` echoed byte for byte and `iss` (RFC 9207).
`respond` completes a request for a signed-in user: a code (query) or tokens (fragment).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import quote, urlencode

from django.contrib.sessions.backends.base import SessionBase
from django.db.models import F
from django.utils.translation import gettext

from config import sessions
from hostedui.oauth import codes, pkce
from hostedui.oauth.clients import CLIENT_ID
from hostedui.oauth.discovery import issuer
from hostedui.oauth.errors import ErrorPage, RedirectError
from pool import redirect_uris
from pool.models import AppClient, User, UserPool
from pool.selectors import compiled
from pool.selectors.clients import pool_client, pool_client_and_version
from pool.selectors.pools import cached_pool, valid_pool_id
from pool.services import tokens as token_service

# The parameters this endpoint reads; they are carried unchanged from page to page (login,
# sign-up, MFA, ...) until the request completes. Unknown parameters are ignored.
PARAMETERS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "login_hint",
    "lang",  # the pages' language (hostedui/i18n.py), as Cognito's managed login takes it
)
RESPONSE_TYPES = {"code": "code", "token": "implicit"}  # response_type -> allowed_oauth_flows
# Cognito: these OIDC scopes only mean something with `openid`.
NEEDS_OPENID = frozenset({"email", "phone", "profile"})
PROMPTS = frozenset({"none", "login", "consent", "select_account"})
MAX_NONCE = 512
MAX_LOGIN_HINT = 2048


@dataclass(frozen=True)
class AuthorizationRequest:
    pool: UserPool
    client: AppClient
    redirect_uri: str
    response_type: str
    scopes: tuple[str, ...]
    state: str | None
    nonce: str
    code_challenge: str
    code_challenge_method: str
    prompt: frozenset[str]
    max_age: int | None
    login_hint: str
    raw: tuple[tuple[str, str], ...]  # the parameters as received, to carry between pages

    @property
    def response_mode(self) -> str:
        return "fragment" if self.response_type == "token" else "query"

    @property
    def params(self) -> dict[str, str]:
        return dict(self.raw)

    @property
    def query_string(self) -> str:
        return urlencode(self.raw, quote_via=quote)

    def without_prompt(self) -> AuthorizationRequest:
        """The same request once the user has signed in here: prompt=login is satisfied."""
        raw = tuple((k, v) for k, v in self.raw if k not in ("prompt", "max_age"))
        return replace(self, prompt=frozenset(), max_age=None, raw=raw)

    def error(self, error: str, description: str) -> RedirectError:
        location = response_url(
            self.pool,
            self.redirect_uri,
            {"error": error, "error_description": description},
            state=self.state,
            mode=self.response_mode,
        )
        return RedirectError(error, description, location=location)


def response_url(
    pool: UserPool, redirect_uri: str, values: Mapping[str, str], *, state: str | None, mode: str
) -> str:
    """`redirect_uri` with `values`, `state` (when sent) and `iss`, in the query or fragment."""
    pairs = [(k, v) for k, v in values.items() if v is not None]
    if state is not None:
        pairs.append(("state", state))
    pairs.append(("iss", issuer(pool)))
    encoded = urlencode(pairs, quote_via=quote)
    if mode == "fragment":
        return f"{redirect_uri}#{encoded}"
    return f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{encoded}"


def _values(params) -> Mapping[str, Sequence[str]]:
    """Each of PARAMETERS' values as sent (a QueryDict's lists, a plain mapping's one value),
    read once: validate asks for each name several times."""
    if isinstance(params, _Values):
        return params
    if hasattr(params, "getlist"):
        return _Values((name, params.getlist(name)) for name in PARAMETERS if name in params)
    return _Values((name, [params[name]]) for name in PARAMETERS if name in params)


class _Values(dict):
    """PARAMETERS' values of one request (see _values)."""


def _single(params, name: str) -> str | None:
    values = _values(params).get(name)
    return values[0] if values else None


def _repeated(params) -> list[str]:
    values = _values(params)
    return [name for name in PARAMETERS if len(values.get(name, ())) > 1]


def client_of(pool: UserPool, params, *, known: AppClient | None = None) -> AppClient:
    """The app client named by `client_id`, or ErrorPage. `known`: the pool's row for it when
    the caller already read it (authorize reads it with the pool's version)."""
    client_id = _single(params, "client_id")
    if not client_id:
        raise ErrorPage("invalid_request", gettext("The request has no client_id."))
    if "client_id" in _repeated(params):
        raise ErrorPage("invalid_request", gettext("client_id was sent more than once."))
    client = None
    if known is not None and known.client_id == client_id and known.pool_id == pool.pk:
        client = known
    elif CLIENT_ID.match(client_id):
        client = pool_client(pool_id=pool.pk, client_id=client_id)
    if client is None:
        raise ErrorPage("invalid_client", gettext("There is no such app client in this user pool."))
    client.pool = pool
    return client


def verified_client(
    pool: UserPool, params, *, known: AppClient | None = None
) -> tuple[AppClient, str]:
    """The client and redirect_uri, or ErrorPage. redirect_uri must equal a registered callback
    URL exactly, as strings: no normalisation of case, port, path, query or fragment; only a
    loopback IP URI may differ in its port (pool/redirect_uris.py, RFC 8252 §7.3)."""
    client = client_of(pool, params, known=known)
    redirect_uri = _single(params, "redirect_uri")
    if not redirect_uri:
        raise ErrorPage("invalid_request", gettext("The request has no redirect_uri."))
    if "redirect_uri" in _repeated(params):
        raise ErrorPage("invalid_request", gettext("redirect_uri was sent more than once."))
    if not redirect_uris.matches(client.callback_urls, redirect_uri):
        raise ErrorPage(
            "redirect_mismatch", gettext("redirect_uri is not a callback URL of this app.")
        )
    return client, redirect_uri


def validate(pool: UserPool, params, *, known: AppClient | None = None) -> AuthorizationRequest:
    """An authorization request that passed every rule, or ErrorPage / RedirectError.
    `known`: see client_of."""
    params = _values(params)
    client, redirect_uri = verified_client(pool, params, known=known)
    state = _single(params, "state")
    response_type = _single(params, "response_type") or ""
    mode = "fragment" if response_type == "token" else "query"

    def fail(error: str, description: str) -> RedirectError:
        location = response_url(
            pool,
            redirect_uri,
            {"error": error, "error_description": description},
            state=state,
            mode=mode,
        )
        return RedirectError(error, description, location=location)

    if repeated := _repeated(params):
        raise fail("invalid_request", f"{repeated[0]} was sent more than once.")
    if not response_type:
        raise fail("invalid_request", "response_type is required.")
    if response_type not in RESPONSE_TYPES:
        raise fail("unsupported_response_type", "response_type must be code or token.")
    if not client.allowed_oauth_flows_user_pool_client or (
        RESPONSE_TYPES[response_type] not in (client.allowed_oauth_flows or [])
    ):
        raise fail("unauthorized_client", f"This app may not use response_type={response_type}.")

    allowed = list(client.allowed_oauth_scopes or [])
    scope = _single(params, "scope")
    if scope is None:
        scopes = tuple(allowed)
    else:
        scopes = tuple(dict.fromkeys(scope.split()))
        if not scopes or any(s not in allowed for s in scopes):
            raise fail("invalid_scope", "The requested scope is not allowed for this app.")
    if NEEDS_OPENID & set(scopes) and "openid" not in scopes:
        raise fail("invalid_scope", "The email, phone and profile scopes need openid.")
    if not scopes:
        raise fail("invalid_scope", "This app has no scopes to grant.")

    prompt = frozenset((_single(params, "prompt") or "").split())
    if prompt - PROMPTS:
        raise fail("invalid_request", "prompt must be none or login.")
    if "none" in prompt and len(prompt) > 1:
        raise fail("invalid_request", "prompt=none cannot be combined with other values.")

    max_age = None
    if (raw_max_age := _single(params, "max_age")) is not None:
        if not raw_max_age.isdigit() or len(raw_max_age) > 10:
            raise fail("invalid_request", "max_age must be a number of seconds.")
        max_age = int(raw_max_age)

    nonce = _single(params, "nonce") or ""
    if len(nonce) > MAX_NONCE:
        raise fail("invalid_request", f"nonce is longer than {MAX_NONCE} characters.")
    login_hint = _single(params, "login_hint") or ""
    if len(login_hint) > MAX_LOGIN_HINT:
        raise fail("invalid_request", "login_hint is too long.")

    challenge = _single(params, "code_challenge") or ""
    method = _single(params, "code_challenge_method") or ""
    if response_type == "code":
        if method and not challenge:
            raise fail("invalid_request", "code_challenge_method was sent without code_challenge.")
        if challenge:
            if method != "S256":
                raise fail("invalid_request", "code_challenge_method must be S256.")
            if not pkce.S256_CHALLENGE.match(challenge):
                raise fail("invalid_request", "code_challenge is not an S256 challenge.")
        elif client.needs_pkce:
            raise fail("invalid_request", "Public clients must use PKCE (code_challenge, S256).")
    else:
        challenge = method = ""

    raw = tuple(
        (name, value) for name in PARAMETERS if (value := _single(params, name)) is not None
    )
    return AuthorizationRequest(
        pool=pool,
        client=client,
        redirect_uri=redirect_uri,
        response_type=response_type,
        scopes=scopes,
        state=state,
        nonce=nonce,
        code_challenge=challenge,
        code_challenge_method=method,
        prompt=prompt,
        max_age=max_age,
        login_hint=login_hint,
        raw=raw,
    )


def respond(request: AuthorizationRequest, *, user: User, auth_time) -> str:
    """Where to send the browser of `user` (signed in at `auth_time`) to complete `request`."""
    if request.response_type == "code":
        code = codes.issue(request=request, user=user, auth_time=auth_time)
        values = {"code": code}
    else:
        issued = token_service.issue(
            user=user,
            client=request.client,
            scopes=list(request.scopes),
            auth_time=auth_time,
            nonce=request.nonce,
            with_refresh=False,
            id_token="openid" in request.scopes,
        )
        values = {
            "access_token": issued.access_token,
            "id_token": issued.id_token,
            "token_type": issued.token_type,
            "expires_in": str(issued.expires_in),
        }
    return response_url(
        request.pool, request.redirect_uri, values, state=request.state, mode=request.response_mode
    )


def pool_and_client(
    pool_id: str, params, *, session: SessionBase | None = None
) -> tuple[UserPool | None, AppClient | None]:
    """Authorize's pool (the process copy for its version) and the client its `client_id`
    names, from one read; (None, None) when that read finds nothing (the caller then loads
    the pool and `validate` answers for the client as usual). `session`: the request's
    hosted-UI session; when the browser sent one, its row comes with the same read
    (config.sessions.row_annotations), so that loading it reads nothing more."""
    client_id = _single(params, "client_id")
    if not valid_pool_id(pool_id) or not client_id or not CLIENT_ID.match(client_id):
        return None, None
    session_key = session.session_key if isinstance(session, sessions.SessionStore) else None
    if session_key is None:
        read = pool_client_and_version(pool_id=pool_id, client_id=client_id)
    else:
        read = _client_and_session(pool_id, client_id, session, session_key)
    if read is None:
        return None, None
    pool = cached_pool(pool_id, version=read[1])
    return (pool, read[0]) if pool is not None else (None, None)


_CLIENT, _POOL, _SESSION = "\x01client", "\x01pool", "\x01session"


def _client_and_session_query():
    return AppClient.objects.filter(pool_id=_POOL, client_id=_CLIENT).annotate(
        pool_version=F("pool__config_version"), **sessions.row_annotations(_SESSION)
    )[:1]


def _client_and_session(
    pool_id: str, client_id: str, session: sessions.SessionStore, session_key: str
) -> tuple[AppClient, int] | None:
    """pool_client_and_version's read, with the session row of `session_key` (one query
    compiled once: authorize with a hosted session was four statements, now three)."""
    read = compiled.query(
        "authorize-client-session",
        _client_and_session_query,
        {_CLIENT: "client", _POOL: "pool", _SESSION: "session"},
    )
    built = read.fetch(
        {"client": client_id, "pool": pool_id, "session": sessions.stored_key(session_key)}
    )
    if built is None:
        return None
    session.use_row(built["session_data"], built["session_expires"])
    return built[AppClient], built["pool_version"]
