"""What every server-rendered page shares, portal or console: a Jinja environment with the
i18n extension, and the headers a page is sent with."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from accolade.errors import InvalidInput


def template_environment(folder: Path) -> Environment:
    """Templates of ``folder``, autoescaped, every visible string through ``_()`` (null
    translations today: one place a catalogue can be extracted from, `pybabel extract`)."""
    environment = Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(("html",)),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    return environment


def page_headers(frame_ancestors: str = "") -> dict[str, str]:
    """Sent with every page: never cached or referred on (a page is one person's), no script
    or style from anywhere but here, framed only by ``frame_ancestors`` (space-separated
    origins; empty: by no one)."""
    ancestors = frame_ancestors.split()
    policy = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; base-uri 'none'; object-src 'none'; "
        f"frame-ancestors {' '.join(ancestors) if ancestors else chr(39) + 'none' + chr(39)}"
    )
    found = {
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": policy,
    }
    if not ancestors:
        found["X-Frame-Options"] = "DENY"
    return found


def day_of(text: str, field: str) -> date | None:
    """A form's day (YYYY-MM-DD; empty: none); InvalidInput naming ``field`` otherwise."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"'{text}' is not a date (YYYY-MM-DD)", field=field) from None
