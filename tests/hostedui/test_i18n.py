"""The hosted pages' language: the `lang` parameter (carried from authorize through every page),
then the signing-in user's `locale`, then Accept-Language, then English; every page in every
language with nothing left in English; right-to-left languages; messages mailed in the user's
language through a real SMTP server."""

from __future__ import annotations

import re
from email.header import decode_header, make_header
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from pool.models import UserPool, UserStatus
from pool.services import message_templates
from tests import factories
from tests.hostedui.conftest import authorize_url, sign_in

pytestmark = pytest.mark.django_db
LANGUAGES = [code for code, _ in settings.LANGUAGES]
TRANSLATED = [code for code in LANGUAGES if code != settings.LANGUAGE_CODE]
LOCALE = Path(settings.LOCALE_PATHS[0])
# A visible label of the sign-in page in each language (the submit button).
SIGN_IN = {
    "en": "Sign in",
    "de": "Anmelden",
    "es": "Iniciar sesión",
    "fr": "Se connecter",
    "ja": "サインイン",
    "pt-br": "Entrar",
}


def page(pool, app_client, name: str, **params) -> str:
    return f"/{pool.id}/{name}?{urlsplit(authorize_url(pool, app_client, **params)).query}"


def html_lang(response) -> tuple[str, str]:
    match = re.search(r'<html lang="([^"]+)" dir="(ltr|rtl)">', response.content.decode())
    assert match, response.content[:300]
    return match.group(1), match.group(2)


