"""Checks of a program file that need the whole file: unique keys, names that must point at
something (an action, a badge, a tier), quest requirements without cycles, tiers that climb.
They read the raw YAML mapping, so that each error names the path the author wrote."""

from __future__ import annotations

import difflib
from typing import Any
from zoneinfo import ZoneInfo

from accolade.errors import FieldError
from accolade.program.compile import window_bound
from accolade.program.compiled import UNACTIONABLE_EVENT_TYPES
from accolade.program.experiments import COVERED_SECTIONS
from accolade.program.integrations import check_integrations
from accolade.program.models import Program
from accolade.program.recommendations import check_recommendations


def check_references(raw: dict[str, Any]) -> list[FieldError]:
    """Checks that need the whole file: unique keys, names that must point at something."""
    errors: list[FieldError] = []
    actions = _items(raw.get("actions"))
    badges = _items(raw.get("badges"))
    tiers = _items(raw.get("tiers"))
    action_keys = _keys(actions, "actions", errors)
    badge_keys = _keys(badges, "badges", errors)
    tier_keys = _keys(tiers, "tiers", errors)
    _check_actions(actions, tier_keys, errors)
    _check_stages(raw, action_keys, errors)
    awarded = _check_streaks(raw, action_keys, badge_keys, errors)
    awarded |= _check_quests(raw, action_keys, badge_keys, tier_keys, errors)
    awarded |= _check_leaderboards(raw, action_keys, badge_keys, tier_keys, errors)
    awarded |= _check_challenges(raw, action_keys, badge_keys, tier_keys, errors)
    _check_rewards(raw, tier_keys, errors)
    _check_references(raw, tier_keys, errors)
    _check_badges(badges, action_keys, awarded, errors)
    _check_tiers(raw, tiers, errors)
    _check_analytics(raw, action_keys, badge_keys, errors)
    _check_experiments(raw, action_keys, badge_keys, errors)
    errors.extend(check_integrations(raw))
    errors.extend(check_recommendations(raw))
    return errors


def _check_actions(
    actions: list[tuple[int, dict[str, Any]]], tier_keys: list[str], errors: list[FieldError]
) -> None:
    """No action on Accolade's own event types; points or points_from, not both; multipliers
    name tiers that exist."""
    for i, action in actions:
        event_type = action.get("event") or action.get("key")
        if event_type in UNACTIONABLE_EVENT_TYPES:
            errors.append(
                FieldError(
                    f"actions[{i}].event",
                    f"'{event_type}' events are sent by Accolade itself; an action cannot use it",
                )
            )
        if action.get("points_from") is not None and action.get("points") not in (None, 0):
            errors.append(FieldError(f"actions[{i}]", "give 'points' or 'points_from', not both"))
        for j, mult in _items(action.get("multipliers")):
            tier = mult.get("tier")
            if isinstance(tier, str) and tier not in tier_keys:
                errors.append(
                    _unknown(f"actions[{i}].multipliers[{j}].tier", "tier", tier, tier_keys)
                )


def _check_badges(
    badges: list[tuple[int, dict[str, Any]]],
    action_keys: list[str],
    awarded: set[str],
    errors: list[FieldError],
) -> None:
    """A badge has a rule (``when``) unless something else awards it, and its rule names
    actions that exist."""
    for i, badge in badges:
        when = badge.get("when")
        if when is None and badge.get("key") not in awarded:
            errors.append(
                FieldError(
                    f"badges[{i}].when",
                    "is required unless a quest, a challenge or a streak milestone awards it",
                )
            )
        if not isinstance(when, dict):
            continue
        name = when.get("action")
        if isinstance(name, str) and name not in action_keys:
            errors.append(_unknown(f"badges[{i}].when.action", "action", name, action_keys))
        for j, name in enumerate(_list(when.get("all_of"))):
            if isinstance(name, str) and name not in action_keys:
                errors.append(
                    _unknown(f"badges[{i}].when.all_of[{j}]", "action", name, action_keys)
                )


