"""One error shape everywhere: ``{"error": {"code", "message", "field"}}``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accolade.errors import (
    AccoladeError,
    InvalidProgram,
    Unavailable,
)

_log = logging.getLogger("accolade.api")


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None
    errors: list[dict[str, str]] | None = None  # every problem, for an invalid program


class ErrorResponse(BaseModel):
    error: ErrorBody


class RateLimited(AccoladeError):
    code = "rate_limited"
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests: retry after {retry_after} s", field=None)
        self.retry_after = retry_after


class BadRequest(AccoladeError):
    """A body that is not JSON (or not YAML) at all: 400, before any field can be named."""

    code = "bad_request"
    status = 400


# The largest row id (a 64-bit integer column): the bound of every id, cursor and offset a
# request may name, so that no database is asked about a number it cannot hold.
ROW_ID_MAX = 2**63 - 1

# Documented on every route, so clients (and schemathesis) know the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 403, 404, 409, 413, 422, 429)
}


def status_of(error: AccoladeError) -> int:
    """The HTTP status of ``error``: its class says it (accolade/errors.py), for the pages too."""
    return error.status


def error_json(error: AccoladeError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error.code, "message": error.message, "field": error.field}
    if isinstance(error, InvalidProgram):
        body["errors"] = [{"field": e.field, "message": e.message} for e in error.errors]
    return {"error": body}


# A page's error renderer, for the paths under its prefix (the portal answers people with a
# page, not JSON): (request, status, error or None, message) -> response
HtmlErrors = Callable[[Request, int, AccoladeError | None, str], Response]


def install(app: FastAPI, html: Sequence[tuple[str, HtmlErrors]] = ()) -> None:
    """The error handlers; with ``html``, pairs of (prefix, renderer), errors of requests
    under a prefix are rendered as pages by its renderer (the portal's, the console's)."""

    def page(request: Request) -> HtmlErrors | None:
        path = request.url.path
        for prefix, render in html:
            if path == prefix or path.startswith(prefix + "/"):
                return render
        return None

    @app.exception_handler(AccoladeError)
    async def _accolade(request: Request, exc: AccoladeError) -> Response:
        render = page(request)
        if render is not None:
            return render(request, status_of(exc), exc, exc.message)
        headers = (
            {"Retry-After": str(exc.retry_after)}
            if isinstance(exc, RateLimited)
            else {"Retry-After": "1"}
            if isinstance(exc, Unavailable)
            else None
        )
        return JSONResponse(error_json(exc), status_code=status_of(exc), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0]
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
        field = ".".join(loc) or None
        render = page(request)
        if render is not None:
            said = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
            return render(request, 422, None, f"{field}: {said}" if field else said)
        if first.get("type") == "json_invalid":
            return JSONResponse(
                {
                    "error": {
                        "code": "bad_request",
                        "message": "the body is not valid JSON",
                        "field": "body",
                    }
                },
                status_code=400,
            )
        message = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
        return JSONResponse(
            {"error": {"code": "invalid_input", "message": message, "field": field}},
            status_code=422,
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        render = page(request)
        if render is not None:
            return render(request, exc.status_code, None, str(exc.detail))
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(_allowed(request))}
        return JSONResponse(
            {"error": {"code": code, "message": str(exc.detail).lower(), "field": None}},
            status_code=exc.status_code,
            headers=headers,
        )

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        # Starlette answers with this, then raises the error again for the server to log.
        return JSONResponse(
            {
                "error": {
                    "code": "internal",
                    "message": "the server failed on this request (it is logged): retry or "
                    "report it",
                    "field": None,
                }
            },
            status_code=500,
        )


def _allowed(request: Request) -> list[str]:
    """The methods the API documents for the resource at this path. Starlette's own 405 names
    those of the first route whose path matched: GET of /v1/challenges/{key} for
    /v1/challenges/close, a resource of its own that only POST serves (a literal path names the
    resource before a template does)."""
    paths = request.app.openapi()["paths"]
    matching = [t for t in paths if compile_path(t)[0].fullmatch(request.url.path)]
    literal = [t for t in matching if "{" not in t]
    return sorted({method.upper() for t in literal or matching for method in paths[t]})


class KeepConnection:
    """The outermost layer: an error the app has already answered in full (a 500 above) is
    logged here instead of reaching the server, which would close the connection and reset
    the client's next request on it. An error in the middle of a response still does."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answered = False

        async def watch(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.body" and not message.get("more_body"):
                answered = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            if not answered:
                raise
            _log.exception("%s %s failed", scope.get("method"), scope.get("path"))
