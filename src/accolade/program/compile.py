"""Program -> runtime form: actions indexed by event type, conditions as closures, badges by action.

Compiled once per published version; evaluating a compiled condition is a dict lookup and a compare.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from accolade.program.assessments import Assessment, sales_note_template
from accolade.program.bonus import BonusTable
from accolade.program.compiled import (
    ASSESSMENT_EVENTS,
    CHALLENGE_WON,
    LEADERBOARD_WON,
    MEMBER_UPDATED,
    RECOMMENDATION_DISMISSED,
    REFERENCE_EVENTS,
    REFERRAL_EVENTS,
    SALES_NOTE_VIEWED,
    CompiledAction,
    CompiledAssessment,
    CompiledChallenge,
    CompiledCondition,
    CompiledExperiment,
    CompiledLeaderboard,
    CompiledMultiplier,
    CompiledProgram,
    CompiledQuest,
    CompiledReferences,
    CompiledReward,
    CompiledStage,
    CompiledStep,
    Predicate,
)
from accolade.program.durations import CALENDAR_WINDOWS, parse_duration
from accolade.program.experiments import Experiment
from accolade.program.models import (
    Badge,
    Challenge,
    Condition,
    Leaderboard,
    Program,
    Quest,
    References,
    Reward,
    Stage,
)

_T = TypeVar("_T")

_MISSING = object()


def compile_program(program: Program, version: int = 0, program_hash: str = "") -> CompiledProgram:
    expiry = program.points.expiry if program.points else None
    actions = {a.key: _compile_action(a) for a in program.actions}
    by_event = {
        **{t: () for t in (MEMBER_UPDATED, CHALLENGE_WON, LEADERBOARD_WON)},
        RECOMMENDATION_DISMISSED: (),
        **{t: () for t in (*REFERRAL_EVENTS, *REFERENCE_EVENTS)},
        **{t: () for t in ((*ASSESSMENT_EVENTS, SALES_NOTE_VIEWED) if program.assessments else ())},
        **_index(actions.values(), lambda a: [a.event_type]),
    }
    badges_by_action = _index(program.badges, _actions_of_badge)
    points_badges = tuple(
        b for b in program.badges if b.when is not None and b.when.lifetime_points is not None
    )
    quests = {q.key: _compile_quest(q) for q in program.quests}
    zone = ZoneInfo(program.timezone)
    challenges = {c.key: _compile_challenge(c, zone) for c in program.challenges}
    experiments = {e.key: _compile_experiment(e, zone) for e in program.experiments}
    return CompiledProgram(
        key=program.key,
        version=version,
        hash=program_hash,
        definition=program,
        zone=zone,
        actions=actions,
        actions_by_event=by_event,
        badges={b.key: b for b in program.badges},
        badges_by_action=badges_by_action,
        points_badges=points_badges,
        badges_on_reward={
            key: tuple(badges_by_action.get(key, ())) + points_badges for key in actions
        },
        tiers=tuple(sorted(program.tiers, key=lambda t: t.min_points)),
        qualification_months=program.tier_qualification.months
        if program.tier_qualification
        else None,
        event_types=tuple(sorted(by_event)),
        quests=quests,
        quests_by_action=_index(
            quests.values(), lambda q: dict.fromkeys(step.action for step in q.steps)
        ),
        challenges=challenges,
        challenges_by_action=_index(
            challenges.values(), lambda c: [c.goal_action] if c.goal_action is not None else []
        ),
        points_challenges=tuple(c for c in challenges.values() if c.goal_action is None),
        streaks_by_action=_index(program.streaks, lambda s: [s.action]),
        stages=tuple(_compile_stage(stage) for stage in program.stages),
        stage_index={stage.key: i for i, stage in enumerate(program.stages)},
        stages_after_points=any(
            s.when is not None and (s.when.quest is not None or s.when.lifetime_points is not None)
            for s in program.stages
        ),
        leaderboards={b.key: _compile_leaderboard(b) for b in program.leaderboards},
        rewards={r.key: _compile_reward(r) for r in program.rewards},
        references=_compile_references(program.references) if program.references else None,
        pending_for=program.points.pending if program.points else None,
        expire_after=expiry.after if expiry else None,
        expiry_warn=expiry.warn if expiry else None,
        experiments=experiments,
        experiments_covering=_index(experiments.values(), lambda e: e.covers),
        assessments={a.key: compile_assessment(a) for a in program.assessments},
    )


def compile_assessment(assessment: Assessment) -> CompiledAssessment:
    return CompiledAssessment(
        key=assessment.key,
        definition=assessment,
        questions={q.key: q for q in assessment.questions},
        section_of={q.key: q.section for q in assessment.questions},
        sales_notes={
            s.key: sales_note_template(s.sales_note)
            for s in assessment.segments
            if s.sales_note is not None
        },
    )


def _actions_of_badge(badge: Badge) -> list[str]:
    """The actions whose occurrences can earn ``badge`` (none for a badge without a rule:
    a quest, a challenge or a streak milestone awards it)."""
    rule = badge.when
    if rule is None:
        return []
    return [rule.action] if rule.action else list(rule.all_of or [])


def _index(items: Iterable[_T], keys: Callable[[_T], Iterable[str]]) -> dict[str, tuple[_T, ...]]:
    """Each item under each of its keys, in the order given: the hot path's lookups by action
    or event type."""
    out: dict[str, list[_T]] = {}
    for item in items:
        for key in keys(item):
            out.setdefault(key, []).append(item)
    return {k: tuple(v) for k, v in out.items()}


def _compile_references(references: References) -> CompiledReferences:
    wanted: list[tuple[str, tuple[object, ...]]] = []
    unwanted: list[tuple[str, tuple[object, ...]]] = []
    for c in references.segment:  # eq, ne, in, not_in on `match` attributes (the model says)
        test = c.test()
        operand = c.operand(test)
        values = tuple(operand) if test in ("in", "not_in") else (operand,)
        (wanted if test in ("eq", "in") else unwanted).append((str(c.attribute), values))
    return CompiledReferences(
        match=tuple(references.match),
        limits=tuple((limit.count, limit.within) for limit in references.limits),
        segment_in=tuple(wanted),
        segment_out=tuple(unwanted),
        tiers=frozenset(references.tiers),
        stages=frozenset(references.stages),
    )


def _compile_reward(item: Reward) -> CompiledReward:
    return CompiledReward(
        key=item.key,
        name=item.name,
        description=item.description,
        price=item.price,
        value=item.value,
        stock=item.stock,
        limit=item.limit,
        segment=tuple(compile_condition(c) for c in item.segment),
        tiers=frozenset(item.tiers),
        stages=frozenset(item.stages),
        fulfilment=item.fulfilment,
        approval=item.approval,
    )


def _compile_leaderboard(board: Leaderboard) -> CompiledLeaderboard:
    metric = board.metric
    days = board.rolling_days
    return CompiledLeaderboard(
        key=board.key,
        name=board.name,
        description=board.description,
        subject=board.subject,
        action=None if isinstance(metric, str) else metric.action,
        sum=None if isinstance(metric, str) else metric.sum,
        window="rolling" if days is not None else board.window,
        days=days or 0,
        partition=tuple(board.partition),
        tier_bracket=board.tier_bracket,
        segment=tuple(compile_condition(c) for c in board.segment),
        tiers=frozenset(board.tiers),
        stages=frozenset(board.stages),
        min_score=board.min_score,
        reward_top=board.reward.top if board.reward else None,
        reward_points=board.reward.points if board.reward else 0,
        reward_badge=board.reward.badge if board.reward else None,
        rule=f"leaderboard:{board.key}",
        segment_attributes=tuple(c.attribute for c in board.segment if c.attribute),
    )


def _compile_stage(stage: Stage) -> CompiledStage:
    rule = stage.when
    if rule is None:
        return CompiledStage(
            stage.key,
            stage.name,
            stage.description,
            dict(stage.entitlements),
            stage.next_step,
            rule_text="every member starts here",
        )
    parts: list[str] = []
    if rule.action is not None:
        times = "once" if rule.count == 1 else f"{rule.count} times"
        parts.append(
            f"{rule.action} {times}" + (f" within {_span(rule.within)}" if rule.within else "")
        )
    conditions = tuple(compile_condition(c) for c in rule.conditions)
    parts += [c.describe for c in conditions]
    if rule.quest is not None:
        parts.append(f"quest {rule.quest} completed")
    if rule.lifetime_points is not None:
        parts.append(f"{rule.lifetime_points:,} lifetime points")
    if rule.after is not None:
        parts.append(f"{rule.after.days} days after entering {rule.after.stage}")
    return CompiledStage(
        key=stage.key,
        name=stage.name,
        description=stage.description,
        entitlements=dict(stage.entitlements),
        next_step=stage.next_step,
        action=rule.action,
        count=rule.count,
        within=rule.within,
        conditions=conditions,
        quest=rule.quest,
        lifetime_points=rule.lifetime_points,
        after_stage=rule.after.stage if rule.after else None,
        after_days=rule.after.days if rule.after else 0,
        has_rule=True,
        rule_text=" and ".join(parts),
        any_event=rule.action is None or rule.after is not None or bool(rule.conditions),
    )


def _span(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _compile_challenge(challenge: Challenge, zone: ZoneInfo) -> CompiledChallenge:
    goal = challenge.goal
    if goal.points is not None:
        target = float(goal.points)
    elif goal.sum is not None:
        assert goal.target is not None  # checked by the model
        target = goal.target
    else:
        target = float(goal.count or 1)
    return CompiledChallenge(
        key=challenge.key,
        name=challenge.name,
        description=challenge.description,
        starts=window_bound(challenge.starts, zone, end=False),
        ends=window_bound(challenge.ends, zone, end=True),
        goal_action=goal.action if goal.points is None else None,
        goal_sum=goal.sum,
        target=target,
        segment=tuple(compile_condition(c) for c in challenge.segment),
        tiers=frozenset(challenge.tiers),
        first=challenge.award.first,
        top=challenge.award.top,
        reward_points=challenge.reward.points,
        reward_badge=challenge.reward.badge,
        entitlements=dict(challenge.reward.entitlements),
        rule=f"challenge:{challenge.key}",
        stages=frozenset(challenge.stages),
    )


def _compile_experiment(experiment: Experiment, zone: ZoneInfo) -> CompiledExperiment:
    return CompiledExperiment(
        key=experiment.key,
        name=experiment.name,
        description=experiment.description,
        starts=window_bound(experiment.starts, zone, end=False),
        ends=window_bound(experiment.ends, zone, end=True),
        segment=tuple(compile_condition(c) for c in experiment.segment),
        share=experiment.share,
        cohort=frozenset(experiment.cohort) if experiment.cohort is not None else None,
        covers=tuple(experiment.covers.rules()),
        outcomes=tuple(experiment.outcomes),
        rule=f"experiment:{experiment.key}",
    )


def window_bound(value: date | datetime, zone: ZoneInfo, *, end: bool) -> int:
    """Epoch seconds of a window's start or end: a date is a whole day in the program's zone
    (an end date included), a time without an offset is in that zone too."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=zone)
        return int(moment.timestamp())
    day = datetime(value.year, value.month, value.day, tzinfo=zone)
    if end:
        day = datetime.combine(value + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return int(day.timestamp())


def _compile_quest(quest: Quest) -> CompiledQuest:
    return CompiledQuest(
        key=quest.key,
        name=quest.name,
        description=quest.description,
        ordered=quest.ordered,
        steps=tuple(
            CompiledStep(
                key=step.key,
                name=step.name,
                description=step.description,
                action=step.action,
                conditions=tuple(compile_condition(c) for c in step.conditions),
                points=step.points,
                badge=step.badge,
            )
            for step in quest.steps
        ),
        reward_points=quest.reward.points,
        reward_badge=quest.reward.badge,
        entitlements=dict(quest.reward.entitlements),
        time_limit=quest.time_limit,
        requires_quests=tuple(quest.requires.quests),
        requires_tier=quest.requires.tier,
        hidden=quest.hidden,
        rule=f"quest:{quest.key}",
        stages=frozenset(quest.stages),
    )


def _compile_action(action: Any) -> CompiledAction:
    limits = action.limits
    cap = limits.cap
    cap_calendar = cap.per if cap and cap.per in CALENDAR_WINDOWS else None
    cap_rolling = parse_duration(cap.per) if cap and cap_calendar is None else None
    source = action.points_from
    return CompiledAction(
        key=action.key,
        event_type=action.event_type,
        points=action.points,
        points_property=source.property if source else None,
        points_per=source.per if source else Decimal(1),
        points_each=source.points if source else 0,
        points_max=source.max if source else None,
        conditions=tuple(compile_condition(c) for c in action.conditions),
        multipliers=tuple(
            CompiledMultiplier(m.factor, m.tier, tuple(compile_condition(c) for c in m.conditions))
            for m in action.multipliers
        ),
        once=limits.once,
        lifetime_cap=limits.lifetime_cap,
        cap_count=cap.count if cap else None,
        cap_calendar=cap_calendar,
        cap_rolling=cap_rolling,
        cap_text=f"{cap.count} per {cap.per}" if cap else "",
        cooldown=limits.cooldown,
        rule=f"action:{action.key}",
        limited=bool(
            limits.once or limits.lifetime_cap is not None or cap or limits.cooldown is not None
        ),
        bonus=BonusTable.of(action.key, [(o.weight, o.points) for o in action.bonus])
        if action.bonus
        else None,
        stages=frozenset(action.stages),
    )


def _same(value: object, operand: object) -> bool:
    # true == 1 in Python; a program saying `eq: true` (or `in: [1, 2]`) means that type.
    return value == operand and isinstance(value, bool) == isinstance(operand, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def compile_condition(condition: Condition) -> CompiledCondition:
    """A closure over (properties, attributes); no eval, one lookup and one comparison."""
    test = condition.test()
    operand = condition.operand(test)
    from_properties = condition.property is not None
    name: str = condition.property if from_properties else condition.attribute  # type: ignore[assignment]
    shown = int(operand) if isinstance(operand, float) and operand.is_integer() else operand
    describe = f"{condition.subject()} {_SIGNS[test]} {shown!r}"

    def value_of(props: Mapping[str, Any], attrs: Mapping[str, Any]) -> Any:
        return (props if from_properties else attrs).get(name, _MISSING)

    check: Predicate
    if test == "exists":

        def check(p: Mapping[str, Any], a: Mapping[str, Any]) -> bool:
            return (value_of(p, a) not in (_MISSING, None)) is operand
    elif test in ("eq", "ne"):
        want_equal = test == "eq"

        def check(p: Mapping[str, Any], a: Mapping[str, Any]) -> bool:
            value = value_of(p, a)
            return _same(value, operand) is want_equal
    elif test in ("in", "not_in"):
        choices = tuple(operand)
        want_in = test == "in"

        def check(p: Mapping[str, Any], a: Mapping[str, Any]) -> bool:
            value = value_of(p, a)
            if value is _MISSING:
                return not want_in
            found = any(_same(value, choice) for choice in choices)
            return found is want_in
    else:
        compare = _COMPARE[test]
        bound = operand

        def check(p: Mapping[str, Any], a: Mapping[str, Any]) -> bool:
            value = value_of(p, a)
            return _is_number(value) and compare(value, bound)

    return CompiledCondition(describe=describe, check=check)


_SIGNS = {
    "eq": "==",
    "ne": "!=",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
    "in": "in",
    "not_in": "not in",
    "exists": "exists:",
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "gt": lambda v, b: v > b,
    "gte": lambda v, b: v >= b,
    "lt": lambda v, b: v < b,
    "lte": lambda v, b: v <= b,
}
