"""Signing keys, JWKS and JWT verification rules."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization

from pool import clock, jwt
from pool.errors import NotAuthorizedException
from pool.models import SigningKey
from pool.services import keys
from tests import factories


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(pool, **extra):
    now = clock.timestamp()
    return {
        "iss": jwt.issuer(pool),
        "iat": now,
        "exp": now + 3600,
        "token_use": "access",
        "sub": "s",
        **extra,
    }


def test_first_use_creates_one_active_key(pool):
    key = keys.active_key(pool)
    rows = SigningKey.objects.filter(pool=pool)
    assert [r.kid for r in rows] == [key.kid]
    assert rows[0].status == SigningKey.Status.ACTIVE


def test_kid_is_rfc7638_thumbprint(pool):
    key = keys.active_key(pool)
    numbers = key.private_key.public_key().public_numbers()

    def member(n: int) -> str:
        return _b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))

    canonical = json.dumps(
        {"e": member(numbers.e), "kty": "RSA", "n": member(numbers.n)}, separators=(",", ":")
    )
    assert key.kid == _b64(hashlib.sha256(canonical.encode()).digest())


def test_key_is_rsa_2048(pool):
    assert keys.active_key(pool).private_key.key_size == 2048


def test_private_key_is_encrypted_at_rest(pool):
    keys.active_key(pool)
    stored = SigningKey.objects.get(pool=pool).private_key
    assert "PRIVATE KEY" not in stored
    assert stored.startswith("gAAAA")  # Fernet token


def test_active_key_is_cached_in_process(pool, django_assert_num_queries):
    first = keys.active_key(pool)
    with django_assert_num_queries(0):
        assert keys.active_key(pool) is first


def test_jwks_publishes_active_key_members(pool):
    kid = keys.active_key(pool).kid
    document = keys.jwks(pool)
    assert [k["kid"] for k in document["keys"]] == [kid]
    key = document["keys"][0]
    assert set(key) == {"alg", "e", "kid", "kty", "n", "use"}
    assert (key["alg"], key["kty"], key["use"], key["e"]) == ("RS256", "RSA", "sig", "AQAB")


def test_rotation_makes_new_active_key_and_keeps_old_in_jwks(pool):
    old = keys.active_key(pool).kid
    new = keys.rotate(pool=pool)
    assert keys.active_key(pool).kid == new.kid != old
    assert [k["kid"] for k in keys.jwks(pool)["keys"]] == [new.kid, old]
    assert SigningKey.objects.get(kid=old).status == SigningKey.Status.RETIRED


def test_retired_key_leaves_jwks_after_longest_token_validity(pool):
    factories.make_client(pool, access_token_validity=600, id_token_validity=1200)
    clock.freeze()
    old = keys.active_key(pool).kid
    keys.rotate(pool=pool)
    clock.advance(seconds=1199)
    assert old in [k["kid"] for k in keys.jwks(pool)["keys"]]
    clock.advance(seconds=2)
    assert old not in [k["kid"] for k in keys.jwks(pool)["keys"]]


def _rotate_as_another_process(pool) -> str:
    """What keys.rotate does in another process: rows only (bulk_create and update send no
    signal to this process's caches), and a new config_version for the pool."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from pool import crypto
    from pool.models import UserPool

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    jwk = keys.public_jwk(private.public_key())
    SigningKey.objects.filter(pool=pool).update(
        status=SigningKey.Status.RETIRED, retired_at=clock.now()
    )
    SigningKey.objects.bulk_create(
        [SigningKey(pool=pool, kid=jwk["kid"], private_key=crypto.encrypt(pem), public_jwk=jwk)]
    )
    UserPool.objects.filter(pk=pool.pk).update(config_version=pool.config_version + 1)
    return jwk["kid"]


def test_rotation_elsewhere_is_noticed_through_the_pools_config_version(pool):
    """Another process rotates: the next pool row read here carries the new version, and the
    keys are reloaded for it: signing and the JWKS use the new key at once."""
    from pool.selectors import pools

    old = keys.active_key(pool)
    other = _rotate_as_another_process(pool)
    current = pools.cached_pool(pool.pk)
    assert keys.active_key(current).kid == other != old.kid
    assert other in [k["kid"] for k in keys.jwks(current)["keys"]]


def test_a_token_by_a_key_rotated_elsewhere_verifies_with_an_older_pool_row(pool):
    """A caller holding the pool row from before the rotation still verifies a token signed by
    the new key (the keys are reloaded, not kept for the old version)."""
    from pool.selectors import pools

    keys.active_key(pool)
    _rotate_as_another_process(pool)
    token = jwt.sign(pools.cached_pool(pool.pk), _claims(pool))
    stale = pool  # its config_version predates the rotation
    assert jwt.verify(stale, token, token_use="access")["token_use"] == "access"


def test_sign_header_has_only_alg_and_kid(pool):
    token = jwt.sign(pool, _claims(pool))
    assert pyjwt.get_unverified_header(token) == {"alg": "RS256", "kid": keys.active_key(pool).kid}


def test_signed_token_is_byte_for_byte_what_pyjwt_makes(pool):
    """The lean encoder writes the same header, payload and signature as PyJWT's encode."""
    claims = {
        **_claims(pool),
        "cognito:groups": ["admins", "Zoë's team"],
        "name": 'Ünïcode \u2603 "quoted"',
        "email_verified": True,
        "nonce": None,
    }
    key = keys.active_key(pool)
    expected = pyjwt.encode(
        claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, "typ": None}
    )
    assert jwt.sign(pool, claims) == expected


