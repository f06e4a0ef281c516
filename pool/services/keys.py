"""Per-pool RSA signing keys: created on first use, rotated on demand, published as JWKS.

The private key is stored as an encrypted PEM. Each process keeps a pool's decrypted keys in
memory (decrypting and parsing a PEM costs far more than signing), tagged with the pool's
`config_version`, which every key change replaces in the same transaction: a process holding a
pool row of a newer version (read with the hot path's own SQL, pool.selectors.pools) reloads
the keys, so a rotation on any server is used and published by every server at once, without a
cache round trip per request. A retired key stays in the JWKS, and keeps verifying, until every
token it could have signed has expired: the longest access/ID validity among the pool's clients.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.db import transaction
from django.db.models import Max

from pool import clock, crypto
from pool.models import AppClient, SigningKey, UserPool
from pool.models.pool import bump_config_version
from pool.selectors import pools

KEY_SIZE = 2048
# GetSigningCertificate: "valid for 10 years from the date of issue", as Cognito's.
CERTIFICATE_VALIDITY = dt.timedelta(days=3652)
# A retired key lives at least this long in the JWKS when the pool has no clients.
DEFAULT_RETENTION = dt.timedelta(hours=1)
# How often a process may look for a rotation it has not seen because a token named a kid it
# does not know (a caller holding a pool row read before another process rotated).
_UNKNOWN_KID_RELOAD_SECONDS = 1.0


@dataclass(frozen=True)
class LoadedKey:
    """A decrypted signing key, ready to sign."""

    kid: str
    private_key: rsa.RSAPrivateKey = field(repr=False)


@dataclass
class _PoolKeys:
    version: int
    active: LoadedKey
    public: dict[str, rsa.RSAPublicKey]  # kid -> key, for every key in the JWKS
    document: dict  # the JWKS
    valid_until: dt.datetime | None  # when the next retired key drops out of the JWKS
    loaded_at: float  # time.monotonic()


_keys: dict[str, _PoolKeys] = {}
_lock = threading.Lock()


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(public_key: rsa.RSAPublicKey) -> dict[str, str]:
    """The RSA public key as a JWK with its RFC 7638 thumbprint as `kid`."""
    numbers = public_key.public_numbers()
    members = {"e": _b64(numbers.e), "kty": "RSA", "n": _b64(numbers.n)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    return {
        "alg": "RS256",
        "e": members["e"],
        "kid": kid,
        "kty": "RSA",
        "n": members["n"],
        "use": "sig",
    }


def _new_key(pool: UserPool) -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    jwk = public_jwk(private.public_key())
    return SigningKey.objects.create(
        pool=pool,
        kid=jwk["kid"],
        private_key=crypto.encrypt(pem),
        public_jwk=jwk,
        status=SigningKey.Status.ACTIVE,
    )


def retention(pool: UserPool) -> dt.timedelta:
    """How long a retired key must stay published: the longest access/ID token validity."""
    longest = AppClient.objects.filter(pool=pool).aggregate(
        access=Max("access_token_validity"), id=Max("id_token_validity")
    )
    seconds = max(longest["access"] or 0, longest["id"] or 0)
    return dt.timedelta(seconds=seconds) if seconds else DEFAULT_RETENTION


def rotate(*, pool: UserPool) -> SigningKey:
    """Make a new ACTIVE key for the pool and retire the current one (it stays in the JWKS
    until tokens it signed can have expired). Other processes notice through the cache."""
    with transaction.atomic():
        # Serialise with other rotations and with first-use creation for this pool.
        UserPool.objects.select_for_update().filter(pk=pool.pk).first()
        SigningKey.objects.filter(pool=pool, status=SigningKey.Status.ACTIVE).update(
            status=SigningKey.Status.RETIRED, retired_at=clock.now()
        )
        key = _new_key(pool)
        bump_config_version(pool)  # every process, once committed
        _forget(pool.pk)  # this process, at once (it sees its own uncommitted rows)
    return key


def _ensure_active(pool: UserPool) -> None:
    with transaction.atomic():
        UserPool.objects.select_for_update().filter(pk=pool.pk).first()
        if not SigningKey.objects.filter(pool=pool, status=SigningKey.Status.ACTIVE).exists():
            _new_key(pool)
            bump_config_version(pool)
            _forget(pool.pk)


def _forget(pool_id: str) -> None:
    with _lock:
        _keys.pop(pool_id, None)
    pools.forget(pool_id)


def _load(pool: UserPool, version: int) -> _PoolKeys:
    rows = list(SigningKey.objects.filter(pool=pool).order_by("-created_at"))
    active = next((row for row in rows if row.status == SigningKey.Status.ACTIVE), None)
    if active is None:
        _ensure_active(pool)
        return _load(pool, pool.config_version)
    now = clock.now()
    keep = retention(pool)
    published = [active]
    drops: list[dt.datetime] = []
    for row in rows:
        if row.status == SigningKey.Status.RETIRED and row.retired_at:
            until = row.retired_at + keep
            if until > now:
                published.append(row)
                drops.append(until)
    private = serialization.load_pem_private_key(crypto.decrypt_bytes(active.private_key), None)
    public = {}
    for row in published:
        if row is active:
            public[row.kid] = private.public_key()
        else:
            public[row.kid] = _public_from_jwk(row.public_jwk)
    return _PoolKeys(
        version=version,
        active=LoadedKey(kid=active.kid, private_key=private),
        public=public,
        document={"keys": [dict(row.public_jwk) for row in published]},
        valid_until=min(drops) if drops else None,
        loaded_at=time.monotonic(),
    )


def _public_from_jwk(jwk: dict) -> rsa.RSAPublicKey:
    def number(value: str) -> int:
        return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")

    return rsa.RSAPublicNumbers(number(jwk["e"]), number(jwk["n"])).public_key()


def _current(pool: UserPool, *, reload: bool = False) -> _PoolKeys:
    """The keys as of `pool.config_version` (the version of the row the caller holds)."""
    version = pool.config_version
    entry = _keys.get(pool.pk)
    stale = (
        entry is None
        or reload
        or entry.version != version
        or (entry.valid_until is not None and entry.valid_until <= clock.now())
    )
    if stale:
        entry = _load(pool, version)
        with _lock:
            _keys[pool.pk] = entry
    return entry


def active_key(pool: UserPool) -> LoadedKey:
    """The pool's signing key, decrypted once per process; created if the pool has none."""
    return _current(pool).active


