"""SAML 2.0 sign-in for a pool's SAML identity providers, on pysaml2 (which verifies signatures
with the xmlsec1 binary).

Our service provider, per pool, as Cognito's:
- entity id `urn:amazon:cognito:sp:<pool id>`;
- assertion consumer service `{PUBLIC_URL}/{pool}/saml2/idpresponse` (HTTP-POST);
- single logout service `{PUBLIC_URL}/{pool}/saml2/logout` (HTTP-Redirect);
- metadata at `{PUBLIC_URL}/{pool}/saml2/metadata`, with the pool's SP certificate
  (pool.services.saml), which signs our requests and receives encrypted assertions;
- on the pool's own domain (hostedui.hosts), the same at `https://{domain}/saml2/…`, as
  Cognito's: a sign-in started there comes back there, where the browser's session is.

The IdP comes from the provider's ProviderDetails: `MetadataURL` (fetched with a timeout, kept
a while in the cache) or `MetadataFile` (the XML), `IDPSignout` (single logout), `IDPInit`
(IdP-initiated sign-in allowed), `RequestSigningAlgorithm` (rsa-sha256), `EncryptedResponses`.

What a response must be to sign anyone in (pysaml2 checks the first five, we the rest):
the assertion signed by a key in the IdP's metadata (an unsigned assertion is refused even in a
signed response), Audience = our entity id, Destination and Recipient = our ACS, inside its
NotBefore/NotOnOrAfter (SKEW_SECONDS either way), InResponseTo = the request this browser's
round trip sent (SP-initiated), or no InResponseTo at all when the provider allows IdP-initiated
sign-in; and its assertion never used before (pool.services.saml.consume_assertion).
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.http import QueryDict

from hostedui import hosts
from hostedui.federation.oidc import Pending
from hostedui.federation.state import RoundTrip
from hostedui.oauth import ErrorPage
from hostedui.oauth import authorize as authz
from hostedui.oauth.authorize import AuthorizationRequest
from pool import crypto
from pool.errors import CognitoError
from pool.models import IdentityProvider, UserPool
from pool.services import identity_provider_checks as provider_checks
from pool.services import saml as saml_service

if TYPE_CHECKING:
    from saml2.client import Saml2Client
    from saml2.config import SPConfig

logger = logging.getLogger(__name__)

SKEW_SECONDS = 60
METADATA_TIMEOUT_SECONDS = 5
METADATA_CACHE_SECONDS = 600
# Cognito: "The saml2/idpresponse endpoint can accept SAML assertions of up to 100,000 characters".
MAX_RESPONSE_CHARS = 100_000
ROUND_TRIP_SECONDS = 600
# The SAML and XML-DSig names we use, as their specifications spell them (pysaml2's
# BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, xmldsig.SIG_RSA_SHA256 and xmldsig.DIGEST_SHA256).
BINDING_HTTP_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
BINDING_HTTP_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
DIGEST_SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SIGNING_ALGORITHMS = {"rsa-sha256": RSA_SHA256}
SESSION_KEY = "hostedui:saml:{pool}"
# The NameID, as a claim (Cognito's default `username` mapping of a SAML provider).
NAME_ID_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier"


# pysaml2 (with xmlschema and the SAML schemas, about 15 MB a worker) is imported in the
# functions below, so only a worker that serves a SAML request pays for it.


class MetadataError(Exception):
    """The IdP's metadata cannot be had or read: the provider cannot be used."""


def entity_id(pool: UserPool) -> str:
    return f"urn:amazon:cognito:sp:{pool.pk}"


def _site(pool: UserPool) -> str:
    """`{PUBLIC_URL}/{pool}`, or the pool's domain when the request is served there (the
    browser's session is the domain's, so the IdP must send it back there)."""
    return hosts.site(pool.pk) or f"{settings.PUBLIC_URL}/{pool.pk}"


def acs_url(pool: UserPool) -> str:
    return f"{_site(pool)}/saml2/idpresponse"


def slo_url(pool: UserPool) -> str:
    return f"{_site(pool)}/saml2/logout"


def _truthy(value) -> bool:
    return str(value).strip().lower() == "true"


