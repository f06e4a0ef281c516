"""Identity providers and linked identities: Create/Describe/Update/Delete/ListIdentityProviders,
GetIdentityProviderByIdentifier, AdminLinkProviderForUser and AdminDisableProviderForUser, over
pool/services/identity_providers.py and pool/services/federation.py.

DescribeIdentityProvider (and the answers of Create/Update/GetByIdentifier) return the whole
ProviderDetails, `client_secret` and `private_key` included, decrypted, as Cognito does: they
answer SigV4-signed admin calls only, and infrastructure tools read them back to compare. They
are never logged (the door logs no request or answer bodies)."""

from __future__ import annotations

from typing import Any

from api import wire
from api.registry import Auth, Call, action
from pool.errors import ResourceNotFoundException
from pool.models import IdentityProvider
from pool.selectors import identity_providers as provider_selectors
from pool.services import federation
from pool.services import identity_providers as idps

FIELD_NAMES = {
    "provider_name": "ProviderName",
    "provider_type": "ProviderType",
    "details": "ProviderDetails",
    "attribute_mapping": "AttributeMapping",
    "idp_identifiers": "IdpIdentifiers",
    "authorize_scopes": "authorize_scopes",
}
DEFAULT_PAGE = 60


def describe(provider: IdentityProvider) -> dict[str, Any]:
    """The provider as Cognito's IdentityProviderType."""
    return {
        "UserPoolId": provider.pool_id,
        "ProviderName": provider.provider_name,
        "ProviderType": provider.provider_type,
        "ProviderDetails": provider.provider_details(),
        "AttributeMapping": dict(provider.attribute_mapping),
        "IdpIdentifiers": list(provider.idp_identifiers),
        "LastModifiedDate": wire.epoch(provider.updated_at),
        "CreationDate": wire.epoch(provider.created_at),
    }


def summary(provider: IdentityProvider) -> dict[str, Any]:
    """Cognito's ProviderDescription."""
    return {
        "ProviderName": provider.provider_name,
        "ProviderType": provider.provider_type,
        "LastModifiedDate": wire.epoch(provider.updated_at),
        "CreationDate": wire.epoch(provider.created_at),
    }


@action("CreateIdentityProvider", auth=Auth.SIGV4)
def create_identity_provider(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    wire.refuse_unsupported(call.params, ("AcrMapping",))
    with wire.in_api_terms(FIELD_NAMES):
        provider = idps.create_identity_provider(
            pool=pool,
            provider_name=call.params["ProviderName"],
            provider_type=call.params["ProviderType"],
            details=call.params["ProviderDetails"],
            attribute_mapping=call.params.get("AttributeMapping"),
            idp_identifiers=call.params.get("IdpIdentifiers"),
        )
    return {"IdentityProvider": describe(provider)}


@action("DescribeIdentityProvider", auth=Auth.SIGV4)
def describe_identity_provider(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    return {"IdentityProvider": describe(provider_selectors.get(pool, call.params["ProviderName"]))}


@action("UpdateIdentityProvider", auth=Auth.SIGV4)
def update_identity_provider(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    wire.refuse_unsupported(call.params, ("AcrMapping",))
    provider = provider_selectors.get(pool, call.params["ProviderName"])
    with wire.in_api_terms(FIELD_NAMES):
        provider = idps.update_identity_provider(
            provider=provider,
            details=call.params.get("ProviderDetails"),
            attribute_mapping=call.params.get("AttributeMapping"),
            idp_identifiers=call.params.get("IdpIdentifiers"),
        )
    return {"IdentityProvider": describe(provider)}


@action("DeleteIdentityProvider", auth=Auth.SIGV4)
def delete_identity_provider(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    idps.delete_identity_provider(
        provider=provider_selectors.get(pool, call.params["ProviderName"])
    )
    return {}


@action("ListIdentityProviders", auth=Auth.SIGV4)
def list_identity_providers(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    rows, token = wire.page(
        IdentityProvider.objects.filter(pool=pool),
        key="provider_name",
        limit=call.params.get("MaxResults") or DEFAULT_PAGE,
        token=call.params.get("NextToken"),
        purpose=f"ListIdentityProviders.{pool.id}",
    )
    return wire.compact({"Providers": [summary(p) for p in rows], "NextToken": token})


@action("GetIdentityProviderByIdentifier", auth=Auth.SIGV4)
def get_identity_provider_by_identifier(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    provider = provider_selectors.by_identifier(pool, call.params["IdpIdentifier"], domains=False)
    if provider is None:
        raise ResourceNotFoundException(
            f"Identity provider with identifier {call.params['IdpIdentifier']} does not exist."
        )
    return {"IdentityProvider": describe(provider)}


def _identifier(params: dict[str, Any], member: str) -> tuple[Any, Any, Any]:
    named = params[member]
    return (
        named.get("ProviderName"),
        named.get("ProviderAttributeName"),
        named.get("ProviderAttributeValue"),
    )


@action("AdminLinkProviderForUser", auth=Auth.SIGV4)
def admin_link_provider_for_user(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    dest_provider, _, dest_value = _identifier(call.params, "DestinationUser")
    source_provider, source_attribute, source_value = _identifier(call.params, "SourceUser")
    federation.link(
        pool=pool,
        destination_provider=dest_provider,
        destination_value=dest_value,
        source_provider=source_provider,
        source_attribute=source_attribute,
        source_value=source_value,
    )
    return {}


@action("AdminDisableProviderForUser", auth=Auth.SIGV4)
def admin_disable_provider_for_user(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    provider_name, attribute_name, value = _identifier(call.params, "User")
    federation.disable_provider_for_user(
        pool=pool, provider_name=provider_name, attribute_name=attribute_name, value=value
    )
    return {}
