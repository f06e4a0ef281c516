from __future__ import annotations

import json
import os

from django.core.management.base import CommandError

from pool.management.commands._common import CognateCommand, get_pool, read_passphrase
from pool.services import pool_transfer


class Command(CognateCommand):
    help = (
        "Export a whole user pool (settings, schema, app clients, groups, identity providers, "
        "signing keys, users with password hashes, SRP verifiers and MFA) as a cognate-pool "
        "JSON document, its secrets sealed with the passphrase read from --passphrase-file. "
        "FILE is written with mode 0600."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("pool_id")
        parser.add_argument("file")
        parser.add_argument(
            "--passphrase-file",
            required=True,
            help="A file whose first line is the export passphrase (12 characters or more).",
        )
        parser.add_argument(
            "--without-signing-keys",
            action="store_true",
            help="Leave the signing keys out: the importing server makes a new one, and tokens "
            "issued before the move no longer verify there.",
        )

    def run(self, **options):
        pool = get_pool(options["pool_id"])
        passphrase = read_passphrase(options["passphrase_file"])
        document = pool_transfer.export_pool(
            pool=pool,
            passphrase=passphrase,
            with_signing_keys=not options["without_signing_keys"],
        )
        path = options["file"]
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(descriptor, 0o600)  # a file that was already there keeps its mode otherwise
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                json.dump(document, out, ensure_ascii=False, indent=1)
                out.write("\n")
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error.strerror}.") from None
        counts = {key: len(document[key]) for key in pool_transfer.COUNTED}
        return {"pool_id": pool.id, "file": path, "counts": counts}

    def describe(self, result):
        counts = ", ".join(f"{n} {key}" for key, n in result["counts"].items())
        return [f"Exported pool {result['pool_id']} to {result['file']}: {counts}."]