# ------------------------------------------------------------------------------ configuration


def idp_metadata(details: Mapping[str, str]) -> str:
    """The IdP's metadata XML: `MetadataFile` as given, or `MetadataURL` fetched (and cached)."""
    if details.get("MetadataFile"):
        return details["MetadataFile"]
    url = details.get("MetadataURL") or ""
    if not url.startswith(("https://", "http://")):
        raise MetadataError("The provider has neither MetadataFile nor an http(s) MetadataURL.")
    key = f"saml-metadata:{crypto.digest(url)}"
    if (cached := cache.get(key)) is not None:
        return cached
    try:
        text = provider_checks.fetch(
            url,
            accept=provider_checks.SAML_METADATA_TYPES,
            timeout_seconds=METADATA_TIMEOUT_SECONDS,
        )
    except provider_checks.FetchError as exc:
        raise MetadataError(f"The metadata URL could not be used: {exc}") from exc
    cache.set(key, text, METADATA_CACHE_SECONDS)
    return text


def _config(
    pool: UserPool, *, details: Mapping[str, str] | None, folder: Path, unsolicited: bool
) -> SPConfig:
    from saml2.config import SPConfig  # noqa: PLC0415 (heavy, SAML requests only: see above)

    pair = saml_service.sp_key_pair(pool=pool)
    key_file, cert_file = folder / "sp.key", folder / "sp.crt"
    key_file.touch(mode=0o600)
    key_file.write_text(pair.private_key_pem)
    cert_file.write_text(pair.certificate_pem)
    details = details or {}
    algorithm = SIGNING_ALGORITHMS.get(
        details.get("RequestSigningAlgorithm") or "rsa-sha256", RSA_SHA256
    )
    endpoints = {
        "assertion_consumer_service": [(acs_url(pool), BINDING_HTTP_POST)],
        "single_logout_service": [(slo_url(pool), BINDING_HTTP_REDIRECT)],
    }
    config = {
        "entityid": entity_id(pool),
        "service": {
            "sp": {
                "endpoints": endpoints,
                "allow_unsolicited": unsolicited,
                "authn_requests_signed": True,
                "logout_requests_signed": True,
                "logout_responses_signed": True,
                "want_assertions_signed": True,
                "want_response_signed": False,
                "signing_algorithm": algorithm,
                "digest_algorithm": DIGEST_SHA256,
                "name_id_format_allow_create": True,
            }
        },
        "key_file": str(key_file),
        "cert_file": str(cert_file),
        "encryption_keypairs": [{"key_file": str(key_file), "cert_file": str(cert_file)}],
        "accepted_time_diff": SKEW_SECONDS,
        "allow_unknown_attributes": True,
    }
    if details:
        config["metadata"] = {"inline": [idp_metadata(details)]}
    sp_config = SPConfig()
    sp_config.load(config)
    return sp_config


@contextmanager
def _client(
    pool: UserPool, *, details: Mapping[str, str] | None = None, unsolicited: bool = False
) -> Iterator[Saml2Client]:
    """A pysaml2 SP for this pool (and IdP). xmlsec1 reads keys from files: the decrypted SP
    key exists, mode 0600, only for the duration of one operation."""
    from saml2.client import Saml2Client  # noqa: PLC0415 (heavy, SAML requests only: see above)

    with tempfile.TemporaryDirectory(prefix="cognate-saml-") as folder:
        try:
            config = _config(pool, details=details, folder=Path(folder), unsolicited=unsolicited)
        except MetadataError:
            raise
        except Exception as exc:  # pysaml2 raises many types for metadata it cannot load
            raise MetadataError(f"The IdP metadata cannot be read: {type(exc).__name__}.") from exc
        yield Saml2Client(config=config)


def _idp_entity(client: Saml2Client) -> str:
    idps = list(client.metadata.identity_providers())
    if len(idps) != 1:
        raise MetadataError("The metadata must describe exactly one identity provider.")
    return idps[0]


