"""What the tests of config.front's ApiDoor share (tests/perf/test_api_door.py, the JSON API and
userInfo; tests/perf/test_token_door.py, the token endpoint): a stand-in for Django's handler
that must not be reached, headers compared without what is per request, and a door whose steps
after the view note each run."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from django.core import signals

from config.answers import JsonAnswer

# Per request by design: the request ids and the CSP nonce.
_PER_REQUEST = {"X-Request-Id", "x-amzn-RequestId"}
NONCE = re.compile(r"'nonce-[^']+'")


class NotDjango:
    """Stands for Django's handler where the door must answer itself."""

    def __call__(self, environ, start_response):
        raise AssertionError(f"went to Django: {environ['PATH_INFO']}")


def comparable(headers: dict) -> dict:
    """`headers` without the request ids, and with any CSP nonce as `'nonce-*'`."""
    return {
        name: NONCE.sub("'nonce-*'", value)
        for name, value in headers.items()
        if name not in _PER_REQUEST
    }


def note_steps_after_the_view(front, monkeypatch) -> None:
    """From now on, each run of a step after the view of `front`'s door (config.front.Front)
    is noted in `front.ran` (empty now): none runs for an answer the door writes itself."""
    front.ran = []

    def noted(after):
        def step(request, response):
            front.ran.append(after)
            return after(request, response)

        return step

    steps = [(before, after and noted(after)) for before, after in front.api_door.steps]
    monkeypatch.setattr(front.api_door, "steps", steps)


@contextlib.contextmanager
def request_signals() -> Iterator[list]:
    """The request_started and request_finished signals sent meanwhile, in order."""
    seen = []

    def note(**kwargs):
        seen.append(kwargs["signal"])

    signals.request_started.connect(note)
    signals.request_finished.connect(note)
    try:
        yield seen
    finally:
        signals.request_started.disconnect(note)
        signals.request_finished.disconnect(note)


def no_django_response(monkeypatch) -> None:
    """From now on a door's JSON answer made into Django's response fails the test."""

    def no_response(answer):
        raise AssertionError("a Django response was made")

    monkeypatch.setattr(JsonAnswer, "http_response", no_response)
