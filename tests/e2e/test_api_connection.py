"""A keep-alive connection to a real server survives every error answer, a 500 included."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator

import pytest
import uvicorn

from accolade.api.app import create_app
from accolade.service.keys import SCOPES, create_key
from accolade.settings import Settings
from tests.e2e.builders import TEST_SECRET_KEY
from tests.integration.builders import publish_demo, quiz


@pytest.fixture
def served(store) -> Iterator[tuple[int, str]]:
    """(port, API key) of `accolade serve`'s app on ``store``, with one route that fails."""
    publish_demo(store)
    key = create_key(store, "partner", tuple(SCOPES), "test").key
    settings = Settings(rate_limit_per_minute=0, secret_key=TEST_SECRET_KEY)  # type: ignore[arg-type]
    app = create_app(settings, store, deliver_webhooks=False)

    @app.get("/test/fails", include_in_schema=False)
    def fails() -> None:
        raise RuntimeError("a bug in a route")

    # The socket listens before the server starts: a request waits in its backlog, no polling.
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    try:
        yield port, key
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listening.close()


def _exchange(connection: http.client.HTTPConnection, method: str, path: str, **kw):
    connection.request(method, path, **kw)
    response = connection.getresponse()
    return response.status, response.read()


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/test/fails", None, 500),
        ("POST", "/v1/events", "{not json", 400),
        ("POST", "/v1/events", "[" * 10_000, 400),
        (
            "POST",
            "/v1/events",
            json.dumps({**quiz("q1"), "occurred_at": "9999-12-31T23:59:59-05:00"}),
            422,
        ),
        ("GET", "/v1/members/ali%00ce", None, 422),
        ("GET", "/v1/members/nobody", None, 404),
    ],
)
def test_the_connection_carries_the_next_request_after_an_error(served, method, path, body, status):
    port, key = served
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        got, answer = _exchange(connection, method, path, body=body, headers=headers)
        first_socket = connection.sock

        again, _ = _exchange(connection, "GET", "/healthz")

        assert got == status, answer
        assert json.loads(answer)["error"]["code"]
        assert again == 200
        assert connection.sock is first_socket  # the same connection, not a new one
    finally:
        connection.close()


def test_an_unanswerable_request_without_credentials_still_leaves_the_connection_open(served):
    port, _ = served
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        got, _ = _exchange(
            connection, "POST", "/v1/events", body=json.dumps(quiz("q1")), headers={}
        )
        again, _ = _exchange(connection, "GET", "/healthz")
        assert (got, again) == (401, 200)
    finally:
        connection.close()
