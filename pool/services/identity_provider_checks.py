"""Checking an identity provider's configuration against the provider itself (the console's
"Test" button): fetch and validate its OpenID Connect discovery document and JWKS, or its SAML
metadata, and say what is right and what is wrong, item by item.

Nothing is changed and nothing is cached: a check always reads the provider afresh. Every fetch
has a timeout (`IDENTITY_PROVIDER_CHECK_TIMEOUT` seconds, 5 by default), follows no redirect
and reads at most `MAX_DOCUMENT_BYTES`; whatever goes wrong (no answer, an HTTP error, a document
that is not what it should be) becomes a failed item of the report, never an exception.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings

from pool.models import IdentityProvider, ProviderType

DEFAULT_TIMEOUT_SECONDS = 5.0
MAX_DOCUMENT_BYTES = 1_000_000
# The ID token signatures the hosted UI accepts (hostedui.federation.oidc takes them from here).
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "PS256")
SAML_METADATA_TYPES = "application/samlmetadata+xml, application/xml, text/xml"
DISCOVERY_PATH = "/.well-known/openid-configuration"
REQUIRED_DISCOVERY_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")


@dataclass(frozen=True)
class CheckItem:
    label: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class CheckReport:
    provider_name: str
    provider_type: str
    items: tuple[CheckItem, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return bool(self.items) and all(item.ok for item in self.items)


class FetchError(Exception):
    """A document could not be had; the message says why, for the operator."""


def timeout() -> float:
    return float(getattr(settings, "IDENTITY_PROVIDER_CHECK_TIMEOUT", DEFAULT_TIMEOUT_SECONDS))


def fetch(
    url: str, *, accept: str = "application/json", timeout_seconds: float | None = None
) -> str:
    """The body of `url` (GET, no redirects, a timeout, a size limit) or FetchError. Also the
    hosted UI's fetch of SAML metadata (hostedui.federation.saml)."""
    import requests  # noqa: PLC0415 (about 8 MB a worker: only provider checks and federation)

    limit = timeout() if timeout_seconds is None else timeout_seconds
    try:
        with requests.get(
            url, timeout=limit, allow_redirects=False, stream=True, headers={"Accept": accept}
        ) as answer:
            if answer.is_redirect:
                raise FetchError(
                    f"{url} answered a redirect (HTTP {answer.status_code}) to "
                    f"{answer.headers.get('Location', '?')}; give the final URL."
                )
            if answer.status_code != 200:
                raise FetchError(f"{url} answered HTTP {answer.status_code}.")
            # The timeout bounds each read; the deadline bounds them all (a slow drip).
            deadline = time.monotonic() + 2 * limit
            body = bytearray()
            for chunk in answer.iter_content(65536):
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise FetchError(f"{url} answered more than {MAX_DOCUMENT_BYTES} bytes.")
                if time.monotonic() > deadline:
                    raise FetchError(f"{url} did not finish answering in {2 * limit:g} seconds.")
    except requests.Timeout:
        raise FetchError(f"{url} did not answer within {limit:g} seconds.") from None
    except requests.ConnectionError:
        raise FetchError(f"{url} could not be reached (connection failed).") from None
    except requests.RequestException as exc:
        raise FetchError(f"{url} could not be fetched: {type(exc).__name__}.") from None
    return body.decode("utf-8", errors="replace")


def fetch_json(url: str, what: str, *, timeout_seconds: float | None = None) -> dict:
    """The JSON object at `url`, fetched as `fetch` does, or FetchError. Also the hosted UI's
    fetch of discovery documents and JWKS (hostedui.federation.oidc)."""
    text = fetch(url, timeout_seconds=timeout_seconds)
    try:
        document = json.loads(text)
    except ValueError:
        raise FetchError(f"The {what} at {url} is not JSON.") from None
    if not isinstance(document, dict):
        raise FetchError(f"The {what} at {url} is not a JSON object.")
    return document


# ----------------------------------------------------------------------------------- OIDC


