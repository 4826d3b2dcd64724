"""A simulation's report: what a draft would have given (service.simulate walks the log under
it) beside what was given, read from the stored state by set-based queries.

Every comparison is a list of ``{key, actual, simulated, delta}`` (delta: simulated - actual),
so a console can chart any of them alike; lists of members are capped, their counts are not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from accolade.engine.challenges import REACHED, WON
from accolade.engine.leaderboards import ALL_TIME, Total, placement, visible
from accolade.engine.state import MemberState
from accolade.program.compiled import CompiledLeaderboard, CompiledProgram
from accolade.store.unit_of_work import UnitOfWork

SHOWN = 50  # members listed per change (tier moves, badges gained or lost)
TOP = 10  # places compared on each all-time board


@dataclass(frozen=True)
class Figure:
    key: str
    actual: int
    simulated: int
    delta: int


def figure(key: str, actual: int, simulated: int) -> Figure:
    return Figure(key, actual, simulated, simulated - actual)


@dataclass(frozen=True)
class TierMove:
    member: str
    before: str | None  # the tier the member is in now
    after: str | None  # the tier the draft would have them in


@dataclass(frozen=True)
class BadgeFigure:
    """Members holding the badge (in any period), and who would gain or lose it."""

    key: str
    actual: int
    simulated: int
    delta: int
    gained: int
    lost: int
    gained_members: tuple[str, ...]  # the first SHOWN, by member id
    lost_members: tuple[str, ...]


@dataclass(frozen=True)
class Placed:
    subject: str
    score: int


@dataclass(frozen=True)
class BoardFigure:
    """The top TOP of an all-time board's partition ("" when it has none), now and simulated."""

    key: str
    partition: str
    actual: tuple[Placed, ...]
    simulated: tuple[Placed, ...]
    entered: tuple[str, ...]  # in the simulated top, not in the actual one
    left: tuple[str, ...]
    changed: bool  # any place differs (subject or score)


@dataclass(frozen=True)
class MemberFigures:
    balance: int
    lifetime: int
    tier: str | None
    badges: tuple[str, ...]  # "badge" or "badge period"


@dataclass(frozen=True)
class MemberDiff:
    member: str
    actual: MemberFigures
    simulated: MemberFigures


@dataclass(frozen=True)
class Rejected:
    """Logged events the draft refuses (an event type it has no action for, a challenge or
    a board it lacks): left out of the simulation, as ingest would have refused them."""

    type: str
    events: int
    reason: str  # the first one's


@dataclass(frozen=True)
class Simulation:
    program: str
    active_version: int
    draft_hash: str
    since: datetime | None  # the range [since, until) of the events counted in ``points``
    until: datetime | None
    events: int  # logged events evaluated under the draft
    counted: int  # of them, those in the range
    reversed: int  # reversed events, skipped
    rejected: tuple[Rejected, ...]
    members: int
    seconds: float
    events_per_second: float
    issued: Figure  # points issued by the events in the range
    points: tuple[Figure, ...]  # the same per qualified rule (action:..., badge:..., ...)
    liability: Figure  # the sum of balances: points members could spend
    overdrawn: Figure  # members whose balance is below zero (spent what the draft never gave)
    tiers: tuple[Figure, ...]  # members per tier
    tier_moves: tuple[TierMove, ...]  # the first SHOWN, by member id
    tier_moves_total: int
    badges: tuple[BadgeFigure, ...]
    leaderboards: tuple[BoardFigure, ...]
    challenges_reached: tuple[Figure, ...]  # members who reached each challenge's goal
    challenges_won: tuple[Figure, ...]  # members paid each challenge's reward
    member_details: tuple[MemberDiff, ...]  # the members asked for


@dataclass(frozen=True)
class Simulated:
    """What the walk under the draft left: each member's state, and the figures it counted."""

    draft: CompiledProgram
    states: Mapping[int, MemberState]  # by member row id
    points: Mapping[str, int]  # qualified rule -> points issued in the range
    scores: Mapping[tuple[str, str], Total]  # (all-time board, subject) -> score
    events: int
    counted: int
    reversed: int
    rejected: Sequence[Rejected]


@dataclass(frozen=True)
class Head:
    program: str
    active_version: int
    draft_hash: str
    since: datetime | None
    until: datetime | None
    seconds: float


