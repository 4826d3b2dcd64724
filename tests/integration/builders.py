"""Builders for integration tests: the demo program, events, a fixed clock, and projections
of the stored state that leave out what legitimately differs (row ids, recorded_at)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from accolade.service.ingest import Outcome, ingest_batch
from accolade.service.programs import Published, publish
from accolade.store.tables import (
    activity_members,
    engagement_days,
    engagement_members,
    events,
    leaderboard_buckets,
    leaderboard_days,
    leaderboard_scores,
    leaderboard_windows,
    ledger_entries,
    member_badges,
    members,
    metadata,
    programs,
)
from accolade.store.unit_of_work import Store

PROGRAM = "partner"
DEMO_SOURCE = (Path(__file__).parents[2] / "examples" / "partner-program.yaml").read_text()
# 09:00 in New York on a Monday: every "one day" scenario stays inside that program day.
MONDAY = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def clock_at(when: datetime = NOW):
    """An injected clock that always says ``when``."""
    return lambda: when


class MovingClock:
    """An injected clock at ``NOW`` that moves only when told (retries, backoff, windows)."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def demo_with(old: str, new: str) -> str:
    """The demo program with one piece of text replaced (a new version of it)."""
    assert old in DEMO_SOURCE, old
    return DEMO_SOURCE.replace(old, new, 1)


def publish_demo(store: Store, source: str = DEMO_SOURCE) -> Published:
    return publish(store, source, clock=clock_at())


def event(
    id: str,
    type: str,
    member: str = "alice",
    at: datetime = MONDAY,
    **properties: Any,
) -> dict[str, Any]:
    return {
        "id": id,
        "type": type,
        "member": member,
        "occurred_at": at.isoformat(),
        "properties": properties,
    }


def video(id: str, member: str = "alice", at: datetime = MONDAY, seconds: int = 300):
    return event(id, "video.watched", member, at, video=f"v-{id}", duration_seconds=seconds)


def quiz(id: str, member: str = "alice", at: datetime = MONDAY):
    return event(id, "quiz.passed", member, at, quiz=f"q-{id}", score=90)


def lead(id: str, member: str = "alice", at: datetime = MONDAY, qualified: bool = True):
    return event(id, "lead.registered", member, at, lead=f"l-{id}", qualified=qualified)


def deal(id: str, member: str = "alice", at: datetime = MONDAY, amount_usd: int = 10_000):
    return event(id, "deal.won", member, at, deal=f"d-{id}", amount_usd=amount_usd)


def quizzes(n: int, member: str = "alice", start: datetime = MONDAY, prefix: str = "quiz"):
    """``n`` passed quizzes two hours apart: each clears the one-hour cooldown."""
    return [quiz(f"{prefix}-{i}", member, start + timedelta(hours=2 * i)) for i in range(n)]


def send(store: Store, *sent: object, when: datetime = NOW) -> list[Outcome]:
    """One batch (one transaction), positions numbered from 1."""
    return ingest_batch(
        store, PROGRAM, [(i, e) for i, e in enumerate(sent, start=1)], clock=clock_at(when)
    )


def row_counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
            for t in metadata.sorted_tables
        }


def member_row(store: Store, member: str) -> Any:
    with store.engine.connect() as conn:
        return conn.execute(select(members).where(members.c.external_id == member)).first()


@dataclass(frozen=True)
class Line:
    event_id: str
    cause: str  # "event:<id>" or "reversal:<id>": the log row that wrote it
    kind: str
    rule: str
    period: str
    points: int
    lifetime_points: int
    version: int
    reason: str


def ledger_of(store: Store, member: str) -> list[Line]:
    cause = aliased(events)
    subject = aliased(events)
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                ledger_entries,
                subject.c.event_id.label("ref"),
                cause.c.kind.label("ckind"),
                cause.c.event_id.label("cref"),
            )
            .join(subject, subject.c.id == ledger_entries.c.event_id)
            .join(cause, cause.c.id == ledger_entries.c.cause_id)
            .join(members, members.c.id == ledger_entries.c.member_id)
            .where(members.c.external_id == member)
            .order_by(ledger_entries.c.id)
        )
        return [
            Line(
                r.ref,
                f"{r.ckind}:{r.cref}",
                r.kind,
                r.rule,
                r.period,
                int(r.points),
                int(r.lifetime_points),
                int(r.program_version),
                r.reason,
            )
            for r in rows
        ]


def badges_of(store: Store, member: str) -> list[tuple[str, str, str]]:
    """(badge, period, id of the event that earned it) the member holds now."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(member_badges.c.badge, member_badges.c.period, events.c.event_id)
            .join(members, members.c.id == member_badges.c.member_id)
            .join(events, events.c.id == member_badges.c.event_id)
            .where(members.c.external_id == member)
            .order_by(member_badges.c.badge, member_badges.c.period)
        )
        return [tuple(r) for r in rows]


def ledger_sums(store: Store, member: str) -> tuple[int, int]:
    """(balance, lifetime) as the repository sums them from the member's ledger."""
    row = member_row(store, member)
    with store.transaction() as uow:
        return uow.ledger.ledger_sums(row.id)


def assert_balances_match_ledger(store: Store) -> None:
    """Every member's balance and lifetime equal the sums of their own ledger entries."""
    with store.engine.connect() as conn:
        rows = list(conn.execute(select(members)))
    assert rows, "no members to check"
    for r in rows:
        with store.transaction() as uow:
            balance, lifetime = uow.ledger.ledger_sums(r.id)
        assert (int(r.balance), int(r.lifetime)) == (balance, lifetime), r.external_id


