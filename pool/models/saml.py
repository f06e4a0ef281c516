"""SAML 2.0 service-provider state per pool: the key pair our SP signs requests with (and that
IdPs may encrypt assertions to), and the assertions already consumed (replay protection)."""

from __future__ import annotations

from django.db import models

from pool.models.pool import UserPool


class SamlServiceProviderKey(models.Model):
    """The pool's SP key pair, made on first use. The private key is an encrypted PEM."""

    pool = models.OneToOneField(UserPool, on_delete=models.CASCADE, related_name="saml_sp_key")
    private_key = models.TextField()  # encrypted PEM (pool.crypto)
    certificate = models.TextField()  # PEM, self-signed, published in the SP metadata
    created_at = models.DateTimeField(auto_now_add=True)


class SamlAssertionUse(models.Model):
    """An assertion that signed someone in: its (issuer, ID) digest is unique, so a second use
    fails on the constraint, in every process. Kept until the assertion expires."""

    pool = models.ForeignKey(UserPool, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)
