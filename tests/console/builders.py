"""Builders for console tests: the app on a store with two programs, console users of each
role, browsers (clients with cookies of their own) signed in as them, the CSRF token of a
page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi.testclient import TestClient
from httpx import Response

from accolade.service.console_users import create_user
from tests.e2e.builders import Api, api_on

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PASSWORD = "correct horse battery"


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@dataclass
class Console:
    api: Api

    def user(self, email: str, role: str, password: str = PASSWORD) -> str:
        create_user(self.api.store, email, role, password, clock=self.api.clock)
        return email

    def client(self) -> TestClient:
        """A browser of its own (its own cookies), signed out."""
        return TestClient(self.api.client.app)

    def sign_in(self, client: TestClient, email: str, password: str = PASSWORD) -> Response:
        form = client.get("/console/signin")
        assert form.status_code == 200, form.text
        return client.post(
            "/console/signin",
            data={"email": email, "password": password, "csrf": csrf_of(form.text)},
            follow_redirects=False,
        )

    def browser(self, role: str, email: str | None = None) -> TestClient:
        """A browser signed in as a new user of ``role``."""
        email = self.user(email or f"{role}@example.com", role)
        client = self.client()
        signed = self.sign_in(client, email)
        assert signed.status_code == 303, signed.text
        return client


def post(client: TestClient, path: str, data: dict[str, str | list[str]]) -> Response:
    """A form of the page at ``path``'s section posted with its CSRF token."""
    page = client.get("/console/")
    return client.post(path, data={**data, "csrf": csrf_of(page.text)}, follow_redirects=False)


@contextmanager
def console_on(store: object, **settings: object) -> Iterator[Console]:
    """The app on ``store``, programs 'partner' and 'community' published; ``settings``:
    Settings fields the app is made with (``publish_requires_simulation=True``)."""
    with api_on(store, **settings) as api:  # type: ignore[arg-type]
        yield Console(api)
