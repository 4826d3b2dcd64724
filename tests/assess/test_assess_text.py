"""The hosted assessment's own text is in its templates, wrapped for translation like the
portal's (tests/portal/test_portal_text.py); a lead's assessment text comes from the program."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accolade.web.assess.web import HERE
from tests.portal.test_portal_text import NOT_TEXT, READ_ATTRIBUTES, WORD

TEMPLATES = sorted((HERE / "templates").glob("*.html"))


@pytest.mark.parametrize("path", TEMPLATES, ids=[p.name for p in TEMPLATES])
def test_every_word_of_a_template_is_wrapped_for_translation(path: Path):
    source = path.read_text(encoding="utf-8")
    loose = [m.group(0) for m in WORD.finditer(NOT_TEXT.sub(" ", source))]
    assert loose == [], f"{path.name}: wrap these in _() or {{% trans %}}: {loose[:10]}"
    for attribute, value in READ_ATTRIBUTES.findall(source):
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", value)
        assert not WORD.search(text), f'{path.name}: {attribute}="{value}" is not wrapped'
