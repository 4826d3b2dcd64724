"""A badge's image: a generated SVG medal with its name (for a badge whose program names no
image), and an SVG baked with its Open Badges 2.0 assertion (the baking specification: an
``openbadges:assertion`` element, right under the root, whose ``verify`` is the hosted URL
and whose content is the assertion's JSON). Pure: no store, no clock."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from xml.sax.saxutils import escape, quoteattr

OPENBADGES_NAMESPACE = "http://openbadges.org"


def badge_svg(name: str, key: str) -> str:
    """A round badge in a colour drawn from its key, its name on it (up to three lines)."""
    hue = int(hashlib.sha256(key.encode()).hexdigest()[:4], 16) % 360
    words = name.split()
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= 14:
            lines[-1] += " " + word
        else:
            lines.append(word)
    lines = lines[:3]
    first = 128 - (len(lines) - 1) * 12
    text = "".join(
        f'<text x="128" y="{first + i * 24}" text-anchor="middle" font-family="sans-serif" '
        f'font-size="20" font-weight="bold" fill="#fff">{escape(line[:16])}</text>'
        for i, line in enumerate(lines)
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" '
        f'viewBox="0 0 256 256" role="img" aria-label={quoteattr(name)}>'
        f"<title>{escape(name)}</title>"
        f'<circle cx="128" cy="128" r="120" fill="hsl({hue},55%,35%)"/>'
        f'<circle cx="128" cy="128" r="104" fill="none" stroke="#fff" stroke-width="6"/>'
        f"{text}</svg>"
    )


def baked_svg(svg: str, assertion: dict[str, Any]) -> str:
    """``svg`` with ``assertion`` baked in (Open Badges 2.0, SVG baking): the openbadges
    namespace on the root element and the assertion as its first child."""
    start = svg.index("<svg")
    end = svg.index(">", start)
    root = svg[start:end]
    if "xmlns:openbadges" not in root:
        root += f' xmlns:openbadges="{OPENBADGES_NAMESPACE}"'
    body = json.dumps(assertion, separators=(",", ":")).replace("]]>", "]]]]><![CDATA[>")
    baked = (
        f"<openbadges:assertion verify={quoteattr(str(assertion['id']))}>"
        f"<![CDATA[{body}]]></openbadges:assertion>"
    )
    return svg[:start] + root + ">" + baked + svg[end + 1 :]
