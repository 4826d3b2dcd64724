"""Rank reads whose cost does not grow with a board: top N, a subject's rank, around a subject.

Ranks are standard competition ranks (1, 2, 2, 4) among the *ranked* subjects of a partition:
visible, with a score of at least 1. A rank is 1 + how many ranked subjects score higher:
the counts of the buckets above the score's bucket (leaderboard_buckets, kept in step by every
write), plus an index range inside its bucket. Buckets come in groups of _GROUP, each group's
count kept in a row of its own (a negative bucket number, group_row): the buckets above a
score are the groups above its group plus the rest of its group, under a hundred rows
whatever the board, where summing every bucket above took 1.6 ms on PostgreSQL at 2,000.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import CursorResult, select
from sqlalchemy.util.typing import TupleAny

from accolade.store.repositories._base import RepositoryBase
from accolade.store.tables import leaderboard_buckets

# Scores up to _EXACT have a bucket each (low scores are where thousands tie); above, buckets
# grow by 0.4% per step: ~2,900 buckets reach 10^8, and a bucket rarely holds many subjects.
_EXACT = 1024
_RATIO = math.log(1.004)


@lru_cache(maxsize=65_536)
def bucket_of(score: int) -> int:
    if score <= _EXACT:
        return score
    return _EXACT + int(math.log(score / _EXACT) / _RATIO)


# Buckets per group row. Low scores (one bucket each) are where most subjects sit, so a rank
# near the bottom would otherwise sum most of the board's buckets.
_GROUP = 64


def group_row(bucket: int) -> int:
    """The bucket number of the row counting ``bucket``'s group: below every score bucket
    (those are >= 1), higher groups lower, so the groups above a group are one index range."""
    return -1 - bucket // _GROUP


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


Ranked = tuple[str, int, int]  # (subject, score, reached_at)


class Standing(NamedTuple):
    subject: str
    score: int
    reached_at: int
    partition: str | None
    visible: bool


class RankingsRepository(RepositoryBase):
    def _read(self, sql: str, params: Sequence[Any]) -> CursorResult[*TupleAny]:
        """Run a read. PostgreSQL: every integer goes as a bigint. psycopg types an integer by
        its size (smallint, integer, bigint) and prepares a statement per text and types, so
        scores of different sizes made one statement many, each planned afresh until its
        fifth run (around-me over random members: 4.1 ms at p50 against 1.6 ms for one)."""
        if self.dialect == "postgresql":
            # here, not at the top: SQLite commands do not load psycopg (start-up time)
            from psycopg.types.numeric import Int8

            params = [Int8(v) if type(v) is int else v for v in params]
        return self.conn.exec_driver_sql(sql, tuple(params))

    def top(
        self,
        window_id: int,
        partition: str,
        limit: int,
        offset: int,
        min_score: int,
        names_in: int | None = None,
        with_total: bool = True,
    ) -> tuple[list[Ranked], dict[str, str], int | None]:
        """(subject, score, reached_at) in board order: score, then who reached it first; with
        ``names_in`` (a program id), the subjects' display names; and with ``with_total``, the
        partition's ranked total (``ranked_count``), all in one statement. The total is None
        on an empty page, or when not asked for."""
        m = self._mark
        total, total_params = (
            self._above(window_id, partition, min_score - 1) if with_total else ("NULL", ())
        )
        page = (
            f"SELECT subject, score, reached_at, ({total}) AS total FROM leaderboard_scores "
            f"WHERE window_id = {m} AND partition_key = {m} AND visible = 1 AND score >= {m} "
            f"ORDER BY score DESC, reached_at, subject LIMIT {m} OFFSET {m}"
        )
        rows = self._read(
            *self._named(
                page, (*total_params, window_id, partition, min_score, limit, offset), names_in
            )
        )
        found: list[Ranked] = []
        names: dict[str, str] = {}
        count: int | None = None
        for subject, score, reached_at, ranked, name in rows:
            found.append((subject, int(score), int(reached_at)))
            count = None if ranked is None else int(ranked)
            if name:
                names[subject] = name
        return found, names, count

    def _named(
        self, sql: str, params: tuple[Any, ...], names_in: int | None
    ) -> tuple[str, tuple[Any, ...]]:
        """``sql``'s rows (subject, score, reached_at, ...) in board order, each with the
        member's display name when ``names_in`` (a program id) is given, by one index probe per
        row into members; and the statement's parameters. A name is the ``name`` attribute
        where it is text."""
        order = "ORDER BY p.score DESC, p.reached_at, p.subject"
        if names_in is None:
            return f"SELECT p.*, NULL AS name FROM ({sql}) AS p {order}", params
        if self.dialect == "postgresql":
            name = (
                "CASE WHEN jsonb_typeof(n.attributes -> 'name') = 'string' "
                "THEN n.attributes ->> 'name' END"
            )
        else:
            name = (
                "CASE WHEN json_type(n.attributes, '$.name') = 'text' "
                "THEN json_extract(n.attributes, '$.name') END"
            )
        return (
            f"SELECT p.*, {name} AS name FROM ({sql}) AS p LEFT JOIN members AS n "
            f"ON n.program_id = {self._mark} AND n.external_id = p.subject {order}",
            (*params, names_in),  # the join's, after the subquery's
        )

    def count_above(self, window_id: int, partition: str, score: int) -> int:
        """Ranked subjects of the partition scoring more than ``score``."""
        return self.counts_above(window_id, partition, [score])[score]

    def counts_above(self, window_id: int, partition: str, scores: Iterable[int]) -> dict[int, int]:
        """``count_above`` of several scores in one statement (one round trip)."""
        wanted = sorted(set(scores))
        if not wanted:
            return {}
        columns: list[str] = []
        params: list[Any] = []
        for score in wanted:
            sql, values = self._above(window_id, partition, score)
            columns.append(f"({sql})")
            params += values
        row = self._read(f"SELECT {', '.join(columns)}", params).one()
        return {score: int(above) for score, above in zip(wanted, row, strict=True)}

    def _above(self, window_id: int, partition: str, score: int) -> tuple[str, tuple[Any, ...]]:
        """An expression counting the ranked subjects of the partition above ``score``, and its
        parameters: the group rows above its group, its group's buckets above its bucket, and
        an index range inside its bucket; three short index ranges whatever the board's size.
        Below 1 (a partition's total): every group row and nothing else."""
        m = self._mark
        if score < 1:
            bucket = ceiling = group = next_group = 0
        else:
            bucket = bucket_of(score)
            ceiling, group = bucket_ceiling(bucket), group_row(bucket)
            next_group = (-group) * _GROUP  # the next group's first bucket
        # aliased: the expression also sits inside a statement on leaderboard_scores
        sql = (
            "(SELECT COALESCE(SUM(g.count), 0) FROM leaderboard_buckets AS g "
            f"WHERE g.window_id = {m} AND g.partition_key = {m} AND g.bucket < {m}) "
            "+ (SELECT COALESCE(SUM(b.count), 0) FROM leaderboard_buckets AS b "
            f"WHERE b.window_id = {m} AND b.partition_key = {m} AND b.bucket > {m} "
            f"AND b.bucket < {m}) "
            "+ (SELECT COUNT(*) FROM leaderboard_scores AS i "
            f"WHERE i.window_id = {m} AND i.partition_key = {m} AND i.visible = 1 "
            f"AND i.score > {m} AND i.score <= {m})"
        )
        where = (window_id, partition)
        return sql, (*where, group, *where, bucket, next_group, *where, score, ceiling)

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

    def next_higher(self, window_id: int, partition: str, score: int) -> int | None:
        """The lowest score above ``score`` in the partition: the next rank up."""
        m = self._mark
        row = self._read(
            "SELECT score FROM leaderboard_scores "
            f"WHERE window_id = {m} AND partition_key = {m} AND visible = 1 AND score > {m} "
            "ORDER BY score, reached_at DESC, subject DESC LIMIT 1",
            (window_id, partition, score),
        ).first()
        return None if row is None else int(row[0])

    def neighbours(
        self, me: Standing, window_id: int, k: int, min_score: int, names_in: int | None = None
    ) -> tuple[list[Ranked], list[Ranked], dict[str, str]]:
        """The ``k`` ranked subjects just above ``me`` (nearest first) and just below, in one
        statement of four index ranges: above and below, each with the same score and the
        others (the index orders score down and time up, and one range cannot mix the two);
        with ``names_in`` (a program id), their display names from the same statement."""
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
            f"SELECT * FROM (SELECT subject, score, reached_at, {n} AS part "
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
        # in board order: the ones above come farthest first
        rows = self._read(*self._named(sql, params, names_in))
        above: list[Ranked] = []
        below: list[Ranked] = []
        names: dict[str, str] = {}
        for subject, score, reached_at, part, name in rows:
            (above if int(part) < 2 else below).append((subject, int(score), int(reached_at)))
            if name:
                names[subject] = name
        return above[::-1][:k], below[:k], names
