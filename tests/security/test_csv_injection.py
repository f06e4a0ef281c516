"""CSV formula injection: an exported value that a spreadsheet would run as a formula is
written with a `'` in front (OWASP), and import removes exactly that `'`, so values survive."""

from __future__ import annotations

import io
import itertools

import pytest

from pool.models import User
from pool.services import user_import
from tests import factories

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Values a spreadsheet would run, and values that only look close to them.
TRICKY = [
    "=1+1",
    '=HYPERLINK("http://evil.example","click")',
    "+1",
    "-1",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "'=1",
    "''=1",
    "'plain",
    "''",
    "'",
    "plain'=",
    "a=b",
    "=,\\n\n",
]


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_exported_cell_that_starts_like_a_formula_starts_with_a_quote(pool, trigger):
    factories.make_user(pool, "victim", name=f"{trigger}cmd|' /C calc'!A0")
    line = user_import.split_line(next(_data_lines(pool)))
    header = user_import.csv_header(pool)
    assert line[header.index("name")].startswith("'" + trigger)


def test_every_exported_cell_is_defused(pool):
    factories.make_user(
        pool, "=user", name="=1", given_name="+1", family_name="-1", attributes={"locale": "@x"}
    )
    for cell in user_import.split_line(next(_data_lines(pool))):
        assert not cell.startswith(TRIGGERS), cell


@pytest.mark.parametrize(
    "value",
    [*TRICKY, *("".join(p) for p in itertools.product(["'", "=", "a", "\t"], repeat=3))],
)
def test_defusing_is_undone_exactly(value):
    assert user_import.restore_formula(user_import.defuse_formula(value)) == value


def test_a_quote_that_export_did_not_add_is_kept(pool):
    """A Cognito file's value that starts with a quote (not before a formula) is read as is."""
    assert user_import.restore_formula("'Ohana") == "'Ohana"


@pytest.mark.parametrize("value", TRICKY)
def test_tricky_values_survive_export_and_import(pool, value):
    # Cells are trimmed on import, as Cognito trims them; a defused cell starts with its quote.
    name = value.rstrip() if value.startswith(TRIGGERS) else value.strip()
    factories.make_user(pool, "tricky", name=name, attributes={"locale": name})
    text = _export(pool)
    User.objects.filter(pool=pool).delete()
    result = user_import.import_csv(pool, io.StringIO(text))
    assert result.errors == ()
    copy = User.objects.get(pool=pool, username="tricky")
    assert (copy.name, copy.attributes["locale"]) == (name, name)


def test_username_that_begins_with_quote_equals_survives(pool):
    factories.make_user(pool, "'=quoted", email="q@example.com")
    text = _export(pool)
    User.objects.filter(pool=pool).delete()
    assert user_import.import_csv(pool, io.StringIO(text)).errors == ()
    assert User.objects.filter(pool=pool, username="'=quoted").exists()


def _export(pool) -> str:
    out = io.StringIO()
    user_import.export_csv(pool, out)
    return out.getvalue()


def _data_lines(pool):
    return iter(_export(pool).splitlines()[1:])
