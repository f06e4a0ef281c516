"""Cognate's OAuth 2.0 / OpenID Connect protocol core: a small core of our own.

Decision: we keep a small protocol core here instead of building on Authlib's server toolkit
(`authlib.oauth2.AuthorizationServer` and its grants), and every rule in
shared/reference/security.md has its own test in tests/hostedui/.

Why:
- Cognito's behaviour is not the toolkit's default, and most of it sits exactly where a toolkit
  would have to be overridden: an unknown client or redirect_uri renders an error page even with
  prompt=none; `iss` goes on every authorization response (RFC 9207); PKCE `plain` is refused
  and a verifier sent for a code issued without a challenge is refused (downgrade); a replayed
  code must revoke the refresh family it issued, which needs the used code kept, not deleted;
  the refresh grant rotates in our domain service, not in the server; token bodies carry no
  `scope`; userInfo booleans are strings. Each of those would be a subclass hook over Authlib's
  flow, so the rules would be spread over overrides of code we do not own.
- Tokens, refresh families, lockout and MFA are domain services (pool.services.tokens,
  authenticate, mfa) shared with the JSON API and the console. Authlib's server wants to own
  token generation and its model mixins; we would end up adapting our models to its
  interfaces on the hottest path (the token endpoint).
- The rules are few and enumerable (authorize validation, code binding, PKCE S256, client
  authentication, error bodies), each is a short function below, and the tests pin them. We
  still use Authlib where it is strongest: as an independent *client* in tests/clients/, so a
  library we did not write proves the server interoperates.

Layout: `errors` (OAuth error values and the one table from pool.errors), `authorize`
(authorization request validation and response URLs), `pkce`, `codes` (authorization codes),
`clients` (client authentication at token/revoke), `endpoints` (token, revoke, userInfo
grant logic), `discovery` (openid-configuration). Views in hostedui/views only parse the HTTP
request, call one function here, and render.
"""

from hostedui.oauth.errors import ErrorPage, OAuthError, RedirectError

__all__ = ["ErrorPage", "OAuthError", "RedirectError"]