def sp_metadata(pool: UserPool) -> str:
    """Our SP metadata for this pool (what an IdP administrator imports)."""
    from saml2.metadata import entity_descriptor  # noqa: PLC0415 (heavy: see above)

    with _client(pool) as client:
        descriptor = entity_descriptor(client.config)
        return descriptor.to_string().decode()


# ------------------------------------------------------------------- a single logout's state
# A sign-in's round trip lives in the browser session (hostedui.federation.state). A logout's
# cannot: the session ends before the browser goes to the IdP. So it is kept in the cache
# (Redis when configured), under the digest of the token that travels as RelayState, and taken
# once.


def _round_trip_key(token: str) -> str:
    return f"saml-round-trip:{crypto.digest(token)}"


def remember_round_trip(*, pool: UserPool, entry: dict, token: str | None = None) -> str:
    token = token or crypto.token()
    cache.set(_round_trip_key(token), {"pool": pool.pk, **entry}, ROUND_TRIP_SECONDS)
    return token


def take_round_trip(*, pool: UserPool, token: str) -> dict | None:
    """The round trip `token` names, once: of two requests with the same token one gets it."""
    key = _round_trip_key(token)
    entry = cache.get(key)
    if entry is None or not cache.delete(key) or entry.get("pool") != pool.pk:
        return None
    return entry


# ------------------------------------------------------------------------------------ sign-in


def provider_named(pool: UserPool, name: str | None) -> IdentityProvider | None:
    if not name:
        return None
    return IdentityProvider.objects.filter(
        pool=pool, provider_name=name, provider_type="SAML"
    ).first()


def begin(auth: AuthorizationRequest, provider: IdentityProvider) -> tuple[str, Pending]:
    """Where to send the browser to sign in at `provider` (the IdP's SSO URL with our signed
    AuthnRequest, HTTP-Redirect binding), and what the round trip must remember: `state` is
    the RelayState, and `request_id` the AuthnRequest's ID, which the answer must echo
    (InResponseTo)."""
    relay = crypto.token()
    try:
        with _client(auth.pool, details=provider.provider_details()) as client:
            request_id, info = client.prepare_for_authenticate(
                entityid=_idp_entity(client),
                relay_state=relay,
                binding=BINDING_HTTP_REDIRECT,
                sign=True,
                sigalg=client.config.getattr("signing_algorithm", "sp"),
            )
    except (MetadataError, ValueError) as exc:
        logger.warning(
            "SAML provider %s of %s unusable: %s", provider.provider_name, auth.pool, exc
        )
        raise auth.error("server_error", "The identity provider is not available.") from exc
    location = dict(info["headers"])["Location"]
    return location, Pending(state=relay, nonce="", code_verifier="", request_id=request_id)


def is_round_trip_token(relay_state: str) -> bool:
    """An SP-initiated answer's RelayState is our token; an IdP-initiated one carries the
    authorize parameters (Cognito's format: `client_id=…&redirect_uri=…&…`)."""
    return bool(relay_state) and "=" not in relay_state


@dataclass(frozen=True)
class Verified:
    """A response that passed every check: who the IdP says signed in, for which request."""

    auth: AuthorizationRequest
    provider: IdentityProvider
    issuer: str  # the IdP's entity id
    subject: str
    claims: dict[str, str]
    name_id: str  # pysaml2's encoding of the NameID, for single logout
    session_index: str


def _auth_of(pool: UserPool, query: str) -> AuthorizationRequest:
    return authz.validate(pool, QueryDict(query)).without_prompt()


def _claims(response) -> dict[str, str]:
    """The assertion's attributes by their Name as sent (Cognito's AttributeMapping names
    them so, e.g. http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress); several
    values are joined with commas."""
    claims: dict[str, str] = {}
    for statement in response.assertion.attribute_statement:
        for attribute in statement.attribute:
            values = [v.text or "" for v in attribute.attribute_value]
            if attribute.name and values:
                claims[attribute.name] = ",".join(values)
    return claims


def _in_response_to(response) -> set[str]:
    """Every InResponseTo the response and its subject confirmations carry."""
    seen = {response.in_response_to} if response.in_response_to else set()
    for confirmation in response.assertion.subject.subject_confirmation:
        data = confirmation.subject_confirmation_data
        if data is not None and data.in_response_to:
            seen.add(data.in_response_to)
    return seen


