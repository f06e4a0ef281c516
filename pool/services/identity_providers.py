"""A pool's identity providers (Cognito's Create/Update/DeleteIdentityProvider).

ProviderDetails are checked per ProviderType as Cognito documents them: the keys each type
requires, the ones it allows, and their values. The secret ones (`client_secret`,
`private_key`) are stored encrypted (`IdentityProvider.secret_details`), never in `details`.
For the social presets Cognito fills in the provider's well-known endpoints; so does Cognate,
and an operator may override them (a test upstream on loopback, a regional endpoint).
AttributeMapping names pool attributes (standard, or declared `custom:`), each mapped from one
provider claim; `username` names the claim that is the user's subject (defaults per type).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction

from pool import policy
from pool.errors import DuplicateProviderException, LimitExceededException
from pool.models import AppClient, IdentityProvider, ProviderType, UserPool
from pool.models.federation import SECRET_DETAIL_KEYS
from pool.models.user import STANDARD_ATTRIBUTES
from pool.services.validation import invalid

# Cognito's quotas.
MAX_PROVIDERS_PER_POOL = 300
MAX_IDENTIFIERS_PER_PROVIDER = 50
MAX_MAPPED_CLAIM_LENGTH = 131
RESERVED_NAMES = frozenset({"cognito"})
_IDENTIFIER = re.compile(r"^[\w\s+=.@-]{1,40}$")
_SCOPE = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]+$")
_UNSET: Any = object()

_OIDC_ENDPOINTS = ("authorize_url", "token_url", "attributes_url", "jwks_uri")
_COMMON_PRESET = ("authorize_url", "token_url", "attributes_url", "token_request_method")

# Per type: required keys, optional keys, and the defaults Cognito fills in.
REQUIRED: dict[str, tuple[str, ...]] = {
    ProviderType.OIDC: (
        "client_id",
        "client_secret",
        "attributes_request_method",
        "oidc_issuer",
        "authorize_scopes",
    ),
    ProviderType.GOOGLE: ("client_id", "client_secret", "authorize_scopes"),
    ProviderType.FACEBOOK: ("client_id", "client_secret", "authorize_scopes"),
    ProviderType.LOGIN_WITH_AMAZON: ("client_id", "client_secret", "authorize_scopes"),
    ProviderType.SIGN_IN_WITH_APPLE: (
        "client_id",
        "team_id",
        "key_id",
        "private_key",
        "authorize_scopes",
    ),
    ProviderType.SAML: (),
}
OPTIONAL: dict[str, tuple[str, ...]] = {
    ProviderType.OIDC: (*_OIDC_ENDPOINTS, "attributes_url_add_attributes", "token_request_method"),
    ProviderType.GOOGLE: (
        *_COMMON_PRESET,
        "attributes_url_add_attributes",
        "oidc_issuer",
        "jwks_uri",
    ),
    ProviderType.FACEBOOK: (*_COMMON_PRESET, "attributes_url_add_attributes", "api_version"),
    ProviderType.LOGIN_WITH_AMAZON: (*_COMMON_PRESET, "attributes_url_add_attributes"),
    ProviderType.SIGN_IN_WITH_APPLE: (
        "authorize_url",
        "token_url",
        "token_request_method",
        "oidc_issuer",
        "jwks_uri",
    ),
    ProviderType.SAML: (
        "MetadataURL",
        "MetadataFile",
        "IDPSignout",
        "IDPInit",
        "EncryptedResponses",
        "RequestSigningAlgorithm",
        "SLORedirectBindingURI",
        "SSORedirectBindingURI",
        "ActiveEncryptionCertificate",
    ),
}
FACEBOOK_API_VERSION = "v17.0"
PRESETS: dict[str, dict[str, str]] = {
    ProviderType.GOOGLE: {
        "authorize_url": "https://accounts.google.com/o/oauth2/v2/auth",
        "token_url": "https://www.googleapis.com/oauth2/v4/token",
        "attributes_url": "https://people.googleapis.com/v1/people/me?personFields=",
        "attributes_url_add_attributes": "true",
        "oidc_issuer": "https://accounts.google.com",
        "jwks_uri": "https://www.googleapis.com/oauth2/v3/certs",
        "token_request_method": "POST",
    },
    ProviderType.FACEBOOK: {
        "api_version": FACEBOOK_API_VERSION,
        "authorize_url": f"https://www.facebook.com/{FACEBOOK_API_VERSION}/dialog/oauth",
        "token_url": f"https://graph.facebook.com/{FACEBOOK_API_VERSION}/oauth/access_token",
        "attributes_url": f"https://graph.facebook.com/{FACEBOOK_API_VERSION}/me?fields=",
        "attributes_url_add_attributes": "true",
        "token_request_method": "GET",
    },
    ProviderType.LOGIN_WITH_AMAZON: {
        "authorize_url": "https://www.amazon.com/ap/oa",
        "token_url": "https://api.amazon.com/auth/o2/token",
        "attributes_url": "https://api.amazon.com/user/profile",
        "attributes_url_add_attributes": "false",
        "token_request_method": "POST",
    },
    ProviderType.SIGN_IN_WITH_APPLE: {
        "authorize_url": "https://appleid.apple.com/auth/authorize",
        "token_url": "https://appleid.apple.com/auth/token",
        "oidc_issuer": "https://appleid.apple.com",
        "jwks_uri": "https://appleid.apple.com/auth/keys",
        "token_request_method": "POST",
    },
    ProviderType.OIDC: {"token_request_method": "POST"},
    ProviderType.SAML: {},
}
# The claim that is the user's subject when AttributeMapping names none (Cognito's defaults).
DEFAULT_SUBJECT_CLAIM = {
    ProviderType.OIDC: "sub",
    ProviderType.GOOGLE: "sub",
    ProviderType.SIGN_IN_WITH_APPLE: "sub",
    ProviderType.FACEBOOK: "id",
    ProviderType.LOGIN_WITH_AMAZON: "user_id",
    ProviderType.SAML: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier",
}
_URL_KEYS = frozenset({*_OIDC_ENDPOINTS, "oidc_issuer", "MetadataURL"})
_BOOLEAN_KEYS = frozenset(
    {"attributes_url_add_attributes", "IDPSignout", "IDPInit", "EncryptedResponses"}
)
_MAX_DETAIL_LENGTH = 131072  # a SAML metadata document


def _check_name(name: Any, provider_type: str) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        raise invalid("ProviderName must be 1-32 characters.", "provider_name")
    if any(unicodedata.category(ch)[0] not in "LMSNP" for ch in name) or "_" in name:
        raise invalid(
            "ProviderName cannot contain spaces, control characters or underscores.",
            "provider_name",
        )
    if name.lower() in RESERVED_NAMES:
        raise invalid(f"ProviderName {name} is reserved.", "provider_name")
    if provider_type not in (ProviderType.SAML, ProviderType.OIDC) and name != provider_type:
        raise invalid(
            f"The ProviderName of a {provider_type} provider must be {provider_type}.",
            "provider_name",
        )
    if (
        provider_type in (ProviderType.SAML, ProviderType.OIDC)
        and name in PRESETS
        and (name not in (ProviderType.SAML, ProviderType.OIDC))
    ):
        raise invalid(f"ProviderName {name} is kept for the {name} preset.", "provider_name")
    return name


def _check_type(provider_type: Any) -> str:
    if provider_type not in ProviderType.values:
        raise invalid(
            f"ProviderType must be one of {', '.join(ProviderType.values)}.", "provider_type"
        )
    return provider_type


def _check_url(value: str, key: str) -> None:
    parts = urlsplit(value)
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise invalid(
            f"ProviderDetails {key} must be an https URL (http only on loopback).", "details"
        )
    if not parts.hostname:
        raise invalid(f"ProviderDetails {key} must be a URL.", "details")


def clean_details(
    provider_type: str, details: Any, *, keep_secrets: dict[str, str] | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """Check ProviderDetails for `provider_type`; return (non-secret details with the preset's
    defaults filled in, secrets). `keep_secrets`: the stored secrets an update leaves out."""
    if not isinstance(details, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in details.items()
    ):
        raise invalid("ProviderDetails must map names to strings.", "details")
    given = {k: v for k, v in details.items() if v != ""}
    for key, value in (keep_secrets or {}).items():
        given.setdefault(key, value)
    allowed = (*REQUIRED[provider_type], *OPTIONAL[provider_type])
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise invalid(
            f"ProviderDetails for {provider_type} do not take {', '.join(unknown)}.", "details"
        )
    missing = [key for key in REQUIRED[provider_type] if key not in given]
    if missing:
        raise invalid(f"ProviderDetails for {provider_type} need {', '.join(missing)}.", "details")
    for key, value in given.items():
        if len(value) > _MAX_DETAIL_LENGTH:
            raise invalid(f"ProviderDetails {key} is too long.", "details")
        if key in _URL_KEYS:
            _check_url(value, key)
        if key in _BOOLEAN_KEYS and value not in ("true", "false"):
            raise invalid(f"ProviderDetails {key} must be true or false.", "details")
    if "authorize_scopes" in given:
        scopes = given["authorize_scopes"].replace(",", " ").split()
        if not scopes or not all(_SCOPE.match(s) for s in scopes):
            raise invalid("authorize_scopes are scopes separated by spaces.", "details")
        if provider_type in (ProviderType.OIDC, ProviderType.GOOGLE) and "openid" not in scopes:
            raise invalid(
                f"authorize_scopes of an {provider_type} provider need openid.", "details"
            )
        given["authorize_scopes"] = " ".join(scopes)
    for key in ("attributes_request_method", "token_request_method"):
        if key in given and given[key] not in ("GET", "POST"):
            raise invalid(f"ProviderDetails {key} must be GET or POST.", "details")
    if provider_type == ProviderType.OIDC:
        explicit = [key for key in _OIDC_ENDPOINTS if key in given]
        if explicit and len(explicit) != len(_OIDC_ENDPOINTS):
            raise invalid(
                "Give all of authorize_url, token_url, attributes_url and jwks_uri, or none "
                "(they are then discovered from oidc_issuer).",
                "details",
            )
    if provider_type == ProviderType.SAML:
        if ("MetadataURL" in given) == ("MetadataFile" in given):
            raise invalid("Give exactly one of MetadataURL and MetadataFile.", "details")
        if given.get("RequestSigningAlgorithm", "rsa-sha256") != "rsa-sha256":
            raise invalid("RequestSigningAlgorithm must be rsa-sha256.", "details")
    if provider_type == ProviderType.SIGN_IN_WITH_APPLE and (
        "PRIVATE KEY" not in given["private_key"]
    ):
        raise invalid("private_key must be the PEM of the team's .p8 key.", "details")
    clean = {**PRESETS[provider_type], **given}
    if provider_type == ProviderType.FACEBOOK and "api_version" in details:
        version = clean["api_version"]
        for key, template in (
            ("authorize_url", "https://www.facebook.com/{}/dialog/oauth"),
            ("token_url", "https://graph.facebook.com/{}/oauth/access_token"),
            ("attributes_url", "https://graph.facebook.com/{}/me?fields="),
        ):
            clean.setdefault(key, template.format(version))
            if key not in details:
                clean[key] = template.format(version)
    secrets = {k: v for k, v in clean.items() if k in SECRET_DETAIL_KEYS}
    plain = {k: v for k, v in clean.items() if k not in SECRET_DETAIL_KEYS}
    return plain, secrets


def pool_attribute_names(pool: UserPool) -> set[str]:
    return {*STANDARD_ATTRIBUTES, *policy.custom_attributes(pool)}


def clean_mapping(pool: UserPool, provider_type: str, mapping: Any) -> dict[str, str]:
    """AttributeMapping: pool attribute -> provider claim. `username` is the subject's claim
    (its default per type is filled in). Mapped attributes must be mutable, since each
    sign-in writes them again (Cognito's rule)."""
    if mapping is None:
        mapping = {}
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise invalid(
            "AttributeMapping must map attribute names to claim names.", "attribute_mapping"
        )
    known = pool_attribute_names(pool)
    declared = policy.custom_attributes(pool)
    clean: dict[str, str] = {}
    for attribute, claim in mapping.items():
        if attribute != "username" and attribute not in known:
            raise invalid(
                f"AttributeMapping: {attribute} is not an attribute of this pool.",
                "attribute_mapping",
            )
        if attribute == "sub":
            raise invalid("AttributeMapping cannot write sub.", "attribute_mapping")
        if attribute in declared and not declared[attribute].mutable:
            raise invalid(
                f"AttributeMapping: {attribute} is immutable; mapped attributes must be mutable.",
                "attribute_mapping",
            )
        if not 1 <= len(claim) <= MAX_MAPPED_CLAIM_LENGTH:
            raise invalid(
                f"AttributeMapping: provider attribute names are 1-{MAX_MAPPED_CLAIM_LENGTH} "
                "characters.",
                "attribute_mapping",
            )
        clean[attribute] = claim
    clean.setdefault("username", DEFAULT_SUBJECT_CLAIM[provider_type])
    return clean


def _clean_identifiers(pool: UserPool, identifiers: Any, *, exclude: int | None) -> list[str]:
    if identifiers is None:
        return []
    if not isinstance(identifiers, list | tuple) or not all(
        isinstance(i, str) for i in identifiers
    ):
        raise invalid("IdpIdentifiers must be a list of strings.", "idp_identifiers")
    if len(identifiers) > MAX_IDENTIFIERS_PER_PROVIDER:
        raise invalid(
            f"At most {MAX_IDENTIFIERS_PER_PROVIDER} IdpIdentifiers per provider.",
            "idp_identifiers",
        )
    clean: list[str] = []
    for identifier in identifiers:
        if not _IDENTIFIER.match(identifier):
            raise invalid(
                "IdpIdentifiers are 1-40 letters, digits, spaces or + = . @ - _.",
                "idp_identifiers",
            )
        if identifier.lower() in (i.lower() for i in clean):
            raise invalid(f"IdpIdentifiers list {identifier!r} twice.", "idp_identifiers")
        clean.append(identifier)
    others = IdentityProvider.objects.filter(pool=pool)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    taken = {i.lower() for other in others for i in other.idp_identifiers}
    for identifier in clean:
        if identifier.lower() in taken:
            raise DuplicateProviderException(
                f"IdpIdentifier {identifier} is used by another provider.", field="idp_identifiers"
            )
    return clean


def create_identity_provider(
    *,
    pool: UserPool,
    provider_name: str,
    provider_type: str,
    details: dict[str, str],
    attribute_mapping: dict[str, str] | None = None,
    idp_identifiers: list[str] | None = None,
    enabled: bool = True,
) -> IdentityProvider:
    """Add an identity provider to the pool (DuplicateProviderException for a taken name)."""
    provider_type = _check_type(provider_type)
    provider_name = _check_name(provider_name, provider_type)
    plain, secrets = clean_details(provider_type, details)
    mapping = clean_mapping(pool, provider_type, attribute_mapping)
    if not isinstance(enabled, bool):
        raise invalid("enabled must be true or false.", "enabled")
    try:
        with transaction.atomic():
            UserPool.objects.select_for_update().filter(pk=pool.pk).first()
            existing = IdentityProvider.objects.filter(pool=pool)
            if existing.filter(provider_name=provider_name).exists():
                raise DuplicateProviderException(
                    "A provider with the specified name already exists.", field="provider_name"
                )
            if existing.count() >= MAX_PROVIDERS_PER_POOL:
                raise LimitExceededException(
                    f"A pool can have at most {MAX_PROVIDERS_PER_POOL} identity providers."
                )
            identifiers = _clean_identifiers(pool, idp_identifiers, exclude=None)
            provider = IdentityProvider(
                pool=pool,
                provider_name=provider_name,
                provider_type=provider_type,
                details=plain,
                attribute_mapping=mapping,
                idp_identifiers=identifiers,
                enabled=enabled,
            )
            provider.set_secrets(secrets)
            provider.save()
    except IntegrityError:
        raise DuplicateProviderException(
            "A provider with the specified name already exists.", field="provider_name"
        ) from None
    return provider


def update_identity_provider(
    *,
    provider: IdentityProvider,
    details: dict[str, str] | None = None,
    attribute_mapping: dict[str, str] | None = None,
    idp_identifiers: list[str] | None = None,
    enabled: bool | None = None,
) -> IdentityProvider:
    """UpdateIdentityProvider: what is given replaces what was (None keeps it). Secret details
    left out of new ProviderDetails keep their stored values, so an operator editing the other
    keys need not type the client secret again."""
    with transaction.atomic():
        # The pool's lock, as creation takes it: IdpIdentifiers stay unique across providers.
        UserPool.objects.select_for_update().filter(pk=provider.pool_id).first()
        provider = (
            IdentityProvider.objects.select_for_update().select_related("pool").get(pk=provider.pk)
        )
        if details is not None:
            plain, secrets = clean_details(
                provider.provider_type, details, keep_secrets=provider.secrets()
            )
            provider.details = plain
            provider.set_secrets(secrets)
        if attribute_mapping is not None:
            provider.attribute_mapping = clean_mapping(
                provider.pool, provider.provider_type, attribute_mapping
            )
        if idp_identifiers is not None:
            provider.idp_identifiers = _clean_identifiers(
                provider.pool, idp_identifiers, exclude=provider.pk
            )
        if enabled is not None:
            if not isinstance(enabled, bool):
                raise invalid("enabled must be true or false.", "enabled")
            provider.enabled = enabled
        provider.save()
    return provider


def delete_identity_provider(*, provider: IdentityProvider) -> None:
    """Delete a provider. App clients stop offering it; its users and their links stay (a
    provider made again under the same name signs them in again), as in Cognito."""
    with transaction.atomic():
        for client in AppClient.objects.filter(pool_id=provider.pool_id).select_for_update():
            kept = [
                name
                for name in client.supported_identity_providers
                if name != provider.provider_name
            ]
            if kept != client.supported_identity_providers:
                client.supported_identity_providers = kept
                client.save(update_fields=["supported_identity_providers", "updated_at"])
        provider.delete()
