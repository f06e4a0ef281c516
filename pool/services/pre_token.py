"""Cognito's pre-token-generation trigger: the event, and its answer applied to the claims.

`tokens._user_tokens` calls `apply` once per set of tokens it signs, so every door that issues
user tokens (hosted UI code exchange, the JSON API's sign-in and its challenges, refresh) fires
it alike, as TokenGeneration_<source>.

- V1_0 (the default): request `groupConfiguration`, `userAttributes`, `clientMetadata`;
  response `claimsOverrideDetails {claimsToAddOrOverride, claimsToSuppress,
  groupOverrideDetails}` applied to the ID token (claim values must be strings), the group
  override to both tokens.
- V2_0: the request adds `scopes`; response `claimsAndScopeOverrideDetails
  {idTokenGeneration, accessTokenGeneration {..., scopesToAdd, scopesToSuppress},
  groupOverrideDetails}`, values of any JSON type.
- V3_0: V2_0's event (`version` "3"), also fired for client-credentials (M2M) access tokens as
  TokenGeneration_ClientCredentials (`apply_client_credentials`): no user, so `userName` is
  the client id, `userAttributes` is empty and there is no groupConfiguration; only
  accessTokenGeneration applies. V1_0 and V2_0 triggers are not called for M2M tokens.

Suppression wins over an override. Claims Cognito does not let a trigger change (PROTECTED, and
for the access token ACCESS_PROTECTED) are ignored, as is adding the self-service API scope
(aws.cognito.signin.user.admin): a trigger cannot grant a token more than its sign-in gave.
"""

from __future__ import annotations

from typing import Any

from pool import triggers
from pool.errors import InvalidLambdaResponseException
from pool.models import AppClient, Trigger, TriggerKind, User

HOSTED_AUTH = "HostedAuth"
AUTHENTICATION = "Authentication"
NEW_PASSWORD_CHALLENGE = "NewPasswordChallenge"
AUTHENTICATE_DEVICE = "AuthenticateDevice"
REFRESH_TOKENS = "RefreshTokens"
CLIENT_CREDENTIALS = "ClientCredentials"
# The event `version` of each LambdaVersion that has the V2 shape.
EVENT_VERSION = {Trigger.Version.V2_0: "2", Trigger.Version.V3_0: "3"}

PROTECTED = frozenset(
    {
        "acr",
        "amr",
        "aud",
        "at_hash",
        "auth_time",
        "azp",
        "cognito:username",
        "exp",
        "iat",
        "identities",
        "iss",
        "jti",
        "nbf",
        "nonce",
        "origin_jti",
        "sub",
        "token_use",
        # Groups and roles change through groupOverrideDetails only.
        "cognito:groups",
        "cognito:roles",
        "cognito:preferred_role",
    }
)
ACCESS_PROTECTED = PROTECTED | {
    "client_id",
    "scope",
    "username",
    "version",
    "event_id",
    "device_key",
}
ADMIN_SCOPE = "aws.cognito.signin.user.admin"


def _invalid() -> InvalidLambdaResponseException:
    return InvalidLambdaResponseException(triggers.UNRECOGNIZABLE)


def _object(value: Any) -> dict[str, Any]:
    """An optional JSON object of the answer ({} when absent or null)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _invalid()
    return value


def _names(value: Any) -> list[str]:
    """An optional list of strings of the answer."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _invalid()
    return value


def _apply_claims(
    claims: dict[str, Any], details: dict[str, Any], *, protected: frozenset, strings: bool
) -> None:
    add = _object(details.get("claimsToAddOrOverride"))
    suppress = set(_names(details.get("claimsToSuppress")))
    if strings and not all(isinstance(value, str) for value in add.values()):
        raise _invalid()
    for name, value in add.items():
        if name not in protected and name not in suppress:
            claims[name] = value
    for name in suppress - protected:
        claims.pop(name, None)


def _apply_groups(
    details: dict[str, Any], access_claims: dict[str, Any], id_claims: dict[str, Any] | None
) -> None:
    """groupOverrideDetails: groupsToOverride replaces cognito:groups in both tokens (empty or
    null removes it); iamRolesToOverride and preferredRole set the ID token's role claims."""
    if details.get("groupOverrideDetails") is None:
        return
    override = _object(details["groupOverrideDetails"])
    groups = _names(override.get("groupsToOverride"))
    roles = _names(override.get("iamRolesToOverride"))
    preferred = override.get("preferredRole")
    if preferred is not None and not isinstance(preferred, str):
        raise _invalid()
    for claims in (access_claims, id_claims):
        if claims is None:
            continue
        if groups:
            claims["cognito:groups"] = list(groups)
        else:
            claims.pop("cognito:groups", None)
    if id_claims is not None:
        if roles:
            id_claims["cognito:roles"] = list(roles)
        else:
            id_claims.pop("cognito:roles", None)
        if preferred:
            id_claims["cognito:preferred_role"] = preferred
        else:
            id_claims.pop("cognito:preferred_role", None)


