"""What every connector's HTTP client shares: one httpx client it owns and closes (as a
context manager), and how a target's Retry-After is read."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import httpx

MAX_REASON = 500  # characters of a target's answer kept as a delivery's reason
MAX_RETRY_AFTER = 3600.0  # a Retry-After beyond an hour is taken as an hour


class OwnsClient:
    """A connector's client: ``client`` is closed with it."""

    client: httpx.Client

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def retry_after(response: httpx.Response) -> float | None:
    """The seconds a target asks to wait (0 to an hour); None when it gives none, or an HTTP
    date (the usual backoff applies then)."""
    value = response.headers.get("retry-after")
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER) if value is not None else None
    except ValueError:
        return None
