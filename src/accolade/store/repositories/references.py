"""Reference requests, the advocates asked, and the candidate query on the facet index."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, select

from accolade.store.repositories._base import RepositoryBase
from accolade.store.tables import members, reference_asks, reference_requests

# asks that count against an advocate's limits
STANDING = ("asked", "accepted", "completed")


class ReferencesRepository(RepositoryBase):
    def insert_reference_request(self, values: dict[str, Any]) -> None:
        self.conn.execute(reference_requests.insert().values(**values))

    def reference_request(self, program_id: int, request_id: str) -> Any:
        return self.conn.execute(
            select(reference_requests).where(
                reference_requests.c.program_id == program_id,
                reference_requests.c.request_id == request_id,
            )
        ).first()

    def insert_reference_ask(self, values: dict[str, Any]) -> None:
        self.conn.execute(reference_asks.insert().values(**values))

    def update_reference_ask(self, pk: int, **values: Any) -> None:
        self.conn.execute(reference_asks.update().where(reference_asks.c.id == pk).values(**values))

    def reference_asks(self, request_pk: int) -> list[Any]:
        return list(
            self.conn.execute(
                select(reference_asks, members.c.external_id.label("member"))
                .join(members, members.c.id == reference_asks.c.member_id)
                .where(reference_asks.c.request_id == request_pk)
                .order_by(reference_asks.c.id)
            )
        )

    def member_asks(self, member_pk: int) -> list[Any]:
        """The asks addressed to a member, newest first, each with its request's id,
        requester, criteria and note."""
        return list(
            self.conn.execute(
                select(
                    reference_asks,
                    reference_requests.c.request_id.label("public_id"),
                    reference_requests.c.requested_by,
                    reference_requests.c.criteria,
                    reference_requests.c.note,
                )
                .join(reference_requests, reference_requests.c.id == reference_asks.c.request_id)
                .where(reference_asks.c.member_id == member_pk)
                .order_by(reference_asks.c.id.desc())
            )
        )

    def recent_requests(self, program_id: int, limit: int) -> list[Any]:
        """The program's newest reference requests, each with its asks counted by status."""
        asks = (
            select(
                reference_asks.c.request_id,
                func.count().label("asks"),
                func.sum(case((reference_asks.c.status == "asked", 1), else_=0)).label("waiting"),
                func.sum(case((reference_asks.c.status == "accepted", 1), else_=0)).label(
                    "accepted"
                ),
                func.sum(case((reference_asks.c.status == "completed", 1), else_=0)).label(
                    "completed"
                ),
            )
            .group_by(reference_asks.c.request_id)
            .subquery()
        )
        return list(
            self.conn.execute(
                select(
                    reference_requests,
                    asks.c.asks,
                    asks.c.waiting,
                    asks.c.accepted,
                    asks.c.completed,
                )
                .outerjoin(asks, asks.c.request_id == reference_requests.c.id)
                .where(reference_requests.c.program_id == program_id)
                .order_by(reference_requests.c.id.desc())
                .limit(limit)
            )
        )

    def asks_counted_since(self, program_id: int, since: datetime, at_least: int) -> list[Any]:
        """(member, asks) of the members asked at least ``at_least`` times since ``since``
        (asks that count), most asked first."""
        asked = func.count().label("asks")
        return list(
            self.conn.execute(
                select(members.c.external_id.label("member"), asked)
                .join(members, members.c.id == reference_asks.c.member_id)
                .where(
                    reference_asks.c.program_id == program_id,
                    reference_asks.c.asked_at >= since,
                    reference_asks.c.status.in_(STANDING),
                )
                .group_by(members.c.external_id)
                .having(func.count() >= at_least)
                .order_by(asked.desc(), members.c.external_id)
                .limit(200)
            )
        )

    def asks_since(self, member_pk: int, since: datetime) -> int:
        return int(
            self.conn.execute(
                select(func.count()).where(
                    reference_asks.c.member_id == member_pk,
                    reference_asks.c.asked_at >= since,
                    reference_asks.c.status.in_(STANDING),
                )
            ).scalar_one()
        )

    def member_summaries(self, ids: Sequence[int]) -> dict[int, tuple[str, dict[str, Any], Any]]:
        """(external id, attributes, tier) of each member id."""
        if not ids:
            return {}
        rows = self.conn.execute(
            select(members.c.id, members.c.external_id, members.c.attributes, members.c.tier).where(
                members.c.id.in_(list(ids))
            )
        )
        return {
            int(r.id): (
                r.external_id,
                r.attributes if isinstance(r.attributes, dict) else json.loads(r.attributes),
                r.tier,
            )
            for r in rows
        }

    def as_time(self, value: Any) -> datetime:
        """A time read by plain SQL: PostgreSQL gives it, SQLite gives UTCDateTime's text."""
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)

    def reference_candidates(
        self,
        program_id: int,
        wanted: Mapping[str, Sequence[str]],
        excluded: Mapping[str, Sequence[str]],
        limits: Sequence[tuple[int, datetime]],
        oldest: datetime | None,
        seed: tuple[int, int],
        count: int,
    ) -> list[Any]:
        """Up to ``count`` members having, for each name of ``wanted``, one of its values, and
        none of the ``excluded`` values; without those who were asked ``limit[0]`` times since
        ``limit[1]`` (asks still standing: asked, accepted, completed); least asked first (in
        the longest limit), then longest since their last ask, then in an order that ``seed``
        shuffles, so that equal advocates take turns across requests."""
        m = self._mark
        params: list[Any] = []
        sets = []
        for name, values in wanted.items():
            marks = ", ".join(m for _ in values)
            sets.append(
                f"SELECT member_id FROM member_facets WHERE program_id = {m} AND name = {m} "
                f"AND value IN ({marks})"
            )
            params += [program_id, name, *values]
        if not sets:  # no criteria: every member with a state
            sets.append(
                f"SELECT id AS member_id FROM members WHERE program_id = {m} "
                "AND progress IS NOT NULL"
            )
            params.append(program_id)
        candidates = " INTERSECT ".join(sets)
        excluded_sql = ""
        for values in excluded.values():
            marks = ", ".join(m for _ in values)
            excluded_sql += (
                f" AND NOT EXISTS (SELECT 1 FROM member_facets f WHERE f.program_id = {m} "
                f"AND f.member_id = c.member_id AND f.name = {m} AND f.value IN ({marks}))"
            )
        ex_params: list[Any] = []
        for name, values in excluded.items():
            ex_params += [program_id, name, *values]
        # each candidate's asks through the (member_id, asked_at) index: a join to an
        # aggregate of all asks was scanned once per candidate on SQLite (0.8 s at 100k)
        counts = "".join(
            f", SUM(CASE WHEN r.asked_at >= {m} THEN 1 ELSE 0 END) AS n{i}"
            for i in range(len(limits))
        )
        counts_params = [self._time(since) for _, since in limits]
        fatigue = " AND ".join(f"COALESCE(n{i}, 0) < {m}" for i in range(len(limits)))
        fatigue_params = [n for n, _ in limits]
        since = f" AND r.asked_at >= {m}" if oldest is not None else ""
        join_params: list[Any] = [program_id]
        if oldest is not None:
            join_params.append(self._time(oldest))
        a, b = seed
        modulo = "%%" if self.dialect == "postgresql" else "%"
        sql = (
            f"SELECT member_id, asked, last_asked FROM ("
            f"SELECT c.member_id, COUNT(r.id) AS asked, MAX(r.asked_at) AS last_asked{counts} "
            f"FROM ({candidates}) c LEFT JOIN reference_asks r ON r.member_id = c.member_id "
            f"AND r.program_id = {m} AND r.status IN ('asked', 'accepted', 'completed'){since} "
            f"WHERE 1 = 1{excluded_sql} GROUP BY c.member_id) t "
            f"{'WHERE ' + fatigue if fatigue else ''} "
            f"ORDER BY asked, last_asked IS NOT NULL, last_asked, "
            f"(member_id * {int(a)} + {int(b)}) {modulo} 2147483647 LIMIT {m}"
        )
        return list(
            self.conn.exec_driver_sql(
                sql,
                (*counts_params, *params, *join_params, *ex_params, *fatigue_params, count),
            )
        )
