from __future__ import annotations

from pool.management.commands._common import CognateCommand, split_list
from pool.services import pools


class Command(CognateCommand):
    help = "Create a user pool (and its first signing key)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("name")
        parser.add_argument(
            "--region", help="Pool id prefix (default: COGNATE_DEFAULT_REGION, else local)."
        )
        parser.add_argument(
            "--alias-attributes",
            nargs="*",
            default=[],
            help="email, phone_number, preferred_username (space- or comma-separated).",
        )
        parser.add_argument(
            "--username-attributes", nargs="*", default=[], help="email and/or phone_number."
        )
        parser.add_argument("--mfa", choices=["OFF", "OPTIONAL", "ON"], default="OPTIONAL")

    def run(self, **options):
        region = {"region": options["region"]} if options["region"] is not None else {}
        pool = pools.create_pool(
            name=options["name"],
            **region,
            alias_attributes=split_list(options["alias_attributes"]),
            username_attributes=split_list(options["username_attributes"]),
            mfa_configuration=options["mfa"],
        )
        return {
            "pool_id": pool.id,
            "name": pool.name,
            "alias_attributes": pool.alias_attributes,
            "username_attributes": pool.username_attributes,
            "mfa_configuration": pool.mfa_configuration,
        }
