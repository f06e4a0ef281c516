"""The language of the messages users receive (pool.languages, pool.services.delivery): the
user's `locale` attribute, else the language of the request that caused the message, else
English; the pool's templates per language (pool.services.message_templates) before its own,
and Cognito's default texts translated while the pool keeps them."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from pool import languages
from pool.errors import InvalidParameterException
from pool.models import OutboxMessage, UserPool
from pool.services import admin, attributes, delivery, message_templates, passwords
from pool.services.results import RequestContext
from tests import factories
from tests.pool.helpers import code_in

CTX = RequestContext(source="api")
pytestmark = pytest.mark.django_db


def only_email(outbox, to: str):
    [message] = [m for m in outbox if to in m.to]
    return message


# ---------------------------------------------------------------------------- pool.languages


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        ("fr", "fr"),
        ("fr-CA", "fr"),
        ("FR_fr", "fr"),
        ("pt-BR", "pt-br"),
        ("pt", "pt-br"),
        ("ja-JP", "ja"),
        ("en-US", "en"),
        ("ko", None),
        ("", None),
        (None, None),
        (42, None),
        ("de; DROP", None),
        ("a" * 100, None),
    ],
)
def test_supported(tag, code):
    assert languages.supported(tag) == code


def test_for_user_takes_the_locale_then_the_fallback_then_english():
    pool = factories.make_pool()
    speaks_german = factories.make_user(pool, "a", attributes={"locale": "de-CH"})
    speaks_korean = factories.make_user(pool, "b", attributes={"locale": "ko-KR"})
    no_locale = factories.make_user(pool, "c")
    assert languages.for_user(speaks_german, fallback="fr") == "de"
    assert languages.for_user(speaks_korean, fallback="fr") == "fr"
    assert languages.for_user(no_locale, fallback="es") == "es"
    assert languages.for_user(no_locale, fallback="ko") == "en"
    assert languages.for_user(no_locale) == "en"


# ----------------------------------------------------------------------------- delivery


def test_a_code_goes_in_the_users_locale_whatever_the_request(mailoutbox):
    pool = factories.make_pool()
    factories.make_user(pool, "alice", attributes={"locale": "de-DE"})
    with translation.override("fr"):
        passwords.forgot_password(pool=pool, username="alice", context=CTX)
    message = only_email(mailoutbox, "alice@example.com")
    assert message.subject == "Ihr Bestätigungscode"
    assert message.body == f"Ihr Bestätigungscode lautet {code_in(message.body)}."
    html = message.alternatives[0][0]
    assert '<html lang="de" dir="ltr">' in html and f"Gesendet von {pool.name}" in html


def test_without_a_locale_the_requests_language_then_english(mailoutbox):
    pool = factories.make_pool()
    factories.make_user(pool, "alice")
    factories.make_user(pool, "bob")
    with translation.override("es"):
        passwords.forgot_password(pool=pool, username="alice", context=CTX)
    passwords.forgot_password(pool=pool, username="bob", context=CTX)
    assert only_email(mailoutbox, "alice@example.com").subject == "Su código de verificación"
    english = only_email(mailoutbox, "bob@example.com")
    assert english.subject == "Your verification code"
    assert english.body == f"Your verification code is {code_in(english.body)}."


def test_the_language_of_a_message_does_not_leak_into_the_request(mailoutbox):
    pool = factories.make_pool()
    factories.make_user(pool, "alice", attributes={"locale": "ja"})
    with translation.override("fr"):
        passwords.forgot_password(pool=pool, username="alice", context=CTX)
        assert translation.get_language() == "fr"


def test_an_sms_goes_in_the_users_locale():
    pool = factories.make_pool(auto_verified_attributes=["email", "phone_number"])
    user = factories.make_user(
        pool, "alice", phone_number="+15555550177", attributes={"locale": "pt-BR"}
    )
    attributes.send_attribute_verification_code(user=user, attribute="phone_number", context=CTX)
    sms = OutboxMessage.objects.get(channel=OutboxMessage.Channel.SMS, to="+15555550177")
    assert sms.body == f"Seu código de verificação é {code_in(sms.body)}."


def test_an_invitation_goes_in_the_invitees_locale(mailoutbox):
    pool = factories.make_pool()
    _, password = admin.admin_create_user(
        pool=pool,
        username="newbie",
        attributes={"email": "newbie@example.com", "locale": "fr"},
        context=CTX,
    )
    message = only_email(mailoutbox, "newbie@example.com")
    assert message.subject == "Votre mot de passe temporaire"
    assert message.body == (
        f"Votre nom d'utilisateur est newbie et votre mot de passe temporaire est {password}."
    )


def test_an_mfa_code_email_goes_in_the_users_locale(mailoutbox):
    pool = factories.make_pool()
    user = factories.make_user(pool, "alice", attributes={"locale": "ja"})
    delivery.send_mfa_code(user, "EMAIL_OTP", "123456")
    message = only_email(mailoutbox, "alice@example.com")
    assert message.subject == "サインインコード"
    assert message.body == "認証コードは 123456 です。"


def test_a_template_the_operator_wrote_is_sent_as_written_in_every_language(mailoutbox):
    pool = factories.make_pool(verification_email_message="Code: {####} (Acme)")
    factories.make_user(pool, "alice", attributes={"locale": "de"})
    passwords.forgot_password(pool=pool, username="alice", context=CTX)
    message = only_email(mailoutbox, "alice@example.com")
    assert message.body == f"Code: {code_in(message.body)} (Acme)"
    assert message.subject == "Ihr Bestätigungscode"  # the subject is still the default


def test_the_pools_template_in_the_users_language_comes_first(mailoutbox):
    pool = factories.make_pool(verification_email_message="Code: {####} (Acme)")
    message_templates.set_templates(
        pool=pool,
        language="de",
        templates={"verification_email_message": "Ihr Acme-Code: {####}"},
    )
    factories.make_user(pool, "alice", attributes={"locale": "de-AT"})
    factories.make_user(pool, "bob", attributes={"locale": "fr"})
    passwords.forgot_password(pool=pool, username="alice", context=CTX)
    passwords.forgot_password(pool=pool, username="bob", context=CTX)
    german = only_email(mailoutbox, "alice@example.com")
    assert german.body == f"Ihr Acme-Code: {code_in(german.body)}"
    french = only_email(mailoutbox, "bob@example.com")
    assert french.body == f"Code: {code_in(french.body)} (Acme)"


# ---------------------------------------------------------------- per-language templates


def test_set_templates_keeps_and_clears_per_language():
    pool = factories.make_pool()
    kept = message_templates.set_templates(
        pool=pool,
        language="pt-br",
        templates={"mfa_message": "Código {####}", "invitation_email_subject": "Bem-vindo"},
    )
    assert dict(kept) == {"mfa_message": "Código {####}", "invitation_email_subject": "Bem-vindo"}
    message_templates.set_templates(pool=pool, language="pt-br", templates={"mfa_message": ""})
    pool.refresh_from_db()
    assert pool.message_templates == {"pt-br": {"invitation_email_subject": "Bem-vindo"}}
    message_templates.set_templates(
        pool=pool, language="pt-br", templates={"invitation_email_subject": None}
    )
    pool.refresh_from_db()
    assert pool.message_templates == {}


@pytest.mark.parametrize(
    ("language", "templates", "field"),
    [
        ("ko", {"mfa_message": "{####}"}, "language"),
        ("de-AT", {"mfa_message": "{####}"}, "language"),
        ("<b>", {"mfa_message": "{####}"}, "language"),
        ("de", {"mfa_mesage": "{####}"}, "templates"),
        ("de", ["mfa_message"], "templates"),
        ("de", {"mfa_message": "kein Code"}, "mfa_message"),
        ("de", {"mfa_message": "{####}" + "x" * 140}, "mfa_message"),
        ("de", {"invitation_email_message": "Passwort {####}"}, "invitation_email_message"),
        ("de", {"verification_email_message": 7}, "verification_email_message"),
        ("de", {"verification_email_subject": "   "}, "verification_email_subject"),
    ],
)
def test_set_templates_refuses_bad_input_and_changes_nothing(language, templates, field):
    pool = factories.make_pool(message_templates={"de": {"mfa_message": "Code {####}"}})
    with pytest.raises(InvalidParameterException) as caught:
        message_templates.set_templates(pool=pool, language=language, templates=templates)
    assert caught.value.field == field
    pool.refresh_from_db()
    assert pool.message_templates == {"de": {"mfa_message": "Code {####}"}}


def test_the_messagetemplates_command_sets_shows_and_refuses():
    pool = factories.make_pool()
    out = io.StringIO()
    call_command(
        "messagetemplates",
        pool.id,
        "fr",
        "--set",
        "verification_email_message=Votre code Acme : {####}",
        "--json",
        stdout=out,
    )
    assert json.loads(out.getvalue())["templates"] == {
        "verification_email_message": "Votre code Acme : {####}"
    }
    out = io.StringIO()
    call_command("messagetemplates", pool.id, "fr", stdout=out)
    assert "verification_email_message: Votre code Acme : {####}" in out.getvalue()
    with pytest.raises(CommandError, match="InvalidParameterException"):
        call_command("messagetemplates", pool.id, "fr", "--set", "mfa_message=no code")
    with pytest.raises(CommandError, match="FIELD=TEXT"):
        call_command("messagetemplates", pool.id, "fr", "--set", "mfa_message")
    call_command("messagetemplates", pool.id, "fr", "--clear", "verification_email_message")
    assert UserPool.objects.get(pk=pool.pk).message_templates == {}
