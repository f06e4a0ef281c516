"""Admin actions on resource servers: Create/Describe/List/Update/DeleteResourceServer, over
pool/services/resource_servers.py. Scopes are `{ScopeName, ScopeDescription}` on the wire and
`{name, description}` in the service; as in Cognito, UpdateResourceServer without Scopes
leaves the server with none."""

from __future__ import annotations

from typing import Any

from api import wire
from api.registry import Auth, Call, action
from pool.models import ResourceServer
from pool.services import resource_servers

FIELD_NAMES = {"identifier": "Identifier", "name": "Name", "scopes": "Scopes"}


def _scopes(params: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"name": scope["ScopeName"], "description": scope["ScopeDescription"]}
        for scope in params.get("Scopes") or []
    ]


def describe(server: ResourceServer) -> dict[str, Any]:
    """The server as Cognito's ResourceServerType."""
    return {
        "UserPoolId": server.pool_id,
        "Identifier": server.identifier,
        "Name": server.name,
        "Scopes": [
            {"ScopeName": scope["name"], "ScopeDescription": scope["description"]}
            for scope in server.scopes
        ],
    }


@action("CreateResourceServer", auth=Auth.SIGV4)
def create_resource_server(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    with wire.in_api_terms(FIELD_NAMES):
        server = resource_servers.create_resource_server(
            pool=pool,
            identifier=call.params["Identifier"],
            name=call.params["Name"],
            scopes=_scopes(call.params),
        )
    return {"ResourceServer": describe(server)}


@action("DescribeResourceServer", auth=Auth.SIGV4)
def describe_resource_server(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    return {"ResourceServer": describe(wire.get_resource_server(pool, call.params["Identifier"]))}


@action("ListResourceServers", auth=Auth.SIGV4)
def list_resource_servers(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    rows, token = wire.page(
        ResourceServer.objects.filter(pool=pool),
        key="identifier",
        limit=call.params.get("MaxResults", 50),
        token=call.params.get("NextToken"),
        purpose=f"ListResourceServers.{pool.id}",
    )
    return wire.compact({"ResourceServers": [describe(s) for s in rows], "NextToken": token})


@action("UpdateResourceServer", auth=Auth.SIGV4)
def update_resource_server(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    server = wire.get_resource_server(pool, call.params["Identifier"])
    with wire.in_api_terms(FIELD_NAMES):
        server = resource_servers.update_resource_server(
            server=server, name=call.params["Name"], scopes=_scopes(call.params)
        )
    return {"ResourceServer": describe(server)}


@action("DeleteResourceServer", auth=Auth.SIGV4)
def delete_resource_server(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    resource_servers.delete_resource_server(
        server=wire.get_resource_server(pool, call.params["Identifier"])
    )
    return {}
