"""messagetemplates POOL_ID LANGUAGE [--set FIELD=TEXT ...] [--clear FIELD ...]: show or change a
pool's message templates in one language (pool/services/message_templates.py)."""

from __future__ import annotations

from django.core.management.base import CommandError

from pool.management.commands._common import CognateCommand, get_pool
from pool.services import message_templates


class Command(CognateCommand):
    help = (
        "Show a pool's message templates in LANGUAGE (de, es, fr, ja, pt-br, en), or set them: "
        "--set verification_email_message='Ihr Code: {####}' (repeatable), --clear FIELD goes "
        "back to the pool's own template, translated while it is Cognito's default. Fields: "
        + ", ".join(message_templates.FIELDS)
        + "."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("pool_id")
        parser.add_argument("language")
        parser.add_argument("--set", action="append", default=[], metavar="FIELD=TEXT")
        parser.add_argument("--clear", action="append", default=[], metavar="FIELD")

    def run(self, **options):
        pool = get_pool(options["pool_id"])
        changes: dict[str, str | None] = {field: None for field in options["clear"]}
        for item in options["set"]:
            field, sep, text = item.partition("=")
            if not sep:
                raise CommandError(f"--set takes FIELD=TEXT, not {item!r}.")
            changes[field.strip()] = text
        templates = message_templates.set_templates(
            pool=pool, language=options["language"], templates=changes
        )
        return {"pool_id": pool.id, "language": options["language"], "templates": dict(templates)}

    def describe(self, result):
        lines = [f"{result['pool_id']} templates in {result['language']}:"]
        lines += [f"  {field}: {text}" for field, text in result["templates"].items()]
        if not result["templates"]:
            lines.append("  (none: the pool's own templates, translated while they are defaults)")
        return lines