def discovery_url(issuer: str) -> str:
    """Where an issuer publishes its OpenID Connect discovery document (whose own `issuer`
    must equal the configured one, OIDC Discovery §4.3)."""
    return issuer.rstrip("/") + DISCOVERY_PATH


def issuer_mismatch(document: Mapping, issuer: str) -> str:
    """Why a discovery document may not be used for `issuer` ('' when it may): its own
    `issuer` must equal the configured one exactly (OIDC Discovery §4.3)."""
    named = document.get("issuer")
    if named == issuer:
        return ""
    return f"The document names {named!r}, not the configured {issuer!r}."


def _check_jwks(jwks_uri: str, items: list[CheckItem]) -> None:
    from joserfc.errors import JoseError  # noqa: PLC0415 (about 1 MB a worker: federation only)
    from joserfc.jwk import KeySet  # noqa: PLC0415

    try:
        document = fetch_json(jwks_uri, "JWKS")
    except FetchError as exc:
        items.append(CheckItem("JWKS fetched", False, str(exc)))
        return
    try:
        keys = KeySet.import_key_set(document)
    except (JoseError, ValueError, TypeError, KeyError):
        items.append(CheckItem("JWKS fetched", False, f"{jwks_uri} holds no usable key set."))
        return
    signing = [key for key in keys.keys if key.get("use") in (None, "sig")]
    items.append(
        CheckItem(
            "JWKS fetched",
            bool(signing),
            f"{len(signing)} signing key(s) at {jwks_uri}."
            if signing
            else f"{jwks_uri} has no signing key.",
        )
    )


def _endpoints_present(source: Mapping, keys: tuple[str, ...], found: str) -> CheckItem:
    """The "Endpoints present" item: which of `keys` `source` lacks, else `found`."""
    missing = [key for key in keys if not source.get(key)]
    return CheckItem(
        "Endpoints present", not missing, f"Missing: {', '.join(missing)}." if missing else found
    )


def _check_oidc(details: Mapping[str, str], items: list[CheckItem]) -> None:
    """Explicit endpoints are used as given (only the JWKS is fetched); otherwise the discovery
    document at `oidc_issuer` must name that issuer and the endpoints, and its JWKS be usable."""
    issuer = details.get("oidc_issuer", "")
    if all(details.get(key) for key in ("authorize_url", "token_url", "jwks_uri")):
        items.append(
            CheckItem(
                "Configured endpoints",
                True,
                f"authorize {details['authorize_url']}, token {details['token_url']} "
                "(no discovery: the endpoints are given).",
            )
        )
        _check_jwks(details["jwks_uri"], items)
        return
    if not issuer:
        items.append(
            CheckItem("Endpoints present", False, "Neither oidc_issuer nor explicit endpoints.")
        )
        return
    url = discovery_url(issuer)
    try:
        document = fetch_json(url, "discovery document")
    except FetchError as exc:
        items.append(CheckItem("Discovery document fetched", False, str(exc)))
        return
    items.append(CheckItem("Discovery document fetched", True, url))
    wrong = issuer_mismatch(document, issuer)
    items.append(CheckItem("Issuer matches", not wrong, wrong or f"The document names {issuer}."))
    items.append(
        _endpoints_present(
            document,
            REQUIRED_DISCOVERY_ENDPOINTS,
            ", ".join(f"{key} {document.get(key)}" for key in REQUIRED_DISCOVERY_ENDPOINTS),
        )
    )
    algorithms = document.get("id_token_signing_alg_values_supported")
    if isinstance(algorithms, list) and algorithms:
        usable = [a for a in algorithms if a in ID_TOKEN_ALGORITHMS]
        items.append(
            CheckItem(
                "ID token signature algorithm",
                bool(usable),
                f"Supported: {', '.join(map(str, algorithms))}."
                if usable
                else f"None of {', '.join(map(str, algorithms))} is one Cognate accepts "
                f"({', '.join(ID_TOKEN_ALGORITHMS)}).",
            )
        )
    if isinstance(document.get("jwks_uri"), str) and document["jwks_uri"]:
        _check_jwks(document["jwks_uri"], items)


