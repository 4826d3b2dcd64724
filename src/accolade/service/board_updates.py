"""Leaderboard scores moved in the transaction of the ledger entries that move them.

Ingest, reversal, replay and closes collect what their events put on the boards here, and
flush it once per chunk: a handful of bulk statements, whatever the number of events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from accolade.engine.effects import Entry
from accolade.engine.events import Event
from accolade.engine.leaderboards import (
    ROLLING,
    Total,
    TotalKey,
    add_up,
    contributions,
    history_totals,
    placement,
    visible,
)
from accolade.engine.state import MemberState
from accolade.engine.windows import local_ordinal
from accolade.program.compile import CompiledLeaderboard, CompiledProgram
from accolade.store.leaderboards_repo import ScoreChange
from accolade.store.repository import Repository

Placement = tuple[str | None, bool]


class BoardUpdates:
    """What a chunk of events puts on the boards, and the members whose place may move."""

    def __init__(self) -> None:
        self.totals: dict[TotalKey, Total] = {}
        self.bounds: dict[tuple[str, str], tuple[int | None, int | None]] = {}
        self.boards: dict[str, CompiledLeaderboard] = {}
        # external id -> (state before the chunk, state after it)
        self.members: dict[str, tuple[MemberState, MemberState]] = {}

    def add(
        self, program: CompiledProgram, event: Event, entries: Sequence[Entry], state: MemberState
    ) -> None:
        """One evaluated event; ``state`` is the member's after it."""
        if not program.leaderboards:
            return
        self.boards.update(program.leaderboards)
        found = contributions(program, event, entries, state)
        add_up(self.totals, found)
        for c in found:
            self.bounds[(c.board, c.window)] = (c.starts, c.ends)

    def member(self, external_id: str, before: MemberState, after: MemberState) -> None:
        """A member's state in this chunk: the first ``before`` and the last ``after`` count."""
        first = self.members.get(external_id)
        self.members[external_id] = (first[0] if first else before, after)

    def reversal(
        self,
        repo: Repository,
        program_id: int,
        version: Callable[[int], CompiledProgram],
        member_pk: int,
        event_id: str,
        before_log_id: int | None = None,
    ) -> None:
        """The change reversing ``event_id`` makes: the member's history without it, minus
        with it (a reversal can also move the member's later events, a cap freed)."""
        history = repo.member_history(member_pk, before_log_id)
        programs = {v: version(v) for v in {h.program_version for h in history}}
        if not any(p.leaderboards for p in programs.values()):
            return
        for p in programs.values():
            self.boards.update(p.leaderboards)
        events = [(Event.model_validate_json(h.body), h.program_version) for h in history]
        old, bounds = history_totals(programs, events)
        new, _ = history_totals(programs, [e for e in events if e[0].id != event_id])
        self.bounds.update(bounds)
        for key in old.keys() | new.keys():
            now = new.get(key, Total(0, 0))
            delta = now.delta - old.get(key, Total(0, 0)).delta
            if delta:
                add_up_one(self.totals, key, Total(delta, now.ts if delta > 0 else 0))

    def flush(
        self, repo: Repository, program_id: int, program: CompiledProgram, now: datetime
    ) -> None:
        """Write it all: window rows, rolling days, moved members, then the score deltas."""
        self.boards.update(program.leaderboards)
        if not self.boards:
            return
        self._move_members(repo, program_id)
        if not self.totals:
            return
        ids = repo.window_ids(program_id, self.bounds)
        first_days = self._rolling_first_days(repo, program_id, ids, program, now)
        changes: dict[tuple[int, str], ScoreChange] = {}
        days: list[tuple[int, int, str, int]] = []
        for (board_key, label, subject, day), (delta, ts) in self.totals.items():
            if not delta:
                continue
            window_id = ids[(board_key, label)]
            if label == ROLLING:
                if day < first_days[window_id]:
                    continue  # a late event for a day that has left the window
                days.append((window_id, day, subject, delta))
            board = self.boards[board_key]
            where = self._place(board, subject)
            key = (window_id, subject)
            earlier = changes.get(key)
            if earlier is not None:  # several days of one rolling window
                delta += earlier.delta
                ts = max(ts, earlier.ts)
            changes[key] = ScoreChange(window_id, subject, where[0], where[1], delta, ts)
        repo.add_days(days)
        repo.apply_scores([c for c in changes.values() if c.delta])

    def _place(self, board: CompiledLeaderboard, subject: str) -> Placement:
        if board.subject != "member":
            return "", True
        states = self.members.get(subject)
        if states is None:  # not in this chunk: its stored row keeps its place
            return "", True
        state = states[1]
        return placement(board, state), visible(state)

    def _move_members(self, repo: Repository, program_id: int) -> None:
        moves: list[tuple[str, str, Placement, Placement]] = []
        for external_id, (before, after) in self.members.items():
            if (
                before.attributes is after.attributes
                and before.tier == after.tier
                and (before.stage == after.stage)
            ):
                continue
            for board in self.boards.values():
                if board.subject != "member":
                    continue
                old = (placement(board, before), visible(before))
                new = (placement(board, after), visible(after))
                if old != new:
                    moves.append((board.key, external_id, old, new))
        if not moves:
            return
        windows: dict[str, list[int]] = {}
        for board_key, external_id, old, new in sorted(moves):
            if board_key not in windows:
                windows[board_key] = [w.id for w in repo.board_windows(program_id, board_key)]
            repo.move_subject(windows[board_key], external_id, old, new)

    def _rolling_first_days(
        self,
        repo: Repository,
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
        for w in repo.board_windows(program_id, labels=[ROLLING]):
            if w.id not in rolling:
                continue
            last_day = w.last_day
            if last_day is None:
                last_day = local_ordinal(int(now.timestamp()), program.zone)
                repo.set_last_day(w.id, last_day)
            first[w.id] = last_day - rolling[w.id].days + 1
        return first


def add_up_one(totals: dict[TotalKey, Total], key: TotalKey, total: Total) -> None:
    before = totals.get(key)
    if before is None:
        totals[key] = total
    else:
        totals[key] = Total(before.delta + total.delta, max(before.ts, total.ts))
