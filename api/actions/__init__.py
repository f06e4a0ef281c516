"""Every JSON API action, registered in api/registry.py by importing its module here."""

import api.actions.admin_users  # noqa: F401
import api.actions.groups  # noqa: F401
import api.actions.pool_mfa  # noqa: F401
from api.actions import auth, clients, pools, resource_servers  # noqa: F401
