"""Each analytics metric once more, as plain Python over the stored rows (docs/analytics.md).

The service counts in SQL; this module reads every row of the log, the ledger, the badges and
the members and counts in loops, so that a property test can hold the two equal. It shares with
the service only the reading of the program's definitions (milestones) and the periods.
"""

from __future__ import annotations

import bisect
import json
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from accolade.engine.money import currency_places
from accolade.program.analytics import Analytics
from accolade.program.models import Program
from accolade.service.analytics import actions, milestones
from accolade.store.repositories.analytics import BALANCE_KINDS, Milestones, Periods
from accolade.store.tables import events, ledger_entries, member_badges, members
from accolade.store.unit_of_work import Store


@dataclass
class Log:
    events: list[Any]
    ledger: list[Any]
    badges: list[Any]
    members: dict[int, Any]
    by_id: dict[int, Any]  # events by row id


def load(store: Store) -> Log:
    with store.engine.connect() as conn:
        rows = list(conn.execute(select(events)))
        return Log(
            rows,
            list(conn.execute(select(ledger_entries))),
            list(conn.execute(select(member_badges))),
            {r.id: r for r in conn.execute(select(members))},
            {r.id: r for r in rows},
        )


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def occurrences(log: Log, what: Milestones) -> list[tuple[int, datetime]]:
    """(member id, time) of every milestone reached, all time."""
    out: list[tuple[int, datetime]] = []
    for e in log.events:
        if e.kind != "event" or e.reversed_by is not None:
            continue
        if what.any_event or e.type in what.event_types:
            out.append((e.member_id, _utc(e.occurred_at)))
    for entry in log.ledger:
        if entry.points < 0 or log.by_id[entry.event_id].reversed_by is not None:
            continue
        if any(
            entry.kind == kind and (not rule or entry.rule == rule) for kind, rule in what.entries
        ):
            out.append((entry.member_id, _utc(entry.occurred_at)))
    for badge in log.badges:
        if what.any_badge or badge.badge in what.badges:
            out.append((badge.member_id, _utc(badge.awarded_at)))
    return out


def firsts(log: Log, what: Milestones, end: datetime) -> dict[int, datetime]:
    found: dict[int, datetime] = {}
    for member, at in occurrences(log, what):
        if at < end and (member not in found or at < found[member]):
            found[member] = at
    return found


