from __future__ import annotations

from django.core.management.base import CommandError

from pool.management.commands._common import CognateCommand, get_pool
from pool.services import user_import


class Command(CognateCommand):
    help = (
        "Import users from a CSV file in Cognito's import format (GetCSVHeader columns, "
        "custom attributes, optional cognate:password_hash). Bad rows are reported; the "
        "others are imported."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("pool_id")
        parser.add_argument("file")

    def run(self, **options):
        pool = get_pool(options["pool_id"])
        try:
            with open(options["file"], encoding="utf-8", newline="") as source:
                result = user_import.import_csv(pool, source)
        except OSError as error:
            raise CommandError(f"Cannot read {options['file']}: {error.strerror}.") from None
        except UnicodeDecodeError:
            raise CommandError(f"{options['file']} is not UTF-8 text.") from None
        return {
            "pool_id": pool.id,
            "imported": result.imported,
            "failed": len(result.errors),
            "errors": [{"line": e.line, "reason": e.reason} for e in result.errors],
        }

    def describe(self, result):
        lines = [f"Imported {result['imported']} user(s); {result['failed']} row(s) failed."]
        lines += [f"  line {e['line']}: {e['reason']}" for e in result["errors"]]
        return lines