def test_signed_token_verifies_with_pyjwt_and_the_published_key(pool):
    key = keys.active_key(pool)
    claims = _claims(pool, sub="abc")
    token = jwt.sign(pool, claims)
    decoded = pyjwt.decode(
        token, key.private_key.public_key(), algorithms=["RS256"], options={"verify_aud": False}
    )
    assert decoded == claims


def test_verify_returns_claims(pool):
    token = jwt.sign(pool, _claims(pool, sub="abc"))
    assert jwt.verify(pool, token, token_use="access")["sub"] == "abc"


def test_token_signed_by_retired_key_still_verifies(pool):
    token = jwt.sign(pool, _claims(pool))
    keys.rotate(pool=pool)
    assert jwt.verify(pool, token, token_use="access")["token_use"] == "access"


def test_alg_none_is_refused(pool):
    header = _b64(json.dumps({"alg": "none", "kid": keys.active_key(pool).kid}).encode())
    body = _b64(json.dumps(_claims(pool)).encode())
    with pytest.raises(NotAuthorizedException, match="Invalid Access Token"):
        jwt.verify(pool, f"{header}.{body}.", token_use="access")


def test_hs256_keyed_with_public_key_is_refused(pool):
    key = keys.active_key(pool)
    public_pem = key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "kid": key.kid, "typ": "JWT"}).encode())
    body = _b64(json.dumps(_claims(pool)).encode())
    signature = _b64(hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest())
    with pytest.raises(NotAuthorizedException):
        jwt.verify(pool, f"{header}.{body}.{signature}", token_use="access")


def test_unknown_kid_is_refused(pool):
    token = jwt.sign(pool, _claims(pool))
    header, body, signature = token.split(".")
    forged = _b64(json.dumps({"alg": "RS256", "kid": "not-a-key"}).encode())
    with pytest.raises(NotAuthorizedException):
        jwt.verify(pool, f"{forged}.{body}.{signature}", token_use="access")


def test_token_of_another_pool_is_refused(pool):
    other = factories.make_pool()
    token = jwt.sign(other, _claims(pool))
    with pytest.raises(NotAuthorizedException):
        jwt.verify(pool, token, token_use="access")


def test_wrong_issuer_is_refused(pool):
    token = jwt.sign(pool, _claims(pool, iss="https://evil.example/pool"))
    with pytest.raises(NotAuthorizedException):
        jwt.verify(pool, token, token_use="access")


def test_wrong_token_use_is_refused(pool):
    token = jwt.sign(pool, _claims(pool, token_use="id"))
    with pytest.raises(NotAuthorizedException, match="Invalid Access Token"):
        jwt.verify(pool, token, token_use="access")


def test_tampered_payload_is_refused(pool):
    token = jwt.sign(pool, _claims(pool, sub="alice"))
    header, _, signature = token.split(".")
    body = _b64(json.dumps(_claims(pool, sub="mallory")).encode())
    with pytest.raises(NotAuthorizedException):
        jwt.verify(pool, f"{header}.{body}.{signature}", token_use="access")


def test_expired_token_is_refused_with_cognito_message(pool):
    clock.freeze()
    token = jwt.sign(pool, _claims(pool))
    clock.advance(seconds=3600 + jwt.LEEWAY + 1)
    with pytest.raises(NotAuthorizedException, match="^Access Token has expired$"):
        jwt.verify(pool, token, token_use="access")


def test_token_from_the_future_is_refused(pool):
    clock.freeze()
    clock.advance(hours=1)
    token = jwt.sign(pool, _claims(pool))
    clock.advance(hours=-1)
    with pytest.raises(NotAuthorizedException):
        jwt.verify(pool, token, token_use="access")


def test_garbage_is_refused(pool):
    for junk in ["", "abc", "a.b.c", "eyJ.eyJ.x", "x" * 20000]:
        with pytest.raises(NotAuthorizedException):
            jwt.verify(pool, junk, token_use="access")
