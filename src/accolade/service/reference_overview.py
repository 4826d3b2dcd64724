"""What the console's operations page shows of reference requests: the newest requests with
their asks by status, and the advocates at or one ask short of one of the program's limits
(the next request will pass them over)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from accolade.service import Clock, system_clock
from accolade.service.programs import active
from accolade.store.unit_of_work import Store


@dataclass(frozen=True)
class RequestSummary:
    request_id: str
    requested_by: str
    criteria: dict[str, Any]
    created_at: datetime
    asks: int
    waiting: int  # asked, no answer yet
    accepted: int
    completed: int


@dataclass(frozen=True)
class NearLimit:
    member: str
    asks: int  # asks that count within the limit's window
    limit: int  # the limit's count
    within_days: int  # the limit's window
    at_limit: bool  # true: the member may not be asked until an ask leaves the window


@dataclass(frozen=True)
class ReferenceOverview:
    takes_requests: bool  # false: the program has no `references`
    requests: list[RequestSummary]
    near_limit: list[NearLimit]


def reference_overview(
    store: Store, program_key: str, *, limit: int = 20, clock: Clock = system_clock
) -> ReferenceOverview:
    now = clock()
    with store.read() as uow:
        program = active(uow, program_key)
        policy = program.compiled.references
        if policy is None:
            return ReferenceOverview(False, [], [])
        rows = uow.references.recent_requests(program.id, limit)
        near: dict[str, NearLimit] = {}
        for count, seconds in policy.limits:
            since = now - timedelta(seconds=seconds)
            for r in uow.references.asks_counted_since(program.id, since, max(1, count - 1)):
                found = NearLimit(r.member, int(r.asks), count, seconds // 86400, r.asks >= count)
                earlier = near.get(r.member)
                if earlier is None or (found.at_limit and not earlier.at_limit):
                    near[r.member] = found
        requests = [
            RequestSummary(
                r.request_id,
                r.requested_by,
                json.loads(r.criteria),
                uow.references.as_time(r.created_at),
                int(r.asks or 0),
                int(r.waiting or 0),
                int(r.accepted or 0),
                int(r.completed or 0),
            )
            for r in rows
        ]
    ordered = sorted(near.values(), key=lambda n: (not n.at_limit, -n.asks, n.member))
    return ReferenceOverview(True, requests, ordered)
