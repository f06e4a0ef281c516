"""Admin actions on user pool domains: Create/Describe/Update/DeleteUserPoolDomain, over
pool/services/domains.py. A request with CustomDomainConfig asks for a custom domain, one
without for a prefix, as in Cognito.

Cognate serves no CDN and hosts no assets bucket, so some members of Cognito's answers are
placeholders, each with a fixed meaning:
- `CloudFrontDistribution` (and CreateUserPoolDomain's `CloudFrontDomain`): where Cognito tells
  you to point the custom domain's DNS alias. Here it is the host name of PUBLIC_URL, which is
  where such an alias must point for Cognate to receive the requests.
- `Status`: always ACTIVE. Cognito is CREATING for up to an hour while it provisions; Cognate
  has nothing to provision, so the record is complete when the call returns.
- `Version`: the time of the domain's last change, as Cognito's 14-digit timestamp.
- `AWSAccountId`: the placeholder account of every ARN here (api.wire.ACCOUNT_ID).
- `S3Bucket`: left out; there is no bucket.
The pool's hosted pages and OAuth endpoints are served at its domains by Host header
(hostedui.hosts) from the moment the domain is created, and refused once it is deleted.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from django.conf import settings

from api import wire
from api.registry import Auth, Call, action
from pool.models import UserPoolDomain
from pool.selectors import domains as domain_selectors
from pool.services import domains

# The service's field names in the API's terms. `domain` stays as it is: the service's messages
# say "domain" in Cognito's own wording ("User pool already has a domain configured.").
FIELD_NAMES = {
    "certificate_arn": "CustomDomainConfig.CertificateArn",
    "managed_login_version": "ManagedLoginVersion",
}
STATUS = "ACTIVE"


def dns_target() -> str:
    """The host a custom domain's DNS alias points at: this server's own (PUBLIC_URL)."""
    return urlparse(settings.PUBLIC_URL).hostname or "localhost"


def _certificate_arn(params: dict[str, Any]) -> str | None:
    """CustomDomainConfig's certificate, or None when the request has no CustomDomainConfig.
    SecurityPolicy and Routing are about TLS and failover at Cognito's edge, which Cognate does
    not run: accepted only when empty."""
    wire.refuse_unsupported(params, ("Routing",))
    config = params.get("CustomDomainConfig")
    if config is None:
        return None
    wire.refuse_unsupported(config, ("SecurityPolicy",), "CustomDomainConfig.")
    return config["CertificateArn"]


def _changed(row: UserPoolDomain) -> dict[str, Any]:
    """Create/UpdateUserPoolDomain's answer: the DNS target for custom domains only."""
    custom = row.kind == UserPoolDomain.Kind.CUSTOM
    return wire.compact(
        {
            "CloudFrontDomain": dns_target() if custom else None,
            "ManagedLoginVersion": row.managed_login_version,
        }
    )


def describe(row: UserPoolDomain) -> dict[str, Any]:
    """The domain as Cognito's DomainDescriptionType (placeholders: see the module docstring)."""
    custom = row.kind == UserPoolDomain.Kind.CUSTOM
    return wire.compact(
        {
            "UserPoolId": row.pool_id,
            "AWSAccountId": wire.ACCOUNT_ID,
            "Domain": row.domain,
            "CloudFrontDistribution": dns_target(),
            "Version": row.updated_at.strftime("%Y%m%d%H%M%S"),
            "Status": STATUS,
            "CustomDomainConfig": {"CertificateArn": row.certificate_arn} if custom else None,
            "ManagedLoginVersion": row.managed_login_version,
        }
    )


@action("CreateUserPoolDomain", auth=Auth.SIGV4)
def create_user_pool_domain(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    with wire.in_api_terms(FIELD_NAMES):
        row = domains.create_domain(
            pool=pool,
            domain=call.params["Domain"],
            certificate_arn=_certificate_arn(call.params),
            managed_login_version=call.params.get("ManagedLoginVersion"),
        )
    return _changed(row)


@action("DescribeUserPoolDomain", auth=Auth.SIGV4)
def describe_user_pool_domain(call: Call) -> dict[str, Any]:
    """As Cognito: an unknown domain is an empty DomainDescription, not an error (Terraform
    and CloudFormation read it so to learn that a domain is free or gone)."""
    row = domain_selectors.find(call.params["Domain"])
    return {"DomainDescription": describe(row) if row else {}}


@action("UpdateUserPoolDomain", auth=Auth.SIGV4)
def update_user_pool_domain(call: Call) -> dict[str, Any]:
    with wire.in_api_terms(FIELD_NAMES):
        row = domains.update_domain(
            pool_id=call.params["UserPoolId"],
            domain=call.params["Domain"],
            certificate_arn=_certificate_arn(call.params),
            managed_login_version=call.params.get("ManagedLoginVersion"),
        )
    return _changed(row)


@action("DeleteUserPoolDomain", auth=Auth.SIGV4)
def delete_user_pool_domain(call: Call) -> dict[str, Any]:
    with wire.in_api_terms(FIELD_NAMES):
        domains.delete_domain(pool_id=call.params["UserPoolId"], domain=call.params["Domain"])
    return {}