def _recipients(response) -> set[str]:
    """The Recipient of every subject confirmation pysaml2 accepted."""
    return {
        confirmation.subject_confirmation_data.recipient or ""
        for confirmation in response.assertion.subject.subject_confirmation
        if confirmation.subject_confirmation_data is not None
    }


def _was_encrypted(response) -> bool:
    """Did the assertion arrive encrypted? (pysaml2 swaps in the decrypted document.)"""
    from saml2 import samlp  # noqa: PLC0415 (heavy, SAML requests only: see above)

    original = samlp.response_from_string(response.origxml)
    return bool(original is not None and original.encrypted_assertion)


def _not_on_or_after(response) -> dt.datetime | None:
    stamp = getattr(response, "not_on_or_after", 0) or 0
    return dt.datetime.fromtimestamp(stamp, tz=dt.UTC) if stamp else None


def consume(
    pool: UserPool, *, saml_response: str, relay_state: str, round_trip: RoundTrip | None
) -> Verified:
    """Check an IdP's answer posted to our ACS; `round_trip` is the SP-initiated sign-in this
    browser started (hostedui.federation.state), None for an IdP-initiated one. Raises
    ErrorPage while we do not know which app asked, RedirectError (an OAuth error to the app's
    redirect_uri) once we do."""
    from saml2.ident import code as encode_name_id  # noqa: PLC0415 (heavy: see above)
    from saml2.response import StatusError  # noqa: PLC0415 (heavy, SAML requests only: see above)

    if is_round_trip_token(relay_state) or round_trip is not None:
        if round_trip is None:
            raise ErrorPage(
                "invalid_state", "This sign-in is not valid (missing, used or expired)."
            )
        auth = _auth_of(pool, round_trip.query)
        provider = provider_named(pool, round_trip.provider_name)
        outstanding = {round_trip.pending.request_id: "sp"}
        unsolicited = False
    else:  # IdP-initiated: RelayState holds the authorize parameters
        if not relay_state:
            raise ErrorPage("invalid_request", "The request has no RelayState.")
        params = QueryDict(relay_state)
        auth = _auth_of(pool, relay_state)
        provider = provider_named(pool, params.get("identity_provider"))
        if provider is not None and not _truthy(provider.provider_details().get("IDPInit")):
            raise auth.error(
                "invalid_request", "This provider does not allow IdP-initiated sign-in."
            )
        outstanding = {}
        unsolicited = True
    if not saml_response or len(saml_response) > MAX_RESPONSE_CHARS:
        raise auth.error("invalid_request", "The request has no usable SAMLResponse.")
    if provider is None:
        raise auth.error("invalid_request", "There is no such SAML identity provider.")
    if not provider.enabled:  # refused again by federation.sign_in; here before any parsing
        raise auth.error("invalid_request", "This identity provider is disabled.")
    details = provider.provider_details()
    try:
        with _client(pool, details=details, unsolicited=unsolicited) as client:
            response = client.parse_authn_request_response(
                saml_response, BINDING_HTTP_POST, outstanding=outstanding
            )
            if not response:
                raise ValueError("no response")
            idp = _idp_entity(client)
    except StatusError as exc:
        raise auth.error("access_denied", f"The identity provider refused: {exc}"[:300]) from exc
    except MetadataError as exc:
        raise auth.error("server_error", "The identity provider is not available.") from exc
    except Exception as exc:  # every way pysaml2 refuses a response (signature, time, ...)
        logger.info("SAML response refused for %s/%s: %r", pool.pk, provider.provider_name, exc)
        raise auth.error("invalid_request", "Invalid SAML response received.") from exc
    if getattr(response, "assertion", None) is None or response.assertion.subject is None:
        # pysaml2 stops verifying (and sets no assertion) on some refusals, e.g. a Destination
        # that is not our ACS, without raising.
        logger.info("SAML response refused for %s/%s: not verified", pool.pk, provider)
        raise auth.error("invalid_request", "Invalid SAML response received.")
    if _truthy(details.get("EncryptedResponses")) and not _was_encrypted(response):
        raise auth.error("invalid_request", "The SAML assertion must be encrypted.")
    if not _recipients(response) or _recipients(response) != {acs_url(pool)}:
        # pysaml2 checks Recipient only when given conversation info; we check it here.
        raise auth.error("invalid_request", "Invalid SAML response received.")
    answered = _in_response_to(response)
    if unsolicited and answered:
        raise auth.error("invalid_request", "Invalid SAML response received.")
    if not unsolicited and answered != set(outstanding):
        raise auth.error("invalid_request", "Invalid SAML response received.")
    if response.issuer() != idp:
        raise auth.error("invalid_request", "Invalid SAML response received.")
    try:
        saml_service.consume_assertion(
            pool=pool,
            issuer=idp,
            assertion_id=response.assertion.id,
            not_on_or_after=_not_on_or_after(response),
        )
    except CognitoError as exc:
        raise auth.error("invalid_request", exc.message) from exc
    name_id = response.name_id
    claims = _claims(response)
    if name_id is not None and (name_id.text or "").strip():
        claims[NAME_ID_CLAIM] = name_id.text.strip()
    # The subject is the claim AttributeMapping gives `username` (the NameID by default).
    subject = claims.get((provider.attribute_mapping or {}).get("username") or NAME_ID_CLAIM)
    if not subject or name_id is None:
        raise auth.error("invalid_request", "The SAML assertion names no subject.")
    session_index = ""
    for statement in response.assertion.authn_statement:
        session_index = statement.session_index or session_index
    return Verified(
        auth=auth,
        provider=provider,
        issuer=idp,
        subject=subject,
        claims=claims,
        name_id=encode_name_id(name_id),
        session_index=session_index,
    )