def _progress(raw: str | None) -> Any:
    if raw is None:
        return None
    data = json.loads(raw)
    data["badges"] = sorted(map(tuple, data.get("badges", [])))
    return data


# Columns that differ between two equal histories: row ids, and when a row was written.
# Bookkeeping of writes, not state: ids, write times and the save counter.
_NOT_PROJECTED = {
    "id",
    "program_id",
    "member_id",
    "reversed_by",
    "received_at",
    "updated_at",
    "revision",
}


def _plain(column: str, value: Any) -> Any:
    if column == "progress":
        return _progress(value)
    if column == "attributes" and isinstance(value, str):
        return json.loads(value)
    return value


def projection(store: Store) -> dict[str, Any]:
    """Everything derived from the log, keyed by what a user sees: every stored column but
    row ids and write times (so a column added later is compared too)."""
    reverser = aliased(events)
    with store.engine.connect() as conn:
        people = {
            r.external_id: {
                c: _plain(c, v) for c, v in r._mapping.items() if c not in _NOT_PROJECTED
            }
            for r in conn.execute(select(members).order_by(members.c.external_id))
        }
        log = [
            {c: v for c, v in r._mapping.items() if c not in _NOT_PROJECTED}
            for r in conn.execute(
                select(
                    events,
                    members.c.external_id.label("member"),
                    reverser.c.kind.label("reversed_by_kind"),
                    reverser.c.event_id.label("reversed_by_event"),
                )
                .join(members, members.c.id == events.c.member_id)
                .outerjoin(reverser, reverser.c.id == events.c.reversed_by)
                .order_by(events.c.id)
            )
        ]
        active = [tuple(r) for r in conn.execute(select(programs.c.key, programs.c.active_version))]
    return {
        "programs": active,
        "members": people,
        "badges": {m: badges_of(store, m) for m in people},
        "ledger": {m: ledger_of(store, m) for m in people},
        "log": log,
        "leaderboards": leaderboard_rows(store),
    }


def leaderboard_rows(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every leaderboard row, keyed by board and window label instead of window ids; scores,
    buckets and day scores at 0 are left out (they rank, count and hold nothing)."""
    w = leaderboard_windows
    with store.engine.connect() as conn:
        names = {r.id: (r.board, r.label) for r in conn.execute(select(w))}
        windows = sorted(
            (r.board, r.label, r.starts_at, r.ends_at, r.last_day, r.closed_at, r.standings)
            for r in conn.execute(select(w))
        )
        scores = sorted(
            (*names[r.window_id], r.subject, r.partition_key, r.visible, r.score, r.reached_at)
            for r in conn.execute(select(leaderboard_scores))
            if r.score
        )
        buckets = sorted(
            (*names[r.window_id], r.partition_key, r.bucket, r.count)
            for r in conn.execute(select(leaderboard_buckets))
            if r.count
        )
        days = sorted(
            (*names[r.window_id], r.day, r.subject, r.score)
            for r in conn.execute(select(leaderboard_days))
            if r.score
        )
    return {"windows": windows, "scores": scores, "buckets": buckets, "days": days}


def member_states(store: Store) -> dict[str, tuple[int, int, str | None]]:
    with store.engine.connect() as conn:
        return {
            r.external_id: (int(r.lifetime), int(r.balance), r.tier)
            for r in conn.execute(select(members))
        }


def positions(outcomes: Sequence[Outcome]) -> list[int]:
    return [o.position for o in outcomes]


def statuses(outcomes: Iterable[Outcome]) -> list[str]:
    return [o.status.value for o in outcomes]


def activity_rollup(store: Store) -> dict[tuple[Any, ...], set[int]]:
    """The activity rollup as member ids per (program, zone, span, first day, type), a key's
    slots and blocks merged."""
    found: dict[tuple[Any, ...], set[int]] = {}
    with store.engine.connect() as conn:
        for r in conn.execute(activity_members.select()):
            members = found.setdefault((r.program_id, r.zone, r.span, r.first_day, r.type), set())
            for w in range(16):
                word = getattr(r, f"w{w}") & ((1 << 64) - 1)
                members.update(r.block * 1024 + 64 * w + b for b in range(64) if word >> b & 1)
    return found


def engagement_rollup(store: Store) -> list[list[tuple[Any, ...]]]:
    """The rollup's rows, a key's slots (PostgreSQL's writers' shares of it) merged."""
    days: dict[tuple[Any, ...], list[Any]] = {}
    members: dict[tuple[Any, ...], list[int]] = {}
    with store.engine.connect() as conn:
        for r in conn.execute(engagement_days.select()):
            key = (r.program_id, r.zone, r.day, r.rule)
            cell = days.setdefault(key, [r.kind, 0, 0])
            cell[0] = min(cell[0], r.kind)
            cell[1] += r.events
            cell[2] += r.points
        for r in conn.execute(engagement_members.select()):
            key = (r.program_id, r.zone, r.span, r.first_day, r.rule, r.block)
            words = members.setdefault(key, [0] * 16)
            for w in range(16):
                words[w] |= getattr(r, f"w{w}")
    return [
        sorted((*k, *v) for k, v in days.items()),
        sorted((*k, *v) for k, v in members.items() if any(v)),
    ]
