"""Wait until an HTTP server answers on a URL (any status below 500), or give up.

    python scripts/wait_for_server.py http://127.0.0.1:8000/console/ [--timeout 30]

Exit code 0 when it answered, 1 on timeout. Standard library only, so it runs before the
virtualenv exists.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request


def wait_for(url: str, *, timeout: float = 30.0, interval: float = 0.2) -> bool:
    """True as soon as `url` answers with a status below 500; False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (http only)
                if response.status < 500:
                    return True
        except urllib.error.HTTPError as error:
            if error.code < 500:
                return True
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(interval)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    if wait_for(args.url, timeout=args.timeout):
        print(f"{args.url} answers")
        return 0
    print(f"{args.url} did not answer within {args.timeout:.0f}s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
