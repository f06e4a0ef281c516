"""What a started worker holds: the libraries only some requests need (SAML, federation,
webhooks, pool import/export, MFA QR codes) are imported by the code that uses them, not when
the app and its URLs load (each worker pays for them only once it serves such a request;
together about 30 MB a worker, of the 150 MB budget of issue 15)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ON_DEMAND = (
    "saml2.sigver",  # pysaml2's signatures, with xmlschema and the SAML schemas
    "xmlschema",
    "requests",  # webhooks, provider checks, upstream token exchanges
    "jsonschema",  # pool export documents
    "authlib.integrations",  # the upstream OAuth client
    "joserfc",  # upstream ID tokens and JWKS
    "qrcode",  # the authenticator key's QR code
)
STARTUP = """
import sys
import django

django.setup()
from django.urls import get_resolver

get_resolver().url_patterns
import config.front

print(" ".join(name for name in sys.argv[1:] if name in sys.modules))
"""


def test_a_started_worker_imports_no_on_demand_library():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    started = subprocess.run(
        [sys.executable, "-c", STARTUP, *ON_DEMAND],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == []
