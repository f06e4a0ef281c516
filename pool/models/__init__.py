"""The pool domain's data. Models hold data and invariants; flows live in `pool.services`."""

from pool.models.branding import Branding
from pool.models.cache import CacheEntry, Counter
from pool.models.client import AppClient, ResourceServer
from pool.models.codes import CodePurpose, VerificationCode
from pool.models.domains import UserPoolDomain
from pool.models.events import AuthEvent, OutboxMessage
from pool.models.federation import FederatedIdentity, IdentityProvider, ProviderType
from pool.models.keys import SigningKey
from pool.models.pool import CustomAttribute, UserPool
from pool.models.saml import SamlAssertionUse, SamlServiceProviderKey
from pool.models.tokens import AuthorizationCode, ChallengeSession, RefreshFamily, RefreshToken
from pool.models.triggers import SENDER_KINDS, Trigger, TriggerInvocation, TriggerKind
from pool.models.user import (
    Device,
    Group,
    RetiredAttributeValue,
    SignInName,
    TotpDevice,
    User,
    UserAttributeIndex,
    UserStatus,
)

__all__ = [
    "AppClient",
    "AuthEvent",
    "AuthorizationCode",
    "Branding",
    "CacheEntry",
    "Counter",
    "ChallengeSession",
    "CodePurpose",
    "CustomAttribute",
    "Device",
    "FederatedIdentity",
    "Group",
    "IdentityProvider",
    "OutboxMessage",
    "ProviderType",
    "RefreshFamily",
    "RefreshToken",
    "ResourceServer",
    "RetiredAttributeValue",
    "SamlAssertionUse",
    "SamlServiceProviderKey",
    "SignInName",
    "SigningKey",
    "TotpDevice",
    "SENDER_KINDS",
    "Trigger",
    "TriggerInvocation",
    "TriggerKind",
    "User",
    "UserAttributeIndex",
    "UserPool",
    "UserPoolDomain",
    "UserStatus",
    "VerificationCode",
]
