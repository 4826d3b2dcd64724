"""Leaderboards through the store: ranks and ties, windows (calendar, rolling), partitions,
privacy, team and company boards, reversal, replay, and closing a window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from accolade.errors import Conflict, InvalidInput, NotFound
from accolade.service import leaderboards as lb
from accolade.service import members as members_service
from accolade.service.ingest import ingest_batch
from accolade.service.leaderboard_windows import close_windows
from accolade.service.replay import replay
from accolade.service.reverse import reverse
from accolade.store.repositories.rankings import group_row
from accolade.store.tables import leaderboard_scores, leaderboard_windows
from accolade.store.unit_of_work import Store
from tests.programs import MEMBER_GOLD, program_head

from .builders import clock_at, leaderboard_rows, projection, publish_demo, row_counts

PROGRAM = (
    program_head("advocates", "Advocates", timezone="America/New_York", tiers=MEMBER_GOLD)
    + """
actions:
  - {key: story, event: story.submitted, points: 100}
  - {key: deal, event: deal.won, points: 10, limits: {cooldown: 1h}}
  - {key: answer, event: community.answered, points: 5}
badges:
  - {key: champion, name: Weekly champion}
leaderboards:
  - {key: all_time, name: All time}
  - key: weekly
    name: Top performer this week
    window: week
    reward: {top: 2, points: 50, badge: champion}
  - {key: last_30_days, name: Last 30 days, window: 30d}
  - {key: regional, name: By region, partition: [region]}
  - {key: brackets, name: Within your tier, tier_bracket: true}
  - {key: companies, name: Companies, subject: company}
  - {key: teams, name: Teams, subject: team, window: month}
  - {key: pipeline, name: Pipeline, metric: {action: deal, sum: amount}}
  - {key: closers, name: Deals closed, metric: {action: deal}}
  - {key: advocates_only, name: Advocates, segment: [{attribute: role, eq: advocate}], min_score: 150}
