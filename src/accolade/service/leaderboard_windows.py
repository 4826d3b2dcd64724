"""The scheduled work on leaderboard windows: rolling the days that left a rolling window out of
it, and closing calendar windows that have ended with their final standings and prizes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from accolade.engine.leaderboards import ALL_TIME, ROLLING
from accolade.engine.windows import local_ordinal
from accolade.errors import AccoladeError
from accolade.program.compiled import LEADERBOARD_WON, CompiledLeaderboard
from accolade.service import Clock, once_more_on_conflict, system_clock
from accolade.service.ingest import apply_events, parse_records
from accolade.service.leaderboards import (
    Row,
    Window,
    names_in,
    ranked_rows,
    rolling_window,
    window_view,
)
from accolade.service.programs import ActiveProgram, active
from accolade.store.repositories.leaderboards import BoardWindow
from accolade.store.unit_of_work import Store, UnitOfWork

# How many of each partition a close keeps as the final standings (more if the prize goes
# further down).
STANDINGS_KEPT = 10


@dataclass(frozen=True)
class Rolled:
    board: str
    window: Window
    moved: int  # subjects whose score changed


@dataclass(frozen=True)
class Closed:
    board: str
    window: Window
    partitions: int
    paid: int  # members paid the board's prize


@dataclass(frozen=True)
class CloseReport:
    rolled: list[Rolled]
    closed: list[Closed]


def close_windows(store: Store, program_key: str, clock: Clock = system_clock) -> CloseReport:
    """Roll every rolling window forward to today (days that left it are subtracted) and close
    every calendar window that has ended: its final standings are kept, and its prize paid to
    each partition's top N (leaderboard.won events in the log, once: closing again pays
    nobody). One transaction."""
    return once_more_on_conflict(lambda: _close_once(store, program_key, clock()))


def _close_once(store: Store, program_key: str, now: datetime) -> CloseReport:
    with store.transaction() as uow:
        program = active(uow, program_key)
        rolled = _roll(uow, program, int(now.timestamp()))
        closed, won = _close_ended(uow, program, now)
        if won:
            outcomes = apply_events(
                uow, program, parse_records(list(enumerate(won, 1)), reserved=True), now
            )
            refused = [o for o in outcomes if o.status.value == "rejected"]
            if refused:  # never record a close that did not pay its winners
                raise AccoladeError(f"closing could not pay a winner: {refused[0].result}")
        return CloseReport(rolled, closed)


def _roll(uow: UnitOfWork, program: ActiveProgram, ts: int) -> list[Rolled]:
    """Move each rolling board's window to end today, once a day."""
    compiled = program.compiled
    rolled: list[Rolled] = []
    today = local_ordinal(ts, compiled.zone)
    rolling = [b for b in compiled.leaderboards.values() if b.window == ROLLING]
    ids = uow.leaderboards.window_ids(program.id, {(b.key, ROLLING): (None, None) for b in rolling})
    for board in rolling:
        window_id = ids[(board.key, ROLLING)]
        stored = uow.leaderboards.board_windows(program.id, board.key, [ROLLING])[0]
        if stored.last_day is not None and stored.last_day >= today:
            continue
        moved = 0
        if stored.last_day is not None:
            moved = uow.leaderboards.roll_days(window_id, today - board.days + 1)
        uow.leaderboards.set_last_day(window_id, today)
        rolled.append(Rolled(board.key, rolling_window(board, today, compiled), moved))
    return rolled


def _close_ended(
    uow: UnitOfWork, program: ActiveProgram, now: datetime
) -> tuple[list[Closed], list[dict[str, Any]]]:
    """Close each calendar window that has ended, keeping its final standings; the prize
    events of its winners (``reward_top``), to be ingested in the same transaction."""
    closed: list[Closed] = []
    won: list[dict[str, Any]] = []
    for board in program.compiled.leaderboards.values():
        if board.window in (ALL_TIME, ROLLING):
            continue
        for w in uow.leaderboards.board_windows(program.id, board.key):
            if w.closed_at is not None or w.ends_at is None or w.ends_at > now:
                continue
            standings, winners = _final_standings(uow, program, board, w)
            won += winners
            if not uow.leaderboards.close_window(
                w.id, now, json.dumps(standings, ensure_ascii=False)
            ):
                continue
            paid = sum(
                1
                for e in won
                if e["properties"]["window"] == w.label
                and e["properties"]["leaderboard"] == board.key
            )
            closed.append(
                Closed(board.key, replace(window_view(w), closed_at=now), len(standings), paid)
            )
    return closed, won


def _final_standings(
    uow: UnitOfWork, program: ActiveProgram, board: CompiledLeaderboard, w: BoardWindow
) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """A window's top rows per partition (as many as its prizes need, at least
    STANDINGS_KEPT), and the prize events of its first ``reward_top``."""
    kept = max(STANDINGS_KEPT, board.reward_top or 0)
    standings: dict[str, list[dict[str, Any]]] = {}
    won: list[dict[str, Any]] = []
    for key in uow.rankings.partitions(w.id):
        found, names, _ = uow.rankings.top(
            w.id, key, kept, 0, board.min_score, names_in(program, board), with_total=False
        )
        rows = ranked_rows(uow, w.id, key, found, names, at_top=True)
        standings[key] = [r.__dict__ for r in rows]
        if board.reward_top:  # the first N in board order: ties by who got there first
            won += [_won_event(board, w, r, key) for r in rows[: board.reward_top]]
    return standings, won


def _won_event(board: CompiledLeaderboard, w: BoardWindow, row: Row, key: str) -> dict[str, Any]:
    assert w.ends_at is not None
    digest = hashlib.sha256(row.subject.encode()).hexdigest()[:32]
    properties: dict[str, Any] = {"leaderboard": board.key, "window": w.label, "rank": row.rank}
    if key:
        properties["partition"] = key
    return {
        "id": f"{LEADERBOARD_WON}:{board.key}:{w.label}:{digest}",
        "type": LEADERBOARD_WON,
        "member": row.subject,
        "occurred_at": w.ends_at.isoformat(),
        "properties": properties,
    }