def _check_tiers(
    raw: dict[str, Any], tiers: list[tuple[int, dict[str, Any]]], errors: list[FieldError]
) -> None:
    """Tiers start at 0 and climb; tier qualification needs tiers."""
    previous: int | None = None
    for i, tier in tiers:
        points = tier.get("min_points")
        if not isinstance(points, int) or isinstance(points, bool):
            continue
        if previous is None and points != 0:
            errors.append(FieldError(f"tiers[{i}].min_points", "the first tier must start at 0"))
        elif previous is not None and points <= previous:
            errors.append(
                FieldError(
                    f"tiers[{i}].min_points", f"must be above the previous tier's {previous}"
                )
            )
        previous = points
    if raw.get("tier_qualification") is not None and not tiers:
        errors.append(FieldError("tier_qualification", "needs tiers to qualify for"))


def _check_quests(
    raw: dict[str, Any],
    action_keys: list[str],
    badge_keys: list[str],
    tier_keys: list[str],
    errors: list[FieldError],
) -> set[str]:
    """Quest steps name actions, rewards name badges, requirements name quests and tiers;
    returns the badges quests award."""
    quests = _items(raw.get("quests"))
    quest_keys = _keys(quests, "quests", errors)
    rewarded_badges: set[str] = set()
    for i, quest in quests:
        step_items = _items(quest.get("steps"))
        _keys(step_items, f"quests[{i}].steps", errors)
        for j, step in step_items:
            name = step.get("action")
            if isinstance(name, str) and name not in action_keys:
                errors.append(
                    _unknown(f"quests[{i}].steps[{j}].action", "action", name, action_keys)
                )
            badge = step.get("badge")
            if isinstance(badge, str):
                rewarded_badges.add(badge)
                if badge not in badge_keys:
                    errors.append(
                        _unknown(f"quests[{i}].steps[{j}].badge", "badge", badge, badge_keys)
                    )
        reward = quest.get("reward")
        badge = reward.get("badge") if isinstance(reward, dict) else None
        if isinstance(badge, str):
            rewarded_badges.add(badge)
            if badge not in badge_keys:
                errors.append(_unknown(f"quests[{i}].reward.badge", "badge", badge, badge_keys))
        requires = quest.get("requires")
        if not isinstance(requires, dict):
            continue
        for j, name in enumerate(_list(requires.get("quests"))):
            if not isinstance(name, str):
                continue
            if name not in quest_keys:
                errors.append(
                    _unknown(f"quests[{i}].requires.quests[{j}]", "quest", name, quest_keys)
                )
        tier = requires.get("tier")
        if isinstance(tier, str) and tier not in tier_keys:
            errors.append(_unknown(f"quests[{i}].requires.tier", "tier", tier, tier_keys))
    errors.extend(_requirement_cycles(quests))
    return rewarded_badges


def _check_challenges(
    raw: dict[str, Any],
    action_keys: list[str],
    badge_keys: list[str],
    tier_keys: list[str],
    errors: list[FieldError],
) -> set[str]:
    """Goals name actions, segments tiers, rewards badges; returns the badges awarded."""
    return _check_ranked("challenges", "goal", raw, action_keys, badge_keys, tier_keys, errors)


def _check_leaderboards(
    raw: dict[str, Any],
    action_keys: list[str],
    badge_keys: list[str],
    tier_keys: list[str],
    errors: list[FieldError],
) -> set[str]:
    """Metrics name actions, eligibility tiers, prizes badges; returns the badges awarded."""
    for i, board in _items(raw.get("leaderboards")):
        if board.get("tier_bracket") is True and not tier_keys:
            errors.append(
                FieldError(f"leaderboards[{i}].tier_bracket", "needs tiers to bracket by")
            )
    return _check_ranked("leaderboards", "metric", raw, action_keys, badge_keys, tier_keys, errors)


def _check_rewards(raw: dict[str, Any], tier_keys: list[str], errors: list[FieldError]) -> None:
    """Catalogue items: unique keys, eligibility tiers that exist (stages: ``_check_stages``)."""
    items = _items(raw.get("rewards"))
    _keys(items, "rewards", errors)
    for i, item in items:
        for j, tier in enumerate(_list(item.get("tiers"))):
            if isinstance(tier, str) and tier not in tier_keys:
                errors.append(_unknown(f"rewards[{i}].tiers[{j}]", "tier", tier, tier_keys))


def _check_references(raw: dict[str, Any], tier_keys: list[str], errors: list[FieldError]) -> None:
    """Reference requests: the tiers and stages that may be asked exist."""
    references = raw.get("references")
    if not isinstance(references, dict):
        return
    for j, tier in enumerate(_list(references.get("tiers"))):
        if isinstance(tier, str) and tier not in tier_keys:
            errors.append(_unknown(f"references.tiers[{j}]", "tier", tier, tier_keys))
    stage_keys = [s.get("key") for _, s in _items(raw.get("stages"))]
    for j, stage in enumerate(_list(references.get("stages"))):
        if isinstance(stage, str) and stage not in stage_keys:
            known = [k for k in stage_keys if isinstance(k, str)]
            errors.append(_unknown(f"references.stages[{j}]", "stage", stage, known))


def _check_ranked(
    section: str,
    measure: str,
    raw: dict[str, Any],
    action_keys: list[str],
    badge_keys: list[str],
    tier_keys: list[str],
    errors: list[FieldError],
) -> set[str]:
    """Challenges and leaderboards alike: unique keys; what they measure (``measure``) names an
    action, their ``tiers`` tiers, their reward a badge. Returns the badges awarded."""
    items = _items(raw.get(section))
    _keys(items, section, errors)
    awarded: set[str] = set()
    for i, item in items:
        what = item.get(measure)
        name = what.get("action") if isinstance(what, dict) else None
        if isinstance(name, str) and name not in action_keys:
            errors.append(_unknown(f"{section}[{i}].{measure}.action", "action", name, action_keys))
        for j, tier in enumerate(_list(item.get("tiers"))):
            if isinstance(tier, str) and tier not in tier_keys:
                errors.append(_unknown(f"{section}[{i}].tiers[{j}]", "tier", tier, tier_keys))
        reward = item.get("reward")
        badge = reward.get("badge") if isinstance(reward, dict) else None
        if isinstance(badge, str):
            awarded.add(badge)
            if badge not in badge_keys:
                errors.append(_unknown(f"{section}[{i}].reward.badge", "badge", badge, badge_keys))
    return awarded


def _requirement_cycles(quests: list[tuple[int, dict[str, Any]]]) -> list[FieldError]:
    """Quests that require each other, directly or not, could never be unlocked."""
    needs: dict[str, list[str]] = {}
    where: dict[str, int] = {}
    for i, quest in quests:
        key = quest.get("key")
        requires = quest.get("requires")
        if isinstance(key, str) and isinstance(requires, dict):
            needs[key] = [q for q in _list(requires.get("quests")) if isinstance(q, str)]
            where[key] = i
    errors: list[FieldError] = []
    for start in needs:
        seen: set[str] = set()
        stack = list(needs[start])
        while stack:
            name = stack.pop()
            if name == start:
                errors.append(
                    FieldError(
                        f"quests[{where[start]}].requires", "quests require each other in a cycle"
                    )
                )
                break
            if name not in seen:
                seen.add(name)
                stack.extend(needs.get(name, []))
    return errors


