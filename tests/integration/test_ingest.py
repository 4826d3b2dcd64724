"""Ingesting events: idempotent by the sender's id, and a bad event stores nothing of itself."""

from __future__ import annotations

from datetime import timedelta, timezone

from accolade.errors import Conflict, InvalidEvent
from accolade.sample_events import generate_events
from accolade.service.ingest import ingest
from accolade.store.unit_of_work import Store

from .builders import (
    DEMO_SOURCE,
    MONDAY,
    NOW,
    PROGRAM,
    clock_at,
    event,
    lead,
    ledger_of,
    member_row,
    positions,
    projection,
    publish_demo,
    quiz,
    row_counts,
    send,
    statuses,
    video,
)


def test_a_new_event_is_accepted_with_its_points(store: Store) -> None:
    publish_demo(store)

    [outcome] = send(store, video("v-1"))

    assert (outcome.status.value, outcome.event_id, outcome.result["points"]) == (
        "accepted",
        "v-1",
        10,
    )
    row = member_row(store, "alice")
    assert (row.lifetime, row.balance, row.tier) == (10, 10, "bronze")


def test_duplicate_event_id_returns_the_first_result_and_writes_nothing(store: Store) -> None:
    publish_demo(store)
    [first] = send(store, quiz("q-1"))
    before = row_counts(store)
    alice = member_row(store, "alice")

    [again] = send(store, quiz("q-1"), when=MONDAY + timedelta(days=3))

    assert again.status.value == "duplicate"
    assert again.result == {"status": "duplicate", "first": first.result}
    assert row_counts(store) == before
    assert member_row(store, "alice") == alice


def test_the_same_instant_written_with_another_offset_is_a_duplicate(store: Store) -> None:
    publish_demo(store)
    send(store, quiz("q-1"))
    before = row_counts(store)
    shifted = quiz("q-1")
    shifted["occurred_at"] = MONDAY.astimezone(timezone(timedelta(hours=-5))).isoformat()

    [again] = send(store, shifted)

    assert again.status.value == "duplicate"
    assert row_counts(store) == before


def test_same_event_id_with_a_different_body_is_a_conflict_on_id(store: Store) -> None:
    publish_demo(store)
    send(store, quiz("q-1"))
    before = row_counts(store)
    changed = quiz("q-1")
    changed["properties"]["score"] = 99

    [outcome] = send(store, changed)

    assert outcome.status.value == "rejected"
    assert isinstance(outcome.error, Conflict)
    assert outcome.error.field == "id"
    assert outcome.result["error"]["field"] == "id"
    assert row_counts(store) == before


def test_duplicates_inside_one_batch_are_stored_once(store: Store) -> None:
    publish_demo(store)
    changed = quiz("q-1")
    changed["properties"]["score"] = 71

    outcomes = send(store, quiz("q-1"), quiz("q-1"), changed)

    assert statuses(outcomes) == ["accepted", "duplicate", "rejected"]
    assert outcomes[1].result == {"status": "duplicate", "first": outcomes[0].result}
    assert isinstance(outcomes[2].error, Conflict) and outcomes[2].error.field == "id"
    counts = row_counts(store)
    assert counts["events"] == 1
    assert member_row(store, "alice").lifetime == 100
    assert [line.event_id for line in ledger_of(store, "alice")] == ["q-1"] * len(
        ledger_of(store, "alice")
    )


