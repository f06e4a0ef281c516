"""How a pool compares sign-in names: the one normalisation behind every sign-in key.

Usernames and aliases (email, phone number, preferred_username) are compared after Unicode
NFKC normalisation, so that `alicé` typed precomposed (NFC) or decomposed (NFD), and fullwidth
`ＡＬＩＣＥ`, name the same account instead of opening look-alike ones; then lower-cased unless
the pool is case-sensitive. Every write of a sign-in key and every lookup goes through
`sign_in_key` (`UserPool.normalize` is its per-pool form); migration 0004 recomputed the keys
stored before this rule.
"""

from __future__ import annotations

import unicodedata


def sign_in_key(value: str, *, case_sensitive: bool) -> str:
    """`value` as a pool compares names: NFKC, then the pool's case rule. Idempotent: lowering
    can produce characters NFKC would write otherwise, so it is applied again after."""
    key = unicodedata.normalize("NFKC", value)
    if not case_sensitive:
        key = unicodedata.normalize("NFKC", key.lower())
    return key