def _check_oauth(details: Mapping[str, str], items: list[CheckItem], provider_type: str) -> None:
    """Facebook and Login with Amazon: plain OAuth 2.0, no discovery document to read."""
    items.append(
        _endpoints_present(
            details,
            ("authorize_url", "token_url", "attributes_url"),
            f"{provider_type} is OAuth 2.0 without discovery: authorize "
            f"{details.get('authorize_url')}, token {details.get('token_url')}, user info "
            f"{details.get('attributes_url')}.",
        )
    )


# ----------------------------------------------------------------------------------- SAML


def _read_metadata(xml: str):
    from saml2.attribute_converter import ac_factory
    from saml2.config import Config
    from saml2.mdstore import MetadataStore

    store = MetadataStore(ac_factory(), Config())
    store.load("inline", xml)
    return store


def _services(lookup, *args) -> list[dict]:
    """The endpoints pysaml2 finds for a binding ([] when the IdP has none with it)."""
    from saml2.s_utils import UnsupportedBinding

    try:
        return list(lookup(*args) or [])
    except UnsupportedBinding:
        return []


def _check_saml(details: Mapping[str, str], items: list[CheckItem]) -> None:
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

    if details.get("MetadataFile"):
        xml = details["MetadataFile"]
        items.append(CheckItem("Metadata read", True, "Given as a document (MetadataFile)."))
    else:
        url = details.get("MetadataURL", "")
        try:
            xml = fetch(url, accept=SAML_METADATA_TYPES)
        except FetchError as exc:
            items.append(CheckItem("Metadata fetched", False, str(exc)))
            return
        items.append(CheckItem("Metadata fetched", True, url))
    try:
        store = _read_metadata(xml)
    except Exception as exc:  # pysaml2 raises many types for a document it cannot read
        items.append(
            CheckItem("Metadata parsed", False, f"pysaml2 cannot read it ({type(exc).__name__}).")
        )
        return
    idps = list(store.identity_providers())
    if len(idps) != 1:
        items.append(
            CheckItem(
                "Metadata parsed",
                False,
                f"It describes {len(idps)} identity providers; exactly one is needed.",
            )
        )
        return
    entity = idps[0]
    items.append(CheckItem("Metadata parsed", True, f"IdP entity id {entity}."))
    certificates = store.certs(entity, "idpsso", use="signing")
    items.append(
        CheckItem(
            "Signing certificate",
            bool(certificates),
            f"{len(certificates)} signing certificate(s)."
            if certificates
            else "The IdP publishes no signing certificate: its assertions cannot be verified.",
        )
    )
    sso = [
        location["location"]
        for binding in (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST)
        for location in _services(store.single_sign_on_service, entity, binding)
    ]
    items.append(
        CheckItem(
            "Single sign-on endpoint",
            bool(sso),
            ", ".join(sso) if sso else "No SingleSignOnService with the Redirect or POST binding.",
        )
    )
    if details.get("IDPSignout") == "true":
        slo = [
            location["location"]
            for location in _services(
                store.single_logout_service, entity, BINDING_HTTP_REDIRECT, "idpsso"
            )
        ]
        items.append(
            CheckItem(
                "Single logout endpoint",
                bool(slo),
                ", ".join(slo)
                if slo
                else "IDPSignout is on but the IdP has no SingleLogoutService (Redirect).",
            )
        )


def check_identity_provider(*, provider: IdentityProvider) -> CheckReport:
    """Read what the provider publishes and check it against its configuration."""
    details = provider.details or {}
    items: list[CheckItem] = []
    if provider.provider_type == ProviderType.SAML:
        _check_saml(details, items)
    elif provider.provider_type in (ProviderType.FACEBOOK, ProviderType.LOGIN_WITH_AMAZON):
        _check_oauth(details, items, provider.provider_type)
    else:
        _check_oidc(details, items)
    return CheckReport(
        provider_name=provider.provider_name,
        provider_type=provider.provider_type,
        items=tuple(items),
    )