"""
)
KEY = "advocates"
# Wednesday 2026-08-12, noon in New York; its week (2026-W33) runs Mon 10 to Sun 16 August.
NOW = datetime(2026, 8, 12, 16, tzinfo=UTC)
DAY = timedelta(days=1)


def ev(id: str, type: str, member: str, at: datetime, **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": id, "type": type, "member": member, "occurred_at": at.isoformat()}
    for name in ("attributes", "company", "team"):
        if name in fields:
            out[name] = fields.pop(name)
    if fields:
        out["properties"] = fields
    return out


def story(id: str, member: str, at: datetime = NOW - DAY, **fields: Any) -> dict[str, Any]:
    return ev(id, "story.submitted", member, at, **fields)


def send(store: Store, *events: dict[str, Any], now: datetime = NOW) -> None:
    outcomes = ingest_batch(store, KEY, list(enumerate(events, 1)), clock=clock_at(now))
    assert all(o.status.value in ("accepted", "limited") for o in outcomes), outcomes


def ranks(page: lb.BoardPage) -> list[tuple[int, str, int]]:
    return [(r.rank, r.subject, r.score) for r in page.rows]


def top(store: Store, board: str, now: datetime = NOW, **kwargs: Any) -> lb.BoardPage:
    return lb.top(store, KEY, board, clock=clock_at(now), **kwargs)


def standing(store: Store, board: str, subject: str, now: datetime = NOW, **kwargs: Any):
    return lb.standing(store, KEY, board, subject, clock=clock_at(now), **kwargs)


@pytest.fixture
def program(store: Store) -> Store:
    publish_demo(store, PROGRAM)
    return store


def test_ties_share_a_rank_and_are_listed_by_who_reached_the_score_first(program: Store) -> None:
    send(
        program,
        story("a1", "a", NOW - 3 * DAY),
        story("a2", "a", NOW - 3 * DAY),
        story("b1", "b", NOW - DAY),  # reaches 100 after c did
        story("c1", "c", NOW - 2 * DAY),
        ev("d1", "community.answered", "d", NOW - DAY),
    )
    page = top(program, "all_time")
    assert ranks(page) == [(1, "a", 200), (2, "c", 100), (2, "b", 100), (4, "d", 5)]
    assert page.total == 4
    # the second page starts with the rank its first row has on the whole board
    assert ranks(top(program, "all_time", limit=2, offset=2)) == [(2, "b", 100), (4, "d", 5)]
    past_the_end = top(program, "all_time", offset=10)
    assert (past_the_end.rows, past_the_end.total) == ([], 4)


def test_a_member_sees_rank_score_percentile_gap_and_who_is_around_them(program: Store) -> None:
    send(program, *(story(f"s{i}-{n}", f"m{i}") for i in range(1, 8) for n in range(i)))
    me = standing(program, "all_time", "m4", around=2)
    assert (me.rank, me.score, me.total, me.gap) == (4, 400, 7, 100)
    assert me.percentile == round(100 * 4 / 7, 1)
    assert [(r.rank, r.subject) for r in me.above] == [(2, "m6"), (3, "m5")]
    assert [(r.rank, r.subject) for r in me.below] == [(5, "m3"), (6, "m2")]
    leader = standing(program, "all_time", "m7", around=2)
    assert (leader.rank, leader.gap, leader.above) == (1, None, [])


def test_the_members_around_me_show_their_display_names(program: Store) -> None:
    named = {"m1": "Ana", "m3": "Caro"}  # m2 has no name: its id stands in
    send(
        program,
        *(
            story(
                f"s{i}-{n}",
                f"m{i}",
                attributes={"name": named[f"m{i}"]} if f"m{i}" in named else {},
            )
            for i in range(1, 4)
            for n in range(i)
        ),
    )
    me = standing(program, "all_time", "m2", around=1)
    assert [(r.subject, r.name) for r in me.above] == [("m3", "Caro")]
    assert [(r.subject, r.name) for r in me.below] == [("m1", "Ana")]


def test_late_event_lands_in_its_own_week_and_last_week_stays_readable(program: Store) -> None:
    last_week = NOW - 7 * DAY
    send(program, story("a1", "a", NOW - DAY), story("b1", "b", NOW - DAY))
    send(program, story("late", "b", last_week))  # arrives now, happened last week
    this = top(program, "weekly")
    assert this.window.label == "2026-W33"
    assert ranks(this) == [(1, "a", 100), (1, "b", 100)]
    previous = top(program, "weekly", window="previous")
    assert (previous.window.label, ranks(previous)) == ("2026-W32", [(1, "b", 100)])
    assert ranks(top(program, "weekly", window="2026-W32")) == ranks(previous)


def test_rolling_window_counts_its_days_and_a_roll_drops_the_day_that_left(
    program: Store,
) -> None:
    send(
        program,
        story("old", "a", NOW - 40 * DAY),  # before the window: only all-time counts it
        story("edge", "a", NOW - 29 * DAY),  # the window's first day
        story("b1", "b", NOW - DAY),
    )
    board = top(program, "last_30_days")
    assert ranks(board) == [(1, "a", 100), (1, "b", 100)]
    assert board.window.starts_at == datetime(2026, 7, 14, 4, tzinfo=UTC)  # midnight, New York
    assert ranks(top(program, "all_time"))[0] == (1, "a", 200)

    tomorrow = NOW + DAY
    report = close_windows(program, KEY, clock=clock_at(tomorrow))
    assert [(r.board, r.moved) for r in report.rolled] == [("last_30_days", 1)]
    assert ranks(top(program, "last_30_days", tomorrow)) == [(1, "b", 100)]
    again = close_windows(program, KEY, clock=clock_at(tomorrow))
    assert again.rolled == []


def test_a_roll_deletes_the_rows_it_brought_to_0_and_only_those(program: Store) -> None:
    """Rows at 0 rank and count nothing; the roll takes them out in one statement on
    PostgreSQL, so check the stored rows themselves, zeros included."""
    send(
        program,
        story("a1", "a", NOW - 29 * DAY),  # leaves tomorrow: a goes to 0
        story("b1", "b", NOW - 29 * DAY),  # leaves tomorrow, b keeps b2
        story("b2", "b", NOW - DAY),
        story("c1", "c", NOW - DAY),  # untouched by the roll
    )
    tomorrow = NOW + DAY
    report = close_windows(program, KEY, clock=clock_at(tomorrow))
    assert [(r.board, r.moved) for r in report.rolled] == [("last_30_days", 2)]
    with program.engine.connect() as conn:
        stored = conn.execute(
            select(leaderboard_scores.c.subject, leaderboard_scores.c.score)
            .join(leaderboard_windows, leaderboard_windows.c.id == leaderboard_scores.c.window_id)
            .where(leaderboard_windows.c.board == "last_30_days")
            .order_by(leaderboard_scores.c.subject)
        ).all()
    assert [tuple(r) for r in stored] == [("b", 100), ("c", 100)]
    counts = [b[-1] for b in leaderboard_rows(program)["buckets"] if b[0] == "last_30_days"]
    assert counts == [2, 2]  # the bucket of 100 and its group's row: b and c, not a
    assert ranks(top(program, "last_30_days", tomorrow)) == [(1, "b", 100), (1, "c", 100)]


def test_partitioned_board_ranks_within_a_region_and_follows_a_member_who_moves(
    program: Store,
) -> None:
    send(
        program,
        story("a1", "a", attributes={"region": "EMEA"}),
        story("a2", "a"),
        story("b1", "b", attributes={"region": "EMEA"}),
        story("c1", "c", attributes={"region": "NA"}),
    )
    assert ranks(top(program, "regional", partition={"region": "EMEA"})) == [
        (1, "a", 200),
        (2, "b", 100),
    ]
    mine = standing(program, "regional", "c")
    assert (mine.partition, mine.rank, mine.total) == ({"region": "NA"}, 1, 1)

    send(program, ev("move", "member.updated", "a", NOW, attributes={"region": "NA"}))
    assert ranks(top(program, "regional", partition={"region": "EMEA"})) == [(1, "b", 100)]
    assert ranks(top(program, "regional", partition={"region": "NA"})) == [
        (1, "a", 200),
        (2, "c", 100),
    ]


def test_a_partition_stored_as_a_number_is_found_by_its_text(program: Store) -> None:
    """A query string's values are text; a region may have been sent as a number."""
    send(
        program,
        story("a1", "a", attributes={"region": 44}),
        story("b1", "b", attributes={"region": "44"}),
        story("b2", "b"),
        story("c1", "c", attributes={"region": "NA"}),
    )
    assert ranks(top(program, "regional", partition={"region": "NA"})) == [(1, "c", 100)]
    # two partitions print as 44: the one stored as text is the one asked for
    assert ranks(top(program, "regional", partition={"region": "44"})) == [(1, "b", 200)]
    send(program, ev("move", "member.updated", "b", NOW, attributes={"region": "NA"}))
    assert ranks(top(program, "regional", partition={"region": "44"})) == [(1, "a", 100)]


