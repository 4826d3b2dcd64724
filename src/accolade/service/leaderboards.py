"""Leaderboards as members and program owners read them: the boards, a page of one (top N),
and a standing with the ranks around it. Closing windows is in leaderboard_windows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from accolade.engine.leaderboards import (
    ALL_TIME,
    ROLLING,
    partition_key,
    partition_values,
    placement,
    visible,
    window_of,
)
from accolade.engine.windows import calendar_window, local_ordinal
from accolade.errors import InvalidInput, NotFound
from accolade.program.compiled import CompiledLeaderboard, CompiledProgram
from accolade.service import Clock, system_clock
from accolade.service.members import member_of
from accolade.service.programs import ActiveProgram, active, active_with_member
from accolade.store.repositories.leaderboards import BoardWindow
from accolade.store.repositories.rankings import Ranked, Standing
from accolade.store.unit_of_work import Store, UnitOfWork


@dataclass(frozen=True)
class Window:
    label: str  # all | rolling | 2026-W47 | 2026-11 | ...
    starts_at: datetime | None
    ends_at: datetime | None  # exclusive
    closed_at: datetime | None = None


@dataclass(frozen=True)
class Row:
    rank: int  # standard competition rank: ties share it (1, 2, 2, 4)
    subject: str  # member id, team or company
    name: str  # display name: a member's `name` attribute, else the subject
    score: int


@dataclass(frozen=True)
class BoardPage:
    key: str
    name: str
    subject: str
    metric: str
    window: Window
    partition: dict[str, Any]
    total: int  # ranked in this partition
    rows: list[Row]
    # a closed window: each partition's final standings as the close recorded them
    final: list[Row] | None = None


@dataclass(frozen=True)
class SubjectStanding:
    key: str
    name: str
    subject: str
    window: Window
    partition: dict[str, Any] | None  # None: outside the board's segment
    score: int
    ranked: bool  # on the board: in its segment, scoring at least its minimum
    rank: int | None
    total: int
    percentile: float | None  # share of the partition at or below this rank, in percent
    gap: int | None  # points to the next rank up (None at rank 1)
    visible: bool  # False: opted out; others do not see this subject
    above: list[Row] = field(default_factory=list)  # nearest first
    below: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class BoardSummary:
    key: str
    name: str
    description: str | None
    subject: str
    metric: str
    window: str
    partition: list[str]
    reward: str | None
    windows: list[Window]


def partition_pairs(values: Sequence[str]) -> dict[str, str]:
    """``region:EMEA`` query values (the API's and the portal's form) as ``{"region": "EMEA"}``."""
    out: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition(":")
        if not sep or not name:
            raise InvalidInput(f"'{value}' is not name:value (e.g. region:EMEA)", field="partition")
        out[name] = rest
    return out


def metric_text(board: CompiledLeaderboard) -> str:
    if board.action is None:
        return "points"
    if board.sum is None:
        return f"count of {board.action}"
    return f"sum of {board.sum} of {board.action}"


def boards(store: Store, program_key: str) -> list[BoardSummary]:
    """Every board of the active program with the windows it has scores in."""
    with store.read() as uow:
        program = active(uow, program_key)
        windows: dict[str, list[Window]] = {}
        for w in uow.leaderboards.board_windows(program.id):
            windows.setdefault(w.board, []).append(window_view(w))
        return [
            BoardSummary(
                key=b.key,
                name=b.name,
                description=b.description,
                subject=b.subject,
                metric=metric_text(b),
                window=b.window if b.window != ROLLING else f"{b.days}d",
                partition=[*b.partition, *(["tier"] if b.tier_bracket else [])],
                reward=(
                    f"top {b.reward_top}: {b.reward_points:,} points"
                    + (f" and {b.reward_badge}" if b.reward_badge else "")
                    if b.reward_top
                    else None
                ),
                windows=windows.get(b.key, []),
            )
            for b in program.compiled.leaderboards.values()
        ]


def subject_of(store: Store, program_key: str, board_key: str) -> str:
    """What a board ranks: member, team or company."""
    with store.read() as uow:
        return _board(active(uow, program_key).compiled, board_key).subject


def top(
    store: Store,
    program_key: str,
    board_key: str,
    *,
    window: str | None = None,
    partition: dict[str, str] | None = None,
    limit: int = 10,
    offset: int = 0,
    clock: Clock = system_clock,
) -> BoardPage:
    """The board from ``offset``, ``limit`` rows, in the window (default: the current one)
    and partition (required on a partitioned board) asked for."""
    if not 1 <= limit <= 1000:
        raise InvalidInput("must be between 1 and 1000", field="limit")
    if offset < 0:
        raise InvalidInput("must be 0 or more", field="offset")
    with store.read(generic_plans=True) as uow:
        program = active(uow, program_key)
        board = _board(program.compiled, board_key)
        stored, shown, _ = _window_at(uow, program, board, window, clock())
        key, total = _partition_asked(uow, board, stored, partition or {})
        rows, final = [], None
        if stored is not None:
            found, names, counted = uow.rankings.top(
                stored.id,
                key,
                limit,
                offset,
                board.min_score,
                names_in(program, board),
                with_total=total is None,  # finding the partition may have counted it
            )
            if total is None:
                total = (
                    counted
                    if counted is not None
                    else uow.rankings.ranked_count(stored.id, key, board.min_score)
                )
            rows = ranked_rows(uow, stored.id, key, found, names, at_top=offset == 0)
            if stored.standings is not None:
                final = [Row(**r) for r in json.loads(stored.standings).get(key, [])]
        return BoardPage(
            key=board.key,
            name=board.name,
            subject=board.subject,
            metric=metric_text(board),
            window=shown,
            partition=partition_values(board, key),
            total=total or 0,
            rows=rows,
            final=final,
        )


def standing(
    store: Store,
    program_key: str,
    board_key: str,
    subject: str,
    *,
    window: str | None = None,
    around: int = 5,
    clock: Clock = system_clock,
) -> SubjectStanding:
    """Where a member (or a team, a company) stands: rank, score, percentile, the gap to the
    next rank up, and ``around`` ranked subjects above and below."""
    if not 0 <= around <= 50:
        raise InvalidInput("must be between 0 and 50", field="around")
    with store.read(generic_plans=True) as uow:
        # the program, the member (on a member board) and the subject's score: two statements
        program, found = active_with_member(uow, program_key, subject)
        board = _board(program.compiled, board_key)
        stored, shown, mine = _window_at(uow, program, board, window, clock(), subject)
        where, seen = _placement(program, board, found, subject)
        if mine is None or stored is None:
            mine = Standing(subject, 0, 0, where, seen)
        ranked = mine.partition is not None and mine.score >= board.min_score
        out: dict[str, Any] = {
            "key": board.key,
            "name": board.name,
            "subject": subject,
            "window": shown,
            "partition": None
            if mine.partition is None
            else partition_values(board, mine.partition),
            "score": mine.score,
            "ranked": ranked,
            "visible": mine.visible,
            "rank": None,
            "total": 0,
            "percentile": None,
            "gap": None,
        }
        if stored is None or mine.partition is None:
            return SubjectStanding(**out)
        if not ranked:
            out["total"] = uow.rankings.ranked_count(stored.id, mine.partition, board.min_score)
        else:
            out.update(_ranks(uow, program, board, stored.id, mine, around))
        return SubjectStanding(**out)


def _placement(
    program: ActiveProgram, board: CompiledLeaderboard, found: Any, subject: str
) -> tuple[str | None, bool]:
    """The partition a member competes in (None: the board's eligibility leaves them out) and
    whether they show on boards; a team or a company competes in "" and always shows."""
    if board.subject != "member":
        return "", True
    member = member_of(found)
    if member is None:
        raise NotFound(f"no member '{subject}' in program '{program.compiled.key}'", field="member")
    return placement(board, member.state), visible(member.state)


def _ranks(
    uow: UnitOfWork,
    program: ActiveProgram,
    board: CompiledLeaderboard,
    window_id: int,
    mine: Standing,
    around: int,
) -> dict[str, Any]:
    """A ranked subject's rank, the total ranked, percentile, gap to the next score up, and
    its neighbours with their ranks."""
    assert mine.partition is not None
    key = mine.partition
    above, below, names = (
        uow.rankings.neighbours(mine, window_id, around, board.min_score, names_in(program, board))
        if around
        else ([], [], {})
    )
    up = list(reversed(above))  # best first, like the board
    # every count this standing needs, in one statement: the total, the subject's rank,
    # and where the groups around it start
    wanted = {board.min_score - 1, mine.score} | _to_count(up) | _to_count(below)
    counted = uow.rankings.counts_above(window_id, key, wanted)
    total = counted[board.min_score - 1]
    rank = counted[mine.score] + 1
    # a member who opted out sees their own rank among the others, without counting twice
    total += 0 if mine.visible else 1
    higher = next((score for _, score, _ in above if score > mine.score), None)
    if higher is None and rank > 1:
        higher = uow.rankings.next_higher(window_id, key, mine.score)
    return {
        "rank": rank,
        "total": total,
        "percentile": round(100 * (total - rank + 1) / total, 1),
        "gap": None if higher is None else higher - mine.score,
        "above": _with_ranks(up, counted, names),
        "below": _with_ranks(below, counted, names),
    }


def ranked_rows(
    uow: UnitOfWork,
    window_id: int,
    key: str,
    found: list[Ranked],
    names: dict[str, str],
    at_top: bool = False,
) -> list[Row]:
    """Rows consecutive on the board, best first, with their competition ranks (one statement
    counts what is needed; ``at_top``: the list starts at the board's first row, no count)."""
    counted = uow.rankings.counts_above(window_id, key, _to_count(found, at_top))
    return _with_ranks(found, counted, names, at_top)


def names_in(program: ActiveProgram, board: CompiledLeaderboard) -> int | None:
    """Where a board's reads take display names from: a member board's program."""
    return program.id if board.subject == "member" else None


def _to_count(found: list[Ranked], at_top: bool = False) -> set[int]:
    """The scores whose count above a list of consecutive rows (best first) needs: its first
    score (its group may begin before the list) and the first score after it (a group that
    begins inside the list: every later group is ranked by its position from there)."""
    if at_top or not found:
        return set()
    first = found[0][1]
    after = next((score for _, score, _ in found if score != first), None)
    return {first} if after is None else {first, after}


def _with_ranks(
    found: list[Ranked],
    counted: dict[int, int],
    names: dict[str, str],
    at_top: bool = False,
) -> list[Row]:
    """``found`` (consecutive, best first) with ranks from ``counted`` (``_to_count``'s), and
    the display names the read brought (the subject where there is none)."""
    ranks: dict[int, int] = {}
    base = (0, 1) if at_top else None  # (position, rank) of a group that starts in the list
    for position, (_, score, _) in enumerate(found):
        if score in ranks:
            continue
        if base is not None:
            ranks[score] = base[1] + position - base[0]
        else:
            ranks[score] = counted[score] + 1
            if position:
                base = (position, ranks[score])
    return [
        Row(ranks[score], subject, names.get(subject, subject), score)
        for subject, score, _ in found
    ]


def _board(program: CompiledProgram, key: str) -> CompiledLeaderboard:
    board = program.leaderboards.get(key)
    if board is None:
        known = ", ".join(program.leaderboards) or "(none)"
        raise NotFound(
            f"no leaderboard '{key}' in this program (known: {known})", field="leaderboard"
        )
    return board


def _window_at(
    uow: UnitOfWork,
    program: ActiveProgram,
    board: CompiledLeaderboard,
    asked: str | None,
    now: datetime,
    subject: str | None = None,
) -> tuple[BoardWindow | None, Window, Standing | None]:
    """The stored window asked for (None if nothing has scored in it yet), how to show it, and
    ``subject``'s standing in it (None without a score there), in one statement. The window:
    ``current`` (default), ``previous`` (calendar boards), or a label such as 2026-W46."""
    compiled = program.compiled
    ts = int(now.timestamp())
    asked = (asked or "current").strip()
    if board.window in (ALL_TIME, ROLLING):
        if asked not in ("current", board.window):
            raise InvalidInput(
                f"'{board.key}' has one window ({'all-time' if board.window == ALL_TIME else 'rolling'}): "
                "leave 'window' out",
                field="window",
            )
        label = board.window
    elif asked == "current":
        label = window_of(board, ts, compiled)[0]
    elif asked == "previous":
        starts = calendar_window(ts, board.window, compiled.zone)[0]
        label = calendar_window(starts - 1, board.window, compiled.zone)[2]
    else:
        label = asked
    stored, mine = uow.leaderboards.board_window(program.id, board.key, label, subject)
    if stored is not None:
        shown = window_view(stored)
        if board.window == ROLLING:
            shown = _rolling(board, stored, compiled, ts)
        return stored, shown, mine
    if board.window == ROLLING:
        today = local_ordinal(ts, compiled.zone)
        return None, rolling_window(board, today, compiled), None
    if board.window == ALL_TIME:
        return None, Window(ALL_TIME, None, None), None
    if asked not in ("current", "previous") and not _is_label(board.window, label):
        raise InvalidInput(
            f"'{label}' is not a {board.window} window: use current, previous or a label such as "
            f"{window_of(board, ts, compiled)[0]}",
            field="window",
        )
    if asked in ("current", "previous"):
        starts, ends, _ = calendar_window(
            ts if asked == "current" else calendar_window(ts, board.window, compiled.zone)[0] - 1,
            board.window,
            compiled.zone,
        )
        return None, Window(label, _at(starts), _at(ends)), None
    return None, Window(label, None, None), None


def _is_label(window: str, label: str) -> bool:
    import re

    patterns = {
        "day": r"\d{4}-\d{2}-\d{2}",
        "week": r"\d{4}-W\d{2}",
        "month": r"\d{4}-\d{2}",
        "quarter": r"\d{4}-Q[1-4]",
        "year": r"\d{4}",
    }
    return re.fullmatch(patterns[window], label) is not None


def _rolling(
    board: CompiledLeaderboard, w: BoardWindow, program: CompiledProgram, ts: int
) -> Window:
    last = w.last_day if w.last_day is not None else local_ordinal(ts, program.zone)
    return rolling_window(board, last, program)


def rolling_window(board: CompiledLeaderboard, last_day: int, program: CompiledProgram) -> Window:
    first = date.fromordinal(last_day - board.days + 1)
    end = date.fromordinal(last_day + 1)
    starts = datetime(first.year, first.month, first.day, tzinfo=program.zone)
    ends = datetime(end.year, end.month, end.day, tzinfo=program.zone)
    return Window(ROLLING, starts.astimezone(UTC), ends.astimezone(UTC))


def window_view(w: BoardWindow) -> Window:
    return Window(w.label, w.starts_at, w.ends_at, w.closed_at)


def _partition_asked(
    uow: UnitOfWork, board: CompiledLeaderboard, window: BoardWindow | None, asked: dict[str, str]
) -> tuple[str, int | None]:
    """The stored partition key for ``{attribute: value}`` as text (a query string's values
    are text; a stored value may be a number), and the partition's ranked total when finding
    it counted that already."""
    names = [*board.partition, *(["tier"] if board.tier_bracket else [])]
    unknown = [n for n in asked if n not in names]
    if unknown:
        raise InvalidInput(
            f"'{board.key}' is not partitioned by '{unknown[0]}'"
            + (f" (it is by {', '.join(names)})" if names else ""),
            field=f"partition.{unknown[0]}",
        )
    if not names:
        return "", None
    missing = [n for n in names if n not in asked]
    if not missing and window is not None:
        # the values as asked (text): the statement that counts the partition's subjects and
        # its ranked total. Listing the window's partitions reads every bucket row of the
        # window: one per score band in each partition.
        direct = partition_key([asked[n] for n in names])
        counted = uow.rankings.counts_above(window.id, direct, {0, board.min_score - 1})
        if counted[0]:
            return direct, counted[board.min_score - 1]
    known = uow.rankings.partitions(window.id) if window is not None else []
    if missing:
        values = sorted({str(partition_values(board, k)[missing[0]]) for k in known})
        raise InvalidInput(
            f"'{board.key}' is partitioned by {', '.join(names)}: give {missing[0]}"
            + (f" (one of {', '.join(values[:20])})" if values else ""),
            field=f"partition.{missing[0]}",
        )
    for key in known:
        stored = partition_values(board, key)
        if all(_text(stored[n]) == asked[n] for n in names):
            return key, None
    return partition_key([asked[n] for n in names]), None


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _at(ts: int | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def partitions(
    store: Store,
    program_key: str,
    board_key: str,
    *,
    window: str | None = None,
    clock: Clock = system_clock,
) -> list[dict[str, str]]:
    """The partitions with ranked subjects in a window of a board (default: the current one),
    each as ``{attribute: value}`` in text, as ``top`` is asked for one: what a partition
    switcher offers. Empty for a board without partitions or a window nobody scored in."""
    with store.read() as uow:
        program = active(uow, program_key)
        board = _board(program.compiled, board_key)
        stored, _, _ = _window_at(uow, program, board, window, clock())
        if stored is None or not (board.partition or board.tier_bracket):
            return []
        return [as_query(partition_values(board, k)) for k in uow.rankings.partitions(stored.id)]


def as_query(partition: dict[str, Any]) -> dict[str, str]:
    """A partition's values as text, the form ``top`` takes them in (true, 3, EMEA)."""
    return {name: _text(value) for name, value in partition.items()}