class Reference:
    def __init__(self, log: Log, program: Program, periods: Periods, by: str | None) -> None:
        self.log, self.program, self.periods, self.by = log, program, periods, by
        self.defs = program.analytics or Analytics()

    def period(self, at: datetime) -> str | None:
        if at < self.periods.start or at >= self.periods.end:
            return None
        return self.periods.labels[bisect.bisect_right(self.periods.starts, at) - 1]

    def group(self, member_id: int) -> str | None:
        if self.by is None:
            return None
        m = self.log.members[member_id]
        if self.by == "member":
            return str(m.external_id)
        if self.by in ("team", "company", "tier"):
            return getattr(m, self.by)
        if self.by == "stage":
            return json.loads(m.progress or "{}").get("stage")
        value = (m.attributes or {}).get(self.by.removeprefix("attribute:"))
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value)

    def members_per(self, pairs: list[tuple[int, datetime]]) -> dict[tuple[str, Any], set[int]]:
        cells: dict[tuple[str, Any], set[int]] = defaultdict(set)
        for member, at in pairs:
            label = self.period(at)
            if label is not None:
                cells[(label, self.group(member))].add(member)
        return cells

    def rows(self, metric: str) -> list[dict[str, Any]]:
        return getattr(self, metric)()

    def _table(self, measures: dict[str, dict[tuple[str, Any], int]]) -> list[dict[str, Any]]:
        keys = {k for cells in measures.values() for k in cells}
        out = []
        for label, group in keys:
            row: dict[str, Any] = {"period": label}
            if self.by is not None:
                row["group"] = group
            for name, cells in measures.items():
                row[name] = cells.get((label, group), 0)
            out.append(row)
        return out

    def _active(self) -> dict[tuple[str, Any], set[int]]:
        return self.members_per(occurrences(self.log, milestones(self.program, self.defs.active)))

    def activation(self) -> list[dict[str, Any]]:
        end = self.periods.end
        invited_what = (
            actions(self.program, self.defs.invited)
            if self.defs.invited
            else Milestones(any_event=True)
        )
        invited = firsts(self.log, invited_what, end)
        activated = firsts(self.log, milestones(self.program, self.defs.activated), end)
        inv = self.members_per(list(invited.items()))
        act = {k: {m for m in v if m in activated} for k, v in inv.items()}
        rows = self._table({"invited": _n(inv), "activated": _n(act)})
        for r in rows:
            r["rate"] = _rate(r["activated"], r["invited"])
        return rows

    def active(self) -> list[dict[str, Any]]:
        return self._table({"active": _n(self._active())})

    def qualified(self) -> list[dict[str, Any]]:
        end = self.periods.end
        what = actions(self.program, self.defs.qualified)
        qualified = self.members_per(occurrences(self.log, what))
        first = firsts(self.log, what, end)
        rows = self._table(
            {
                "active": _n(self._active()),
                "qualified": _n(qualified),
                "first_qualified": _n(self.members_per(list(first.items()))),
            }
        )
        since = firsts(self.log, milestones(self.program, self.defs.activated), end)
        began = firsts(self.log, Milestones(any_event=True), end)
        waits: dict[tuple[str, Any], list[float]] = defaultdict(list)
        for member, at in first.items():
            label = self.period(at)
            if label is None:
                continue
            start = since.get(member, began.get(member))
            days = max((at - start).total_seconds(), 0) / 86400 if start else 0
            waits[(label, self.group(member))].append(days)
        for r in rows:
            r["rate"] = _rate(r["qualified"], r["active"])
            w = waits.get((r["period"], r.get("group")))
            r["median_days"] = round(statistics.median(w), 2) if w else None
        return rows

    def adoption(self) -> list[dict[str, Any]]:
        pairs = occurrences(self.log, actions(self.program, self.defs.adopted))
        counts: dict[tuple[str, Any], int] = defaultdict(int)
        for member, at in pairs:
            label = self.period(at)
            if label is not None:
                counts[(label, self.group(member))] += 1
        rows = self._table(
            {
                "active": _n(self._active()),
                "adopted": _n(self.members_per(pairs)),
                "adoptions": dict(counts),
            }
        )
        for r in rows:
            r["rate"] = _rate(r["adopted"], r["active"])
        return rows

    def pipeline(self) -> list[dict[str, Any]]:
        pipe = self.defs.pipeline
        sums: dict[tuple[str, Any, str], dict[str, float]] = defaultdict(
            lambda: {"influenced": 0.0, "won": 0.0}
        )
        if pipe is not None:
            factor = 10 ** currency_places(pipe.currency)
            for measure, keys in (("influenced", pipe.influenced), ("won", pipe.won)):
                types = actions(self.program, keys).event_types
                for e in self.log.events:
                    if e.kind != "event" or e.reversed_by is not None or e.type not in types:
                        continue
                    value = json.loads(e.body).get("properties", {}).get(pipe.property)
                    label = self.period(_utc(e.occurred_at))
                    if (
                        label is None
                        or isinstance(value, bool)
                        or not isinstance(value, int | float)
                    ):
                        continue
                    sums[(label, self.group(e.member_id), pipe.currency)][measure] += value * factor
        rows = []
        for (label, group, currency), v in sums.items():
            row: dict[str, Any] = {"period": label}
            if self.by is not None:
                row["group"] = group
            row |= {
                "currency": currency,
                "influenced": round(v["influenced"]),
                "won": round(v["won"]),
            }
            rows.append(row)
        return rows

    def points(self) -> list[dict[str, Any]]:
        measures: dict[str, dict[tuple[str, Any], int]] = {
            "issued": defaultdict(int),
            "redeemed": defaultdict(int),
            "expired": defaultdict(int),
        }
        opening: dict[Any, int] = defaultdict(int)
        for entry in self.log.ledger:
            at = _utc(entry.occurred_at)
            group = self.group(entry.member_id)
            if at < self.periods.start:
                opening[group] += entry.points
                continue
            label = self.period(at)
            if label is None:
                continue
            if entry.kind not in BALANCE_KINDS:
                measures["issued"][(label, group)] += entry.points
            elif entry.kind == "expiry":
                measures["expired"][(label, group)] -= entry.points
            else:
                measures["redeemed"][(label, group)] -= entry.points
        groups = {g for cells in measures.values() for _, g in cells} | set(opening)
        rows = []
        for group in groups:
            balance = opening.get(group, 0)
            for label in self.periods.labels:
                row: dict[str, Any] = {"period": label}
                if self.by is not None:
                    row["group"] = group
                for name, cells in measures.items():
                    row[name] = cells.get((label, group), 0)
                balance += row["issued"] - row["redeemed"] - row["expired"]
                row["liability"] = balance
                rows.append(row)
        return rows

    def engagement(self) -> list[dict[str, Any]]:
        cells: dict[tuple[str, str], dict[str, Any]] = {}
        for entry in self.log.ledger:
            label = self.period(_utc(entry.occurred_at))
            if label is None or entry.kind in BALANCE_KINDS:
                continue
            cell = cells.setdefault(
                (label, entry.rule),
                {"kinds": set(), "events": set(), "members": set(), "points": 0},
            )
            cell["kinds"].add(entry.kind)
            cell["events"].add(entry.event_id)
            cell["members"].add(entry.member_id)
            cell["points"] += entry.points
        return [
            {
                "period": label,
                "mechanic": rule,
                "kind": min(c["kinds"]),
                "events": len(c["events"]),
                "members": len(c["members"]),
                "points": c["points"],
            }
            for (label, rule), c in cells.items()
        ]

    def completion(self) -> list[dict[str, Any]]:
        def reached(what: Milestones, period: str | None = None) -> set[int]:
            found = set()
            for entry in self.log.ledger:
                if entry.points < 0 or log.by_id[entry.event_id].reversed_by is not None:
                    continue
                if (entry.kind, entry.rule) not in what.entries:
                    continue
                if period is not None and entry.period != period:
                    continue
                if self.period(_utc(entry.occurred_at)) is not None:
                    found.add(entry.member_id)
            return found

        log = self.log
        rows = []
        for quest in self.program.quests:
            what = Milestones(entries=(("quest", f"quest:{quest.key}"),))
            before = None
            for position, step in enumerate(quest.steps, 1):
                n = len(reached(what, step.key))
                rows.append(_completion(f"quest:{quest.key}/{step.key}", position, n, before))
                before = n
            n = len(reached(what, ""))
            rows.append(_completion(f"quest:{quest.key}", len(quest.steps) + 1, n, before))
        active = {m for cell in self._active().values() for m in cell}
        for badge in self.program.badges:
            n = len(
                {
                    b.member_id
                    for b in log.badges
                    if b.badge == badge.key and self.period(_utc(b.awarded_at)) is not None
                }
            )
            row = _completion(f"badge:{badge.key}", 1, n, len(active))
            row["drop_off"] = None
            rows.append(row)
        return rows

    def retention(self) -> list[dict[str, Any]]:
        activated = firsts(
            self.log, milestones(self.program, self.defs.activated), self.periods.end
        )
        labels = list(self.periods.labels)
        active_in: dict[int, set[int]] = defaultdict(set)
        for member, at in occurrences(self.log, milestones(self.program, self.defs.active)):
            label = self.period(at)
            if label is not None:
                active_in[member].add(labels.index(label))
        cohorts: dict[tuple[str, Any], set[int]] = defaultdict(set)
        for member, at in activated.items():
            label = self.period(at)
            if label is not None:
                cohorts[(label, self.group(member))].add(member)
        rows = []
        for (label, group), cohort in cohorts.items():
            first = labels.index(label)
            for offset in range(len(labels) - first):
                n = sum(1 for m in cohort if first + offset in active_in[m])
                row: dict[str, Any] = {"period": label}
                if self.by is not None:
                    row["group"] = group
                row |= {"offset": offset, "cohort": len(cohort), "active": n}
                row["rate"] = _rate(n, len(cohort))
                rows.append(row)
        return rows


