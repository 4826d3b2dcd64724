"""Builders for portal tests: the app on a store with the demo program, members signed in by
the link a host app would give them, the CSRF token of a page, events sent through the API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.e2e.builders import Api, api_on

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Portal:
    api: Api
    writer: dict[str, str]  # an API key with every scope, of the demo program "partner"

    def link(self, member: str, ttl_seconds: int | None = None) -> str:
        """The link a host app hands its member: /portal/enter?token=mt_..."""
        body = {"ttl_seconds": ttl_seconds} if ttl_seconds else None
        minted = self.api.client.post(f"/v1/members/{member}/token", json=body, headers=self.writer)
        assert minted.status_code == 200, minted.text
        return f"/portal/enter?token={minted.json()['token']}"

    def browser(self, member: str) -> TestClient:
        """A client of its own (its own cookies), signed in as ``member``."""
        client = TestClient(self.api.client.app)
        entered = client.get(self.link(member), follow_redirects=False)
        assert entered.status_code == 303, entered.text
        return client

    def send(self, *events: dict[str, Any]) -> None:
        sent = self.api.client.post("/v1/events", json=list(events), headers=self.writer)
        assert sent.status_code == 200, sent.text
        assert all(r["status"] == "accepted" for r in sent.json()["results"]), sent.text


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@contextmanager
def portal_on(store: Any) -> Iterator[Portal]:
    """The app on ``store``, the demo program published, a key that can do everything."""
    with api_on(store) as api:
        yield Portal(api, api.key())
