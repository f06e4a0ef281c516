"""Signing in through an upstream identity provider: the protocol code (OIDC and the social
presets here, SAML beside them) and the server-side state of a round trip. The pool-side rule
(who the upstream user is in the pool) is pool.services.federation's."""
