from __future__ import annotations

from django.core.management.base import CommandError
from django.db import transaction

from pool.management.commands._common import CLI, CognateCommand, get_pool
from pool.services import admin, passwords


def _attributes(pairs: list[str]) -> dict[str, str]:
    attributes = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise CommandError(f"--attr takes name=value, got {pair!r}.")
        attributes[name.strip()] = value
    return attributes


class Command(CognateCommand):
    help = (
        "Create a pool user with a password (no invitation is sent). The password is permanent "
        "unless --temporary (then the user must change it at first sign-in)."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("pool_id")
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument(
            "--attr", action="append", default=[], help="name=value; repeat for several."
        )
        parser.add_argument(
            "--confirmed",
            action="store_true",
            help="Mark the given email and phone number as verified.",
        )
        parser.add_argument("--temporary", action="store_true")

    def run(self, **options):
        pool = get_pool(options["pool_id"])
        attributes = _attributes(options["attr"])
        if options["confirmed"]:
            for source in ("email", "phone_number"):
                if attributes.get(source):
                    attributes[f"{source}_verified"] = "true"
        with transaction.atomic():
            user, _ = admin.admin_create_user(
                pool=pool,
                username=options["username"],
                attributes=attributes,
                temporary_password=options["password"],
                message_action="SUPPRESS",
                context=CLI,
            )
            if not options["temporary"]:
                passwords.admin_set_password(
                    user=user, password=options["password"], permanent=True
                )
        user.refresh_from_db()
        return {
            "pool_id": pool.id,
            "username": user.username,
            "sub": str(user.sub),
            "status": user.status,
            "attributes": user.attribute_map(),
        }