def _apply_scopes(access_claims: dict[str, Any], generation: dict[str, Any]) -> None:
    scopes = access_claims["scope"].split()
    suppress = set(_names(generation.get("scopesToSuppress")))
    add = _names(generation.get("scopesToAdd"))
    if any(not scope or " " in scope for scope in add):
        raise _invalid()
    for scope in add:
        if scope != ADMIN_SCOPE and scope not in scopes:
            scopes.append(scope)
    access_claims["scope"] = " ".join(scope for scope in scopes if scope not in suppress)


def group_configuration(groups: list) -> dict[str, Any]:
    """The request's groupConfiguration: the user's groups in precedence order, their roles and
    the preferred one (as the ID token's claims name them)."""
    ordered = sorted(groups, key=lambda g: (g.precedence is None, g.precedence or 0, g.name))
    roles = list(dict.fromkeys(group.role_arn for group in ordered if group.role_arn))
    with_roles = [group for group in ordered if group.role_arn]
    return {
        "groupsToOverride": [group.name for group in ordered],
        "iamRolesToOverride": roles,
        "preferredRole": with_roles[0].role_arn if with_roles else None,
    }


def apply(
    *,
    user: User,
    client: AppClient,
    source: str,
    groups: list,
    access_claims: dict[str, Any],
    id_claims: dict[str, Any] | None,
    client_metadata: dict[str, str] | None = None,
) -> None:
    """Fire TokenGeneration_<source> when the pool has the trigger and change the claims (in
    place) as its answer says."""
    trigger = triggers.configured(client.pool, TriggerKind.PRE_TOKEN_GENERATION)
    if trigger is None:
        return
    v2 = trigger.version in EVENT_VERSION
    request = triggers.request_for(
        user, client_metadata=client_metadata, groupConfiguration=group_configuration(groups)
    )
    if v2:
        request["scopes"] = access_claims["scope"].split()
    response_key = "claimsAndScopeOverrideDetails" if v2 else "claimsOverrideDetails"
    payload = triggers.event(
        client.pool,
        trigger_source=f"TokenGeneration_{source}",
        user_name=user.username,
        client=client,
        request=request,
        response={response_key: None},
    )
    if v2:
        payload["version"] = EVENT_VERSION[trigger.version]
    details = _object(triggers.run(trigger, payload).get(response_key))
    if not v2:
        if id_claims is not None:
            _apply_claims(id_claims, details, protected=PROTECTED, strings=True)
        _apply_groups(details, access_claims, id_claims)
        return
    if id_claims is not None:
        _apply_claims(
            id_claims, _object(details.get("idTokenGeneration")), protected=PROTECTED, strings=False
        )
    access_generation = _object(details.get("accessTokenGeneration"))
    _apply_claims(access_claims, access_generation, protected=ACCESS_PROTECTED, strings=False)
    _apply_scopes(access_claims, access_generation)
    _apply_groups(details, access_claims, id_claims)


def apply_client_credentials(
    *,
    client: AppClient,
    access_claims: dict[str, Any],
    client_metadata: dict[str, str] | None = None,
) -> None:
    """Fire TokenGeneration_ClientCredentials when the pool's pre-token trigger is V3_0 and
    change the M2M access token's claims and scopes (in place) as its answer says."""
    trigger = triggers.configured(client.pool, TriggerKind.PRE_TOKEN_GENERATION)
    if trigger is None or trigger.version != Trigger.Version.V3_0:
        return
    request: dict[str, Any] = {"userAttributes": {}, "scopes": access_claims["scope"].split()}
    if client_metadata:
        request["clientMetadata"] = dict(client_metadata)
    payload = triggers.event(
        client.pool,
        trigger_source=f"TokenGeneration_{CLIENT_CREDENTIALS}",
        user_name=client.client_id,
        client=client,
        request=request,
        response={"claimsAndScopeOverrideDetails": None},
    )
    payload["version"] = EVENT_VERSION[trigger.version]
    details = _object(triggers.run(trigger, payload).get("claimsAndScopeOverrideDetails"))
    access_generation = _object(details.get("accessTokenGeneration"))
    _apply_claims(access_claims, access_generation, protected=ACCESS_PROTECTED, strings=False)
    _apply_scopes(access_claims, access_generation)
