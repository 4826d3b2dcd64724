"""Builders for hosted assessment tests: the app on a store with the diagnostics program
(tests/assessment_program.py), a lead's browser (its own cookies), a page's form values."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import unescape
from typing import Any

from fastapi.testclient import TestClient

from accolade.service.programs import publish
from tests.assessment_program import ASSESSMENT_PROGRAM
from tests.e2e.builders import Api, api_on
from tests.integration.builders import clock_at

PAGE = "/assess/readiness"
_HIDDEN = re.compile(r'<input type="hidden" name="([a-z]+)" value="([^"]*)">')


@dataclass
class Site:
    api: Api

    def browser(self) -> TestClient:
        """A new visitor: a client with cookies of its own."""
        return TestClient(self.api.client.app)

    def result(self, lead: str) -> dict[str, Any]:
        headers = self.api.key("members:read", program="diag")
        got = self.api.client.get(f"/v1/assessments/readiness/results/{lead}", headers=headers)
        assert got.status_code == 200, got.text
        body: dict[str, Any] = got.json()
        return body


def hidden(html: str) -> dict[str, str]:
    """The hidden fields of a page's form (csrf, attempt, section)."""
    return {name: unescape(value) for name, value in _HIDDEN.findall(html)}


def start(client: TestClient, email: str = "") -> str:
    """Open the page and start; the first section's HTML."""
    page = client.get(PAGE)
    assert page.status_code == 200, page.text
    started = client.post(f"{PAGE}/start", data={**hidden(page.text), "email": email})
    assert started.status_code == 200, started.text
    return started.text


def answer(client: TestClient, html: str, answers: dict[str, Any]) -> Any:
    """Post the section ``html`` shows with ``answers`` (question key -> value or values)."""
    data: dict[str, Any] = hidden(html)
    for key, value in answers.items():
        data[f"q.{key}"] = [str(v) for v in value] if isinstance(value, list) else str(value)
    return client.post(PAGE, data=data)


def section_of(html: str) -> str:
    return hidden(html)["section"]


@contextmanager
def site_on(store: Any, **settings: object) -> Iterator[Site]:
    with api_on(store, **settings) as api:
        publish(store, ASSESSMENT_PROGRAM, clock=clock_at())
        yield Site(api)