# ------------------------------------------------------------------------------ single logout


def _signed_by_idp(client: Saml2Client, idp: str, query: QueryDict) -> bool:
    """An HTTP-Redirect message's query signature, checked against the IdP's signing
    certificates from its metadata (pysaml2 checks it on its own only on the IdP side)."""
    from saml2.sigver import verify_redirect_signature  # noqa: PLC0415 (heavy: see above)

    names = ("SAMLRequest", "SAMLResponse", "RelayState", "SigAlg", "Signature")
    message = {name: query.get(name) for name in names if query.get(name) is not None}
    if not message.get("Signature") or not message.get("SigAlg"):
        return False
    try:
        return any(
            verify_redirect_signature(message, client.sec.sec_backend, cert)
            for _name, cert in client.metadata.certs(idp, "idpsso", "signing")
        )
    except Exception:  # an unknown algorithm, a signature that is not base64, ...
        return False


def remember_signed_in(session, verified: Verified) -> None:
    """After the hosted session started: what a later single logout needs."""
    session[SESSION_KEY.format(pool=verified.auth.pool.pk)] = {
        "provider": verified.provider.provider_name,
        "name_id": verified.name_id,
        "session_index": verified.session_index,
    }


def logout_location(session, pool: UserPool, *, after: str) -> str | None:
    """When this browser signed in through a SAML provider with IDPSignout: the IdP's single
    logout URL with our signed LogoutRequest; the browser comes back to `/saml2/logout`, and
    then goes to `after`. None when there is nothing to sign out of upstream."""
    from saml2.ident import decode as decode_name_id  # noqa: PLC0415 (heavy: see above)
    from saml2.s_utils import UnknownPrincipal  # noqa: PLC0415 (heavy: see above)

    entry = session.get(SESSION_KEY.format(pool=pool.pk))
    if not entry:
        return None
    provider = provider_named(pool, entry.get("provider"))
    if provider is None or not provider.enabled:
        return None
    details = provider.provider_details()
    if not _truthy(details.get("IDPSignout")):
        return None
    try:
        with _client(pool, details=details) as client:
            idp = _idp_entity(client)
            destinations = client.metadata.single_logout_service(
                idp, BINDING_HTTP_REDIRECT, "idpsso"
            )
            if not destinations:
                return None
            destination = destinations[0]["location"]
            request_id, request = client.create_logout_request(
                destination,
                idp,
                name_id=decode_name_id(entry["name_id"]),
                session_indexes=[entry["session_index"]] if entry.get("session_index") else None,
                sign=False,
            )
            relay = remember_round_trip(
                pool=pool, entry={"logout": request_id, "after": after, "provider": provider.pk}
            )
            info = client.apply_binding(
                BINDING_HTTP_REDIRECT,
                str(request),
                destination,
                relay,
                sign=True,
                sigalg=client.config.getattr("signing_algorithm", "sp"),
            )
    except (MetadataError, UnknownPrincipal, KeyError, ValueError) as exc:
        logger.warning("SAML logout at %s/%s skipped: %r", pool.pk, provider.provider_name, exc)
        return None
    return dict(info["headers"])["Location"]


