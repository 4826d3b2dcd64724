"""Who is calling (API key or member token), what they may do, and how often."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from accolade.api.errors import RateLimited
from accolade.errors import Unauthenticated
from accolade.service import Clock
from accolade.service.figures import Figures
from accolade.service.keys import Principal, authenticate, server_secret
from accolade.settings import Settings
from accolade.store.unit_of_work import Store

# A credential checked within this many seconds is not looked up again: revoking a key
# takes effect within this time on every worker (a member token's expiry, at once).
_TRUST_SECONDS = 5.0
_MAX_BUCKETS = 100_000  # beyond it, full buckets are forgotten (they are what a new one is)


class RateLimiter:
    """A token bucket per credential, in this process: ``per_minute`` requests a minute,
    with bursts up to that many."""

    def __init__(self, per_minute: int, now: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._now = now
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        """Spend one request of ``key``'s budget; RateLimited when none is left."""
        self._spend(key, 1.0, check=True)

    def check(self, key: str) -> None:
        """RateLimited when ``key`` has no request left; spends nothing."""
        self._spend(key, 0.0, check=True)

    def charge(self, key: str) -> None:
        """Spend one request of ``key``'s budget after the fact (never below empty)."""
        self._spend(key, 1.0, check=False)

    def _spend(self, key: str, cost: float, *, check: bool) -> None:
        if self.per_minute <= 0:
            return
        rate = self.per_minute / 60.0
        full = float(self.per_minute)
        with self._lock:
            now = self._now()
            tokens, at = self._buckets.get(key, (full, now))
            tokens = min(full, tokens + (now - at) * rate)
            if check and tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise RateLimited(max(1, math.ceil((1.0 - tokens) / rate)))
            self._buckets[key] = (max(0.0, tokens - cost), now)
            if len(self._buckets) > _MAX_BUCKETS:
                self._forget_full(now, rate, full)

    def _forget_full(self, now: float, rate: float, full: float) -> None:
        self._buckets = {
            k: (tokens, at)
            for k, (tokens, at) in self._buckets.items()
            if tokens + (now - at) * rate < full
        }


@dataclass
class ApiContext:
    """What every request needs, built once by the app factory."""

    store: Store
    settings: Settings
    clock: Clock
    limiter: RateLimiter
    # Requests whose credential was refused, per client address: checked before a credential
    # is looked up, so unknown keys cannot make one database lookup each without limit.
    failures: RateLimiter = field(init=False)
    # The server secret member tokens are signed with: resolved once, at start.
    secret: bytes = field(init=False, repr=False)
    _trusted: dict[str, tuple[float, Principal]] = field(default_factory=dict)
    # Portal session cookies checked within the trust window: cookie -> (when, session), kept
    # by web/portal/web.py (Any: this floor may not import the portal's PortalSession).
    portal_sessions: dict[str, tuple[float, Any]] = field(default_factory=dict)
    # Console session cookies checked within the trust window: cookie -> (when, (session,
    # user)), kept by web/console/web.py (Any, as above).
    console_sessions: dict[str, tuple[float, Any]] = field(default_factory=dict)
    # The console dashboards' reports, kept while the log has not moved (service/figures.py).
    figures: Figures = field(init=False)

    def __post_init__(self) -> None:
        self.failures = RateLimiter(self.settings.failed_auth_per_minute)
        self.figures = Figures(
            self.store, max_age=self.settings.console_figures_max_age_seconds, clock=self.clock
        )
        given = self.settings.secret_key
        self.secret = server_secret(
            given.get_secret_value() if given else None, self.store.engine.url
        )

    def trusted(self, credential: str) -> Principal | None:
        """The caller behind ``credential`` if it was checked within the trust window and,
        for a member token, has not expired since."""
        known = self._trusted.get(credential)
        if known is None or time.monotonic() - known[0] >= _TRUST_SECONDS:
            return None
        expires = known[1].expires_at
        if expires is not None and self.clock() >= expires:
            return None  # looked up again, and refused as expired
        return known[1]

    def principal(self, credential: str) -> Principal:
        """The caller behind ``credential``, looked up in the database unless trusted."""
        found = self.trusted(credential)
        if found is not None:
            return found
        now = time.monotonic()
        found = authenticate(self.store, credential, self.clock, secret=self.secret)
        if len(self._trusted) > 10_000:
            self._trusted.clear()
        self._trusted[credential] = (now, found)
        return found


# The dependencies below are coroutines: FastAPI runs a plain function dependency on a worker
# thread, and two thread hops per request cost more than everything they do.


async def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.context
    return ctx


_bearer = HTTPBearer(
    auto_error=False,
    description="An API key (acc_...) created with `accolade keys create`, or a member token "
    "(mt_...) minted with POST /v1/members/{member_id}/token.",
)


async def caller(
    request: Request,
    ctx: Annotated[ApiContext, Depends(context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise Unauthenticated(
            "send an API key: Authorization: Bearer acc_...", field="authorization"
        )
    credential = credentials.credentials
    principal = ctx.trusted(credential)
    if principal is None:  # a database lookup: off the event loop
        address = request.client.host if request.client else ""
        ctx.failures.check(address)
        try:
            principal = await run_in_threadpool(ctx.principal, credential)
        except Unauthenticated:
            ctx.failures.charge(address)
            raise
    ctx.limiter.take(principal.key_id + (f"/{principal.member}" if principal.member else ""))
    return principal


def scoped(scope: str) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """A dependency: the caller, who must hold ``scope``."""

    async def check(principal: Annotated[Principal, Depends(caller)]) -> Principal:
        principal.require(scope)
        return principal

    return check


Ctx = Annotated[ApiContext, Depends(context)]
Caller = Annotated[Principal, Depends(caller)]
