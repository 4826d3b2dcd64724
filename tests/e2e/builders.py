"""Builders for API tests: an app on a store, keys, a second program, a settable clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from fastapi.testclient import TestClient

from accolade.api.access import ApiContext
from accolade.api.app import create_app
from accolade.service.keys import SCOPES, create_key
from accolade.settings import Settings
from accolade.store.unit_of_work import Store
from tests.integration.builders import DEMO_SOURCE, NOW, publish_demo

TEST_SECRET_KEY = "test-secret-key-" + "0" * 32

OTHER_SOURCE = DEMO_SOURCE.replace("key: partner", "key: community", 1).replace(
    "name: Acme Partner Program", "name: Acme Community", 1
)


class Clock:
    """An injected clock the test moves."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Api:
    client: TestClient
    store: Store
    clock: Clock

    @property
    def context(self) -> ApiContext:
        """The app's context (its kept console figures, say)."""
        context: ApiContext = self.client.app.state.context  # type: ignore[attr-defined]
        return context

    def key(self, *scopes: str, program: str = "partner") -> dict[str, str]:
        created = create_key(self.store, program, scopes or tuple(SCOPES), "test")
        return {"Authorization": f"Bearer {created.key}"}


@contextmanager
def api_on(store: Store, rate_limit: int = 0, **settings: object) -> Iterator[Api]:
    """The app on ``store`` with the demo program (and a second program, 'community')."""
    publish_demo(store)
    publish_demo(store, OTHER_SOURCE)
    clock = Clock()
    if store.dialect == "postgresql":  # required there; SQLite generates one beside the file
        settings.setdefault("secret_key", TEST_SECRET_KEY)
    app = create_app(
        Settings(rate_limit_per_minute=rate_limit, **settings),  # type: ignore[arg-type]
        store,
        clock=clock,
        deliver_webhooks=False,
    )
    with TestClient(app) as client:
        yield Api(client, store, clock)