def _check_stages(raw: dict[str, Any], action_keys: list[str], errors: list[FieldError]) -> None:
    """Stage rules name actions, quests and earlier stages; only the first stage may go without
    a rule; `stages` limits of actions, quests and challenges name stages."""
    stages = _items(raw.get("stages"))
    stage_keys = _keys(stages, "stages", errors)
    quest_keys = [q["key"] for _, q in _items(raw.get("quests")) if isinstance(q.get("key"), str)]
    for position, (i, stage) in enumerate(stages):
        when = stage.get("when")
        if when is None:
            if position > 0:
                errors.append(
                    FieldError(f"stages[{i}].when", "is required (only the first stage has none)")
                )
            continue
        if not isinstance(when, dict):
            continue
        name = when.get("action")
        if isinstance(name, str) and name not in action_keys:
            errors.append(_unknown(f"stages[{i}].when.action", "action", name, action_keys))
        quest = when.get("quest")
        if isinstance(quest, str) and quest not in quest_keys:
            errors.append(_unknown(f"stages[{i}].when.quest", "quest", quest, quest_keys))
        after = when.get("after")
        earlier = stage_keys[:position]
        named = after.get("stage") if isinstance(after, dict) else None
        if isinstance(named, str) and named not in earlier:
            errors.append(
                FieldError(
                    f"stages[{i}].when.after.stage",
                    f"must be an earlier stage, one of {', '.join(earlier) or '(none)'}"
                    f"{did_you_mean(named, earlier)}",
                )
            )
    for section in ("actions", "quests", "challenges", "leaderboards", "rewards"):
        for i, item in _items(raw.get(section)):
            for j, name in enumerate(_list(item.get("stages"))):
                if isinstance(name, str) and name not in stage_keys:
                    errors.append(
                        _unknown(f"{section}[{i}].stages[{j}]", "stage", name, stage_keys)
                    )


def _check_streaks(
    raw: dict[str, Any], action_keys: list[str], badge_keys: list[str], errors: list[FieldError]
) -> set[str]:
    """Streaks name an action and their milestones' badges; the badges milestones award."""
    streaks = _items(raw.get("streaks"))
    _keys(streaks, "streaks", errors)
    awarded: set[str] = set()
    for i, streak in streaks:
        name = streak.get("action")
        if isinstance(name, str) and name not in action_keys:
            errors.append(_unknown(f"streaks[{i}].action", "action", name, action_keys))
        for j, milestone in _items(streak.get("milestones")):
            badge = milestone.get("badge")
            if not isinstance(badge, str):
                continue
            awarded.add(badge)
            if badge not in badge_keys:
                errors.append(
                    _unknown(f"streaks[{i}].milestones[{j}].badge", "badge", badge, badge_keys)
                )
    return awarded


def _check_analytics(
    raw: dict[str, Any], action_keys: list[str], badge_keys: list[str], errors: list[FieldError]
) -> None:
    """Analytics definitions name actions; milestones name actions, quests, challenges and
    badges that exist."""
    analytics = raw.get("analytics")
    if not isinstance(analytics, dict):
        return
    known = {
        "action": action_keys,
        "badge": badge_keys,
        "quest": _names(raw.get("quests")),
        "challenge": _names(raw.get("challenges")),
    }
    for field in ("invited", "qualified", "adopted"):
        for j, name in enumerate(_list(analytics.get(field))):
            if isinstance(name, str) and name not in action_keys:
                errors.append(_unknown(f"analytics.{field}[{j}]", "action", name, action_keys))
    for field in ("activated", "active"):
        for j, milestone in enumerate(_list(analytics.get(field))):
            kind, _, name = str(milestone).partition(":")
            if kind in known and name != "*" and name not in known[kind]:
                errors.append(_unknown(f"analytics.{field}[{j}]", kind, name, known[kind]))
    pipeline = analytics.get("pipeline")
    if isinstance(pipeline, dict):
        for field in ("influenced", "won"):
            for j, name in enumerate(_list(pipeline.get(field))):
                if isinstance(name, str) and name not in action_keys:
                    errors.append(
                        _unknown(f"analytics.pipeline.{field}[{j}]", "action", name, action_keys)
                    )


