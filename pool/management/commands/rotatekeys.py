from __future__ import annotations

from pool.management.commands._common import CognateCommand, get_pool
from pool.services import keys


class Command(CognateCommand):
    help = "Make a new signing key for a pool; the old one stays in the JWKS until it expires."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("pool_id")

    def run(self, **options):
        pool = get_pool(options["pool_id"])
        key = keys.rotate(pool=pool)
        return {"pool_id": pool.id, "kid": key.kid}
