"""Argon2id with the parameters from settings (OWASP: m=19 MiB, t=2, p=1 by default).

Django's own Argon2 hasher has fixed class attributes; this subclass reads them from settings so an
operator can raise the cost, and Django's `must_update` then rehashes on the next sign-in.
"""

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class CognateArgon2Hasher(Argon2PasswordHasher):
    algorithm = "argon2"

    @property
    def memory_cost(self) -> int:  # KiB
        return settings.ARGON2_MEMORY_KIB

    @property
    def time_cost(self) -> int:
        return settings.ARGON2_TIME_COST

    @property
    def parallelism(self) -> int:
        return settings.ARGON2_PARALLELISM
