"""The hosted sign-in page in a real browser (Playwright + Debian's chromium) in several
languages: chosen by the app's `lang` parameter, and by the browser's own language; the language
stays through the sign-in to the next page. Screenshots under test-artifacts/e2e/<test>/."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from hostedui.oauth import pkce
from pool.models import UserPool
from tests import factories

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# language: (sign-in button, password label, forgot-password link, heading of the MFA setup page)
LABELS = {
    "de": ("Anmelden", "Passwort", "Passwort vergessen?", "Authentifizierungs-App einrichten"),
    "fr": (
        "Se connecter",
        "Mot de passe",
        "Mot de passe oublié\u00a0?",  # French puts a no-break space before ?
        "Configurez votre application d'authentification",
    ),
    "ja": ("サインイン", "パスワード", "パスワードをお忘れですか？", "認証アプリの設定"),
}


@pytest.fixture
def app(live_server):
    pool = factories.make_pool(
        name="Languages", mfa_configuration=UserPool.Mfa.ON, mfa_methods=["SOFTWARE_TOKEN_MFA"]
    )
    client = factories.make_client(pool, name="Polyglot app")
    factories.make_user(pool, "yuki")

    def authorize(**params) -> str:
        query = {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": "http://localhost:3000/callback",
            "scope": "openid",
            "code_challenge": pkce.s256("v" * 43),
            "code_challenge_method": "S256",
            **params,
        }
        return f"{live_server.url}/{pool.id}/oauth2/authorize?{urlencode(query)}"

    return pool, authorize


@pytest.mark.parametrize("language", sorted(LABELS))
def test_the_sign_in_page_in_three_languages(page, app, artifact_dir, language):
    pool, authorize = app
    sign_in, password, forgot, _ = LABELS[language]
    page.goto(authorize(lang=language))
    page.wait_for_url(re.compile(rf"/{pool.id}/login\?.*lang={language}"))
    assert page.get_attribute("html", "lang") == language
    assert page.get_attribute("html", "dir") == "ltr"
    assert page.input_value("input[name=signInSubmitButton]") == sign_in
    assert page.inner_text("label[for=signInFormPassword]") == password
    assert page.get_by_role("link", name=forgot).is_visible()
    assert page.title().startswith(sign_in)
    page.screenshot(path=str(artifact_dir / f"sign-in-{language}.png"), full_page=True)


def test_the_language_stays_through_the_sign_in(page, app, artifact_dir):
    pool, authorize = app
    page.goto(authorize(lang="ja"))
    page.fill("#signInFormUsername", "yuki")
    page.fill("#signInFormPassword", factories.PASSWORD)
    page.click("input[name=signInSubmitButton]")
    page.wait_for_url(re.compile(rf"/{pool.id}/mfa/setup\?.*lang=ja"))
    assert page.get_attribute("html", "lang") == "ja"
    assert page.inner_text("h1") == LABELS["ja"][3]
    page.screenshot(path=str(artifact_dir / "mfa-setup-ja.png"), full_page=True)


def test_the_browsers_language_without_lang(browser, app, artifact_dir):
    pool, authorize = app
    context = browser.new_context(locale="es-ES", viewport={"width": 1000, "height": 800})
    try:
        page = context.new_page()
        page.goto(authorize())
        page.wait_for_url(re.compile(rf"/{pool.id}/login\?"))
        assert page.get_attribute("html", "lang") == "es"
        assert page.input_value("input[name=signInSubmitButton]") == "Iniciar sesión"
        page.screenshot(path=str(artifact_dir / "sign-in-es-from-browser.png"), full_page=True)
    finally:
        context.close()
