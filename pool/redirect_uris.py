"""Which redirect URIs an app client may register, and which requested URI matches them.

Registration (pool/services/app_clients.py `validate_url`) and the authorization endpoint
(hostedui/oauth/authorize.py) both read the rules here, so the two never disagree.

- https to any host; http only to a loopback host (localhost, 127.0.0.1, [::1]), as Cognito.
- Native apps (RFC 8252): a private-use scheme (`myapp://callback`, `com.example.app:/cb`), as
  Cognito accepts; never a scheme a browser runs or reads locally (`javascript:`, `data:`,
  `file:`, ...), never a fragment, credentials, spaces or control characters.
- A requested URI matches a registered one exactly, as strings (no normalisation of case, port,
  path or query), with one exception, RFC 8252 §7.3: a registered `http://127.0.0.1/...` or
  `http://[::1]/...` matches the same URI on any port, because a native app listens on whatever
  port the system gives it. Only those two IP literals: `localhost` keeps its exact port, as
  RFC 8252 §8.3 advises against `localhost` (it may resolve elsewhere, and another program may
  hold the port on the other address family).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")

# Schemes that are not an app's: a browser would run them, read local data or leave the app
# flow. A private-use scheme is anything else of RFC 3986's form.
REFUSED_SCHEMES = frozenset(
    {
        "about",
        "blob",
        "data",
        "file",
        "filesystem",
        "ftp",
        "intent",
        "javascript",
        "jar",
        "mailto",
        "sms",
        "tel",
        "vbscript",
        "view-source",
        "ws",
        "wss",
    }
)
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")

# `http://127.0.0.1` or `http://[::1]`, an optional port (no leading zero), then the rest: the
# rest must begin with a path or query (so `@`, `.evil.example` or `:` cannot follow the host).
_LOOPBACK_IP = re.compile(
    r"^http://(?P<host>127\.0\.0\.1|\[::1\])(?::(?P<port>[1-9][0-9]{0,4}))?(?P<rest>[/?].*|)$",
    re.DOTALL,
)


def has_unsafe_characters(url: str) -> bool:
    """Spaces and control characters: urlsplit drops some of them silently (tab, newline), so a
    URL containing them would not mean what it shows."""
    return any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url)


def scheme_of(url: str) -> str | None:
    """The URL's scheme, lower-cased, or None when it has none."""
    found = SCHEME.match(url)
    return found.group(1).lower() if found else None


def _loopback_parts(url: str) -> tuple[str, str] | None:
    """(host, rest) of an http URI on a loopback IP literal with a valid port, else None."""
    found = _LOOPBACK_IP.match(url)
    if found is None:
        return None
    port = found.group("port")
    if port is not None and int(port) > 65535:
        return None
    return found.group("host"), found.group("rest")


def matches(registered: Iterable[str], requested: str) -> bool:
    """True when `requested` equals one of the `registered` URIs, or differs from a registered
    loopback-IP URI only in its port (RFC 8252 §7.3)."""
    registered = list(registered or [])
    if requested in registered:
        return True
    if not isinstance(requested, str) or has_unsafe_characters(requested):
        return False
    wanted = _loopback_parts(requested)
    if wanted is None:
        return False
    return any(_loopback_parts(uri) == wanted for uri in registered)
