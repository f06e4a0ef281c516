"""The SRP-6a verifier exactly as Cognito's clients compute it (see the reference's A1-A3).

Only the verifier lives here now: every password a service sets also stores (salt, v) so the JSON
API's USER_SRP_AUTH can serve the user later without ever seeing the password again.
"""

from __future__ import annotations

import hashlib
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
