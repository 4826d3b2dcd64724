"""Leaderboard scores moved in the transaction of the ledger entries that move them.

Ingest, reversal, replay and closes collect what their events put on the boards here, and
flush it once per chunk: a handful of bulk statements, whatever the number of events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from accolade.engine.effects import Entry
from accolade.engine.events import Event, parse_event
from accolade.engine.leaderboards import (
    ROLLING,
    Total,
    TotalKey,
    contributions,
    history_totals,
    moved,
    placement,
    visible,
)
from accolade.engine.state import MemberState
from accolade.engine.windows import local_ordinal
from accolade.program.compiled import CompiledLeaderboard, CompiledProgram
from accolade.store.repositories.leaderboards import ScoreChange
from accolade.store.unit_of_work import UnitOfWork

Placement = tuple[str | None, bool]


class BoardUpdates:
    """What a chunk of events puts on the boards, and the members whose place may move."""

    def __init__(self) -> None:
        self.totals: dict[TotalKey, Total] = {}
        self.bounds: dict[tuple[str, str], tuple[int | None, int | None]] = {}
        self.boards: dict[str, CompiledLeaderboard] = {}
        self._versions: set[int] = set()
        # external id -> (state before the chunk, state after it)
        self.members: dict[str, tuple[MemberState, MemberState]] = {}

    def add(
        self, program: CompiledProgram, event: Event, entries: Sequence[Entry], state: MemberState
    ) -> None:
        """One evaluated event; ``state`` is the member's after it."""
        if not program.leaderboards:
            return
        if program.version not in self._versions:  # once per version, not per event
            self._versions.add(program.version)
            self.boards.update(program.leaderboards)
        totals, bounds = self.totals, self.bounds
        # unpacked, not by attribute: this runs per event and board on the ingest hot path
        for board, window, starts, ends, subject, delta, ts, day in contributions(
            program, event, entries, state
        ):
            key = (board, window, subject, day)
            before = totals.get(key)
            if before is None:
                totals[key] = Total(delta, ts)
                if (board, window) not in bounds:
                    bounds[(board, window)] = (starts, ends)
            else:
                totals[key] = Total(before.delta + delta, ts if ts > before.ts else before.ts)

    def member(self, external_id: str, before: MemberState, after: MemberState) -> None:
        """A member's state in this chunk: the first ``before`` and the last ``after`` count."""
        first = self.members.get(external_id)
        self.members[external_id] = (first[0] if first else before, after)

    def reversal(
        self,
        uow: UnitOfWork,
        program_id: int,
        version: Callable[[int], CompiledProgram],
        member_pk: int,
        event_id: str,
        before_log_id: int | None = None,
    ) -> None:
        """The change reversing ``event_id`` makes: the member's history without it, minus
        with it (a reversal can also move the member's later events, a cap freed)."""
        history = uow.log.member_history(member_pk, before_log_id)
        programs = {v: version(v) for v in {h.program_version for h in history}}
        if not any(p.leaderboards for p in programs.values()):
            return
        for p in programs.values():
            self.boards.update(p.leaderboards)
        events = [(parse_event(h.body), h.program_version) for h in history]
        old, bounds = history_totals(programs, events)
        new, _ = history_totals(programs, [e for e in events if e[0].id != event_id])
        self.bounds.update(bounds)
        for key in old.keys() | new.keys():
            now = new.get(key, Total(0, 0))
            delta = now.delta - old.get(key, Total(0, 0)).delta
            if delta:
                add_up_one(self.totals, key, Total(delta, now.ts if delta > 0 else 0))

    def flush(
        self, uow: UnitOfWork, program_id: int, program: CompiledProgram, now: datetime
    ) -> None:
        """Write it all: window rows, rolling days, moved members, then the score deltas."""
        self.boards.update(program.leaderboards)
        if not self.boards:
            return
        self._move_members(uow, program_id)
        if not self.totals:
            return
        ids = uow.leaderboards.window_ids(program_id, self.bounds)
        first_days = self._rolling_first_days(uow, program_id, ids, program, now)
        # Each member's visibility worked out once: this loop runs per subject and board of
        # every chunk.
        changes: dict[tuple[int, str], ScoreChange] = {}
        days: list[tuple[int, int, str, int]] = []
        boards = self.boards
        members = self.members
        shown: dict[str, bool] = {}
        for (board_key, label, subject, day), (delta, ts) in self.totals.items():
            if not delta:
                continue
            window_id = ids[(board_key, label)]
            if label == ROLLING:
                if day < first_days[window_id]:
                    continue  # a late event for a day that has left the window
                days.append((window_id, day, subject, delta))
            key = (window_id, subject)
            earlier = changes.get(key)
            if earlier is not None:  # several days of one rolling window
                changes[key] = (*earlier[:4], earlier[4] + delta, max(ts, earlier[5]))
                continue
            board = boards[board_key]
            states = members.get(subject) if board.subject == "member" else None
            if states is None:  # a team or company; or a member's row that keeps its place
                changes[key] = (window_id, subject, "", True, delta, ts)
                continue
            seen = shown.get(subject)
            if seen is None:
                seen = shown[subject] = visible(states[1])
            where = placement(board, states[1]) if board.placed else ""
            changes[key] = (window_id, subject, where, seen, delta, ts)
        uow.leaderboards.add_days(days)
        uow.leaderboards.apply_scores([c for c in changes.values() if c[4]])

    def _move_members(self, uow: UnitOfWork, program_id: int) -> None:
        """Members whose partition, eligibility or visibility changed in the chunk take their
        stored rows with them."""
        member_boards = [b for b in self.boards.values() if b.subject == "member"]
        if not member_boards:
            return
        moves: list[tuple[str, str, Placement, Placement]] = []
        for external_id, (before, after) in self.members.items():
            if (
                before.attributes is after.attributes
                and before.tier == after.tier
                and (before.stage == after.stage)
            ):
                continue
            for board in member_boards:
                if not moved(board, before, after):
                    continue
                old = (placement(board, before) if board.placed else "", visible(before))
                new = (placement(board, after) if board.placed else "", visible(after))
                if old != new:
                    moves.append((board.key, external_id, old, new))
        if not moves:
            return
        by_board: dict[str, list[tuple[str, Placement, Placement]]] = {}
        for board_key, external_id, old, new in moves:
            by_board.setdefault(board_key, []).append((external_id, old, new))
        for board_key in sorted(by_board):
            windows = [w.id for w in uow.leaderboards.board_windows(program_id, board_key)]
            uow.leaderboards.move_subjects(windows, by_board[board_key])

    def _rolling_first_days(
        self,
        uow: UnitOfWork,
        program_id: int,
        ids: dict[tuple[str, str], int],
        program: CompiledProgram,
        now: datetime,
    ) -> dict[int, int]:
        """Each rolling window's first local day; a window new to the store ends today."""
        rolling = {ids[key]: self.boards[key[0]] for key in ids if key[1] == ROLLING}
        if not rolling:
            return {}
        first: dict[int, int] = {}
        for w in uow.leaderboards.board_windows(program_id, labels=[ROLLING]):
            if w.id not in rolling:
                continue
            last_day = w.last_day
            if last_day is None:
                last_day = local_ordinal(int(now.timestamp()), program.zone)
                uow.leaderboards.set_last_day(w.id, last_day)
            first[w.id] = last_day - rolling[w.id].days + 1
        return first


def add_up_one(totals: dict[TotalKey, Total], key: TotalKey, total: Total) -> None:
    before = totals.get(key)
    if before is None:
        totals[key] = total
    else:
        totals[key] = Total(before.delta + total.delta, max(before.ts, total.ts))