def test_bad_events_are_rejected_with_field_and_reason_and_good_ones_stored(store: Store) -> None:
    publish_demo(store)
    naive = video("bad-naive", member="nora")
    naive["occurred_at"] = "2026-03-02T09:00:00"
    no_time = video("bad-missing", member="mia")
    del no_time["occurred_at"]
    extra = video("bad-extra", member="eve")
    extra["points"] = 1000
    nested = video("bad-attr", member="nina")
    nested["attributes"] = {"region": {"name": "EMEA"}}

    outcomes = send(
        store,
        video("good-1"),
        naive,
        no_time,
        event("bad-type", "video.wached", member="mallory"),
        ["not", "an", "object"],
        extra,
        nested,
        InvalidEvent("not valid JSON: Expecting value at column 1", field="line"),
        {**video("bad-member"), "member": ""},
        video("good-2", at=MONDAY + timedelta(minutes=10)),
    )

    assert positions(outcomes) == list(range(1, 11))
    assert statuses(outcomes) == ["accepted"] + ["rejected"] * 8 + ["accepted"]
    fields = [(o.event_id, o.error.field) for o in outcomes if o.error is not None]
    assert fields == [
        ("bad-naive", "occurred_at"),
        ("bad-missing", "occurred_at"),
        ("bad-type", "type"),
        (None, ""),
        ("bad-extra", "points"),
        ("bad-attr", "attributes.region"),
        (None, "line"),
        ("bad-member", "member"),
    ]
    assert all(o.error.message for o in outcomes if o.error is not None)
    assert "video.watched" in outcomes[3].error.message  # suggests the close match
    assert outcomes[1].result["error"] == {
        "code": "invalid_event",
        "field": "occurred_at",
        "message": outcomes[1].error.message,
    }
    counts = row_counts(store)
    assert counts["events"] == 2
    assert counts["members"] == 1
    assert member_row(store, "alice").lifetime == 20
    assert {line.event_id for line in ledger_of(store, "alice")} == {"good-1", "good-2"}


def test_a_member_whose_only_event_is_rejected_is_not_created(store: Store) -> None:
    publish_demo(store)

    [outcome] = send(store, event("e-1", "webinar.attended", member="mallory"))

    assert outcome.status.value == "rejected"
    assert outcome.error is not None and outcome.error.field == "type"
    assert member_row(store, "mallory") is None
    assert row_counts(store)["events"] == 0
    assert row_counts(store)["ledger_entries"] == 0


def test_a_rejected_event_leaves_an_existing_member_unchanged(store: Store) -> None:
    publish_demo(store)
    send(store, quiz("q-1"))
    before = projection(store)

    [outcome] = send(store, event("e-1", "webinar.attended", member="alice"))

    assert outcome.status.value == "rejected"
    assert projection(store) == before


def test_a_rejected_event_can_be_sent_again_once_fixed(store: Store) -> None:
    publish_demo(store)
    send(store, event("q-1", "quiz.pased", quiz="q", score=80))

    [fixed] = send(store, quiz("q-1"))

    assert fixed.status.value == "accepted"
    assert member_row(store, "alice").lifetime == 100


def test_the_chunk_size_does_not_change_the_result(store: Store) -> None:
    publish_demo(store)
    stream = list(generate_events(240, 9, seed=11, duplicates=0.1))
    report = ingest(store, PROGRAM, enumerate(stream, start=1), chunk_size=7, clock=clock_at())
    chunked = projection(store)
    with store.engine.begin() as conn:
        for table in ("member_badges", "ledger_entries", "events", "members"):
            conn.exec_driver_sql(f"delete from {table}")

    whole = ingest(store, PROGRAM, enumerate(stream, start=1), chunk_size=5000, clock=clock_at())

    assert projection(store) == chunked
    assert (report.events, report.accepted, report.duplicate, report.limited, report.rejected) == (
        whole.events,
        whole.accepted,
        whole.duplicate,
        whole.limited,
        whole.rejected,
    )
    assert report.duplicate > 0 and report.rejected == 0


def test_a_bulk_chunk_stores_what_small_batches_store(store: Store) -> None:
    # 1,000 rows and more go by binary COPY on PostgreSQL (store/repositories/_base.py), fewer
    # by text COPY: both must store the same values (1,128 members: their states too).
    publish_demo(store)
    stream = list(generate_events(1500, 5000, seed=12))
    ingest(store, PROGRAM, enumerate(stream, start=1), chunk_size=150, clock=clock_at())
    small = projection(store)
    with store.engine.begin() as conn:
        for table in ("member_badges", "ledger_entries", "events", "members"):
            conn.exec_driver_sql(f"delete from {table}")

    ingest(store, PROGRAM, enumerate(stream, start=1), chunk_size=5000, clock=clock_at())

    assert projection(store) == small
    assert len(small["log"]) == 1500


