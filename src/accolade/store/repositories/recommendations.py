"""Next best actions: the trained models per program version, the members' states a training
reads in bulk, and the dismissals members logged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from accolade.program.compiled import RECOMMENDATION_DISMISSED
from accolade.store.repositories._base import RepositoryBase
from accolade.store.tables import events, members, recommendation_models


class RecommendationsRepository(RepositoryBase):
    def save_model(
        self,
        program_id: int,
        program_version: int,
        *,
        trained_at: datetime,
        samples: int,
        positives: int,
        model: str,
        metrics: str,
    ) -> int:
        """A newly trained model; returns its id (its version: ids only grow)."""
        return int(
            self.conn.execute(
                insert(recommendation_models)
                .values(
                    program_id=program_id,
                    program_version=program_version,
                    trained_at=trained_at,
                    samples=samples,
                    positives=positives,
                    model=model,
                    metrics=metrics,
                )
                .returning(recommendation_models.c.id)
            ).scalar_one()
        )

    def latest_model(self, program_id: int, program_version: int) -> Any:
        """The newest model trained for this version, else for the latest earlier version;
        None when there is none."""
        t = recommendation_models.c
        return self.conn.execute(
            select(recommendation_models)
            .where(t.program_id == program_id, t.program_version <= program_version)
            .order_by(t.program_version.desc(), t.id.desc())
            .limit(1)
        ).first()

    def latest_model_id(self, program_id: int, program_version: int) -> int | None:
        """The id of ``latest_model``, without its JSON (the hot path checks it per request)."""
        t = recommendation_models.c
        found = self.conn.execute(
            select(t.id)
            .where(t.program_id == program_id, t.program_version <= program_version)
            .order_by(t.program_version.desc(), t.id.desc())
            .limit(1)
        ).scalar()
        return None if found is None else int(found)

    def model_json(self, model_id: int) -> str:
        t = recommendation_models.c
        return str(self.conn.execute(select(t.model).where(t.id == model_id)).scalar_one())

    def member_rows(self, program_id: int, batch: int = 5_000) -> Iterator[Any]:
        """Every member with a state, a batch of rows at a time (a training's input)."""
        m = members.c
        result = self.conn.execution_options(stream_results=True, yield_per=batch).execute(
            select(
                m.id,
                m.external_id,
                m.team,
                m.company,
                m.attributes,
                m.lifetime,
                m.balance,
                m.tier,
                m.progress,
            ).where(m.program_id == program_id, m.progress.is_not(None))
        )
        yield from result

    def dismissals(
        self, program_id: int, member_id: int | None = None, since: datetime | None = None
    ) -> list[tuple[int, str, datetime]]:
        """(member row id, candidate key, when) of the dismissals logged, oldest first: one
        member's or everyone's, since a time or ever."""
        e = events.c
        query = select(e.member_id, e.body, e.occurred_at).where(
            e.program_id == program_id,
            e.type == RECOMMENDATION_DISMISSED,
            e.kind == "event",
            e.reversed_by.is_(None),
        )
        if member_id is not None:
            query = query.where(e.member_id == member_id)
        if since is not None:
            query = query.where(e.occurred_at >= since)
        out = []
        for row in self.conn.execute(query.order_by(e.occurred_at, e.id)):
            candidate = json.loads(row.body).get("properties", {}).get("candidate")
            if isinstance(candidate, str):
                out.append((int(row.member_id), candidate, row.occurred_at))
        return out
