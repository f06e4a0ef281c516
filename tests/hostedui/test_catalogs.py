"""The translation catalogs (locale/<lang>/LC_MESSAGES/django.po and the committed .mo compiled
from it): every string the code and templates mark is translated in every language, nothing is
fuzzy, every .po compiles, and each .mo is its .po compiled (run `make messages` after changing
a string, translate, then `make compilemessages`)."""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LOCALE = Path(settings.LOCALE_PATHS[0])
CATALOGS = {
    code: LOCALE / code.split("-")[0].lower()
    if "-" not in code
    else LOCALE / f"{code.split('-')[0]}_{code.split('-')[1].upper()}"
    for code, _ in settings.LANGUAGES
    if code != settings.LANGUAGE_CODE
}
# What makemessages reads: the project's own code and templates.
SOURCES = ("api", "config", "console", "hostedui", "pool", "templates")

needs_gettext = pytest.mark.skipif(
    not (shutil.which("msgfmt") and shutil.which("xgettext") and shutil.which("msgmerge")),
    reason="GNU gettext (msgfmt, xgettext, msgmerge) is not installed: apt-get install gettext",
)


def po(code: str) -> Path:
    return CATALOGS[code] / "LC_MESSAGES" / "django.po"


def statistics(path: Path) -> str:
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", os.devnull, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr.strip()


def test_every_language_has_a_catalog():
    assert set(CATALOGS) == {"de", "es", "fr", "ja", "pt-br"}
    for code in CATALOGS:
        assert po(code).is_file(), code
        assert po(code).with_suffix(".mo").is_file(), code


@needs_gettext
@pytest.mark.parametrize("code", sorted(CATALOGS))
def test_every_po_compiles_complete_with_nothing_fuzzy(code):
    stats = statistics(po(code))
    assert re.fullmatch(r"\d+ translated messages?\.", stats), f"{code}: {stats}"


@needs_gettext
@pytest.mark.parametrize("code", sorted(CATALOGS))
def test_the_committed_mo_is_the_po_compiled(code, tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(po(code))], check=True)
    with compiled.open("rb") as fresh, po(code).with_suffix(".mo").open("rb") as committed:
        expected = gettext.GNUTranslations(fresh)._catalog
        actual = gettext.GNUTranslations(committed)._catalog
    assert actual == expected, f"locale/{code}: the .mo is stale; run make compilemessages"


@needs_gettext
def test_every_marked_string_has_a_translation(tmp_path):
    """Extract the strings again from a copy of the code (Django's makemessages, as `make
    messages` does), merge them into copies of the catalogs, and require nothing new, nothing
    fuzzy and nothing gone: a string added to a template or a page without its translations
    fails here."""
    for name in SOURCES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(LOCALE, tmp_path / "locale")
    (tmp_path / "extract_settings.py").write_text(
        "from config.settings import *  # noqa: F403\n"
        f"LOCALE_PATHS = [{str(tmp_path / 'locale')!r}]\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "extract_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
    }
    locales = [path.name for path in CATALOGS.values()]
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "--no-location", "--no-obsolete"]
        + [f"--locale={name}" for name in locales],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    for code, path in CATALOGS.items():
        extracted = tmp_path / "locale" / path.name / "LC_MESSAGES" / "django.po"
        assert msgids(extracted) == msgids(po(code)), (
            f"{code}: strings added {sorted(msgids(extracted) - msgids(po(code)))}, "
            f"gone {sorted(msgids(po(code)) - msgids(extracted))}"
        )
        stats = statistics(extracted)
        assert re.fullmatch(r"\d+ translated messages?\.", stats), f"{code}: {stats}"


def msgids(path: Path) -> set[str]:
    ids = set()
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        head = block.split("msgstr")[0]
        if "msgid" not in head:
            continue
        text = "".join(re.findall(r'^(?:msgid |msgid_plural |)"(.*)"$', head, re.M))
        if text:
            ids.add(text)
    return ids