def test_a_state_kept_between_batches_is_read_again_after_another_writer_changed_it(
    store: Store,
) -> None:
    from accolade.service.ingest import ingest_batch
    from accolade.service.reverse import reverse
    from accolade.store.repositories.members import MemberCache

    publish_demo(store)
    cache: MemberCache = {}
    ingest_batch(
        store, PROGRAM, [(1, quiz("q-1")), (2, video("v-1"))], clock=clock_at(), cache=cache
    )
    reverse(store, PROGRAM, "q-1", "retaken under supervision", clock=clock_at())

    ingest_batch(store, PROGRAM, [(1, video("v-2"))], clock=clock_at(), cache=cache)

    row = member_row(store, "alice")
    # 10 + 10 for the videos: the quiz's 100 stays reversed although the cache held it.
    assert (row.lifetime, row.balance) == (20, 20)
    assert [line.rule for line in ledger_of(store, "alice") if line.kind == "reversal"] == [
        "action:quiz_passed"
    ]


def test_a_state_kept_between_batches_is_reused_while_nobody_else_wrote(store: Store) -> None:
    from accolade.service.ingest import ingest_batch
    from accolade.store.repositories.members import MemberCache

    publish_demo(store)
    cache: MemberCache = {}
    ingest_batch(store, PROGRAM, [(1, video("v-1"))], clock=clock_at(), cache=cache)
    [(member_id, (revision, kept))] = cache.items()

    ingest_batch(store, PROGRAM, [(1, video("v-2"))], clock=clock_at(), cache=cache)

    assert cache[member_id][0] == revision + 1
    assert cache[member_id][1] is not kept
    assert member_row(store, "alice").lifetime == 20


def test_the_firsts_follow_a_reversal_between_two_batches_of_one_writer(store: Store) -> None:
    from accolade.service.ingest import ingest_batch
    from accolade.service.reverse import reverse
    from accolade.store.repositories.members import MemberCache

    publish_demo(store)
    cache: MemberCache = {}
    first = ("video.watched", "alice")
    ingest_batch(store, PROGRAM, [(1, video("v-1", at=MONDAY))], clock=clock_at(), cache=cache)

    # a later video does not move the first; an earlier one does
    later = MONDAY + timedelta(days=1)
    ingest_batch(store, PROGRAM, [(1, video("v-2", at=later))], clock=clock_at(), cache=cache)
    assert firsts_by_member(store)[first] == MONDAY
    earlier = MONDAY - timedelta(days=1)
    ingest_batch(store, PROGRAM, [(1, video("v-0", at=earlier))], clock=clock_at(), cache=cache)
    assert firsts_by_member(store)[first] == earlier

    # another writer reverses the first two: the first moves to v-2, then to the writer's
    # next video, earlier than v-2
    for reversed_id in ("v-0", "v-1"):
        reverse(store, PROGRAM, reversed_id, "watched by a bot", clock=clock_at())
    assert firsts_by_member(store)[first] == later
    last = MONDAY + timedelta(hours=3)
    ingest_batch(store, PROGRAM, [(1, video("v-3", at=last))], clock=clock_at(), cache=cache)
    assert firsts_by_member(store)[first] == last


def test_firsts_kept_over_a_range_holding_older_rows_count_only_the_events_in_force(
    store: Store,
) -> None:
    # on PostgreSQL a batch's range of log ids may hold other writers' rows: a reversed event
    # and its reversal's row in it change nothing
    from accolade.service.reverse import reverse

    publish_demo(store)
    send(store, video("v-1", at=MONDAY - timedelta(days=1)), video("v-2", at=MONDAY))
    reverse(store, PROGRAM, "v-1", "watched by a bot", clock=clock_at())
    assert firsts_by_member(store) == {("video.watched", "alice"): MONDAY}

    with store.transaction() as uow:
        program = uow.programs.program_by_key(PROGRAM)
        assert program is not None
        uow.log.firsts.keep(program.id, range(0, 1_000))
    assert firsts_by_member(store) == {("video.watched", "alice"): MONDAY}


def test_a_large_batch_keeps_each_members_first_of_each_type(store: Store) -> None:
    # 200 (type, member) pairs in one batch, each seen twice: a member's second video is
    # later than their first, their second quiz earlier
    publish_demo(store)
    videos = [video(f"v-{i}", f"m{i % 150}", MONDAY + timedelta(minutes=i)) for i in range(300)]
    quizzes_ = [quiz(f"q-{i}", f"m{i % 50}", MONDAY - timedelta(hours=i)) for i in range(100)]
    send(store, *videos, *quizzes_)

    expected = {("video.watched", f"m{i}"): MONDAY + timedelta(minutes=i) for i in range(150)}
    expected |= {("quiz.passed", f"m{i}"): MONDAY - timedelta(hours=i + 50) for i in range(50)}
    assert firsts_by_member(store) == expected