def _n(cells: dict[tuple[str, Any], set[int]]) -> dict[tuple[str, Any], int]:
    return {k: len(v) for k, v in cells.items() if v}


def _rate(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def _completion(mechanic: str, position: int, n: int, before: int | None) -> dict[str, Any]:
    return {
        "mechanic": mechanic,
        "position": position,
        "members": n,
        "rate": _rate(n, before) if before is not None else None,
        "drop_off": max(before - n, 0) if before is not None else None,
    }


def comparable(rows: list[dict[str, Any]], metric: str) -> list[tuple[Any, ...]]:
    """Rows in one order, without the all-zero rows a report may add to fill its table, and
    without the columns one side does not compute (completion's kinds, challenges)."""
    out = []
    for row in rows:
        row = {k: v for k, v in row.items() if k != "kind"}
        if metric == "completion" and str(row["mechanic"]).startswith("challenge:"):
            continue
        counts = [
            v for k, v in row.items() if isinstance(v, int) and k not in ("offset", "position")
        ]
        if metric not in ("points", "completion") and counts and not any(counts):
            continue
        if metric == "points" and not any(
            row[k] for k in ("issued", "redeemed", "expired", "liability")
        ):
            continue
        out.append(tuple(sorted((k, repr(v)) for k, v in row.items())))
    return sorted(out)
