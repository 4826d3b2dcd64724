"""Leaderboards: where an event's effects land on each board (window, subject, score change),
where a member stands (partition, visibility), and the reward the top N get at a close.

Pure: the store keeps scores and ranks; this module says what moves them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from accolade.engine.badges import grant_badge
from accolade.engine.effects import Entry, EntryKind
from accolade.engine.events import Event
from accolade.engine.experiments import withheld_by, withhold
from accolade.engine.state import MemberState
from accolade.engine.windows import calendar_window, local_ordinal
from accolade.errors import InvalidEvent
from accolade.program.compiled import CompiledLeaderboard, CompiledProgram
from accolade.program.models import OPT_OUT_ATTRIBUTE

ALL_TIME = "all"
ROLLING = "rolling"
_FOREVER = (None, None)


class Contribution(NamedTuple):
    """An event's change to one subject's score in one window of one board."""

    board: str
    window: str  # "all", a calendar label ("2026-W47"), or "rolling"
    starts: int | None  # the window's bounds in epoch seconds (None: open)
    ends: int | None
    subject: str  # member id, team or company
    delta: int
    ts: int  # the event's time: ties go to whoever reached the score first
    day: int  # rolling boards: the event's local day (ordinal); 0 otherwise


def window_of(
    board: CompiledLeaderboard, ts: int, program: CompiledProgram
) -> tuple[str, Any, Any]:
    """(label, starts, ends) of the window of ``board`` holding ``ts``."""
    if board.window == ALL_TIME:
        return ALL_TIME, *_FOREVER
    if board.window == ROLLING:
        return ROLLING, *_FOREVER
    return _calendar(board.window, ts, program)


def _calendar(window: str, ts: int, program: CompiledProgram) -> tuple[str, int, int]:
    starts, ends, label = calendar_window(ts, window, program.zone)
    return label, starts, ends


def metric_value(board: CompiledLeaderboard, event: Event, entries: Sequence[Entry]) -> int:
    """What one evaluated event adds to a board's score (integers: a float sum is rounded)."""
    if board.action is None:
        # Points earned (lifetime): spending never lowers a score. A board's own prizes are
        # left out, or last week's winner would start this week ahead.
        return sum([e.lifetime_points for e in entries if not e.rule.startswith("leaderboard:")])
    rule = f"action:{board.action}"
    if not any(e.kind is EntryKind.EARN and e.rule == rule for e in entries):
        return 0  # only rewarded occurrences count: a capped or limited one does not
    if board.sum is None:
        return 1
    value = event.properties.get(board.sum)
    # as a challenge's sum: a value that is not a positive number below 10^15 adds nothing
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e15:
        return 0
    return round(value)


def contributions(
    program: CompiledProgram, event: Event, entries: Sequence[Entry], state: MemberState
) -> list[Contribution]:
    """The score changes of one evaluated event; ``state`` is the member's after it (a team or
    company board credits the event's own team or company, else the member's at the time)."""
    out: list[Contribution] = []
    ts = event.ts
    points: int | None = None  # shared by every points board
    windows: dict[str, tuple[str, Any, Any, int]] = {}  # per window kind, for this event
    withheld = _withheld_boards(entries) if program.experiments_covering else ()
    for board in program.leaderboards.values():
        if withheld and board.rule in withheld:
            continue
        if board.action is None:
            if points is None:
                points = metric_value(board, event, entries)
            delta = points
        else:
            delta = metric_value(board, event, entries)
        if not delta:
            continue
        if board.subject == "member":
            subject: str | None = event.member
        elif board.subject == "team":
            subject = event.team or state.team
        else:
            subject = event.company or state.company
        if subject is None:
            continue
        window = windows.get(board.window)
        if window is None:
            label, starts, ends = window_of(board, ts, program)
            day = local_ordinal(ts, program.zone) if board.window == ROLLING else 0
            window = windows[board.window] = (label, starts, ends, day)
        label, starts, ends, day = window
        # tuple.__new__: a NamedTuple's own constructor costs three times as much, per event
        out.append(_new(Contribution, (board.key, label, starts, ends, subject, delta, ts, day)))
    return out


_new = tuple.__new__


def _withheld_boards(entries: Sequence[Entry]) -> set[str]:
    """The boards whose score an experiment kept this event off (``withhold_boards``)."""
    return {
        e.rule
        for e in entries
        if e.kind is EntryKind.EXPERIMENT and e.rule.startswith("leaderboard:")
    }


def withhold_boards(
    program: CompiledProgram, state: MemberState, event: Event, entries: list[Entry]
) -> None:
    """A 0-point entry for each covered board this event would score on while the member is
    in the control group: ``contributions`` then leaves that board out. ``state`` is the
    member's after the event, ``entries`` all of the event's others."""
    for board in program.leaderboards.values():
        experiment = withheld_by(program, state, board.rule, event.ts)
        if experiment is None or not metric_value(board, event, entries):
            continue
        what = f"leaderboard '{board.key}' does not count this event"
        withhold(program, experiment, board.rule, what, event.id, entries)


