"""Property: with leaderboards on every window kind, incremental ingestion (any batching, with
resends, reversals and re-publishing), replay and one-event batches build the same boards, and
every rank read from the buckets is the rank a full count gives."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from hypothesis import HealthCheck, given, settings

from accolade.service import leaderboards as lb
from accolade.service.replay import replay
from accolade.store.tables import metadata
from accolade.store.unit_of_work import Store

from .builders import DEMO_SOURCE, PROGRAM, clock_at, leaderboard_rows, projection, publish_demo
from .test_properties import RICHER, Op, run, streams

BOARDS = """
leaderboards:
  - {key: all_time, name: All time}
  - {key: weekly, name: Weekly, window: week}
  - {key: rolling, name: Last 120 days, window: 120d}
  - {key: regional, name: Regional, window: month, partition: [region], tier_bracket: true}
  - {key: quizzes, name: Quizzes, metric: {action: quiz_passed}}
  - {key: pipeline, name: Pipeline, metric: {action: deal_won, sum: amount_usd}, min_score: 5000}
"""
SOURCES = {DEMO_SOURCE: DEMO_SOURCE + BOARDS, RICHER: RICHER + BOARDS}


def with_boards(ops: list[Op]) -> list[Op]:
    return [(kind, SOURCES[value]) if kind == "publish" else (kind, value) for kind, value in ops]


def reset(store: Store) -> None:
    with store.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    publish_demo(store, DEMO_SOURCE + BOARDS)


def assert_ranks_are_full_counts(store: Store) -> None:
    """Each subject's rank is 1 + the ranked subjects of its partition scoring more."""
    rows = leaderboard_rows(store)["scores"]
    boards: dict[tuple[str, str, str], list[tuple[str, int, int]]] = defaultdict(list)
    for board, label, subject, partition, visible, score, _ in rows:
        if partition is not None:
            boards[(board, label, partition)].append((subject, visible, score))
    minimum = {"pipeline": 5000}
    for (board, label, partition), subjects in boards.items():
        ranked = [s for s in subjects if s[1] and s[2] >= minimum.get(board, 1)]

        def rank_of(score: int) -> int:
            return 1 + sum(1 for s in ranked if s[2] > score)  # noqa: B023

        window = None if label in ("all", "rolling") else label
        for subject, _, score in ranked:
            mine = lb.standing(store, PROGRAM, board, subject, window=window, around=3)
            assert mine.rank == rank_of(score), (board, subject)
            assert mine.total == len(ranked)
            for row in mine.above + mine.below:
                assert row.rank == rank_of(row.score), (board, subject, row)
        asked = (
            dict(zip(["region", "tier"], json.loads(partition), strict=False)) if partition else {}
        )
        asked = {k: "" if v is None else str(v) for k, v in asked.items()}
        for offset in (0, 2, len(ranked) + 1):  # the last: an empty page, still a total
            page = lb.top(store, PROGRAM, board, window=window, partition=asked, offset=offset)
            assert [r.rank for r in page.rows] == [rank_of(r.score) for r in page.rows]
            assert page.total == len(ranked), (board, label, partition, offset)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(stream=streams())
def test_boards_are_the_same_whatever_the_batching_and_after_replay(
    store: Store, stream: tuple[list[Op], list[int]]
) -> None:
    ops, batch_sizes = with_boards(stream[0]), stream[1]
    reset(store)
    batched: Any = run(store, ops, batch_sizes)
    incremental = projection(store)
    assert_ranks_are_full_counts(store)

    replay(store, PROGRAM, clock=clock_at())
    assert projection(store) == incremental

    reset(store)
    assert run(store, ops, [1]) == batched
    assert projection(store) == incremental
