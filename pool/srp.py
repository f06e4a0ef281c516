"""SRP-6a exactly as Cognito's clients compute it (see the reference's A1-A5): pure math, no
state.

Every password a service sets also stores (salt, v) through `verifier`, so that USER_SRP_AUTH
(pool.services.srp_auth) can serve the user later without ever seeing the password again; the
server's half of the exchange (B, u, S, the HKDF key, the claim signature, the TIMESTAMP format)
is below.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets

N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
)
N = int(N_HEX, 16)
G = 2


def pad_hex(value: int | str) -> str:
    """Java BigInteger.toByteArray-style hex: even length, `00` prefix when the top bit is set."""
    hex_value = value if isinstance(value, str) else format(value, "x")
    if len(hex_value) % 2:
        return "0" + hex_value
    if hex_value[0] in "89abcdefABCDEF":
        return "00" + hex_value
    return hex_value


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def private_key(pool_name: str, user_id: str, password: str, salt_hex: str) -> int:
    """x = H(padHex(salt) || H(P || I || ':' || password))."""
    inner = _sha256(f"{pool_name}{user_id}:{password}".encode())
    return int.from_bytes(_sha256(bytes.fromhex(pad_hex(salt_hex)) + inner), "big")


def new_salt() -> str:
    """16 random bytes as minimal hex (no redundant leading zero byte on the wire)."""
    return format(int.from_bytes(secrets.token_bytes(16), "big") or 1, "x")


def verifier(pool_name: str, user_id: str, password: str, salt_hex: str) -> int:
    """v = g^x mod N."""
    return pow(G, private_key(pool_name, user_id, password, salt_hex), N)


# ------------------------------------------------------------------------------ server side
# USER_SRP_AUTH's PASSWORD_VERIFIER step (reference A3-A5), used by pool.services.srp_auth.

# k = H(padHex(N) || padHex(g)).
K = int.from_bytes(_sha256(bytes.fromhex(pad_hex(N) + pad_hex(G))), "big")
_INFO = b"Caldera Derived Key\x01"
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Ddd Mmm D HH:mm:ss UTC YYYY: English names, the day not zero-padded (Java's EEE MMM d ...).
_TIMESTAMP = re.compile(
    rf"({'|'.join(_WEEKDAYS)}) ({'|'.join(_MONTHS)}) ([1-9]|[12][0-9]|3[01]) "
    r"([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]) UTC ([0-9]{4})"
)


def _padded_bytes(value: int) -> bytes:
    return bytes.fromhex(pad_hex(value))


def server_public(verifier_value: int, secret: int) -> int:
    """B = (k*v + g^b) mod N."""
    return (K * verifier_value + pow(G, secret, N)) % N


def scramble(client_public: int, server_public_value: int) -> int:
    """u = H(padHex(A) || padHex(B)); the exchange must stop when it is 0."""
    data = _padded_bytes(client_public) + _padded_bytes(server_public_value)
    return int.from_bytes(_sha256(data), "big")


def server_premaster(client_public: int, verifier_value: int, u: int, secret: int) -> int:
    """The server's S = (A * v^u)^b mod N (the client reaches the same S from the password)."""
    return pow(client_public * pow(verifier_value, u, N) % N, secret, N)


def session_key(premaster: int, u: int) -> bytes:
    """One block of RFC 5869 HKDF: PRK = HMAC(padHex(u), padHex(S)), K = HMAC(PRK, info|1)[:16]."""
    prk = hmac.new(_padded_bytes(u), _padded_bytes(premaster), hashlib.sha256).digest()
    return hmac.new(prk, _INFO, hashlib.sha256).digest()[:16]


def claim_signature(
    key: bytes, pool_name: str, user_id: str, secret_block: bytes, timestamp: str
) -> str:
    """PASSWORD_CLAIM_SIGNATURE: base64(HMAC(K, P || I || SECRET_BLOCK bytes || TIMESTAMP))."""
    message = pool_name.encode() + user_id.encode() + secret_block + timestamp.encode()
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def claim_is_valid(
    *,
    verifier_value: int,
    secret: int,
    client_public: int,
    pool_name: str,
    user_id: str,
    secret_block: bytes,
    timestamp: str,
    signature: str,
) -> bool:
    """The server's side of a PASSWORD_VERIFIER (or DEVICE_PASSWORD_VERIFIER) answer: the
    signature the holder of the password behind `verifier_value` would send, compared with the
    one sent in constant time. For devices, `pool_name` is the device group key and `user_id`
    the device key."""
    u = scramble(client_public, server_public(verifier_value, secret))
    key = session_key(server_premaster(client_public, verifier_value, u, secret), u)
    expected = claim_signature(key, pool_name, user_id, secret_block, timestamp)
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def format_timestamp(moment: dt.datetime) -> str:
    """Cognito's TIMESTAMP for `moment` (UTC), built by hand: strftime pads the day and
    follows the locale."""
    moment = moment.astimezone(dt.UTC)
    return (
        f"{_WEEKDAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day} "
        f"{moment:%H:%M:%S} UTC {moment.year}"
    )


def parse_timestamp(text: object) -> dt.datetime | None:
    """The UTC moment a TIMESTAMP names, or None unless it is exactly Cognito's format with a
    real date and the right weekday (Cognito refuses "Sep 05" and a wrong weekday)."""
    if not isinstance(text, str):
        return None
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    weekday, month, day, hour, minute, second, year = match.groups()
    try:
        moment = dt.datetime(
            int(year),
            _MONTHS.index(month) + 1,
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=dt.UTC,
        )
    except ValueError:
        return None
    return moment if _WEEKDAYS[moment.weekday()] == weekday else None