class Total(NamedTuple):
    delta: int
    ts: int


TotalKey = tuple[str, str, str, int]  # (board, window, subject, day)


def add_up(totals: dict[TotalKey, Total], found: Iterable[Contribution], sign: int = 1) -> None:
    for c in found:
        key = (c.board, c.window, c.subject, c.day)
        before = totals.get(key)
        if before is None:
            totals[key] = Total(sign * c.delta, c.ts if sign > 0 else 0)
        else:
            ts = max(before.ts, c.ts) if sign > 0 else before.ts
            totals[key] = Total(before.delta + sign * c.delta, ts)


def history_totals(
    programs: Mapping[int, CompiledProgram], history: Sequence[tuple[Event, int]]
) -> tuple[dict[TotalKey, Total], dict[tuple[str, str], tuple[Any, Any]]]:
    """What a member's history (events in arrival order, each with its program version) put on
    the boards, and the bounds of each window it touched."""
    from accolade.engine.evaluate import evaluate  # evaluate imports this module

    totals: dict[TotalKey, Total] = {}
    bounds: dict[tuple[str, str], tuple[Any, Any]] = {}
    state = MemberState(history[0][0].member) if history else MemberState("")
    for event, version in history:
        program = programs[version]
        evaluation = evaluate(program, state, event)
        state = evaluation.state
        if program.leaderboards:
            found = contributions(program, event, evaluation.entries, state)
            add_up(totals, found)
            for c in found:
                bounds[(c.board, c.window)] = (c.starts, c.ends)
    return totals, bounds


def visible(state: MemberState) -> bool:
    """Whether others may see the member on boards (they always see themselves)."""
    return state.attributes.get(OPT_OUT_ATTRIBUTE) is not True


def placement(board: CompiledLeaderboard, state: MemberState) -> str | None:
    """The partition a member competes in now ("" on an unpartitioned board), or None when the
    board's eligibility (segment, tiers, stages) leaves them out."""
    if board.tiers and state.tier not in board.tiers:
        return None
    if board.stages and state.stage not in board.stages:
        return None
    attrs = state.attributes
    if board.segment and not all(c.check({}, attrs) for c in board.segment):
        return None
    if not (board.partition or board.tier_bracket):
        return ""
    values = tuple(attrs.get(name) for name in board.partition)
    if board.tier_bracket:
        values += (state.tier,)
    return _partition_key(values)


def moved(board: CompiledLeaderboard, before: MemberState, after: MemberState) -> bool:
    """Whether the member's place on ``board`` may differ between the two states (a cheap
    test of only what the board looks at: most new states only add points)."""
    if (board.tier_bracket or board.tiers) and before.tier != after.tier:
        return True
    if board.stages and before.stage != after.stage:
        return True
    if before.attributes is after.attributes:
        return False
    names = (*board.partition, *board.segment_attributes, OPT_OUT_ATTRIBUTE)
    return any(before.attributes.get(n) != after.attributes.get(n) for n in names)


def partition_key(values: Sequence[Any]) -> str:
    """A partition's stored form: its values as compact JSON, in the board's order."""
    return _partition_key(tuple(values))


@lru_cache(maxsize=4096)
def _partition_key(values: tuple[Any, ...]) -> str:
    return json.dumps(list(values), separators=(",", ":"), ensure_ascii=False)


def partition_values(board: CompiledLeaderboard, key: str) -> dict[str, Any]:
    """A stored partition as ``{attribute: value, "tier": ...}``."""
    if not key:
        return {}
    values = json.loads(key)
    names = [*board.partition, *(["tier"] if board.tier_bracket else [])]
    return dict(zip(names, values, strict=True))


def win_leaderboard(
    program: CompiledProgram,
    before: MemberState,
    state: MemberState,
    event_id: str,
    ts: int,
    props: Mapping[str, Any],
    entries: list[Entry],
) -> int:
    """A ``leaderboard.won`` event from a window's close: the board's prize for one of its top
    N. The event id is unique per board, window and member, so the log pays it once."""
    key = props.get("leaderboard")
    board = program.leaderboards.get(key) if isinstance(key, str) else None
    if board is None:
        raise InvalidEvent(
            f"no leaderboard '{key}' in this program", field="properties.leaderboard"
        )
    window = str(props.get("window", ""))
    rank = props.get("rank")
    why = f"{board.name} {window}" + (f", rank {rank}" if isinstance(rank, int) else "")
    points = board.reward_points
    entries.append(
        Entry(
            event_id,
            EntryKind.LEADERBOARD,
            board.rule,
            points,
            points,
            why,
            program.version,
            window[:16],
        )
    )
    if board.reward_badge is not None:
        points += grant_badge(
            program,
            before,
            state,
            board.reward_badge,
            event_id,
            ts,
            f"leaderboard: {why}",
            entries,
        )
    return points
