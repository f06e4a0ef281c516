"""Every email is multipart: the pool's template as the text part and, from the same
template, an HTML part in the pool's frame (templates/email/message.html) with the app client's
branding when the message concerns one. Values a user controls are text, never markup; a
template that holds markup is sanitized to basic formatting (pool/email_body.py)."""

from __future__ import annotations

import re

import pytest

from pool.services import codes, delivery, passwords, sign_up
from pool.services.results import RequestContext
from tests import factories
from tests.pool.helpers import code_in

CTX = RequestContext(source="api")
LOGO = "https://cdn.example.com/acme-logo.png"


@pytest.fixture
def pool(db):
    return factories.make_pool(
        name="Acme Accounts",
        auto_verified_attributes=["email"],
        verification_email_subject="Your code",
        verification_email_message="Hello {username},\nyour code is {####}.\nThanks!",
        email_from="no-reply@cognate.test",
    )


@pytest.fixture
def branded_client(pool):
    return factories.make_client(pool, name="Acme Shop", logo_url=LOGO, brand_color="#ff6600")


def sign_up_by_email(pool, username: str, email: str, client=None) -> None:
    sign_up.sign_up(
        pool=pool,
        username=username,
        password=factories.PASSWORD,
        attributes={"email": email},
        client=client,
        context=CTX,
    )


def image_sources(html: str) -> list[str]:
    return re.findall(r"<img[^>]*\ssrc=\"([^\"]*)\"", html) + re.findall(r"url\(", html)


def test_an_email_arrives_with_a_text_part_and_an_html_part(pool, smtp_sink):
    sign_up_by_email(pool, "newbie", "newbie@example.com")
    message = smtp_sink.wait_for("newbie@example.com")
    assert message.get_content_type() == "multipart/alternative"
    text, html = smtp_sink.body(message), smtp_sink.html(message)
    code = code_in(text)
    assert text == f"Hello newbie,\nyour code is {code}.\nThanks!"
    assert code in html


def test_the_code_is_emphasised_and_line_breaks_are_kept_in_the_html_part(pool, smtp_sink):
    sign_up_by_email(pool, "newbie", "newbie@example.com")
    message = smtp_sink.wait_for("newbie@example.com")
    code = code_in(smtp_sink.body(message))
    html = smtp_sink.html(message)
    assert re.search(rf"<strong style=\"[^\"]+\">{code}</strong>", html)
    assert "Hello newbie,<br>\nyour code is" in html


def test_a_script_in_a_username_is_escaped_in_the_html_part(pool, smtp_sink):
    name = "<script>alert(1)</script>"
    user = factories.make_user(pool, name, email="mallory@example.com")
    passwords.forgot_password(pool=pool, username=user.username, context=CTX)
    message = smtp_sink.wait_for("mallory@example.com")
    html = smtp_sink.html(message)
    assert "<script" not in html
    assert "Hello &lt;script&gt;alert(1)&lt;/script&gt;," in html
    assert smtp_sink.body(message).startswith(f"Hello {name},")  # text part: plain text


def test_the_client_brands_the_email_with_its_logo_and_colour(pool, branded_client, smtp_sink):
    sign_up_by_email(pool, "newbie", "newbie@example.com", client=branded_client)
    html = smtp_sink.html(smtp_sink.wait_for("newbie@example.com"))
    assert image_sources(html) == [LOGO]
    assert "#ff6600" in html
    assert "Acme Accounts" in html and "Acme Shop" in html


def test_without_a_client_the_email_is_neutral_with_the_pool_name(pool, smtp_sink):
    sign_up_by_email(pool, "newbie", "newbie@example.com")
    html = smtp_sink.html(smtp_sink.wait_for("newbie@example.com"))
    assert image_sources(html) == []
    assert "Acme Accounts" in html
    assert "#ff6600" not in html


def test_the_html_part_has_inline_css_only(pool, branded_client, smtp_sink):
    sign_up_by_email(pool, "newbie", "newbie@example.com", client=branded_client)
    html = smtp_sink.html(smtp_sink.wait_for("newbie@example.com"))
    assert "<style" not in html and "<link" not in html and "<script" not in html


