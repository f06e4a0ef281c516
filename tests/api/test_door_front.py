"""test_door's tests again, through config.front as gunicorn calls it: the JSON API answered
by its ApiDoor (the view called without Django's handler)."""

from __future__ import annotations

import pytest

from tests.api.test_door import *  # noqa: F403 (the same tests, collected again here)
from tests.perf.wsgi import front_client


@pytest.fixture
def client():
    return front_client()
