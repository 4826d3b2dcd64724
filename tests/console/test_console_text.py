"""The console's text is in one place, as the portal's (tests/portal/test_portal_text.py): every
word a user reads is in the templates, wrapped for translation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accolade.web.console.web import HERE, environment
from tests.portal.test_portal_text import NOT_TEXT, READ_ATTRIBUTES, WORD

TEMPLATES = sorted((HERE / "templates").glob("*.html"))


@pytest.mark.parametrize("path", TEMPLATES, ids=[p.name for p in TEMPLATES])
def test_every_word_of_a_console_template_is_wrapped_for_translation(path: Path):
    source = path.read_text(encoding="utf-8")
    loose = [m.group(0) for m in WORD.finditer(NOT_TEXT.sub(" ", source))]
    assert loose == [], f"{path.name}: wrap these in _() or {{% trans %}}: {loose[:10]}"
    for attribute, value in READ_ATTRIBUTES.findall(source):
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", value)
        assert not WORD.search(text), f'{path.name}: {attribute}="{value}" is not wrapped'


def test_the_console_templates_compile():
    for path in TEMPLATES:
        environment.get_template(path.name)