def jwks(pool: UserPool) -> dict:
    """The pool's JSON Web Key Set: the active key and retired keys still within retention."""
    return _current(pool).document


def published_until(pool_id: str) -> dt.datetime | None:
    """When the JWKS this process holds for the pool next changes without a rotation (a retired
    key leaving it), or None. For config.front, which keeps the rendered document."""
    entry = _keys.get(pool_id)
    return entry.valid_until if entry is not None else None


def public_key(pool: UserPool, kid: str) -> rsa.RSAPublicKey | None:
    """The public key for `kid` if it is one of the pool's published keys, else None."""
    entry = _current(pool)
    key = entry.public.get(kid)
    if key is None and time.monotonic() - entry.loaded_at > _UNKNOWN_KID_RELOAD_SECONDS:
        # The caller's pool row may predate a rotation made elsewhere: read the version anew.
        version = pools.current_version(pool.pk)
        if version is not None and version != entry.version:
            pool.config_version = version
            key = _current(pool).public.get(kid)
        else:
            with _lock:
                entry.loaded_at = time.monotonic()
    return key


def signing_certificate(pool: UserPool) -> str:
    """GetSigningCertificate: a self-signed X.509 certificate for the pool's active signing key
    (subject CN = the pool id, valid ten years from the key's creation), base64 DER as Cognito
    returns it. Built on demand rather than stored: RSA PKCS#1 v1.5 signatures are
    deterministic, so the same key always gives the same certificate, and a rotation gives a new
    one, as Cognito's yearly renewal does."""
    loaded = active_key(pool)
    created = SigningKey.objects.values_list("created_at", flat=True).get(kid=loaded.kid)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, pool.pk)])
    serial = int.from_bytes(hashlib.sha256(loaded.kid.encode()).digest()[:16], "big") >> 1
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(loaded.private_key.public_key())
        .serial_number(serial)
        .not_valid_before(created)
        .not_valid_after(created + CERTIFICATE_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(loaded.private_key, hashes.SHA256())
    )
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def forget(pool_id: str) -> None:
    """Make every process reload the pool's keys (after an import wrote them)."""
    _forget(pool_id)
