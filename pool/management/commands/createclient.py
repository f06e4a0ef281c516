from __future__ import annotations

from pool.management.commands._common import CognateCommand, get_pool, split_list
from pool.services import app_clients


class Command(CognateCommand):
    help = "Register an app client; with --secret, its secret is printed once."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("pool_id")
        parser.add_argument("name")
        parser.add_argument(
            "--callback-url", action="append", default=[], help="Repeat for several URLs."
        )
        parser.add_argument("--logout-url", action="append", default=[])
        parser.add_argument("--secret", action="store_true", help="Generate a client secret.")
        parser.add_argument("--flows", default="code", help="code,implicit,client_credentials")
        parser.add_argument("--scopes", default=None, help="openid,email,phone,profile,rs/scope")

    def run(self, **options):
        pool = get_pool(options["pool_id"])
        fields = {
            "callback_urls": options["callback_url"],
            "logout_urls": options["logout_url"],
            "allowed_oauth_flows": split_list([options["flows"]]),
        }
        if options["scopes"] is not None:
            fields["allowed_oauth_scopes"] = split_list([options["scopes"]])
        client, secret = app_clients.create_client(
            pool=pool, name=options["name"], generate_secret=options["secret"], **fields
        )
        return {
            "pool_id": pool.id,
            "client_id": client.client_id,
            "client_secret": secret or None,
            "name": client.name,
            "callback_urls": client.callback_urls,
            "logout_urls": client.logout_urls,
            "allowed_oauth_flows": client.allowed_oauth_flows,
            "allowed_oauth_scopes": client.allowed_oauth_scopes,
        }

    def describe(self, result):
        lines = super().describe(result)
        if result["client_secret"]:
            lines.append("The secret is shown only now; store it safely.")
        return lines
