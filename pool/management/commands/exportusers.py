from __future__ import annotations

from django.core.management.base import CommandError

from pool.management.commands._common import CognateCommand, get_pool
from pool.services import user_import


class Command(CognateCommand):
    help = (
        "Export a pool's users as CSV in Cognito's import format, with cognate: columns for "
        "sub, status, groups and MFA, a cognate:password_hash column (unless "
        "--no-password-hashes) and, with --with-totp-secrets, the authenticator seeds. Writes to "
        "FILE, or to standard output."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("pool_id")
        parser.add_argument("file", nargs="?")
        parser.add_argument("--no-password-hashes", action="store_true")
        parser.add_argument(
            "--with-totp-secrets",
            action="store_true",
            help="Include TOTP seeds (secrets: anyone with the file can generate the codes).",
        )

    def run(self, **options):
        pool = get_pool(options["pool_id"])
        secrets = {
            "with_password_hashes": not options["no_password_hashes"],
            "with_totp_secrets": options["with_totp_secrets"],
        }
        path = options["file"]
        if path is None:
            if options["json"]:
                raise CommandError("--json needs a FILE to write the CSV to.")
            count = user_import.export_csv(pool, self.stdout, **secrets)
            return {"pool_id": pool.id, "exported": count, "file": None}
        try:
            with open(path, "w", encoding="utf-8", newline="") as out:
                count = user_import.export_csv(pool, out, **secrets)
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error.strerror}.") from None
        return {"pool_id": pool.id, "exported": count, "file": path}

    def describe(self, result):
        if result["file"] is None:
            return []  # the CSV itself went to standard output
        return [f"Exported {result['exported']} user(s) to {result['file']}."]