def test_tier_brackets_rank_gold_with_gold(program: Store) -> None:
    send(program, *(story(f"g{n}", "gold1") for n in range(10)), story("m1", "m"))
    assert members_service.show(program, KEY, "gold1").tier == "gold"
    assert ranks(top(program, "brackets", partition={"tier": "gold"})) == [(1, "gold1", 1000)]
    assert ranks(top(program, "brackets", partition={"tier": "member"})) == [(1, "m", 100)]


def test_a_member_who_opts_out_is_hidden_from_others_but_sees_their_own_rank(
    program: Store,
) -> None:
    send(program, story("a1", "a"), story("a2", "a"), story("b1", "b"), story("c1", "c"))
    send(program, ev("hide", "member.updated", "a", NOW, attributes={"leaderboard_opt_out": True}))
    assert ranks(top(program, "all_time")) == [(1, "b", 100), (1, "c", 100)]
    assert standing(program, "all_time", "b", around=5).above == []
    me = standing(program, "all_time", "a")
    assert (me.visible, me.rank, me.total, me.score) == (False, 1, 3, 200)

    send(program, ev("show", "member.updated", "a", NOW, attributes={"leaderboard_opt_out": False}))
    assert ranks(top(program, "all_time"))[0] == (1, "a", 200)


def test_company_board_credits_each_event_to_its_own_company(program: Store) -> None:
    send(
        program,
        story("a1", "a", company="acme", team="red"),
        story("b1", "b", company="acme", team="red"),
        story("c1", "c", company="globex", team="blue"),
    )
    send(program, story("a2", "a", company="globex"))  # a moved: acme keeps what a earned there
    assert ranks(top(program, "companies")) == [(1, "acme", 200), (1, "globex", 200)]
    team_page = top(program, "teams")  # a2 names no team: a's own (red) gets it
    assert team_page.window.label == "2026-08"
    assert ranks(team_page) == [(1, "red", 300), (2, "blue", 100)]


