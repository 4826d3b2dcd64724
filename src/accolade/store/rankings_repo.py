"""Rank reads whose cost does not grow with a board: top N, a subject's rank, around a subject.

Ranks are standard competition ranks (1, 2, 2, 4) among the *ranked* subjects of a partition:
visible, with a score of at least 1. A rank is 1 + how many ranked subjects score higher:
the counts of the buckets above the score's bucket (leaderboard_buckets, kept in step by every
write), plus an index range inside its bucket.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import select

from accolade.engine.state import MemberState
from accolade.store._base import RepositoryBase
from accolade.store.members_repo import _STATE_COLUMNS, state_of
from accolade.store.tables import leaderboard_buckets, leaderboard_scores, members

# Scores up to _EXACT have a bucket each (low scores are where thousands tie); above, buckets
# grow by 0.4% per step: ~2,900 buckets reach 10^8, and a bucket rarely holds many subjects.
_EXACT = 1024
_RATIO = math.log(1.004)


@lru_cache(maxsize=65_536)
def bucket_of(score: int) -> int:
    if score <= _EXACT:
        return score
    return _EXACT + int(math.log(score / _EXACT) / _RATIO)


def bucket_ceiling(bucket: int) -> int:
    """The highest score in ``bucket`` (bucket_of is monotonic; floats are only a first guess).
    Bucket _EXACT is the first shared one: it holds 1024 up to 1028."""
    if bucket < _EXACT:
        return bucket
    guess = int(_EXACT * math.exp((bucket + 1 - _EXACT) * _RATIO))
    while bucket_of(guess) > bucket:
        guess -= 1
    while bucket_of(guess + 1) <= bucket:
        guess += 1
    return guess


class Standing(NamedTuple):
    subject: str
    score: int
    reached_at: int
    partition: str | None
    visible: bool


class RankingRepo(RepositoryBase):
    def standing(self, window_id: int, subject: str) -> Standing | None:
        row = self.conn.execute(
            select(
                leaderboard_scores.c.subject,
                leaderboard_scores.c.score,
                leaderboard_scores.c.reached_at,
                leaderboard_scores.c.partition_key,
                leaderboard_scores.c.visible,
            ).where(
                leaderboard_scores.c.window_id == window_id,
                leaderboard_scores.c.subject == subject,
            )
        ).first()
        if row is None:
            return None
        return Standing(row[0], int(row[1]), int(row[2]), row[3], bool(row[4]))

    def top(
        self, window_id: int, partition: str, limit: int, offset: int, min_score: int
    ) -> list[tuple[str, int, int]]:
        """(subject, score, reached_at) in board order: score, then who reached it first."""
        m = self._mark
        return [
            (s, int(score), int(at))
            for s, score, at in self.conn.exec_driver_sql(
                "SELECT subject, score, reached_at FROM leaderboard_scores "
                f"WHERE window_id = {m} AND partition_key = {m} AND visible = 1 AND score >= {m} "
                f"ORDER BY score DESC, reached_at, subject LIMIT {m} OFFSET {m}",
                (window_id, partition, min_score, limit, offset),
            )
        ]

    def count_above(self, window_id: int, partition: str, score: int) -> int:
        """Ranked subjects of the partition scoring more than ``score``."""
        return self.counts_above(window_id, partition, [score])[score]

    def counts_above(self, window_id: int, partition: str, scores: Iterable[int]) -> dict[int, int]:
        """``count_above`` of several scores in one statement (one round trip): for each, the
        bucket counts above its bucket plus an index range inside it."""
        wanted = sorted(set(scores))
        if not wanted:
            return {}
        m = self._mark
        values = ", ".join([f"({m}, {m}, {m})"] * len(wanted))
        params: list[Any] = []
        for score in wanted:
            bucket = bucket_of(max(score, 0))
            params += (score, bucket, bucket_ceiling(bucket))
        cast = "::bigint" if self.dialect == "postgresql" else ""
        rows = self.conn.exec_driver_sql(
            f"WITH wanted (score, bucket, ceiling) AS (VALUES {values}) "
            "SELECT w.score, (SELECT COALESCE(SUM(b.count), 0) FROM leaderboard_buckets AS b "
            f"WHERE b.window_id = {m} AND b.partition_key = {m} AND b.bucket > w.bucket{cast}) "
            "+ (SELECT COUNT(*) FROM leaderboard_scores AS s "
            f"WHERE s.window_id = {m} AND s.partition_key = {m} AND s.visible = 1 "
            f"AND s.score > w.score{cast} AND s.score <= w.ceiling{cast}) FROM wanted AS w",
            (*params, window_id, partition, window_id, partition),
        )
        return {int(score): int(above) for score, above in rows}

    def ranked_count(self, window_id: int, partition: str, min_score: int) -> int:
        """Subjects on the board in the partition (visible, scoring at least ``min_score``)."""
        return self.count_above(window_id, partition, min_score - 1)

    def partitions(self, window_id: int) -> list[str]:
        """The partitions with ranked subjects in a window."""
        rows = self.conn.execute(
            select(leaderboard_buckets.c.partition_key)
            .where(leaderboard_buckets.c.window_id == window_id, leaderboard_buckets.c.count > 0)
            .group_by(leaderboard_buckets.c.partition_key)
            .order_by(leaderboard_buckets.c.partition_key)
        )
        return [r[0] for r in rows]

    def has_partition(self, window_id: int, partition: str) -> bool:
        """Whether the window has subjects in the partition (as ``partitions`` lists them)."""
        m = self._mark
        row = self.conn.exec_driver_sql(
            "SELECT 1 FROM leaderboard_buckets WHERE window_id = "
            f"{m} AND partition_key = {m} AND count > 0 LIMIT 1",
            (window_id, partition),
        ).first()
        return row is not None

    def member_names(self, program_id: int, external_ids: Sequence[str]) -> dict[str, str]:
        """Display names: the member's ``name`` attribute where it is text."""
        rows = self.conn.execute(
            select(members.c.external_id, members.c.attributes).where(
                members.c.program_id == program_id, members.c.external_id.in_(list(external_ids))
            )
        )
        names: dict[str, str] = {}
        for external_id, attributes in rows:
            attrs = attributes if isinstance(attributes, dict) else json.loads(attributes or "{}")
            name = attrs.get("name")
            if isinstance(name, str) and name:
                names[external_id] = name
        return names

    def stored_state(self, program_id: int, external_id: str) -> MemberState | None:
        """A member's state as stored, unlocked (a read), or None if they have none."""
        m = self._mark
        row = self.conn.exec_driver_sql(
            f"SELECT {_STATE_COLUMNS} FROM members WHERE program_id = {m} AND external_id = {m} "
            "AND progress IS NOT NULL",
            (program_id, external_id),
        ).first()
        return None if row is None else state_of(row)

    def next_higher(self, window_id: int, partition: str, score: int) -> int | None:
        """The lowest score above ``score`` in the partition: the next rank up."""
        m = self._mark
        row = self.conn.exec_driver_sql(
            "SELECT score FROM leaderboard_scores "
            f"WHERE window_id = {m} AND partition_key = {m} AND visible = 1 AND score > {m} "
            "ORDER BY score, reached_at DESC, subject DESC LIMIT 1",
            (window_id, partition, score),
        ).first()
        return None if row is None else int(row[0])

    def neighbours(
        self, me: Standing, window_id: int, k: int, min_score: int
    ) -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int]]]:
        """The ``k`` ranked subjects just above ``me`` (nearest first) and just below, in one
        statement of four index ranges: above and below, each with the same score and the
        others (the index orders score down and time up, and one range cannot mix the two)."""
        m = self._mark
        where = f"window_id = {m} AND partition_key = {m} AND visible = 1 AND "
        up = f"ORDER BY score, reached_at DESC, subject DESC LIMIT {m}"
        down = f"ORDER BY score DESC, reached_at, subject LIMIT {m}"
        # row values: an index range from the subject's own entry, not a scan of its tie
        before = f"score = {m} AND (reached_at, subject) < ({m}, {m})"
        after = f"score = {m} AND (reached_at, subject) > ({m}, {m})"
        parts = [
            (0, before + " " + up),
            (1, f"score > {m} " + up),
            (2, after + " " + down),
            (3, f"score < {m} AND score >= {m} " + down),
        ]
        sql = " UNION ALL ".join(
            f"SELECT * FROM (SELECT {n} AS part, subject, score, reached_at "
            f"FROM leaderboard_scores WHERE {where}{cond}) AS p{n}"
            for n, cond in parts
        )
        key = (window_id, me.partition)
        tie = (me.score, me.reached_at, me.subject)
        params = (
            *key, *tie, k,
            *key, me.score, k,
            *key, *tie, k,
            *key, me.score, min_score, k,
        )  # fmt: skip
        found: list[list[tuple[str, int, int]]] = [[], [], [], []]
        for part, subject, score, reached_at in self.conn.exec_driver_sql(sql, params):
            found[int(part)].append((subject, int(score), int(reached_at)))
        return (found[0] + found[1])[:k], (found[2] + found[3])[:k]
