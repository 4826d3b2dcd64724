"""Assessment results: a lead's completed assessment, written with the completing event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, exists, func, insert, or_, select, update

from accolade.store.repositories._base import RepositoryBase
from accolade.store.tables import assessment_results, events, members


class NewResult(NamedTuple):
    member_id: int
    assessment: str
    event_id: str
    program_version: int
    total: int
    level: str
    segment: str
    result: str  # JSON
    completed_at: datetime


class AssessmentsRepository(RepositoryBase):
    def save_results(self, program_id: int, results: Sequence[NewResult], now: datetime) -> None:
        """New results, in the caller's transaction (the uniqueness of a lead's result per
        assessment is the engine's: a completed assessment takes no more events)."""
        if not results:
            return
        self.conn.execute(
            insert(assessment_results),
            [{"program_id": program_id, **r._asdict(), "recorded_at": now} for r in results],
        )

    def result(self, program_id: int, assessment: str, lead: str) -> Any:
        """The lead's result (with its ``lead`` external id), or None."""
        return self.conn.execute(
            select(*assessment_results.c, members.c.external_id.label("lead"))
            .join(members, members.c.id == assessment_results.c.member_id)
            .where(
                assessment_results.c.program_id == program_id,
                assessment_results.c.assessment == assessment,
                members.c.program_id == program_id,
                members.c.external_id == lead,
            )
        ).first()

    def results_by_email(self, program_id: int, assessment: str, email: str) -> list[Any]:
        """The results (with ``lead``) of the leads known by ``email`` (lowercase): their id
        is it, or their ``email`` attribute is it, in any case; oldest first."""
        return list(
            self.conn.execute(
                select(*assessment_results.c, members.c.external_id.label("lead"))
                .join(members, members.c.id == assessment_results.c.member_id)
                .where(
                    assessment_results.c.program_id == program_id,
                    assessment_results.c.assessment == assessment,
                    or_(
                        func.lower(members.c.external_id) == email,
                        func.lower(members.c.attributes["email"].as_string()) == email,
                    ),
                )
                .order_by(assessment_results.c.completed_at, assessment_results.c.id)
            )
        )

    def rescore_result(
        self,
        program_id: int,
        assessment: str,
        member_id: int,
        total: int,
        level: str,
        segment: str,
        result: str,
    ) -> None:
        """A result scored again (a reversal changed the answers it was scored on)."""
        self.conn.execute(
            update(assessment_results)
            .where(*self._one(program_id, assessment, member_id))
            .values(total=total, level=level, segment=segment, result=result)
        )

    def delete_result(self, program_id: int, assessment: str, member_id: int) -> None:
        """A result no longer there (a reversal took its completion back)."""
        self.conn.execute(
            delete(assessment_results).where(*self._one(program_id, assessment, member_id))
        )

    @staticmethod
    def _one(program_id: int, assessment: str, member_id: int) -> tuple[Any, ...]:
        return (
            assessment_results.c.program_id == program_id,
            assessment_results.c.assessment == assessment,
            assessment_results.c.member_id == member_id,
        )

    def results_of(self, program_id: int, assessment: str) -> list[Any]:
        """Every result of an assessment: (segment, level, total, result JSON)."""
        return list(
            self.conn.execute(
                select(
                    assessment_results.c.segment,
                    assessment_results.c.level,
                    assessment_results.c.total,
                    assessment_results.c.result,
                ).where(
                    assessment_results.c.program_id == program_id,
                    assessment_results.c.assessment == assessment,
                )
            )
        )

    def followed_by(self, program_id: int, assessment: str, types: Sequence[str]) -> dict[str, int]:
        """Per segment, the leads with an event of one of ``types`` (in force: not reversed)
        at or after their completion."""
        if not types:
            return {}
        later = exists().where(
            events.c.program_id == program_id,
            events.c.member_id == assessment_results.c.member_id,
            events.c.kind == "event",
            events.c.reversed_by.is_(None),
            events.c.type.in_(list(types)),
            events.c.occurred_at >= assessment_results.c.completed_at,
        )
        rows = self.conn.execute(
            select(assessment_results.c.segment, func.count())
            .where(
                assessment_results.c.program_id == program_id,
                assessment_results.c.assessment == assessment,
                later,
            )
            .group_by(assessment_results.c.segment)
        )
        return {segment: int(n) for segment, n in rows}

    def clear_results(self, program_id: int) -> None:
        """Every result of the program: replay writes them again."""
        self.conn.execute(
            delete(assessment_results).where(assessment_results.c.program_id == program_id)
        )
