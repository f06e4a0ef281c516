"""changepool POOL_ID: change what Cognito fixes at creation (pool/services/pool_changes.py).

    changepool eu-west-1_abc --add-alias email --case-insensitive --dry-run
    changepool eu-west-1_abc --require given_name
    changepool eu-west-1_abc --remove-attribute custom:tier --keep-values
    changepool eu-west-1_abc --rename-attribute custom:a=custom:b --name "New name" --json

--dry-run prints the report (what would break, per user) and changes nothing. Without it the
change is planned again and applied in one transaction; blocking problems (sign-in name
collisions) refuse it with the report and exit status 1.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from pool.errors import CognitoError
from pool.management.commands._common import CognateCommand, get_pool, split_list
from pool.services import pool_changes
from pool.services.pool_changes import DROP, KEEP, PoolChange


class Command(CognateCommand):
    help = "Change a pool's sign-in names, case rule, required or custom attributes, or name."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("pool_id")
        parser.add_argument("--name", help="The pool's new name.")
        parser.add_argument("--add-alias", action="append", metavar="ATTR")
        parser.add_argument("--remove-alias", action="append", metavar="ATTR")
        parser.add_argument(
            "--username-attributes",
            metavar="ATTRS",
            help="Sign in by these attributes (email, phone_number) instead of aliases; "
            "'none' for plain usernames.",
        )
        case = parser.add_mutually_exclusive_group()
        case.add_argument("--case-insensitive", action="store_true")
        case.add_argument("--case-sensitive", action="store_true")
        parser.add_argument("--require", action="append", metavar="ATTR")
        parser.add_argument("--unrequire", action="append", metavar="ATTR")
        parser.add_argument("--remove-attribute", action="append", metavar="custom:NAME")
        values = parser.add_mutually_exclusive_group()
        values.add_argument(
            "--keep-values", action="store_true", help="Keep removed values hidden."
        )
        values.add_argument("--drop-values", action="store_true", help="Delete removed values.")
        parser.add_argument("--rename-attribute", action="append", metavar="custom:OLD=custom:NEW")
        parser.add_argument("--dry-run", action="store_true", help="Report; change nothing.")

    def _change(self, pool, options) -> PoolChange:
        values: dict[str, Any] = {"name": options["name"]}
        added, removed = split_list(options["add_alias"]), split_list(options["remove_alias"])
        if added or removed:
            current = list(pool.alias_attributes or [])
            values["alias_attributes"] = [a for a in current if a not in removed] + [
                a for a in added if a not in current
            ]
        if options["username_attributes"] is not None:
            given = options["username_attributes"]
            values["username_attributes"] = [] if given == "none" else split_list([given])
        if options["case_insensitive"] or options["case_sensitive"]:
            values["case_sensitive"] = bool(options["case_sensitive"])
        required, unrequired = split_list(options["require"]), split_list(options["unrequire"])
        if required or unrequired:
            current = list(pool.required_attributes or [])
            values["required_attributes"] = [a for a in current if a not in unrequired] + [
                a for a in required if a not in current
            ]
        removes = split_list(options["remove_attribute"])
        if removes and not (options["keep_values"] or options["drop_values"]):
            raise CommandError("Say --keep-values or --drop-values for --remove-attribute.")
        mode = KEEP if options["keep_values"] else DROP
        values["remove_attributes"] = {name: mode for name in removes}
        renames = {}
        for item in split_list(options["rename_attribute"]):
            old, sep, new = item.partition("=")
            if not sep or not old or not new:
                raise CommandError(f"--rename-attribute takes OLD=NEW, not {item!r}.")
            renames[old] = new
        values["rename_attributes"] = renames
        return PoolChange.of(**values)

    def run(self, **options) -> dict[str, Any]:
        pool = get_pool(options["pool_id"])
        change = self._change(pool, options)
        if options["dry_run"]:
            return pool_changes.plan(pool=pool, change=change).as_dict()
        try:
            return pool_changes.apply(pool=pool, change=change).as_dict()
        except CognitoError as refused:
            report = getattr(refused, "report", None)
            if report is not None:
                for line in self.describe(report.as_dict()):
                    self.stderr.write(line)
            raise

    def describe(self, result: dict[str, Any]) -> list[str]:
        verb = "Applied" if result["applied"] else "Would change"
        lines = [f"{verb} pool {result['pool_id']} ({result['users']} users):"]
        for change in result["changes"]:
            lines.append(f"  {change['setting']}: {change['before']!r} -> {change['after']!r}")
        if not result["changes"]:
            lines.append("  nothing")
        for problem in result["problems"]:
            flag = "BLOCKING " if problem["blocking"] else ""
            other = f" (with {problem['other']})" if problem["other"] else ""
            value = f" {problem['value']!r}" if problem["value"] else ""
            lines.append(
                f"  {flag}{problem['kind']}: {problem['username']} {problem['attribute']}"
                f"{value}{other}"
            )
        return lines
