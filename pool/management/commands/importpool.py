from __future__ import annotations

from django.core.management.base import CommandError

from pool.management.commands._common import CognateCommand, read_passphrase
from pool.services import pool_transfer


class Command(CognateCommand):
    help = (
        "Import a whole user pool from a cognate-pool JSON document made by exportpool, with "
        "the passphrase it was sealed with. The pool, its app clients and its users keep their "
        "ids; secrets are encrypted under this server's COGNATE_ENCRYPTION_KEYS. All or "
        "nothing: an existing pool id, client id, domain or sub refuses the import."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("file")
        parser.add_argument(
            "--passphrase-file",
            required=True,
            help="A file whose first line is the passphrase the export was made with.",
        )
        parser.add_argument(
            "--without-domains",
            action="store_true",
            help="Leave the pool's domains out (when the source keeps serving them).",
        )

    def run(self, **options):
        passphrase = read_passphrase(options["passphrase_file"])
        path = options["file"]
        try:
            with open(path, "rb") as source:
                text = source.read()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        document = pool_transfer.read_document(text)
        result = pool_transfer.import_pool(
            document=document,
            passphrase=passphrase,
            with_domains=not options["without_domains"],
        )
        return {"pool_id": result.pool_id, "counts": result.counts}

    def describe(self, result):
        counts = ", ".join(f"{n} {key}" for key, n in result["counts"].items())
        return [f"Imported pool {result['pool_id']}: {counts}."]
