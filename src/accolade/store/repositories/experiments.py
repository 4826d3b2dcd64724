"""Experiments: which arm each member is in, and the decisions taken on an experiment.

Arms are read from the ledger's `experiment` entries (rule `experiment:<key>`, period the arm),
not from member states: the entry is written once, in the transaction of the event that gave
the arm, and replay writes it again; one indexed query (ix_ledger_entries_experiment) returns an
experiment's arms, where the states would have to be read and parsed for every member.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, func, literal_column, select

from accolade.store.repositories._base import RepositoryBase
from accolade.store.tables import experiment_decisions, ledger_entries, members

# Written as a literal, not a bound parameter: SQLite uses a partial index only when the query
# repeats its condition, and a parameter's value is not known when the plan is made.
_ARM_ENTRY = ledger_entries.c.kind == literal_column("'experiment'")
_RULE = "experiment:"


class ExperimentsRepository(RepositoryBase):
    def arms(self, program_id: int, experiment: str) -> dict[int, str]:
        """members.id -> arm ("treatment" or "control") of every member in ``experiment``."""
        rows = self.conn.execute(
            select(ledger_entries.c.member_id, ledger_entries.c.period)
            .where(
                ledger_entries.c.program_id == program_id,
                _ARM_ENTRY,
                ledger_entries.c.rule == _RULE + experiment,
            )
            .order_by(ledger_entries.c.id)
        )
        arms: dict[int, str] = {}
        for member_id, arm in rows:
            arms.setdefault(int(member_id), str(arm))  # one entry per member; the first counts
        return arms

    def arms_select(self, program_id: int, experiment: str) -> Select[Any]:
        """(member_id, arm) of every member in ``experiment``, for a report to count in SQL."""
        return select(ledger_entries.c.member_id, ledger_entries.c.period.label("arm")).where(
            ledger_entries.c.program_id == program_id,
            _ARM_ENTRY,
            ledger_entries.c.rule == _RULE + experiment,
        )

    def arm_counts(self, program_id: int, experiment: str) -> dict[str, int]:
        """arm -> members in it, of one experiment."""
        arms = self.arms_select(program_id, experiment).subquery()
        rows = self.conn.execute(
            select(arms.c.arm, func.count(arms.c.member_id.distinct())).group_by(arms.c.arm)
        )
        return {str(arm): int(n) for arm, n in rows}

    def arm_sizes(self, program_id: int) -> dict[str, dict[str, int]]:
        """experiment key -> arm -> members in it, for every experiment with members."""
        member_count = func.count(ledger_entries.c.member_id.distinct())
        rows = self.conn.execute(
            select(ledger_entries.c.rule, ledger_entries.c.period, member_count)
            .where(
                ledger_entries.c.program_id == program_id,
                _ARM_ENTRY,
                ledger_entries.c.rule.startswith(_RULE),
            )
            .group_by(ledger_entries.c.rule, ledger_entries.c.period)
        )
        sizes: dict[str, dict[str, int]] = {}
        for rule, arm, count in rows:
            sizes.setdefault(str(rule).removeprefix(_RULE), {})[str(arm)] = int(count)
        return sizes

    def known_members(self, program_id: int, external_ids: Sequence[str]) -> set[str]:
        """Those of ``external_ids`` the program has a member for (a cohort's check)."""
        rows = self.conn.execute(
            select(members.c.external_id).where(
                members.c.program_id == program_id, members.c.external_id.in_(external_ids)
            )
        )
        return {str(r[0]) for r in rows}

    def add_decision(
        self,
        program_id: int,
        experiment: str,
        decision: str,
        decided_by: str,
        reason: str,
        at: datetime,
    ) -> None:
        self.conn.execute(
            experiment_decisions.insert().values(
                program_id=program_id,
                experiment=experiment,
                decision=decision,
                decided_by=decided_by,
                reason=reason,
                decided_at=at,
            )
        )

    def decisions(self, program_id: int, experiment: str | None = None) -> list[Row[Any]]:
        """Decisions taken, oldest first: on ``experiment``, or on every experiment."""
        stmt = select(
            experiment_decisions.c.experiment,
            experiment_decisions.c.decision,
            experiment_decisions.c.decided_by,
            experiment_decisions.c.reason,
            experiment_decisions.c.decided_at,
        ).where(experiment_decisions.c.program_id == program_id)
        if experiment is not None:
            stmt = stmt.where(experiment_decisions.c.experiment == experiment)
        return list(self.conn.execute(stmt.order_by(experiment_decisions.c.id)))
