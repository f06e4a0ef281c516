"""The two parts of every email Cognate sends: the text part and the HTML part, both from one
message template (the pool's, or a custom-message trigger's) with `{####}` and `{username}`.

Cognito sends an email message as HTML, so a template may hold markup. Ours stays safe:
- a template without tags is text: the HTML part escapes it, keeps its line breaks and
  emphasises the code; the text part is the template as written;
- a template with tags is HTML: the placeholders' values are escaped, then the whole is
  sanitized (nh3) down to basic formatting tags and http(s)/mailto links; the text part is that
  HTML with its tags removed.
Either way a value a user controls (a name, a username) is text, never markup.
The HTML part is templates/email/message.html: the pool's name, and the app client's logo and
brand colour when the message concerns a client; inline CSS, no remote image but the logo."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

import nh3
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

if TYPE_CHECKING:
    from pool.models import AppClient, UserPool

CODE = "{####}"
USERNAME = "{username}"
# An HTML tag as a browser reads one: no space after `<` ("a < b > c" is text).
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>")
_LINE_BREAKS = re.compile(r"<\s*br\s*/?\s*>|<\s*/\s*(p|div|li|h[1-6]|blockquote|pre|tr)\s*>", re.I)
_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
ALLOWED_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "u", "p", "br", "ul", "ol", "li", "span", "div", "hr"}
    | {"h1", "h2", "h3", "h4", "blockquote", "code", "pre", "small", "sub", "sup"}
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
NEUTRAL_COLOUR = "#374151"
CODE_STYLE = (
    "font-family:Menlo,Consolas,monospace;font-size:20px;font-weight:bold;"
    "letter-spacing:2px;background:#f3f4f6;padding:2px 6px;border-radius:4px"
)


def is_html(template: str) -> bool:
    """Whether a message template holds markup (then it is sanitized, not escaped)."""
    return bool(_TAG.search(template))


def _sanitize(markup: str) -> str:
    return nh3.clean(
        markup,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
    )


def text_part(template: str, *, code: str, username: str) -> str:
    """The text/plain part: a text template filled in; an HTML one filled, then its tags removed."""
    filled = template.replace(CODE, code).replace(USERNAME, username)
    if not is_html(template):
        return filled
    safe = _sanitize(template.replace(CODE, escape(code)).replace(USERNAME, escape(username)))
    lines = _LINE_BREAKS.sub(lambda match: match.group(0) + "\n", safe)
    return html.unescape(nh3.clean(lines, tags=set())).strip()


def body_html(template: str, *, code: str, username: str) -> SafeString:
    """The message itself as safe HTML (see the module docstring for the two cases)."""
    if is_html(template):
        filled = template.replace(CODE, escape(code)).replace(USERNAME, escape(username))
        return mark_safe(_sanitize(filled))  # noqa: S308 (nh3 output, values escaped first)
    emphasised_code = f'<strong style="{CODE_STYLE}">{escape(code)}</strong>'
    pieces = [escape(piece.replace(USERNAME, username)) for piece in template.split(CODE)]
    joined = emphasised_code.join(pieces)
    return mark_safe(joined.replace("\r\n", "\n").replace("\n", "<br>\n"))  # noqa: S308


def _logo_url(client: AppClient | None) -> str:
    url = client.logo_url if client else ""
    return url if url.lower().startswith(("https://", "http://")) else ""


def _brand_colour(client: AppClient | None) -> str:
    colour = client.brand_color if client else ""
    return colour if _COLOUR.fullmatch(colour or "") else NEUTRAL_COLOUR


def html_part(
    template: str,
    *,
    code: str,
    username: str,
    subject: str,
    pool: UserPool,
    client: AppClient | None = None,
) -> str:
    """The text/html part: the message in the pool's frame, branded by `client` when given."""
    return render_to_string(
        "email/message.html",
        {
            "subject": subject,
            "pool_name": pool.name,
            "client_name": client.name if client else "",
            "logo_url": _logo_url(client),
            "brand_colour": _brand_colour(client),
            "body": body_html(template, code=code, username=username),
        },
    )