_READS_QUIZZES = """
analytics:
  invited: [profile_completed]
  activated: ["action:quiz_passed"]
"""
_READS_LEADS_TOO = _READS_QUIZZES + "  qualified: [lead_registered]\n"


def test_firsts_are_kept_for_the_types_the_analytics_read_and_filled_when_a_release_reads_more(
    store: Store,
) -> None:
    # invited and activated name their actions: only profiles and quizzes are read first
    from accolade.service.programs import rollback

    v1 = publish_demo(store, DEMO_SOURCE + _READS_QUIZZES).version
    send(
        store,
        video("v-1", "ann", MONDAY),
        quiz("q-1", "ann", MONDAY + timedelta(hours=1)),
        lead("l-1", "ann", MONDAY + timedelta(hours=2)),
        lead("l-2", "bob", MONDAY - timedelta(days=1)),
    )
    quizzes = {("quiz.passed", "ann"): MONDAY + timedelta(hours=1)}
    assert firsts_by_member(store) == quizzes

    # a release whose qualified reads leads: their firsts filled from the log
    v2 = publish_demo(store, DEMO_SOURCE + _READS_LEADS_TOO).version
    leads = {
        ("lead.registered", "ann"): MONDAY + timedelta(hours=2),
        ("lead.registered", "bob"): MONDAY - timedelta(days=1),
    }
    assert firsts_by_member(store) == quizzes | leads
    send(store, lead("l-3", "bob", MONDAY - timedelta(days=2)), video("v-2", "cyd", MONDAY))
    leads[("lead.registered", "bob")] = MONDAY - timedelta(days=2)
    assert firsts_by_member(store) == quizzes | leads

    # back to a version that does not read leads: theirs no longer kept, and refilled (not
    # left as they were) when a version reads them again
    rollback(store, PROGRAM, v1, clock=clock_at())
    send(store, lead("l-4", "cyd", MONDAY - timedelta(days=3)))
    assert firsts_by_member(store) == quizzes | leads
    rollback(store, PROGRAM, v2, clock=clock_at())
    leads[("lead.registered", "cyd")] = MONDAY - timedelta(days=3)
    assert firsts_by_member(store) == quizzes | leads

    # the defaults count any event: every type kept again, the missing ones filled
    publish_demo(store)
    videos = {("video.watched", "ann"): MONDAY, ("video.watched", "cyd"): MONDAY}
    assert firsts_by_member(store) == quizzes | leads | videos


def test_a_chunk_logged_under_the_version_before_a_release_adds_the_firsts_it_reads(
    store: Store,
) -> None:
    # PostgreSQL lets a release commit while a chunk runs (made here on both databases by a
    # chunk given the version before): the chunk finds the new version when it has logged
    # its events, and keeps the firsts it reads
    from accolade.service.ingest import apply_events, parse_records
    from accolade.service.programs import active

    publish_demo(store, DEMO_SOURCE + _READS_QUIZZES)
    with store.transaction() as uow:
        before = active(uow, PROGRAM)
    publish_demo(store, DEMO_SOURCE + _READS_LEADS_TOO)
    with store.transaction() as uow:
        apply_events(
            uow,
            before,
            parse_records(list(enumerate([lead("l-1", "ann"), video("v-1", "ann")]))),
            NOW,
        )
    assert firsts_by_member(store) == {("lead.registered", "ann"): MONDAY}


def firsts_by_member(store: Store) -> dict[tuple[str, str], object]:
    from sqlalchemy import select

    from accolade.store.tables import member_firsts, members

    mf = member_firsts
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(mf.c.type, members.c.external_id, mf.c.occurred_at).join(
                members, members.c.id == mf.c.member_id
            )
        )
        return {
            (t, m): at.astimezone(MONDAY.tzinfo) if at.tzinfo else at.replace(tzinfo=MONDAY.tzinfo)
            for t, m, at in rows
        }