def finish_logout(pool: UserPool, query: QueryDict) -> str:
    """The IdP's LogoutResponse (to our LogoutRequest): where the browser goes next. Raises
    ErrorPage when it is not one we are waiting for."""
    token = query.get("RelayState") or ""
    entry = cache.get(_round_trip_key(token)) if token else None
    if not entry or entry.get("pool") != pool.pk or "logout" not in entry:
        raise ErrorPage("invalid_request", "This sign-out expired or was already completed.")
    provider = IdentityProvider.objects.filter(pool=pool, pk=entry["provider"]).first()
    if provider is None:
        raise ErrorPage("invalid_request", "There is no such SAML identity provider.")
    try:
        with _client(pool, details=provider.provider_details()) as client:
            if not _signed_by_idp(client, _idp_entity(client), query):
                raise ValueError("the LogoutResponse is not signed by the IdP")
            response = client.parse_logout_request_response(
                query.get("SAMLResponse") or "", BINDING_HTTP_REDIRECT
            )
    except Exception as exc:  # signature, destination, status: pysaml2's many types
        raise ErrorPage("invalid_request", "Invalid SAML logout response received.") from exc
    if response is None or response.in_response_to != entry["logout"]:
        raise ErrorPage("invalid_request", "Invalid SAML logout response received.")
    # Verified: now spend the round trip (once, even against a parallel request).
    if take_round_trip(pool=pool, token=token) is None:
        raise ErrorPage("invalid_request", "This sign-out expired or was already completed.")
    return entry["after"]


def idp_logout(pool: UserPool, query: QueryDict) -> tuple[str, str]:
    """An IdP-initiated LogoutRequest (HTTP-Redirect, signature checked): (provider name,
    where to send our LogoutResponse). Raises ErrorPage when it cannot be verified."""
    relay_state = query.get("RelayState")
    for provider in IdentityProvider.objects.filter(pool=pool, provider_type="SAML", enabled=True):
        details = provider.provider_details()
        if not _truthy(details.get("IDPSignout")):
            continue
        try:
            with _client(pool, details=details) as client:
                if not _signed_by_idp(client, _idp_entity(client), query):
                    continue
                request = client.parse_logout_request(
                    query.get("SAMLRequest") or "",
                    BINDING_HTTP_REDIRECT,
                    relay_state=relay_state,
                    sigalg=query.get("SigAlg"),
                    signature=query.get("Signature"),
                )
                if request is None or request.message.issuer.text != _idp_entity(client):
                    continue
                idp = _idp_entity(client)
                destination = client.metadata.single_logout_service(
                    idp, BINDING_HTTP_REDIRECT, "idpsso"
                )[0]["location"]
                answer = client.create_logout_response(
                    request.message, [BINDING_HTTP_REDIRECT], sign=False
                )
                info = client.apply_binding(
                    BINDING_HTTP_REDIRECT,
                    str(answer),
                    destination,
                    relay_state or "",
                    response=True,
                    sign=True,
                    sigalg=client.config.getattr("signing_algorithm", "sp"),
                )
        except Exception:  # noqa: S112 (not this provider's request, or not valid: try the next)
            continue
        return provider.provider_name, dict(info["headers"])["Location"]
    raise ErrorPage("invalid_request", "Invalid SAML logout request received.")
