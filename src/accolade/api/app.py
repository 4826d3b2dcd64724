"""The app factory: settings and the store are built once here and handed to every request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp

from accolade import __version__
from accolade.api import (
    analytics,
    assessments,
    audit,
    badges,
    challenges,
    errors,
    events,
    experiments,
    inbound,
    leaderboards,
    members,
    openbadges,
    program,
    quests,
    recommendations,
    references,
    referrals,
    rewards,
    webhooks,
)
from accolade.api.access import ApiContext, RateLimiter
from accolade.api.request_guard import RequestGuard
from accolade.engine.events import Event
from accolade.service import Clock, system_clock
from accolade.settings import Settings
from accolade.store.database import at_head, make_engine
from accolade.store.unit_of_work import Store
from accolade.web import assess, console, portal


def create_app(
    settings: Settings | None = None,
    store: Store | None = None,
    *,
    clock: Clock = system_clock,
    deliver_webhooks: bool | None = None,
) -> FastAPI:
    """The API. Without ``store``, it opens ``settings.database_url`` (which must already be
    migrated: `accolade serve` migrates before it starts workers)."""
    settings = settings or Settings()
    owns_store = store is None
    the_store = store or Store.open(
        settings.database_url, migrate_schema=False, pool_size=settings.db_pool_size
    )
    deliver = settings.deliver_webhooks if deliver_webhooks is None else deliver_webhooks

    lifespan = _lifespan(the_store, settings, deliver=deliver, owns_store=owns_store)
    app = _App(
        title="Accolade",
        version=__version__,
        description="Engagement engine for B2B programs: points weighted by business value, "
        "badges, tiers, explained to the last point. Every request acts on the program its "
        "API key belongs to.",
        lifespan=lifespan,
    )
    app.state.context = ApiContext(
        the_store, settings, clock, RateLimiter(settings.rate_limit_per_minute)
    )
    errors.install(app, html=(portal.HTML_ERRORS, console.HTML_ERRORS, assess.HTML_ERRORS))
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes)
    for module in (
        events,
        members,
        program,
        badges,
        openbadges,
        quests,
        challenges,
        leaderboards,
        rewards,
        referrals,
        assessments,
        references,
        webhooks,
        analytics,
        experiments,
        audit,
        inbound,
        recommendations,
    ):
        # The routers' own routes, built once at import (each with its router's prefix, tags
        # and error responses). app.include_router would wrap each router for this app and
        # rebuild every route's request and response models on its first request: ~70 ms an
        # app, paid by each worker at its first requests and by each test's app.
        app.router.routes.extend(module.router.routes)
    portal.install(app)
    console.install(app)
    assess.install(app)
    _health(app, the_store)
    _event_schema_in_openapi(app)
    return app


def _lifespan(
    store: Store, settings: Settings, *, deliver: bool, owns_store: bool
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start-up and shut-down: the request thread limit, the in-process webhook worker, the
    console's background figures, and closing the store the app opened itself."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Request handlers run on worker threads, each holding a database connection: no more
        # threads than connections, so a burst queues on the event loop instead of in the pool.
        to_thread.current_default_thread_limiter().total_tokens = settings.db_pool_size
        worker = None
        if deliver:
            from accolade.integrations.webhooks import start_in_process_worker

            worker = start_in_process_worker(store, settings)
        try:
            yield
        finally:
            if worker is not None:
                thread, stop = worker
                stop.set()
                thread.join(timeout=30)
            app.state.context.figures.close()
            if owns_store:
                store.close()

    return lifespan


class _App(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        return errors.KeepConnection(super().build_middleware_stack())


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document, without a database (docs/openapi.json)."""
    store = Store(make_engine("sqlite://"))  # in memory: building the document reads nothing
    try:
        return create_app(Settings(), store, deliver_webhooks=False).openapi()
    finally:
        store.close()


def _health(app: FastAPI, store: Store) -> None:
    @app.get("/healthz", tags=["health"], summary="The process is up")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="The database is reachable and migrated")
    def readyz() -> Any:
        try:
            ready = at_head(store.engine)
        except Exception as exc:  # any driver error means "not ready": report it, don't raise
            return JSONResponse(
                {"status": "unavailable", "reason": type(exc).__name__}, status_code=503
            )
        if not ready:
            return JSONResponse(
                {"status": "unavailable", "reason": "schema not at head: run `accolade init`"},
                status_code=503,
            )
        return {"status": "ready"}


_document: list[dict[str, Any]] = []  # built once per process: every app has the same routes


def _event_schema_in_openapi(app: FastAPI) -> None:
    """POST /v1/events reads its body itself (a bad event in a batch is one rejected result,
    not a 422 for all); its schema still comes from the Event model. Building the document
    takes ~250 ms; create_app mounts the same routers every time, so one process builds it
    once however many apps it makes."""

    def openapi() -> dict[str, Any]:
        if not _document:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {}).setdefault("schemas", {})["Event"] = (
                Event.model_json_schema(ref_template="#/components/schemas/{model}")
            )
            _document.append(schema)
        app.openapi_schema = _document[0]
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