def test_count_and_sum_metrics_count_only_rewarded_occurrences(program: Store) -> None:
    send(
        program,
        ev("d1", "deal.won", "a", NOW - 2 * DAY, amount=30_000),
        ev("d2", "deal.won", "a", NOW - 2 * DAY + timedelta(minutes=5), amount=5_000),  # cooldown
        ev("d3", "deal.won", "b", NOW - DAY, amount=12_500.4),
    )
    assert ranks(top(program, "pipeline")) == [(1, "a", 30_000), (2, "b", 12_500)]
    assert ranks(top(program, "closers")) == [(1, "a", 1), (1, "b", 1)]


def test_reversal_takes_the_score_out_of_the_reversed_events_window(program: Store) -> None:
    last_week = NOW - 7 * DAY
    send(program, story("s1", "a", last_week), story("s2", "a", NOW - DAY), story("b1", "b"))
    reverse(program, KEY, "s1", "duplicate story", clock=clock_at(NOW))
    assert ranks(top(program, "weekly", window="previous")) == []
    assert ranks(top(program, "weekly")) == [(1, "a", 100), (1, "b", 100)]
    assert ranks(top(program, "all_time")) == [(1, "a", 100), (1, "b", 100)]


def test_segment_and_minimum_keep_members_off_a_board(program: Store) -> None:
    send(
        program,
        story("a1", "a", attributes={"role": "advocate"}),
        story("a2", "a"),
        story("b1", "b", attributes={"role": "advocate"}),  # 100: under the minimum of 150
        story("c1", "c", attributes={"role": "admin"}),
        story("c2", "c"),
    )
    assert ranks(top(program, "advocates_only")) == [(1, "a", 200)]
    outside = standing(program, "advocates_only", "c")
    assert (outside.partition, outside.ranked, outside.rank) == (None, False, None)
    below = standing(program, "advocates_only", "b")
    assert (below.ranked, below.score, below.rank, below.total) == (False, 100, None, 1)


def test_closing_a_week_keeps_its_final_standings_and_pays_the_top_two_once(
    program: Store,
) -> None:
    week = NOW - 7 * DAY
    send(
        program,
        story("a1", "a", week),
        story("a2", "a", week),
        story("b1", "b", week - timedelta(hours=1)),
        story("c1", "c", week),  # ties b at 100 but reached it later: third
    )
    closed = close_windows(program, KEY, clock=clock_at(NOW)).closed
    assert [(c.board, c.window.label, c.paid) for c in closed] == [("weekly", "2026-W32", 2)]
    page = top(program, "weekly", window="2026-W32")
    assert page.window.closed_at == NOW
    assert page.final is not None
    assert [(r.rank, r.subject) for r in page.final] == [(1, "a"), (2, "b"), (2, "c")]
    lifetimes = {m: members_service.show(program, KEY, m).lifetime for m in "abc"}
    assert lifetimes == {"a": 250, "b": 150, "c": 100}  # the prize: 50 points and a badge
    badges = {m: [b.key for b in members_service.show(program, KEY, m).badges] for m in "abc"}
    assert badges == {"a": ["champion"], "b": ["champion"], "c": []}

    before = row_counts(program)
    close_windows(program, KEY, clock=clock_at(NOW + DAY))
    assert row_counts(program)["events"] == before["events"]  # nobody is paid twice


def test_replay_rebuilds_every_board_exactly(program: Store) -> None:
    week = NOW - 7 * DAY
    send(
        program,
        story("a1", "a", week, attributes={"region": "EMEA", "role": "advocate"}, company="acme"),
        story("a2", "a", NOW - DAY, team="red"),
        story("b1", "b", week, attributes={"region": "NA"}, company="acme"),
        ev("d1", "deal.won", "b", NOW - DAY, amount=9_000),
        story("c1", "c", NOW - 35 * DAY, attributes={"leaderboard_opt_out": True}),
    )
    send(program, ev("move", "member.updated", "b", NOW, attributes={"region": "EMEA"}))
    close_windows(program, KEY, clock=clock_at(NOW))
    reverse(program, KEY, "a2", "not a real story", clock=clock_at(NOW))
    send(program, story("late", "c", week))
    before = projection(program)
    assert before["leaderboards"]["scores"]
    replay(program, KEY, clock=clock_at(NOW + DAY))
    assert projection(program) == before