def test_a_brand_colour_that_is_not_a_colour_is_not_written_into_css(pool, smtp_sink):
    client = factories.make_client(pool, brand_color="red;x:y")
    sign_up_by_email(pool, "newbie", "newbie@example.com", client=client)
    html = smtp_sink.html(smtp_sink.wait_for("newbie@example.com"))
    assert "red;x:y" not in html


def test_a_logo_url_that_is_not_http_is_left_out(pool, smtp_sink):
    client = factories.make_client(pool, logo_url="ftp://files.example.com/logo.png")
    sign_up_by_email(pool, "newbie", "newbie@example.com", client=client)
    html = smtp_sink.html(smtp_sink.wait_for("newbie@example.com"))
    assert image_sources(html) == []


def test_the_mfa_email_is_branded_by_the_client_signing_in(pool, branded_client, smtp_sink):
    user = factories.make_user(pool, "alice")
    code = codes.issue(user, "MFA_EMAIL", destination=user.email)
    delivery.send_mfa_code(user, "EMAIL_OTP", code, client=branded_client)
    html = smtp_sink.html(smtp_sink.wait_for("alice@example.com"))
    assert LOGO in html and code in html


# ------------------------------------------------------------------ templates that hold HTML

HTML_TEMPLATE = (
    "<p>Hi <b>{username}</b>, your code is <strong>{####}</strong>.</p>"
    '<script>steal()</script><img src="https://tracker.example.com/pixel.gif">'
    '<a href="javascript:steal()" onclick="steal()">bad</a>'
    '<a href="https://acme.example.com/help" style="color:red">help</a>'
)


@pytest.fixture
def html_pool(db):
    return factories.make_pool(
        auto_verified_attributes=["email"], verification_email_message=HTML_TEMPLATE
    )


def test_an_html_template_keeps_basic_formatting(html_pool, smtp_sink):
    sign_up_by_email(html_pool, "newbie", "newbie@example.com")
    message = smtp_sink.wait_for("newbie@example.com")
    code = code_in(smtp_sink.body(message))
    html = smtp_sink.html(message)
    assert f"<p>Hi <b>newbie</b>, your code is <strong>{code}</strong>.</p>" in html
    assert '<a href="https://acme.example.com/help" rel="noopener noreferrer">help</a>' in html


def test_an_html_template_loses_scripts_remote_images_handlers_and_bad_links(html_pool, smtp_sink):
    sign_up_by_email(html_pool, "newbie", "newbie@example.com")
    html = smtp_sink.html(smtp_sink.wait_for("newbie@example.com"))
    assert "<script" not in html and "steal()" not in html
    assert "tracker.example.com" not in html and image_sources(html) == []
    assert "javascript:" not in html and "onclick" not in html
    assert "color:red" not in html


def test_an_html_template_gives_a_text_part_without_tags(html_pool, smtp_sink):
    sign_up_by_email(html_pool, "newbie", "newbie@example.com")
    message = smtp_sink.wait_for("newbie@example.com")
    text = smtp_sink.body(message)
    code = code_in(text)
    assert text.startswith(f"Hi newbie, your code is {code}.")
    assert "<" not in text and "steal()" not in text


def test_a_username_in_an_html_template_stays_text(html_pool, smtp_sink):
    user = factories.make_user(
        html_pool, "<i>x</i><script>alert(1)</script>", email="m@example.com"
    )
    passwords.forgot_password(pool=html_pool, username=user.username, context=CTX)
    message = smtp_sink.wait_for("m@example.com")
    html = smtp_sink.html(message)
    assert "<b>&lt;i&gt;x&lt;/i&gt;&lt;script&gt;alert(1)&lt;/script&gt;</b>" in html
    assert "Hi <i>x</i><script>alert(1)</script>," in smtp_sink.body(message)


def test_angle_brackets_that_are_not_tags_leave_a_template_text(db, smtp_sink):
    pool = factories.make_pool(
        auto_verified_attributes=["email"], verification_email_message="1 < 2 > 0: {####}"
    )
    sign_up_by_email(pool, "newbie", "newbie@example.com")
    message = smtp_sink.wait_for("newbie@example.com")
    code = code_in(smtp_sink.body(message))
    assert re.search(
        rf"1 &lt; 2 &gt; 0: <strong style=\"[^\"]+\">{code}</strong>", smtp_sink.html(message)
    )
