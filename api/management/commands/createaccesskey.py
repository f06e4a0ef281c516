from __future__ import annotations

from api.access_keys import create_access_key
from pool.management.commands._common import CognateCommand


class Command(CognateCommand):
    help = (
        "Create an access key for the JSON API's SigV4-signed admin actions, or import an "
        "existing pair with --access-key-id and --secret-access-key. The secret is printed once."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--access-key-id", help="Import this key id (with its secret).")
        parser.add_argument("--secret-access-key", help="The imported key's secret.")
        parser.add_argument("--description", default="", help="What the key is for.")

    def run(self, **options):
        issued = create_access_key(
            access_key_id=options["access_key_id"],
            secret_access_key=options["secret_access_key"],
            description=options["description"],
        )
        return {
            "access_key_id": issued.access_key_id,
            "secret_access_key": issued.secret_access_key,
        }
