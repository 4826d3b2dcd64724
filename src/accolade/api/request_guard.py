"""What one request may cost and carry, checked before any route runs: a body size limit (413
before the body is buffered past it), and text every database stores alike in the path, the
query and JSON bodies (no NUL character, no lone surrogate), refused with the field it is in."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from pydantic_core import to_json
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accolade.engine.events import NUL_IN_TEXT, text_problem

# A JSON escape that may stand for a NUL or a lone surrogate; a body without one cannot hold
# either (raw control characters and invalid UTF-8 are not JSON), so most bodies skip the walk.
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
# Events are checked one by one by the Event model: a bad one is a rejected result, and the
# rest of its batch is stored.
_CHECKED_BY_ROUTE = {("POST", "/v1/events")}


class RequestGuard:
    """Pure ASGI middleware (no per-request task or copy of the response)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = _path_or_query_problem(scope)
        if problem is not None:
            await _drain(receive)
            await _error(send, 422, "invalid_input", problem[1], problem[0])
            return
        length = _content_length(scope)
        if length is not None and length > self.max_body_bytes:
            await _error(send, 413, "too_large", self._too_large(), "body", close=True)
            return
        if scope["method"] in ("GET", "HEAD", "DELETE", "OPTIONS") and not length:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
            if size > self.max_body_bytes:
                await _error(send, 413, "too_large", self._too_large(), "body", close=True)
                return
        body = b"".join(chunks)
        if (scope["method"], scope["path"]) not in _CHECKED_BY_ROUTE and _SUSPECT.search(body):
            found = _body_problem(body)
            if found is not None:
                await _error(send, 422, "invalid_input", found[1], found[0])
                return
        await self.app(scope, _replay(body, receive), send)

    def _too_large(self) -> str:
        return (
            f"the body is larger than {self.max_body_bytes:,} bytes "
            "(the limit is ACCOLADE_MAX_BODY_BYTES; send a batch in several requests)"
        )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _path_or_query_problem(scope: Scope) -> tuple[str, str] | None:
    """(field, message) for a path or a query parameter that is not storable text. A query
    is still percent-encoded, and decodes bad UTF-8 to U+FFFD: only NUL can reach a route."""
    message = text_problem(scope["path"])
    if message is not None:
        return "path", message
    query = scope.get("query_string", b"")
    if b"%00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name + value:
                field = name if "\x00" not in name else "query"
                return field, NUL_IN_TEXT
    return None


def _body_problem(body: bytes) -> tuple[str, str] | None:
    """(field, message) of the first text in a JSON body that is not storable, if any."""
    try:
        decoded = json.loads(body)
    except (ValueError, RecursionError):
        return None  # not JSON: the route's own parser answers, with its own message
    return _first_bad_text(decoded, "")


def _first_bad_text(value: Any, path: str) -> tuple[str, str] | None:
    if isinstance(value, str):
        message = text_problem(value)
        return (path or "body", message) if message is not None else None
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        if isinstance(key, str):
            message = text_problem(key)
            if message is not None:  # named as JSON escapes it, for it is not storable text
                return f"{path}.{json.dumps(key)[1:-1]}".lstrip("."), message
            where = f"{path}.{key}" if path else key
        else:
            where = f"{path}[{key}]"
        found = _first_bad_text(item, where)
        if found is not None:
            return found
    return None


async def _drain(receive: Receive) -> None:
    """Read the body nobody will use, so that the connection can carry the next request."""
    more = True
    while more:
        message = await receive()
        more = message["type"] == "http.request" and message.get("more_body", False)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the client to disconnect

    return replay


async def _error(
    send: Send, status: int, code: str, message: str, field: str, *, close: bool = False
) -> None:
    payload = to_json({"error": {"code": code, "message": message, "field": field}})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if close:  # the rest of the body is not read: the connection cannot carry another request
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
