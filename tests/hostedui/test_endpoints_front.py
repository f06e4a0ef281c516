"""test_endpoints' tests again, through config.front as gunicorn calls it: userInfo and
revocation answered by its ApiDoor (the views called without Django's handler), JWKS and
discovery from memory. Each answer must be the one Django's handler gives."""

from __future__ import annotations

import pytest

from tests.hostedui.test_endpoints import *  # noqa: F403 (the same tests, collected again here)
from tests.perf.wsgi import front_client


@pytest.fixture
def client():
    return front_client()
