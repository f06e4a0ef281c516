"""test_token's tests again, through config.front as gunicorn calls it: the token endpoint
answered by its ApiDoor (the view called without Django's handler)."""

from __future__ import annotations

import pytest

from tests.hostedui.test_token import *  # noqa: F403 (the same tests, collected again here)
from tests.perf.wsgi import front_client


@pytest.fixture
def client():
    return front_client()
