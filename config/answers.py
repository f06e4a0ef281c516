"""A door's JSON answer as a value before it becomes an HTTP response: the JSON API's
(api.views.answer) and the OAuth endpoints' (hostedui.views.common.oauth_answer). Their views
turn it into Django's response; config.front's ApiDoor writes a GetUser or token 200 from it
without one."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpResponse


@dataclass(frozen=True)
class JsonAnswer:
    """Its status, its bytes and its headers: Content-Type first, the others in the order the
    response sets them."""

    status: int
    content: bytes
    headers: tuple[tuple[str, str], ...]

    def http_response(self) -> HttpResponse:
        """The answer as Django's response (its Content-Type set by the constructor, then the
        rest in order)."""
        response = HttpResponse(self.content, status=self.status, content_type=self.headers[0][1])
        for name, value in self.headers[1:]:
            response[name] = value
        return response

    def with_headers(self, *headers: tuple[str, str]) -> JsonAnswer:
        """The same answer with `headers` set after its own."""
        return JsonAnswer(self.status, self.content, (*self.headers, *headers))