def _check_experiments(
    raw: dict[str, Any], action_keys: list[str], badge_keys: list[str], errors: list[FieldError]
) -> None:
    """Experiments: unique keys, and the mechanics they cover exist. (Their windows, which
    need the program's zone, are checked by ``check_experiment_windows``.)"""
    experiments = _items(raw.get("experiments"))
    _keys(experiments, "experiments", errors)
    known = {
        "actions": action_keys,
        "badges": badge_keys,
        "quests": _names(raw.get("quests")),
        "challenges": _names(raw.get("challenges")),
        "leaderboards": _names(raw.get("leaderboards")),
        "rewards": _names(raw.get("rewards")),
    }
    for i, experiment in experiments:
        covers = experiment.get("covers")
        if not isinstance(covers, dict):
            continue
        for section, keys in known.items():
            kind = section.removesuffix("s")
            for j, name in enumerate(_list(covers.get(section))):
                if isinstance(name, str) and name not in keys:
                    errors.append(
                        _unknown(f"experiments[{i}].covers.{section}[{j}]", kind, name, keys)
                    )


def check_experiment_windows(program: Program) -> list[FieldError]:
    """Each experiment ends after it starts (both in the program's zone, or their own
    offsets), and no mechanic is covered by two experiments whose windows overlap: a member
    could be control in one and treatment in the other."""
    zone = ZoneInfo(program.timezone)
    errors: list[FieldError] = []
    windows: list[tuple[int, int]] = []
    for i, experiment in enumerate(program.experiments):
        starts = window_bound(experiment.starts, zone, end=False)
        ends = window_bound(experiment.ends, zone, end=True)
        windows.append((starts, ends))
        if ends <= starts:
            errors.append(FieldError(f"experiments[{i}].ends", "must be after 'starts'"))
            continue
        for k, earlier in enumerate(program.experiments[:i]):
            if not (windows[k][0] < ends and starts < windows[k][1]):
                continue
            for section in COVERED_SECTIONS:
                theirs = set(getattr(earlier.covers, section))
                for j, name in enumerate(getattr(experiment.covers, section)):
                    if name in theirs:
                        errors.append(
                            FieldError(
                                f"experiments[{i}].covers.{section}[{j}]",
                                f"'{name}' is covered by experiment '{earlier.key}' "
                                f"(experiments[{k}]) in an overlapping window: a member could "
                                "be in the control group of one and the treatment of the other",
                            )
                        )
            if experiment.covers.recommendations and earlier.covers.recommendations:
                errors.append(
                    FieldError(
                        f"experiments[{i}].covers.recommendations",
                        f"recommendations are covered by experiment '{earlier.key}' "
                        f"(experiments[{k}]) in an overlapping window: a member could "
                        "be in the control group of one and the treatment of the other",
                    )
                )
    return errors


def _names(value: object) -> list[str]:
    return [item["key"] for _, item in _items(value) if isinstance(item.get("key"), str)]


def _list(value: object) -> list[Any]:
    """A list from the file, or nothing: a wrong type is reported by the model, not here."""
    return value if isinstance(value, list) else []


def _items(value: object) -> list[tuple[int, dict[str, Any]]]:
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _keys(
    items: list[tuple[int, dict[str, Any]]], section: str, errors: list[FieldError]
) -> list[str]:
    seen: dict[str, int] = {}
    for i, item in items:
        key = item.get("key")
        if not isinstance(key, str):
            continue
        if key in seen:
            errors.append(
                FieldError(
                    f"{section}[{i}].key", f"'{key}' is already used by {section}[{seen[key]}]"
                )
            )
        else:
            seen[key] = i
    return list(seen)


def _unknown(field: str, kind: str, name: str, choices: list[str]) -> FieldError:
    return FieldError(field, f"unknown {kind} '{name}'{did_you_mean(name, choices)}")


def did_you_mean(name: str, choices: list[str] | set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