def compare(
    uow: UnitOfWork,
    program_id: int,
    current: CompiledProgram,
    sim: Simulated,
    asked: Sequence[tuple[int, str]],
    head: Head,
) -> Simulation:
    """The report: ``sim`` beside the stored state of the program (whose active version is
    ``current``); ``asked`` are the (row id, external id) of members compared one by one."""
    actual_points = uow.ledger.points_by_rule(program_id, head.since, head.until)
    points = _figures(actual_points, sim.points)
    members = _Members(sim.states)
    members.compare(uow.members.member_figures(program_id))
    walked = sim.events + sim.reversed + sum(r.events for r in sim.rejected)
    reached, won = _challenges(uow, program_id, current, sim)
    return Simulation(
        program=head.program,
        active_version=head.active_version,
        draft_hash=head.draft_hash,
        since=head.since,
        until=head.until,
        events=sim.events,
        counted=sim.counted,
        reversed=sim.reversed,
        rejected=tuple(sim.rejected),
        members=len(sim.states),
        seconds=round(head.seconds, 3),
        events_per_second=round(walked / head.seconds if head.seconds else 0.0, 1),
        issued=figure("issued", sum(actual_points.values()), sum(sim.points.values())),
        points=tuple(f for f in points if f.actual or f.simulated),
        liability=figure("liability", members.liability[0], members.liability[1]),
        overdrawn=figure("members below zero", members.overdrawn[0], members.overdrawn[1]),
        tiers=tuple(_figures(members.tiers[0], members.tiers[1])),
        tier_moves=tuple(sorted(members.moves, key=lambda m: m.member)[:SHOWN]),
        tier_moves_total=len(members.moves),
        badges=tuple(_badges(uow.ledger.badge_holdings(program_id), sim.states, members.names)),
        leaderboards=tuple(_boards(uow, program_id, current, sim)),
        challenges_reached=tuple(reached),
        challenges_won=tuple(won),
        member_details=tuple(_member_diff(uow, program_id, pk, m, sim) for pk, m in asked),
    )


def _figures(actual: Mapping[str, int], simulated: Mapping[str, int]) -> list[Figure]:
    return [
        figure(key, actual.get(key, 0), simulated.get(key, 0))
        for key in sorted(actual.keys() | simulated.keys())
    ]


class _Members:
    """Tiers, balances and who moves, from one pass over the stored members."""

    def __init__(self, states: Mapping[int, MemberState]) -> None:
        self.states = states
        self.names: dict[int, str] = {}  # row id -> external id, of every member seen
        self.tiers: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
        self.liability = [0, 0]
        self.overdrawn = [0, 0]
        self.moves: list[TierMove] = []

    def compare(self, stored: Iterable[tuple[int, str, str | None, int, int]]) -> None:
        for pk, external_id, tier, balance, _ in stored:
            self.names[pk] = external_id
            state = self.states.get(pk)
            if state is None:
                self._add(external_id, (tier, balance), (None, 0))
            else:
                self._add(external_id, (tier, balance), (state.tier, state.balance))
        for pk, state in self.states.items():  # a state the store lacks: nothing given yet
            if pk not in self.names:
                self.names[pk] = state.member
                self._add(state.member, (None, 0), (state.tier, state.balance))

    def _add(
        self, member: str, actual: tuple[str | None, int], simulated: tuple[str | None, int]
    ) -> None:
        for side, (tier, balance) in enumerate((actual, simulated)):
            if tier is not None:
                self.tiers[side][tier] += 1
            self.liability[side] += balance
            self.overdrawn[side] += balance < 0
        if actual[0] != simulated[0]:
            self.moves.append(TierMove(member, actual[0], simulated[0]))


def _badges(
    stored: Iterable[tuple[int, str, str]],
    states: Mapping[int, MemberState],
    names: Mapping[int, str],
) -> list[BadgeFigure]:
    actual: dict[str, set[int]] = {}
    for pk, badge, _ in stored:
        actual.setdefault(badge, set()).add(pk)
    simulated: dict[str, set[int]] = {}
    for pk, state in states.items():
        for badge, _ in state.badges:
            simulated.setdefault(badge, set()).add(pk)
    out: list[BadgeFigure] = []
    for badge in sorted(actual.keys() | simulated.keys()):
        had, has = actual.get(badge, set()), simulated.get(badge, set())
        gained = sorted(names[pk] for pk in has - had)
        lost = sorted(names[pk] for pk in had - has)
        out.append(
            BadgeFigure(
                badge,
                len(had),
                len(has),
                len(has) - len(had),
                len(gained),
                len(lost),
                tuple(gained[:SHOWN]),
                tuple(lost[:SHOWN]),
            )
        )
    return out


