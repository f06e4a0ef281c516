"""Every JSON API action, registered in api/registry.py by importing its module here."""

from api.actions import (  # noqa: F401
    account,
    admin_users,
    auth,
    branding,
    clients,
    devices,
    domains,
    groups,
    identity_providers,
    pool_mfa,
    pools,
    resource_servers,
    srp,
)
