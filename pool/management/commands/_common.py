"""Shared parts of Cognate's management commands: pool lookup, error mapping, --json output."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from pool.errors import CognitoError
from pool.models import UserPool
from pool.services.results import RequestContext

CLI = RequestContext(source="cli")


def split_list(values: list[str] | None) -> list[str]:
    """`--x a,b --x c` and `--x a b` both give [a, b, c]."""
    items: list[str] = []
    for value in values or []:
        items += [part.strip() for part in value.split(",") if part.strip()]
    return items


def get_pool(pool_id: str) -> UserPool:
    pool = UserPool.objects.filter(pk=pool_id).first()
    if pool is None:
        raise CommandError(f"No user pool with id {pool_id!r}.")
    return pool


class CognateCommand(BaseCommand):
    """A command whose result is a dict: printed as JSON with --json, as lines otherwise.
    Domain errors become CommandError with the service's message."""

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def run(self, **options) -> dict[str, Any]:  # each command defines it
        raise NotImplementedError(f"{type(self).__module__} must define run()")

    def describe(self, result: dict[str, Any]) -> list[str]:
        return [f"{key}: {value}" for key, value in result.items()]

    def handle(self, *args, **options):
        try:
            result = self.run(**options)
        except CognitoError as error:
            where = f" ({error.field})" if error.field else ""
            raise CommandError(f"{error.code}{where}: {error.message}") from None
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2, default=str))
        else:
            for line in self.describe(result):
                self.stdout.write(line)


def read_passphrase(path: str) -> str:
    """The first line of a passphrase file (so that a passphrase never sits in argv)."""
    try:
        with open(path, encoding="utf-8") as source:
            passphrase = source.readline().rstrip("\r\n")
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not UTF-8 text.") from None
    if not passphrase:
        raise CommandError(f"{path} holds no passphrase on its first line.")
    return passphrase
