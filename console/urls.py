"""The operator console's routes, under /console/."""

from django.urls import path, register_converter

from console.views import (
    access_keys,
    auth,
    branding,
    clients,
    groups,
    home,
    identity_providers,
    keys,
    messages,
    pools,
    transfer,
    triggers,
    users,
)

app_name = "console"


class ClientIdConverter:
    """App client ids are alphanumeric: anything else (a NUL byte, say) is a 404 at routing,
    before any database lookup."""

    regex = "[A-Za-z0-9]{1,128}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ClientIdConverter, "client_id")


class AccessKeyIdConverter(ClientIdConverter):
    """Access key ids are word characters (api.access_keys), checked at routing likewise."""

    regex = "[A-Za-z0-9_]{1,128}"


register_converter(AccessKeyIdConverter, "access_key_id")

pool = "pools/<str:pool_id>/"
user = pool + "users/<str:sub>/"
provider = pool + "providers/<int:provider_id>/"

urlpatterns = [
    path("login", auth.sign_in, name="login"),
    path("otp", auth.otp, name="otp"),
    path("logout", auth.sign_out, name="logout"),
    path("", home.index, name="index"),
    path("audit/", home.audit_log, name="audit"),
    path("outbox/", home.outbox, name="outbox"),
    path("access-keys/", access_keys.key_list, name="access_keys"),
    path("access-keys/new", access_keys.key_create, name="access_key_create"),
    path(
        "access-keys/<access_key_id:access_key_id>/deactivate",
        access_keys.key_deactivate,
        name="access_key_deactivate",
    ),
    path("pools/new", pools.create, name="pool_create"),
    path("pools/import", transfer.pool_import, name="pool_import"),
    path(pool, pools.detail, name="pool"),
    path(pool + "edit", pools.edit, name="pool_edit"),
    path(pool + "change", pools.change, name="pool_change"),
    path(pool + "delete", pools.delete, name="pool_delete"),
    path(pool + "attributes", pools.add_attribute, name="pool_add_attribute"),
    path(pool + "domains", pools.add_domain, name="pool_add_domain"),
    path(pool + "branding/", branding.edit, name="pool_branding"),
    path(pool + "domains/<str:domain>/delete", pools.delete_domain, name="pool_delete_domain"),
    # Users
    path(pool + "users/", users.user_list, name="users"),
    path(pool + "users/new", users.user_create, name="user_create"),
    path(pool + "transfer/", transfer.transfer, name="import"),
    path(pool + "transfer/export", transfer.export, name="export"),
    path(pool + "transfer/export-pool", transfer.pool_export, name="pool_export"),
    path(user, users.user_detail, name="user"),
    path(user + "password", users.user_set_password, name="user_set_password"),
    path(user + "mfa", users.user_mfa, name="user_mfa"),
    path(user + "groups/add", users.user_add_group, name="user_add_group"),
    path(user + "groups/<int:group_id>/remove", users.user_remove_group, name="user_remove_group"),
    path(user + "delete", users.user_delete, name="user_delete"),
    path(user + "identities/link", users.user_link_identity, name="user_link_identity"),
    path(
        user + "identities/<int:identity_id>/unlink",
        users.user_unlink_identity,
        name="user_unlink_identity",
    ),
    path(user + "do/<slug:action>", users.user_action, name="user_action"),
    # Groups
    path(pool + "groups/", groups.group_list, name="groups"),
    path(pool + "groups/<int:group_id>/", groups.group_detail, name="group"),
    path(pool + "groups/<int:group_id>/delete", groups.group_delete, name="group_delete"),
    # App clients and resource servers
    path(pool + "clients/", clients.client_list, name="clients"),
    path(pool + "clients/new", clients.client_create, name="client_create"),
    path(pool + "clients/<client_id:client_id>/", clients.client_detail, name="client"),
    path(
        pool + "clients/<client_id:client_id>/branding",
        branding.edit,
        name="client_branding",
    ),
    path(
        pool + "clients/<client_id:client_id>/rotate-secret",
        clients.client_rotate_secret,
        name="client_rotate_secret",
    ),
    path(
        pool + "clients/<client_id:client_id>/delete",
        clients.client_delete,
        name="client_delete",
    ),
    path(pool + "resource-servers/", clients.resource_servers, name="resource_servers"),
    path(
        pool + "resource-servers/<int:server_id>/",
        clients.resource_server_detail,
        name="resource_server",
    ),
    path(
        pool + "resource-servers/<int:server_id>/delete",
        clients.resource_server_delete,
        name="resource_server_delete",
    ),
    # Identity providers
    path(pool + "providers/", identity_providers.provider_list, name="providers"),
    path(
        pool + "providers/new/<str:provider_type>",
        identity_providers.provider_create,
        name="provider_create",
    ),
    path(provider, identity_providers.provider_detail, name="provider"),
    path(provider + "test", identity_providers.provider_test, name="provider_test"),
    path(
        provider + "enable",
        identity_providers.provider_set_enabled,
        {"enabled": True},
        name="provider_enable",
    ),
    path(
        provider + "disable",
        identity_providers.provider_set_enabled,
        {"enabled": False},
        name="provider_disable",
    ),
    path(provider + "delete", identity_providers.provider_delete, name="provider_delete"),
    # Keys and events
    path(pool + "messages/", messages.message_templates_page, name="message_templates"),
    path(pool + "triggers/", triggers.trigger_list, name="triggers"),
    path(pool + "triggers/set", triggers.trigger_set, name="trigger_set"),
    path(pool + "triggers/<slug:kind>/remove", triggers.trigger_remove, name="trigger_remove"),
    path(pool + "triggers/<slug:kind>/test", triggers.trigger_test, name="trigger_test"),
    path(pool + "keys/", keys.key_list, name="keys"),
    path(pool + "keys/rotate", keys.key_rotate, name="keys_rotate"),
    path(pool + "events/", keys.event_list, name="events"),
]
