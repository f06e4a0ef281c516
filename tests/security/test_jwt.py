"""Our own JWT verification accepts only RS256 tokens signed by a key the pool publishes:
alg=none, HS256 keyed with the public key, unknown or foreign kids, embedded keys, and tokens
of another pool, client or use are refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pool import clock, jwt
from pool.errors import NotAuthorizedException
from pool.models import SigningKey
from pool.models.pool import bump_config_version
from pool.services import keys, tokens
from tests import factories

pytestmark = pytest.mark.django_db


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict, claims: dict) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"


@pytest.fixture
def issued(pool, app_client, user):
    return tokens.issue(user=user, client=app_client, scopes=["openid"], auth_time=clock.now())


@pytest.fixture
def claims(pool, issued):
    return jwt.verify(pool, issued.access_token, token_use="access")


def test_genuine_token_verifies(pool, claims, user):
    assert claims["sub"] == str(user.sub)


def test_alg_none_is_refused(pool, claims):
    kid = keys.active_key(pool).kid
    for alg in ("none", "None", "NONE"):
        token = unsigned({"alg": alg, "kid": kid, "typ": "JWT"}, claims) + "."
        with pytest.raises(NotAuthorizedException):
            jwt.verify(pool, token, token_use="access")


def test_hs256_keyed_with_the_public_key_is_refused(pool, claims):
    """The classic confusion: an HMAC over the token keyed with our (public) RSA key."""
    kid = keys.active_key(pool).kid
    public_pem = keys.public_key(pool, kid).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for alg, digest in (("HS256", hashlib.sha256), ("HS512", hashlib.sha512)):
        body = unsigned({"alg": alg, "kid": kid}, claims)
        signature = hmac.new(public_pem, body.encode(), digest).digest()
        with pytest.raises(NotAuthorizedException):
            jwt.verify(pool, f"{body}.{b64(signature)}", token_use="access")


def test_other_rsa_algorithms_are_refused(pool, claims):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = keys.active_key(pool).kid
    for alg in ("RS512", "PS256"):
        token = pyjwt.encode(claims, private, algorithm=alg, headers={"kid": kid})
        with pytest.raises(NotAuthorizedException):
            jwt.verify(pool, token, token_use="access")


def test_unknown_kid_is_refused(pool, claims):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = pyjwt.encode(claims, private, algorithm="RS256", headers={"kid": "attacker"})
    with pytest.raises(NotAuthorizedException):
        jwt.verify(pool, token, token_use="access")


def test_known_kid_with_a_foreign_signature_is_refused(pool, claims):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = pyjwt.encode(
        claims, private, algorithm="RS256", headers={"kid": keys.active_key(pool).kid}
    )
    with pytest.raises(NotAuthorizedException):
        jwt.verify(pool, token, token_use="access")


def test_embedded_jwk_and_jku_are_ignored(pool, claims):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    headers = {
        "kid": keys.active_key(pool).kid,
        "jwk": keys.public_jwk(private.public_key()),
        "jku": "https://attacker.example/jwks.json",
    }
    token = pyjwt.encode(claims, private, algorithm="RS256", headers=headers)
    with pytest.raises(NotAuthorizedException):
        jwt.verify(pool, token, token_use="access")


def test_token_of_another_pool_is_refused(pool, issued):
    other_pool = factories.make_pool()
    with pytest.raises(NotAuthorizedException):
        jwt.verify(other_pool, issued.access_token, token_use="access")


def test_token_signed_by_another_pools_key_is_refused(pool, claims):
    other_pool = factories.make_pool()
    token = jwt.sign(other_pool, claims)  # iss still names `pool`; kid is the other pool's
    with pytest.raises(NotAuthorizedException):
        jwt.verify(pool, token, token_use="access")


def test_id_token_for_another_client_is_refused(pool, issued):
    other = factories.make_client(pool)
    with pytest.raises(NotAuthorizedException):
        jwt.verify(pool, issued.id_token, token_use="id", audience=other.client_id)


def test_id_token_is_not_an_access_token(pool, issued):
    with pytest.raises(NotAuthorizedException):
        jwt.verify(pool, issued.id_token, token_use="access")
    with pytest.raises(NotAuthorizedException):
        tokens.user_info(pool=pool, access_token=issued.id_token)


def test_expired_token_is_refused(pool, issued, app_client):
    clock.freeze()
    clock.advance(seconds=app_client.access_token_validity + jwt.LEEWAY + 1)
    with pytest.raises(NotAuthorizedException, match="expired"):
        jwt.verify(pool, issued.access_token, token_use="access")


def test_tampered_claims_are_refused(pool, issued):
    header, payload, signature = issued.access_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["username"] = "admin"
    forged = f"{header}.{b64(json.dumps(claims).encode())}.{signature}"
    with pytest.raises(NotAuthorizedException):
        jwt.verify(pool, forged, token_use="access")


def test_a_parsed_token_is_verified_as_its_string(pool, issued, claims):
    """A door that parsed the token to find its pool (the JSON API) hands the parse to verify:
    the same claims for a genuine token, the same refusals for a forged or expired one."""
    parsed = jwt.parse(issued.access_token)
    assert jwt.claimed_pool_id(parsed) == pool.pk
    assert jwt.verify(pool, parsed, token_use="access") == claims
    header, payload, signature = issued.access_token.split(".")
    forged_claims = {**claims, "username": "admin"}
    forged = jwt.parse(f"{header}.{b64(json.dumps(forged_claims).encode())}.{signature}")
    assert forged is not None
    with pytest.raises(NotAuthorizedException, match="Invalid Access Token"):
        jwt.verify(pool, forged, token_use="access")
    with pytest.raises(NotAuthorizedException, match="Invalid Id Token"):
        jwt.verify(pool, parsed, token_use="id")
    clock.freeze()
    clock.advance(seconds=claims["exp"] - clock.timestamp() + jwt.LEEWAY + 1)
    with pytest.raises(NotAuthorizedException, match="expired"):
        jwt.verify(pool, parsed, token_use="access")


def test_refresh_token_of_another_client_is_refused(pool, issued):
    other = factories.make_client(pool)
    with pytest.raises(NotAuthorizedException):
        tokens.refresh(client=other, refresh_token=issued.refresh_token)


def test_userinfo_refuses_a_forged_token(client, pool, claims):
    token = unsigned({"alg": "none", "kid": "x"}, claims) + "."
    response = client.get(f"/{pool.id}/oauth2/userInfo", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_a_token_verified_before_is_not_parsed_again_while_its_key_is_published(
    pool, issued, monkeypatch
):
    parsed = []
    real_parse = jwt.parse
    monkeypatch.setattr(jwt, "parse", lambda token: parsed.append(token) or real_parse(token))
    first = jwt.verify(pool, issued.access_token, token_use="access")
    first["sub"] = "changed by a caller"
    again = jwt.verify(pool, issued.access_token, token_use="access")
    assert len(parsed) == 1 and again["sub"] != "changed by a caller"


def test_the_parse_of_a_token_verified_before_is_kept_with_dicts_of_its_own(
    pool, issued, monkeypatch
):
    """The JSON API parses a token to find its pool on every call: a token whose signature
    checked out is not decoded again, and what one caller does to its claims or header stays
    its own. A token never verified is parsed from its text (a forgery is never taken for a
    kept parse)."""
    fresh = jwt.parse(issued.access_token)
    jwt.verify(pool, fresh, token_use="access")
    decoded = []
    real_decode = jwt._decode_segment
    monkeypatch.setattr(jwt, "_decode_segment", lambda s: decoded.append(s) or real_decode(s))
    kept = jwt.parse(issued.access_token)
    assert decoded == []
    assert (kept.claims, kept.header, kept.signature) == (
        fresh.claims,
        fresh.header,
        fresh.signature,
    )
    kept.claims["sub"], kept.header["kid"] = "changed by a caller", "changed"
    again = jwt.parse(issued.access_token)
    assert again.claims["sub"] == fresh.claims["sub"] and again.header == fresh.header
    assert jwt.verify(pool, again, token_use="access")["sub"] == fresh.claims["sub"]
    header, payload, signature = issued.access_token.split(".")
    forged = (
        f"{header}.{b64(json.dumps({**fresh.claims, 'username': 'admin'}).encode())}.{signature}"
    )
    assert jwt.parse(forged).claims["username"] == "admin" and len(decoded) == 3
    with pytest.raises(NotAuthorizedException, match="Invalid Access Token"):
        jwt.verify(pool, forged, token_use="access")


def test_a_token_verified_before_is_still_checked_for_use_and_expiry(pool, issued, app_client):
    jwt.verify(pool, issued.access_token, token_use="access")
    with pytest.raises(NotAuthorizedException, match="Invalid Id Token"):
        jwt.verify(pool, issued.access_token, token_use="id")
    clock.freeze()
    clock.advance(seconds=app_client.access_token_validity + jwt.LEEWAY + 1)
    with pytest.raises(NotAuthorizedException, match="expired"):
        jwt.verify(pool, issued.access_token, token_use="access")


def test_a_token_verified_before_is_refused_once_its_key_is_no_longer_published(pool, issued):
    jwt.verify(pool, issued.access_token, token_use="access")
    kid = keys.active_key(pool).kid
    SigningKey.objects.filter(kid=kid).delete()
    bump_config_version(pool.pk)
    pool.refresh_from_db()
    assert keys.public_key(pool, kid) is None
    with pytest.raises(NotAuthorizedException, match="Invalid Access Token"):
        jwt.verify(pool, issued.access_token, token_use="access")
