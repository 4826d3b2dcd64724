"""Figures kept for the console's dashboards.

A report over a long log costs what its scan of the log costs (hundreds of milliseconds on a
million events: bench/analytics.py), and a dashboard is looked at again and again while the log
moves a little. So the console keeps each report it computed, with the log's high-water mark
it was computed at (store/repositories/log.py ``high_water``: the newest log row, ledger entry
and experiment decision, and the active version):

- while the mark has not moved, the kept report is served: the same figures a new computation
  would give;
- once it has moved, the kept report is still served for ``max_age`` seconds after it was
  computed, said to be as of its time, while a fresh one is computed beside the request (one
  at a time, on one background thread);
- older than that, or asked for with ``fresh``, the report is computed in the request.

The API's analytics endpoints do not use this: they compute every time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from accolade.service import Clock, system_clock
from accolade.service.programs import active
from accolade.store.unit_of_work import Store

T = TypeVar("T")
log = logging.getLogger(__name__)

Mark = tuple[int, int, int, int]


@dataclass(frozen=True)
class Kept(Generic[T]):
    """A report and when it was computed; ``current``: the log has not moved since."""

    value: T
    computed_at: datetime
    current: bool


@dataclass
class _Entry:
    mark: Mark
    computed_at: datetime
    monotonic: float
    value: object


class Figures:
    """Reports kept per key (at most ``size``, the least recently used dropped first)."""

    def __init__(
        self,
        store: Store,
        *,
        max_age: float,
        size: int = 256,
        clock: Clock = system_clock,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.max_age = max_age
        self.size = size
        self.clock = clock
        self.monotonic = monotonic
        self._kept: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._refreshing: dict[Hashable, Future[None]] = {}
        self._lock = threading.Lock()
        self._worker: ThreadPoolExecutor | None = None  # started at the first refresh

    def get(
        self,
        program_key: str,
        key: Hashable,
        compute: Callable[[], T],
        *,
        fresh: bool = False,
    ) -> Kept[T]:
        """The report ``compute`` gives for ``key`` in program ``program_key``: kept, or
        computed now (its errors raised, nothing kept then)."""
        full = (program_key, key)
        mark = self.mark(program_key)
        with self._lock:
            entry = None if fresh else self._kept.get(full)
            if entry is not None:
                self._kept.move_to_end(full)
        if entry is not None:
            if entry.mark == mark:
                return Kept(entry.value, entry.computed_at, True)  # type: ignore[arg-type]
            if self.monotonic() - entry.monotonic <= self.max_age:
                self._refresh(full, program_key, compute)
                return Kept(entry.value, entry.computed_at, False)  # type: ignore[arg-type]
        return self._compute(full, mark, compute)

    def warm(self, program_key: str, key: Hashable, compute: Callable[[], object]) -> None:
        """Compute ``key``'s report on the background thread unless it is kept and current:
        what a dashboard's index asks for the pages it links to."""
        full = (program_key, key)
        with self._lock:
            entry = self._kept.get(full)
        if entry is None or entry.mark != self.mark(program_key):
            self._refresh(full, program_key, compute)

    def mark(self, program_key: str) -> Mark:
        with self.store.read() as uow:
            return uow.log.high_water(active(uow, program_key).id)

    def wait(self) -> None:
        """Until no report is being computed in the background (tests, shutdown)."""
        while True:
            with self._lock:
                running = list(self._refreshing.values())
            if not running:
                return
            for future in running:
                future.result()

    def close(self) -> None:
        """Stop the background thread: refreshes not started are dropped."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.shutdown(wait=True, cancel_futures=True)

    def _compute(self, full: Hashable, mark: Mark, compute: Callable[[], T]) -> Kept[T]:
        computed_at = self.clock()
        value = compute()
        with self._lock:
            self._kept[full] = _Entry(mark, computed_at, self.monotonic(), value)
            self._kept.move_to_end(full)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return Kept(value, computed_at, True)

    def _refresh(self, full: Hashable, program_key: str, compute: Callable[[], object]) -> None:
        with self._lock:
            if full in self._refreshing:
                return
            if self._worker is None:
                self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="figures")
            future = self._worker.submit(self._in_background, full, program_key, compute)
            self._refreshing[full] = future

    def _in_background(
        self, full: Hashable, program_key: str, compute: Callable[[], object]
    ) -> None:
        try:
            # the mark before the computation: a log that moves during it leaves the report
            # marked older than it is, so the next look computes it again (never the reverse)
            self._compute(full, self.mark(program_key), compute)
        except Exception:  # a refresh that fails leaves the kept report as it was
            log.exception("figures for %r could not be computed", full)
        finally:
            with self._lock:
                self._refreshing.pop(full, None)
