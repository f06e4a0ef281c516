"""Every JSON API action, registered in api/registry.py by importing its module here."""

from api.actions import auth, clients, pools, resource_servers, srp  # noqa: F401
