"""The portal's text is in one place: every word a member reads is in the templates, wrapped in
``_()`` or ``{% trans %}``, so one catalogue can be extracted for a translation (Babel's
`pybabel extract` reads exactly these). A word outside them fails here, naming its template."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accolade.web.portal.web import HERE, environment

TEMPLATES = sorted((HERE / "templates").glob("*.html"))

# What is not text a member reads: Jinja's comments, blocks and expressions, a {% trans %}
# block whole, HTML comments, <style>/<script> bodies, tags (attributes checked apart).
NOT_TEXT = re.compile(
    r"\{#.*?#\}|\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}|\{%.*?%\}|\{\{.*?\}\}|<!--.*?-->"
    r"|<(style|script)\b.*?</\1>|<[^>]*>",
    re.DOTALL,
)
# Attributes a person reads (or hears): their values must be an expression, not a word.
READ_ATTRIBUTES = re.compile(r'\b(aria-label|title|alt|placeholder)="([^"]*)"')
WORD = re.compile(r"[A-Za-z]{2,}")


@pytest.mark.parametrize("path", TEMPLATES, ids=[p.name for p in TEMPLATES])
def test_every_word_of_a_template_is_wrapped_for_translation(path: Path):
    source = path.read_text(encoding="utf-8")
    loose = [m.group(0) for m in WORD.finditer(NOT_TEXT.sub(" ", source))]
    assert loose == [], f"{path.name}: wrap these in _() or {{% trans %}}: {loose[:10]}"
    for attribute, value in READ_ATTRIBUTES.findall(source):
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", value)
        assert not WORD.search(text), f'{path.name}: {attribute}="{value}" is not wrapped'


def test_the_check_catches_a_loose_word():
    assert WORD.findall(NOT_TEXT.sub(" ", "<p>{{ _('Balance') }} points</p>")) == ["points"]
    assert WORD.findall(NOT_TEXT.sub(" ", "<p>{% trans %}Hi {{ n }}{% endtrans %}</p>")) == []


def test_the_templates_compile():
    for path in TEMPLATES:
        environment.get_template(path.name)