class _Visible(HTMLParser):
    """The texts a person sees: text nodes, and the words on buttons and in labels."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "svg", "title"):
            self._skip += 1
        attributes = dict(attrs)
        if tag == "input" and attributes.get("type") == "submit":
            self.texts.append(attributes.get("value", "").strip())
        for name in ("data-met", "data-not-met", "alt", "aria-label"):
            if attributes.get(name):
                self.texts.append(attributes[name].strip())

    def handle_endtag(self, tag):
        if tag in ("script", "style", "svg", "title"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(data.strip())


def visible(response) -> list[str]:
    parser = _Visible()
    parser.feed(response.content.decode())
    return [text for text in parser.texts if text]


def english_msgids() -> set[str]:
    """Every text of the catalogs (the English source strings)."""
    po = (LOCALE / "de" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    ids = set()
    for block in po.split("\n\n"):
        pieces = re.findall(r'^(?:msgid |)"(.*)"$', block.split("msgstr")[0], re.M)
        text = "".join(pieces).replace('\\"', '"')
        if text and "msgid_plural" not in block:
            ids.add(text)
    return ids


def assert_no_english(response, language: str) -> None:
    """No visible text of the page is an English source string whose translation differs."""
    untranslated = []
    for text in visible(response):
        for candidate in (text, text.rstrip(":").strip()):
            if candidate in ENGLISH:
                with translation.override(language):
                    if translation.gettext(candidate) != candidate:
                        untranslated.append(candidate)
    assert not untranslated, f"{language}: left in English: {untranslated}"


ENGLISH = english_msgids()


# ------------------------------------------------------------------------------- choosing


def test_lang_on_authorize_is_carried_to_the_sign_in_page(client, pool, app_client):
    response = client.get(authorize_url(pool, app_client, lang="fr"))
    assert response.status_code == 302
    location = response["Location"]
    assert parse_qs(urlsplit(location).query)["lang"] == ["fr"]
    page_response = client.get(location)
    assert html_lang(page_response) == ("fr", "ltr")
    assert page_response["Content-Language"] == "fr"
    html = page_response.content.decode()
    assert 'value="Se connecter"' in html and "Mot de passe" in html
    assert "Mot de passe oublié\u00a0?" in html


def test_lang_is_carried_from_page_to_page_through_a_challenge(client, pool, app_client):
    factories.make_user(pool, "fred", status=UserStatus.FORCE_CHANGE_PASSWORD)
    response = sign_in(client, authorize_url(pool, app_client, lang="ja"), username="fred")
    assert "/newPassword?" in response["Location"] and "lang=ja" in response["Location"]
    challenge_page = client.get(response["Location"])
    assert html_lang(challenge_page)[0] == "ja"
    assert "新しいパスワードの設定" in challenge_page.content.decode()


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("de", "de"),
        ("DE", "de"),
        ("de-AT", "de"),
        ("pt-BR", "pt-br"),  # as Cognito's managed login spells it
        ("pt", "pt-br"),
        ("pt_BR", "pt-br"),
        ("ja", "ja"),
        ("zh-CN", "en"),  # a language we do not have: the next rule (no Accept-Language: en)
        ("<script>", "en"),
        ("x" * 300, "en"),
        ("", "en"),
    ],
)
def test_lang_values(client, pool, app_client, lang, expected):
    response = client.get(page(pool, app_client, "login", lang=lang))
    assert response.status_code == 200
    assert html_lang(response)[0] == expected
    assert f'value="{SIGN_IN[expected]}"' in response.content.decode()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-CA,fr;q=0.9,en;q=0.8", "fr"),
        ("ja;q=0.5, es;q=0.9", "es"),
        ("zz, de;q=0.1", "de"),
        ("en-GB", "en"),
        ("pt-PT,pt;q=0.9", "pt-br"),
        ("*", "en"),
        ("de;q=0, fr;q=bad, es", "es"),
        ("", "en"),
    ],
)
def test_accept_language(client, pool, app_client, header, expected):
    response = client.get(page(pool, app_client, "login"), HTTP_ACCEPT_LANGUAGE=header)
    assert html_lang(response)[0] == expected
    assert "Accept-Language" in response["Vary"]


def test_lang_wins_over_accept_language(client, pool, app_client):
    response = client.get(page(pool, app_client, "login", lang="de"), HTTP_ACCEPT_LANGUAGE="fr")
    assert html_lang(response)[0] == "de"


def test_the_users_locale_comes_before_accept_language_and_after_lang(pool, app_client):
    factories.make_user(
        pool, "fred", status=UserStatus.FORCE_CHANGE_PASSWORD, attributes={"locale": "de-DE"}
    )
    browser = Client(HTTP_ACCEPT_LANGUAGE="fr")
    # Before anyone is known: the browser's language.
    assert html_lang(browser.get(page(pool, app_client, "login")))[0] == "fr"
    response = sign_in(browser, authorize_url(pool, app_client), username="fred")
    challenge_page = browser.get(response["Location"])
    assert html_lang(challenge_page)[0] == "de"
    assert "Neues Passwort wählen" in challenge_page.content.decode()

    with_lang = Client(HTTP_ACCEPT_LANGUAGE="fr")
    response = sign_in(with_lang, authorize_url(pool, app_client, lang="es"), username="fred")
    assert html_lang(with_lang.get(response["Location"]))[0] == "es"


def test_a_locale_we_do_not_speak_falls_back_to_accept_language(pool, app_client):
    factories.make_user(
        pool, "fred", status=UserStatus.FORCE_CHANGE_PASSWORD, attributes={"locale": "ko-KR"}
    )
    browser = Client(HTTP_ACCEPT_LANGUAGE="pt-BR")
    response = sign_in(browser, authorize_url(pool, app_client), username="fred")
    assert html_lang(browser.get(response["Location"]))[0] == "pt-br"


def test_other_doors_stay_in_english_after_a_hosted_page(client, pool, app_client):
    client.get(page(pool, app_client, "login", lang="ja"))
    assert translation.get_language() == settings.LANGUAGE_CODE
    response = client.get("/console/", HTTP_ACCEPT_LANGUAGE="ja")
    assert "Content-Language" not in response


# --------------------------------------------------------------------- every page, translated


@pytest.fixture
def pages(pool, app_client):
    """GET each hosted page (in `language`); challenge pages after signing in to reach them."""
    mfa_pool = factories.make_pool(mfa_configuration=UserPool.Mfa.ON)
    mfa_app = factories.make_client(mfa_pool)
    factories.make_user(mfa_pool, "gina")
    factories.make_user(pool, "fred", status=UserStatus.FORCE_CHANGE_PASSWORD)

    def get(name: str, language: str):
        browser = Client()
        if name == "newPassword":
            response = sign_in(browser, authorize_url(pool, app_client, lang=language), "fred")
            return browser.get(response["Location"])
        if name == "mfa/setup":
            response = sign_in(browser, authorize_url(mfa_pool, mfa_app, lang=language), "gina")
            return browser.get(response["Location"])
        if name == "error":
            return browser.get(f"/{pool.id}/error?error=invalid_client&lang={language}")
        if name == "logout":
            return browser.get(
                f"/{pool.id}/logout?client_id={app_client.client_id}&lang={language}"
            )
        if name == "login-error":
            return browser.post(
                page(pool, app_client, "login", lang=language),
                {"username": "nobody", "password": "wrong-Password-1"},
            )
        return browser.get(page(pool, app_client, name, lang=language))

    return get


PAGES = [
    "login",
    "login-error",
    "signup",
    "confirm",
    "forgotPassword",
    "confirmForgotPassword",
    "newPassword",
    "mfa/setup",
    "error",
    "logout",
]


@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_in_each_language_without_english_left(pages, name, language):
    english = pages(name, "en")
    response = pages(name, language)
    assert response.status_code == english.status_code
    assert response.status_code in (200, 400)
    assert html_lang(response) == (language, "ltr")
    assert_no_english(response, language)
    # The page did say something translatable (the check above is not vacuous).
    assert set(visible(english)) & ENGLISH
    assert visible(response) != visible(english)


def test_the_password_rules_and_their_screen_reader_words_are_translated(pool, app_client):
    response = Client().get(page(pool, app_client, "signup", lang="de"))
    html = response.content.decode()
    assert "Mindestens 8 Zeichen" in html
    assert 'data-met="erfüllt: "' in html and 'data-not-met="nicht erfüllt: "' in html


def test_a_service_error_is_shown_translated(client, pool, app_client, user):
    response = client.post(
        page(pool, app_client, "login", lang="es"),
        {"username": "alice", "password": "Wrong-Password-9"},
    )
    assert response.status_code == 400
    assert "Nombre de usuario o contraseña incorrectos." in response.content.decode()


def test_an_unknown_user_and_a_wrong_password_read_alike_in_every_language(
    client, pool, app_client, user
):
    for language in LANGUAGES:
        url = page(pool, app_client, "login", lang=language)
        wrong = client.post(url, {"username": "alice", "password": "Wrong-Password-9"})
        unknown = client.post(url, {"username": "nobody", "password": "Wrong-Password-9"})
        assert wrong.status_code == unknown.status_code == 400
        assert visible(wrong) == visible(unknown)


# ------------------------------------------------------------------------- right to left


def test_a_right_to_left_language_gets_dir_rtl(client, pool, app_client, settings):
    """How a team adds a language: a code in LANGUAGES (and its catalog under locale/); an RTL
    one (Arabic here, with no catalog yet) turns the page around with dir="rtl"."""
    settings.LANGUAGES = [*settings.LANGUAGES, ("ar", "العربية")]
    response = client.get(page(pool, app_client, "login", lang="ar"))
    assert html_lang(response) == ("ar", "rtl")
    css = Path(settings.BASE_DIR, "static", "hostedui", "hosted.css").read_text()
    assert "padding-left" not in css and "margin-left" not in css and "left:" not in css
    assert "inset-inline-start" in css


# -------------------------------------------------------------------- messages, by SMTP


def subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_a_code_is_mailed_in_the_users_locale(client, pool, app_client, smtp_sink):
    factories.make_user(pool, "lea", attributes={"locale": "fr-FR"})
    client.post(page(pool, app_client, "forgotPassword", lang="de"), {"username": "lea"})
    message = smtp_sink.wait_for("lea@example.com")
    assert subject(message) == "Votre code de vérification"
    assert re.fullmatch(r"Votre code de vérification est \d{6}\.", smtp_sink.body(message))
    html = smtp_sink.html(message)
    assert '<html lang="fr" dir="ltr">' in html and f"Envoyé par {pool.name}" in html


def test_a_code_is_mailed_in_the_pages_language_when_the_user_has_no_locale(
    client, pool, app_client, smtp_sink
):
    client.post(
        page(pool, app_client, "signup", lang="ja"),
        {"username": "kenji", "email": "kenji@example.com", "password": factories.PASSWORD},
    )
    message = smtp_sink.wait_for("kenji@example.com")
    assert subject(message) == "確認コード"
    assert re.fullmatch(r"確認コードは \d{6} です。", smtp_sink.body(message))


def test_the_pools_template_in_the_users_language_is_used(client, pool, app_client, smtp_sink):
    message_templates.set_templates(
        pool=pool,
        language="es",
        templates={
            "verification_email_subject": "Tu código de Ejemplo",
            "verification_email_message": "Hola, tu código es {####}.",
        },
    )
    factories.make_user(pool, "ana", attributes={"locale": "es-MX"})
    factories.make_user(pool, "bob")
    client.post(page(pool, app_client, "forgotPassword"), {"username": "ana"})
    message = smtp_sink.wait_for("ana@example.com")
    assert subject(message) == "Tu código de Ejemplo"
    assert re.fullmatch(r"Hola, tu código es \d{6}\.", smtp_sink.body(message))
    # Someone in another language still gets Cognito's default, in theirs (English here).
    client.post(page(pool, app_client, "forgotPassword"), {"username": "bob"})
    message = smtp_sink.wait_for("bob@example.com")
    assert subject(message) == "Your verification code"
