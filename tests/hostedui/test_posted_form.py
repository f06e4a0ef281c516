"""hostedui.views.oauth.posted_form: the OAuth endpoints' form is what Django's request.POST
makes of the body, whether the door parses it itself (UTF-8 urlencoded) or Django does."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from hostedui.oauth import OAuthError
from hostedui.views.oauth import posted_form

FORM = "application/x-www-form-urlencoded"


def _request(body: bytes, content_type: str = FORM):
    return RequestFactory().generic("POST", "/p/oauth2/token", body, content_type=content_type)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"grant_type=refresh_token&refresh_token=abc",
        b"scope=a+b&scope=c%20d&empty=&bare&=nameless",
        b"client_id=%C3%A9t%C3%A9&redirect_uri=https%3A%2F%2Fa%2Fb%3Fx%3D1%26y",
        b"name=%FF%FE&raw=\xe9t\xe9",  # not UTF-8: Latin-1, as QueryDict falls back to
        b"a=1;b=2&&c",
    ],
)
@pytest.mark.parametrize("content_type", [FORM, FORM + "; charset=utf-8", FORM + "; charset=UTF-8"])
def test_the_form_is_what_django_parses(body, content_type):
    ours = posted_form(_request(body, content_type))
    django = _request(body, content_type).POST
    assert dict(ours.lists()) == dict(django.lists())
    for name in django:
        assert ours.get(name) == django.get(name)
        assert ours.getlist(name) == django.getlist(name)


def test_too_many_fields_is_a_bad_request(settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    assert len(posted_form(_request(b"a=1&b=2&c=3"))) == 3
    with pytest.raises(OAuthError) as refused:
        posted_form(_request(b"a=1&b=2&c=3&d=4"))
    assert refused.value.error == "invalid_request"


def test_a_body_larger_than_allowed_is_a_bad_request(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    with pytest.raises(OAuthError) as refused:
        posted_form(_request(b"grant_type=client_credentials"))
    assert refused.value.error == "invalid_request"


def test_another_charset_is_a_bad_request():
    with pytest.raises(OAuthError) as refused:
        posted_form(_request(b"a=1", FORM + "; charset=latin-1"))
    assert refused.value.error == "invalid_request"


def test_other_content_types_are_django_s():
    request = _request(
        b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n',
        "multipart/form-data; boundary=x",
    )
    assert posted_form(request).getlist("a") == ["1"]
    assert not posted_form(_request(b'{"a": 1}', "application/json"))


def test_a_stream_read_already_is_django_s_empty_form():
    request = _request(b"a=1")
    request.read()
    assert not posted_form(request)
