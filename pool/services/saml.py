"""The pool's SAML 2.0 service-provider state: its key pair and the assertions it consumed.

- `sp_key_pair(pool=...)`: the SP's RSA key and self-signed certificate, made on first use (the
  private key encrypted at rest like signing keys). It signs our AuthnRequests and
  LogoutRequests and is the key IdPs encrypt assertions to (EncryptedResponses).
- `consume_assertion(...)`: the one replay check. An assertion is usable once: its digest goes
  into a table with a unique constraint (so two processes racing with the same assertion cannot
  both win), and is kept until the assertion's NotOnOrAfter, after which it is refused anyway.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.db import IntegrityError, transaction

from pool import clock, crypto
from pool.errors import NotAuthorizedException
from pool.models import SamlAssertionUse, SamlServiceProviderKey, UserPool

KEY_SIZE = 2048
CERTIFICATE_VALIDITY = dt.timedelta(days=3652)
# An assertion without NotOnOrAfter is remembered this long (and is refused later by the
# protocol code's own time checks only if it says so; most IdPs always send one).
DEFAULT_MEMORY = dt.timedelta(hours=1)


@dataclass(frozen=True)
class SpKeyPair:
    private_key_pem: str = field(repr=False)
    certificate_pem: str


def _new_pair(pool: UserPool) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"urn:amazon:cognito:sp:{pool.pk}")])
    now = clock.now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + CERTIFICATE_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return private_pem, certificate.public_bytes(serialization.Encoding.PEM).decode()


def sp_key_pair(*, pool: UserPool) -> SpKeyPair:
    """The pool's SP key pair, created on first use (one per pool, even when two requests race
    to create it: the loser reads the winner's)."""
    row = SamlServiceProviderKey.objects.filter(pool=pool).first()
    if row is None:
        private_pem, certificate_pem = _new_pair(pool)
        try:
            with transaction.atomic():
                row = SamlServiceProviderKey.objects.create(
                    pool=pool, private_key=crypto.encrypt(private_pem), certificate=certificate_pem
                )
        except IntegrityError:
            row = SamlServiceProviderKey.objects.get(pool=pool)
    return SpKeyPair(
        private_key_pem=crypto.decrypt(row.private_key), certificate_pem=row.certificate
    )


def consume_assertion(
    *,
    pool: UserPool,
    issuer: str,
    assertion_id: str,
    not_on_or_after: dt.datetime | None,
) -> None:
    """Mark an assertion used, or NotAuthorizedException if it was used before."""
    now = clock.now()
    expires_at = not_on_or_after or now + DEFAULT_MEMORY
    digest = crypto.digest(f"saml-assertion\0{pool.pk}\0{issuer}\0{assertion_id}")
    SamlAssertionUse.objects.filter(pool=pool, expires_at__lt=now).delete()
    try:
        with transaction.atomic():
            SamlAssertionUse.objects.create(pool=pool, digest=digest, expires_at=expires_at)
    except IntegrityError as exc:
        raise NotAuthorizedException("This SAML assertion was already used.") from exc
