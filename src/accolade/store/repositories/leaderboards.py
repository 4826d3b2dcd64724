"""Leaderboard storage: windows, scores moved by deltas with their rank buckets kept in step,
rolling days, members moving between partitions, and rolling windows rolling forward. The
rank reads are in rankings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from accolade.store.repositories._base import RepositoryBase, _parts
from accolade.store.repositories.rankings import Standing, bucket_of, group_row
from accolade.store.tables import (
    leaderboard_buckets,
    leaderboard_days,
    leaderboard_scores,
    leaderboard_windows,
)


class BoardWindow(NamedTuple):
    id: int
    board: str
    label: str
    starts_at: datetime | None
    ends_at: datetime | None
    last_day: int | None
    closed_at: datetime | None
    standings: str | None


# A score change: (window id, subject, partition, visible, delta, ts); partition and visible
# are where a new row competes (an existing row keeps its own). Plain tuples: one per subject
# and board of every chunk.
ScoreChange = tuple[int, str, str | None, bool, int, int]


_WINDOW_COLUMNS = (
    leaderboard_windows.c.id,
    leaderboard_windows.c.board,
    leaderboard_windows.c.label,
    leaderboard_windows.c.starts_at,
    leaderboard_windows.c.ends_at,
    leaderboard_windows.c.last_day,
    leaderboard_windows.c.closed_at,
    leaderboard_windows.c.standings,
)
BucketKey = tuple[int, str, int]  # (window id, partition, bucket)

# Built once: every board read runs it, and building a select() each time cost a few hundred
# microseconds. A board's window by label, with a subject's score row in it when asked for.
_WINDOW_AND_SCORE = (
    select(
        *_WINDOW_COLUMNS,
        leaderboard_scores.c.subject,
        leaderboard_scores.c.score,
        leaderboard_scores.c.reached_at,
        leaderboard_scores.c.partition_key,
        leaderboard_scores.c.visible,
    )
    .select_from(leaderboard_windows)
    .outerjoin(
        leaderboard_scores,
        and_(
            leaderboard_scores.c.window_id == leaderboard_windows.c.id,
            leaderboard_scores.c.subject == bindparam("subject"),
        ),
    )
    .where(
        leaderboard_windows.c.program_id == bindparam("program"),
        leaderboard_windows.c.board == bindparam("board"),
        leaderboard_windows.c.label == bindparam("label"),
    )
)


class LeaderboardsRepository(RepositoryBase):
    # -- windows ----------------------------------------------------------------------------
    def board_windows(
        self, program_id: int, board: str | None = None, labels: Iterable[str] | None = None
    ) -> list[BoardWindow]:
        stmt = select(*_WINDOW_COLUMNS).where(leaderboard_windows.c.program_id == program_id)
        if board is not None:
            stmt = stmt.where(leaderboard_windows.c.board == board)
        if labels is not None:
            stmt = stmt.where(leaderboard_windows.c.label.in_(list(labels)))
        return [BoardWindow(*r) for r in self.conn.execute(stmt.order_by(leaderboard_windows.c.id))]

    def board_window(
        self, program_id: int, board: str, label: str, subject: str | None = None
    ) -> tuple[BoardWindow | None, Standing | None]:
        """Board ``board``'s window ``label`` (None if nothing has scored in it yet) and, in
        the same statement, ``subject``'s standing in it (None if it has no score there)."""
        row = self.conn.execute(
            _WINDOW_AND_SCORE,
            {"program": program_id, "board": board, "label": label, "subject": subject},
        ).first()
        if row is None:
            return None, None
        window = BoardWindow(*row[: len(_WINDOW_COLUMNS)])
        if row.subject is None:
            return window, None
        return window, Standing(
            row.subject, int(row.score), int(row.reached_at), row.partition_key, bool(row.visible)
        )

    def window_ids(
        self,
        program_id: int,
        wanted: dict[tuple[str, str], tuple[int | None, int | None]],
    ) -> dict[tuple[str, str], int]:
        """Ids of the (board, label) windows, created (with their bounds) when missing."""
        if not wanted:
            return {}
        found = self._window_ids(program_id, wanted)
        missing = [key for key in wanted if key not in found]
        if missing:
            rows = [
                {
                    "program_id": program_id,
                    "board": board,
                    "label": label,
                    "starts_at": _at(wanted[(board, label)][0]),
                    "ends_at": _at(wanted[(board, label)][1]),
                }
                for board, label in sorted(missing)
            ]
            insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
            self.conn.execute(insert(leaderboard_windows).on_conflict_do_nothing(), rows)
            found.update(self._window_ids(program_id, {k: wanted[k] for k in missing}))
        return found

    def _window_ids(
        self, program_id: int, wanted: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], int]:
        by_board: dict[str, list[str]] = defaultdict(list)
        for board, label in wanted:
            by_board[board].append(label)
        found: dict[tuple[str, str], int] = {}
        for board, labels in by_board.items():
            rows = self.conn.execute(
                select(leaderboard_windows.c.label, leaderboard_windows.c.id).where(
                    leaderboard_windows.c.program_id == program_id,
                    leaderboard_windows.c.board == board,
                    leaderboard_windows.c.label.in_(labels),
                )
            )
            found.update({(board, label): int(pk) for label, pk in rows})
        return found

    def set_last_day(self, window_id: int, day: int) -> None:
        self.conn.execute(
            update(leaderboard_windows)
            .where(leaderboard_windows.c.id == window_id)
            .values(last_day=day)
        )

    def close_window(self, window_id: int, closed_at: datetime, standings: str) -> bool:
        """Marks the window closed; False if another close got there first."""
        result = self.conn.execute(
            update(leaderboard_windows)
            .where(leaderboard_windows.c.id == window_id, leaderboard_windows.c.closed_at.is_(None))
            .values(closed_at=closed_at, standings=standings)
        )
        return result.rowcount == 1

    # -- writes -----------------------------------------------------------------------------
    def apply_scores(self, changes: Sequence[ScoreChange]) -> None:
        """Add each change to its subject's score (creating the row), and keep the partition's
        bucket counts in step. Rows are taken in key order: concurrent writers of a shared
        team or company row queue instead of deadlocking."""
        if not changes:
            return
        changes = sorted(changes)  # (window id, subject) first, and unique
        deltas = {(c[0], c[1]): c[4] for c in changes}
        buckets: dict[BucketKey, int] = defaultdict(int)
        for window_id, subject, partition, visible, score in self._upsert_scores(changes):
            if partition is None or not visible:
                continue
            old = score - deltas[(window_id, subject)]
            if old >= 1:
                buckets[(window_id, partition, bucket_of(old))] -= 1
            if score >= 1:
                buckets[(window_id, partition, bucket_of(score))] += 1
        self._apply_buckets(buckets)

    def _upsert_scores(self, changes: Sequence[ScoreChange]) -> list[tuple[Any, ...]]:
        conflict = (
            "ON CONFLICT (window_id, subject) DO UPDATE SET "
            "score = leaderboard_scores.score + excluded.score, reached_at = CASE "
            "WHEN excluded.reached_at > leaderboard_scores.reached_at THEN excluded.reached_at "
            "ELSE leaderboard_scores.reached_at END "
            "RETURNING window_id, subject, partition_key, visible, score"
        )
        head = (
            "INSERT INTO leaderboard_scores "
            "(window_id, subject, partition_key, visible, score, reached_at) "
        )
        if self.dialect == "postgresql":
            window_ids, subjects, partitions, shown, deltas, times = zip(*changes, strict=True)
            rows = self.conn.exec_driver_sql(
                head + "SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[], "
                "%s::smallint[], %s::bigint[], %s::bigint[]) " + conflict,
                (
                    list(window_ids),
                    list(subjects),
                    list(partitions),
                    [int(v) for v in shown],
                    list(deltas),
                    list(times),
                ),
            )
            return [tuple(r) for r in rows]
        out: list[tuple[Any, ...]] = []
        for part in _parts(changes, 4000):
            marks = ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(part))
            params: list[Any] = []
            for window_id, subject, partition, visible, delta, ts in part:
                params += (window_id, subject, partition, int(visible), delta, ts)
            # "WHERE true" lets SQLite tell the upsert's ON CONFLICT from a join's ON
            out += [
                tuple(r)
                for r in self.conn.exec_driver_sql(
                    head + f"SELECT * FROM (VALUES {marks}) WHERE true " + conflict, tuple(params)
                )
            ]
        return out

    def _apply_buckets(self, buckets: dict[BucketKey, int]) -> None:
        """Add score-bucket deltas, and each to its group's row (rankings.group_row): a
        move inside a group leaves the group row alone."""
        groups: dict[BucketKey, int] = defaultdict(int)
        for (window_id, partition, bucket), n in buckets.items():
            groups[(window_id, partition, group_row(bucket))] += n
        rows = sorted((k, n) for k, n in [*buckets.items(), *groups.items()] if n)
        if not rows:
            return
        if self.dialect == "postgresql":
            self.conn.exec_driver_sql(
                "INSERT INTO leaderboard_buckets (window_id, partition_key, bucket, count) "
                "SELECT * FROM unnest(%s::bigint[], %s::text[], %s::int[], %s::bigint[]) "
                "ON CONFLICT (window_id, partition_key, bucket) DO UPDATE "
                "SET count = leaderboard_buckets.count + excluded.count",
                (
                    [k[0] for k, _ in rows],
                    [k[1] for k, _ in rows],
                    [k[2] for k, _ in rows],
                    [n for _, n in rows],
                ),
            )
            return
        self.conn.exec_driver_sql(
            "INSERT INTO leaderboard_buckets (window_id, partition_key, bucket, count) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (window_id, partition_key, bucket) DO UPDATE "
            "SET count = leaderboard_buckets.count + excluded.count",
            [(k[0], k[1], k[2], n) for k, n in rows],
        )

    def add_days(self, rows: Sequence[tuple[int, int, str, int]]) -> None:
        """Rolling windows: (window id, local day, subject, delta) onto the day scores."""
        if not rows:
            return
        rows = sorted(rows)
        sql = (
            "INSERT INTO leaderboard_days (window_id, day, subject, score) {} "
            "ON CONFLICT (window_id, day, subject) DO UPDATE "
            "SET score = leaderboard_days.score + excluded.score"
        )
        if self.dialect == "postgresql":
            self.conn.exec_driver_sql(
                sql.format(
                    "SELECT * FROM unnest(%s::bigint[], %s::int[], %s::text[], %s::bigint[])"
                ),
                tuple(list(column) for column in zip(*rows, strict=True)),
            )
        else:
            self.conn.exec_driver_sql(sql.format("VALUES (?, ?, ?, ?)"), list(rows))

    def move_subjects(
        self,
        window_ids: Sequence[int],
        moves: Sequence[tuple[str, tuple[str | None, bool], tuple[str | None, bool]]],
    ) -> None:
        """Members whose partition or visibility changed, (member, (old partition, visible),
        (new partition, visible)): their rows in these windows of one board move, in one pass."""
        if not window_ids or not moves:
            return
        windows = sorted(window_ids)
        placed = {subject: (old, new) for subject, old, new in moves}
        subjects = sorted(placed)
        if self.dialect == "postgresql":
            rows = self._lock_scores_postgres(windows, subjects)
        else:
            rows = []
            for part in _parts(subjects, 2000):
                found = self.conn.execute(
                    select(
                        leaderboard_scores.c.window_id,
                        leaderboard_scores.c.subject,
                        leaderboard_scores.c.score,
                    )
                    .where(
                        leaderboard_scores.c.window_id.in_(windows),
                        leaderboard_scores.c.subject.in_(list(part)),
                    )
                    .order_by(leaderboard_scores.c.window_id, leaderboard_scores.c.subject)
                    .with_for_update()
                )
                rows += [tuple(r) for r in found]
        if not rows:
            return  # new members: nothing stored to move yet
        self._executemany(
            "UPDATE leaderboard_scores SET partition_key = {m}, visible = {m} "
            "WHERE window_id = {m} AND subject = {m}",
            [
                (placed[subject][1][0], int(placed[subject][1][1]), window_id, subject)
                for window_id, subject, _ in rows
            ],
        )
        buckets: dict[BucketKey, int] = defaultdict(int)
        for window_id, subject, score in rows:
            old, new = placed[subject]
            if old[0] is not None and old[1]:
                _count(buckets, window_id, old[0], int(score), -1)
            if new[0] is not None and new[1]:
                _count(buckets, window_id, new[0], int(score), +1)
        self._apply_buckets(buckets)

    def _lock_scores_postgres(
        self, windows: Sequence[int], subjects: Sequence[str]
    ) -> list[tuple[Any, ...]]:
        """(window id, subject, score) of the stored rows, locked in key order. An index probe
        per key whatever the statistics say: before the table was analysed, `subject IN (...)`
        became a filter over every row of the window, 7 s per 2,000 members at a million."""
        keys = [(w, s) for w in windows for s in subjects]
        rows = self.conn.exec_driver_sql(
            "SELECT s.window_id, s.subject, s.score FROM unnest(%s::bigint[], %s::text[]) "
            "WITH ORDINALITY AS k(window_id, subject, n) CROSS JOIN LATERAL "
            "(SELECT window_id, subject, score FROM leaderboard_scores "
            "WHERE window_id = k.window_id AND subject = k.subject FOR UPDATE) AS s ORDER BY k.n",
            ([w for w, _ in keys], [s for _, s in keys]),
        )
        return [tuple(r) for r in rows]

    def roll_days(self, window_id: int, first_day: int) -> int:
        """Subtract the day scores older than ``first_day`` from the rolling window's scores
        and forget them; returns how many subjects' scores moved. The day rows go first, then
        the scores move by relative updates: the order an ingest takes them in, and nothing a
        concurrent ingest adds is lost (an event for a leaving day that commits during the roll
        keeps its day row, which the next roll takes out)."""
        if self.dialect == "postgresql":
            return self._roll_postgres(window_id, first_day)
        m = self._mark
        rows = list(
            self.conn.exec_driver_sql(
                "SELECT d.subject, SUM(d.score), s.score, s.partition_key, s.visible "
                "FROM leaderboard_days AS d JOIN leaderboard_scores AS s "
                "ON s.window_id = d.window_id AND s.subject = d.subject "
                f"WHERE d.window_id = {m} AND d.day < {m} "
                "GROUP BY d.subject, s.score, s.partition_key, s.visible ORDER BY d.subject",
                (window_id, first_day),
            )
        )
        self.conn.execute(
            delete(leaderboard_days).where(
                leaderboard_days.c.window_id == window_id, leaderboard_days.c.day < first_day
            )
        )
        moved = [
            (subject, int(score) - int(leaving), partition, visible, int(leaving))
            for subject, leaving, score, partition, visible in rows
            if leaving
        ]
        if not moved:
            return 0
        # SQLite: this transaction is the only writer, so the new scores can be set outright
        self.conn.exec_driver_sql(
            "UPDATE leaderboard_scores SET score = ? WHERE window_id = ? AND subject = ?",
            [(score, window_id, subject) for subject, score, _, _, _ in moved],
        )
        gone = sorted((window_id, subject) for subject, score, _, _, _ in moved if score == 0)
        if gone:
            self.conn.exec_driver_sql(
                "DELETE FROM leaderboard_scores WHERE window_id = ? AND subject = ? AND score = 0",
                gone,
            )
        return self._after_roll(window_id, moved)

    def _roll_postgres(self, window_id: int, first_day: int) -> int:
        raw = self.conn.connection.driver_connection
        assert raw is not None
        leaving: dict[str, int] = defaultdict(int)
        with raw.cursor() as cursor:
            cursor.execute(
                "DELETE FROM leaderboard_days WHERE window_id = %s AND day < %s "
                "RETURNING subject, score",
                (window_id, first_day),
            )
            for subject, score in cursor:
                leaving[subject] += int(score)
            cursor.execute(
                "CREATE TEMPORARY TABLE IF NOT EXISTS leaving_days "
                "(subject text PRIMARY KEY, leaving bigint NOT NULL) ON COMMIT DELETE ROWS"
            )
            with cursor.copy("COPY leaving_days (subject, leaving) FROM STDIN") as copy:
                for subject in sorted(leaving):
                    if leaving[subject]:
                        copy.write_row((subject, leaving[subject]))
            cursor.execute("ANALYZE leaving_days")
            cursor.execute(
                "UPDATE leaderboard_scores AS s SET score = s.score - l.leaving "
                "FROM leaving_days AS l WHERE s.window_id = %s AND s.subject = l.subject "
                "RETURNING s.subject, s.score, s.partition_key, s.visible, l.leaving",
                (window_id,),
            )
            moved = [(r[0], int(r[1]), r[2], r[3], int(r[4])) for r in cursor]
            # rows the roll brought to 0 go in one statement over the same join: when every
            # day leaves, nearly every moved row is one (a DELETE per row made the roll 8-19% slower)
            cursor.execute(
                "DELETE FROM leaderboard_scores AS s USING leaving_days AS l "
                "WHERE s.window_id = %s AND s.subject = l.subject AND s.score = 0",
                (window_id,),
            )
            cursor.execute("TRUNCATE leaving_days")
        return self._after_roll(window_id, moved)

    def _after_roll(self, window_id: int, moved: list[tuple[str, int, Any, Any, int]]) -> int:
        """Bucket counts for the moved scores (each roll has already deleted the rows it
        brought to 0)."""
        buckets: dict[BucketKey, int] = defaultdict(int)
        for _, score, partition, visible, leaving in moved:
            if partition is not None and visible:
                _count(buckets, window_id, partition, score + leaving, -1)
                _count(buckets, window_id, partition, score, +1)
        self._apply_buckets(buckets)
        return len(moved)

    def _executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if self.dialect == "postgresql":
            raw = self.conn.connection.driver_connection
            assert raw is not None
            with raw.cursor() as cursor:
                cursor.executemany(sql.format(m="%s"), rows)
            return
        self.conn.exec_driver_sql(sql.format(m="?"), rows)

    def clear_leaderboards(self, program_id: int) -> None:
        """Scores, buckets and day scores go (replay rebuilds them); windows, their closes and
        their rolling days stay."""
        ids = select(leaderboard_windows.c.id).where(leaderboard_windows.c.program_id == program_id)
        for table in (leaderboard_scores, leaderboard_buckets, leaderboard_days):
            self.conn.execute(delete(table).where(table.c.window_id.in_(ids)))


def _count(
    buckets: dict[BucketKey, int], window_id: int, partition: str, score: int, n: int
) -> None:
    if score >= 1:
        buckets[(window_id, partition, bucket_of(score))] += n


def _at(ts: int | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)