def test_reads_name_the_field_that_is_wrong(program: Store) -> None:
    send(program, story("a1", "a", attributes={"region": "EMEA"}))
    before = leaderboard_rows(program)
    with pytest.raises(NotFound) as missing:
        top(program, "nope")
    assert missing.value.field == "leaderboard"
    with pytest.raises(InvalidInput) as window:
        top(program, "weekly", window="last-week")
    assert window.value.field == "window"
    with pytest.raises(InvalidInput) as part:
        top(program, "regional")
    assert part.value.field == "partition.region" and "EMEA" in part.value.message
    with pytest.raises(InvalidInput) as wrong:
        top(program, "regional", partition={"country": "FR"})
    assert wrong.value.field == "partition.country"
    with pytest.raises(InvalidInput) as limit:
        top(program, "all_time", limit=0)
    assert limit.value.field == "limit"
    with pytest.raises(NotFound) as nobody:
        standing(program, "all_time", "zed")
    assert nobody.value.field == "member"
    assert leaderboard_rows(program) == before


def test_a_version_that_changes_what_a_boards_scores_mean_is_refused(program: Store) -> None:
    changed = PROGRAM.replace(
        "{key: regional, name: By region, partition: [region]}",
        "{key: regional, name: By region, partition: [country]}",
    )
    with pytest.raises(Conflict) as refused:
        publish_demo(program, changed)
    assert refused.value.field == "leaderboards" and "partition" in refused.value.message
    renamed = PROGRAM.replace("name: By region,", "name: Your region,", 1)
    assert publish_demo(program, renamed).version == 2


def test_every_group_row_counts_the_buckets_of_its_group(program: Store) -> None:
    """Ranks read group rows for the buckets far above a score (rankings_repo.group_row):
    each must hold the sum of its group's buckets after scores cross groups both ways."""
    send(program, *(story(f"g{i}-{n}", f"m{i}") for i in range(12) for n in range(i % 4 + 1)))
    send(program, *(ev(f"d{i}", "deal.won", f"m{i}", NOW - DAY, amount=70) for i in range(6)))
    reverse(program, KEY, "g3-0", "duplicate", clock=clock_at(NOW))
    buckets = leaderboard_rows(program)["buckets"]
    groups = {(b, w, p, g): n for b, w, p, g, n in buckets if g < 0}
    summed: dict[tuple[Any, ...], int] = {}
    for board, label, partition, bucket, n in buckets:
        if bucket > 0:
            key = (board, label, partition, group_row(bucket))
            summed[key] = summed.get(key, 0) + n
    assert len(groups) > 1  # scores of 100 to 440 span groups
    assert groups == {k: n for k, n in summed.items() if n}


def test_upgrading_to_bucket_groups_counts_the_buckets_already_stored(program: Store) -> None:
    from alembic import command

    from accolade.store.database import alembic_config, migrate

    send(program, *(story(f"u{i}-{n}", f"m{i}") for i in range(9) for n in range(i % 5 + 1)))
    written = leaderboard_rows(program)["buckets"]
    assert any(bucket < 0 for _, _, _, bucket, _ in written)
    command.downgrade(alembic_config(program.engine), "0008")
    assert all(bucket > 0 for _, _, _, bucket, _ in leaderboard_rows(program)["buckets"])

    migrate(program.engine)

    assert leaderboard_rows(program)["buckets"] == written


def test_board_reads_plan_their_statements_once_on_postgresql(program: Store) -> None:
    """Board reads ask for generic plans inside their own transaction only (the setting must
    not outlive it on the pooled connection that writers use next), and bind integers with
    one type whatever their size."""
    if program.dialect != "postgresql":
        pytest.skip("SQLite has no plan cache setting")
    with program.read(generic_plans=True) as uow:
        assert uow.conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "force_generic_plan"
    with program.read() as uow:
        assert uow.conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "auto"
        # one type for every integer: psycopg prepares a statement per text and types
        typed = uow.rankings._read("SELECT pg_typeof(%s)::text, pg_typeof(%s)::text", [7, 2**40])
        assert tuple(typed.one()) == ("bigint", "bigint")
    send(program, story("s1", "a"))
    assert ranks(top(program, "all_time")) == [(1, "a", 100)]