def _challenges(
    uow: UnitOfWork, program_id: int, current: CompiledProgram, sim: Simulated
) -> tuple[list[Figure], list[Figure]]:
    """Members who reached each challenge's goal, and who were paid its reward (a first/top
    challenge pays at its close: the winners the close logged are the draft's winners too)."""
    keys = sorted(current.challenges.keys() | sim.draft.challenges.keys())
    if not keys:
        return [], []
    actual: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
    for _, _, _, progress in uow.members.member_progress(program_id, containing="challenges"):
        _count_challenges(actual, progress.get("challenges", {}))
    simulated: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
    for state in sim.states.values():
        if state.challenges:
            _count_challenges(simulated, state.challenges)
    reached = [figure(k, actual[0][k], simulated[0][k]) for k in keys]
    won = [figure(k, actual[1][k], simulated[1][k]) for k in keys]
    return reached, won


def _count_challenges(
    counts: tuple[Counter[str], Counter[str]], records: Mapping[str, list[object]]
) -> None:
    for key, record in records.items():
        if record[REACHED] is not None:
            counts[0][key] += 1
        if record[WON] is not None:
            counts[1][key] += 1


def _boards(
    uow: UnitOfWork, program_id: int, current: CompiledProgram, sim: Simulated
) -> list[BoardFigure]:
    """The top TOP of every all-time board, per partition: the stored ranking, and the one
    the simulated scores make with each member's partition and visibility at the end."""
    boards = {
        key: board
        for program in (current, sim.draft)
        for key, board in program.leaderboards.items()
        if board.window == ALL_TIME
    }
    if not boards:
        return []
    windows = {w.board: w for w in uow.leaderboards.board_windows(program_id, labels=[ALL_TIME])}
    standings = _simulated_standings(sim)
    out: list[BoardFigure] = []
    for key in sorted(boards):
        window = windows.get(key)
        by_partition = standings.get(key, {})
        partitions = set(by_partition)
        if window is not None:
            partitions.update(uow.rankings.partitions(window.id))
        stored_board = current.leaderboards.get(key, boards[key])
        for partition in sorted(partitions):
            actual: tuple[Placed, ...] = ()
            if window is not None:
                found, _, _ = uow.rankings.top(
                    window.id, partition, TOP, 0, stored_board.min_score, with_total=False
                )
                actual = tuple(Placed(s, score) for s, score, _ in found)
            ranked = sorted(by_partition.get(partition, []), key=lambda r: (-r[1], r[2], r[0]))
            simulated = tuple(Placed(s, score) for s, score, _ in ranked[:TOP])
            before = {p.subject for p in actual}
            after = {p.subject for p in simulated}
            out.append(
                BoardFigure(
                    key,
                    partition,
                    actual,
                    simulated,
                    tuple(p.subject for p in simulated if p.subject not in before),
                    tuple(p.subject for p in actual if p.subject not in after),
                    actual != simulated,
                )
            )
    return out


def _simulated_standings(sim: Simulated) -> dict[str, dict[str, list[tuple[str, int, int]]]]:
    """board -> partition -> (subject, score, reached at) of the simulated scores that rank."""
    boards: Mapping[str, CompiledLeaderboard] = sim.draft.leaderboards
    by_member = (
        {s.member: s for s in sim.states.values()}
        if any(boards[b].subject == "member" for b, _ in sim.scores)
        else {}
    )
    out: dict[str, dict[str, list[tuple[str, int, int]]]] = {}
    for (key, subject), (score, ts) in sim.scores.items():
        board = boards[key]
        if score < board.min_score:
            continue
        partition: str | None = ""
        if board.subject == "member":
            state = by_member.get(subject)
            if state is None or not visible(state):
                continue
            partition = placement(board, state) if board.placed else ""
        if partition is None:  # the board's eligibility leaves the member out
            continue
        out.setdefault(key, {}).setdefault(partition, []).append((subject, score, ts))
    return out


def _member_diff(
    uow: UnitOfWork, program_id: int, pk: int, member: str, sim: Simulated
) -> MemberDiff:
    row = uow.members.member(program_id, member)
    assert row is not None  # service.simulate checked it
    held = tuple(f"{b.badge} {b.period}".strip() for b in uow.ledger.badges_of(pk))
    actual = MemberFigures(int(row.balance), int(row.lifetime), row.tier, tuple(sorted(held)))
    state = sim.states.get(pk)
    if state is None:
        simulated = MemberFigures(0, 0, None, ())
    else:
        badges = tuple(sorted(f"{b} {p}".strip() for b, p in state.badges))
        simulated = MemberFigures(state.balance, state.lifetime, state.tier, badges)
    return MemberDiff(member, actual, simulated)
