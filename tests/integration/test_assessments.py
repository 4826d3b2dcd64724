"""Assessments through ingest, on SQLite and PostgreSQL: a completed assessment's result is
stored and announced (`lead.assessed`) in the completing event's transaction, a bad answer
stores nothing, a repeat changes nothing, and replay rebuilds the results."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import insert, select

from accolade.errors import NotFound
from accolade.service import assessment_report
from accolade.service import assessments as assessments_service
from accolade.service.ingest import ingest_batch
from accolade.service.programs import publish
from accolade.service.replay import replay
from accolade.service.reverse import reverse
from accolade.store.tables import assessment_results, outbox, programs, webhook_subscriptions
from tests.assessment_program import (
    ASSESSMENT_PROGRAM,
    HOT_ANSWERS,
    SKIPPING_ANSWERS,
    assessment_events,
)
from tests.integration.builders import NOW, clock_at, row_counts

PROGRAM = "diag"


def setup(store, types: str | None = "lead.assessed") -> None:
    publish(store, ASSESSMENT_PROGRAM, clock=clock_at())
    if types is None:
        return
    with store.transaction() as uow:
        program_id = uow.conn.scalar(select(programs.c.id).where(programs.c.key == PROGRAM))
        uow.conn.execute(
            insert(webhook_subscriptions).values(
                program_id=program_id,
                url="http://127.0.0.1:9/hook",
                types=types,
                secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                created_at=NOW,
            )
        )


def send(store, *sent: dict[str, Any]):
    return ingest_batch(
        store, PROGRAM, [(i, e) for i, e in enumerate(sent, start=1)], clock=clock_at()
    )


def messages(store) -> list[tuple[str, dict[str, Any]]]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(outbox.c.type, outbox.c.payload).order_by(outbox.c.id))
        return [(t, json.loads(p)) for t, p in rows]


def results(store) -> list[tuple[Any, ...]]:
    """The stored results, without what legitimately differs (row ids, recorded_at)."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                assessment_results.c.assessment,
                assessment_results.c.event_id,
                assessment_results.c.total,
                assessment_results.c.level,
                assessment_results.c.segment,
                assessment_results.c.result,
                assessment_results.c.completed_at,
            ).order_by(assessment_results.c.event_id)
        )
        return [tuple(r) for r in rows]


def test_completion_stores_the_result_with_each_answers_scores(store):
    setup(store)
    outcomes = send(store, *assessment_events("ann", HOT_ANSWERS))
    assert [o.status.value for o in outcomes] == ["accepted"] * 7
    assert outcomes[-1].result["entries"][0]["rule"] == "assessment:readiness"
    found = assessments_service.result(store, PROGRAM, "readiness", "ann")
    assert (found.total, found.level, found.segment) == (21, "ready", "hot")
    assert found.scores == {"maturity": 7, "urgency": 5, "fit": 9}
    assert found.event_id == "ann-done"
    assert [(a.question, a.scores) for a in found.answers][:2] == [
        ("warehouse_in_place", {"maturity": 3}),
        ("sources", {"fit": 5, "maturity": 1}),
    ]
    assert found.nurture_path == "sales_fast_track"


def test_the_lead_assessed_message_carries_fields_segment_path_and_note(store):
    setup(store)
    send(store, *assessment_events("ann", HOT_ANSWERS))
    [(kind, body)] = messages(store)
    assert kind == "lead.assessed"
    assert body["type"] == "lead.assessed"
    data = body["data"]
    assert data["lead"] == "ann"
    assert data["assessment"] == "readiness"
    assert data["segment"] == "hot"
    assert data["level"] == "ready"
    assert data["nurture_path"] == "sales_fast_track"
    assert data["next_content"] == "migration-checklist"
    assert data["fields"] == {
        "has_warehouse": "true",
        "data_sources": "crm;erp",
        "readiness_level": "ready",
        "readiness_score": 21,
    }
    assert data["sales_note"] == "ann scored 21 (Ready): needs it This quarter, loads CRM, ERP."


def test_answers_across_batches_resume_where_the_lead_left_off(store):
    setup(store)
    events = assessment_events("bo", SKIPPING_ANSWERS)
    for one in events:
        send(store, one)
    found = assessments_service.result(store, PROGRAM, "readiness", "bo")
    assert (found.total, found.segment, found.sales_note) == (1, "education", None)
    assert found.fields["has_warehouse"] == "false"


def test_without_a_subscription_the_result_is_stored_and_no_message_written(store):
    setup(store, types=None)
    send(store, *assessment_events("ann", HOT_ANSWERS))
    assert messages(store) == []
    assert len(results(store)) == 1


def test_a_bad_answer_stores_nothing(store):
    setup(store)
    send(store, *assessment_events("ann", HOT_ANSWERS, complete=False))
    before = row_counts(store)
    bad = {
        "id": "bad-1",
        "type": "assessment.answered",
        "member": "ann",
        "occurred_at": "2026-03-02T15:00:00Z",
        "properties": {"assessment": "readiness", "question": "timeline", "answer": "soon"},
    }
    [outcome] = send(store, bad)
    assert outcome.result["status"] == "rejected"
    assert outcome.result["error"]["field"] == "properties.answer"
    assert row_counts(store) == before


def test_an_answer_after_completion_is_rejected_and_stores_nothing(store):
    setup(store)
    send(store, *assessment_events("ann", HOT_ANSWERS))
    before = row_counts(store)
    late = assessment_events("ann", {"timeline": "later"}, prefix="late", complete=False)[1]
    [outcome] = send(store, late)
    assert outcome.result["error"] == {
        "code": "invalid_event",
        "field": "properties.assessment",
        "message": "assessment 'readiness' is completed already for 'ann'",
    }
    assert row_counts(store) == before


def test_the_completing_event_sent_again_is_a_duplicate_that_writes_nothing(store):
    setup(store)
    events = assessment_events("ann", HOT_ANSWERS)
    send(store, *events)
    before = row_counts(store)
    [again] = send(store, events[-1])
    assert again.result["status"] == "duplicate"
    assert again.result["first"]["entries"][0]["kind"] == "assessment"
    assert row_counts(store) == before


def test_replay_rebuilds_the_results(store):
    setup(store)
    send(store, *assessment_events("ann", HOT_ANSWERS), *assessment_events("bo", SKIPPING_ANSWERS))
    send(store, *assessment_events("cy", HOT_ANSWERS, complete=False))
    stored = results(store)
    assert [r[1] for r in stored] == ["ann-done", "bo-done"]
    sent = messages(store)
    replay(store, PROGRAM, clock=clock_at())
    assert results(store) == stored
    assert messages(store) == sent  # nothing announced twice


def test_reading_a_result_that_is_not_there_names_what_is_missing(store):
    setup(store)
    send(store, *assessment_events("cy", HOT_ANSWERS, complete=False))
    with pytest.raises(NotFound) as caught:
        assessments_service.result(store, PROGRAM, "readiness", "cy")
    assert caught.value.field == "lead"
    with pytest.raises(NotFound) as caught:
        assessments_service.result(store, PROGRAM, "maturity", "cy")
    assert caught.value.field == "assessment"


def test_reversing_the_completion_takes_the_result_back_and_the_lead_may_complete_again(store):
    setup(store)
    send(store, *assessment_events("ann", HOT_ANSWERS))
    reverse(store, PROGRAM, "ann-done", "sent by mistake", clock=clock_at())
    assert results(store) == []
    again = {**assessment_events("ann", HOT_ANSWERS)[-1], "id": "ann-done-2"}
    [outcome] = send(store, again)
    assert outcome.result["status"] == "accepted"
    assert [r[1] for r in results(store)] == ["ann-done-2"]
    replay(store, PROGRAM, clock=clock_at())
    assert [r[1] for r in results(store)] == ["ann-done-2"]


def test_reversing_a_required_answer_takes_the_completion_back_with_it(store):
    setup(store)
    send(store, *assessment_events("ann", HOT_ANSWERS))
    reverse(store, PROGRAM, "ann-a5", "answered for someone else", clock=clock_at())
    assert results(store) == []
    answer = assessment_events("ann", {"timeline": "year"}, prefix="fix")[1]
    done = {**assessment_events("ann", HOT_ANSWERS)[-1], "id": "ann-done-2"}
    send(store, answer, done)
    found = assessments_service.result(store, PROGRAM, "readiness", "ann")
    assert (found.event_id, found.scores["urgency"]) == ("ann-done-2", 2)
    stored = results(store)
    replay(store, PROGRAM, clock=clock_at())
    assert results(store) == stored


def test_reversing_an_answer_that_replaced_another_scores_the_result_again(store):
    setup(store)
    events = assessment_events("ann", HOT_ANSWERS)
    changed = assessment_events("ann", {"timeline": "later"}, prefix="x", complete=False)[1]
    send(store, *events[:-1], changed, events[-1])
    found = assessments_service.result(store, PROGRAM, "readiness", "ann")
    assert (found.total, found.segment) == (16, "warehouse_later")
    reverse(store, PROGRAM, changed["id"], "the lead clicked twice", clock=clock_at())
    found = assessments_service.result(store, PROGRAM, "readiness", "ann")
    assert (found.total, found.segment, found.event_id) == (21, "hot", "ann-done")
    assert found.answers[-1].answer == "quarter"
    stored = results(store)
    replay(store, PROGRAM, clock=clock_at())
    assert results(store) == stored


REPORTED = ASSESSMENT_PROGRAM.replace(
    "  - key: webinar_attended\n    points: 10\n",
    "  - key: webinar_attended\n    points: 10\n"
    "  - key: meeting_booked\n    event: meeting.booked\n    points: 0\n"
    "analytics:\n  qualified: [meeting_booked]\n",
)


def later(id: str, type: str, lead: str, hour: int) -> dict[str, Any]:
    return {
        "id": id,
        "type": type,
        "member": lead,
        "occurred_at": f"2026-03-02T{hour:02d}:00:00Z",
        "properties": {"assessment": "readiness"},
    }


def test_the_report_counts_starts_drop_off_scores_segments_conversion_and_notes_read(store):
    publish(store, REPORTED, clock=clock_at())
    hot_but_slow = {**HOT_ANSWERS, "timeline": "later", "team_confidence": 1}
    send(
        store,
        *assessment_events("ann", HOT_ANSWERS),  # hot, 21
        *assessment_events("bo", SKIPPING_ANSWERS),  # education, 1
        *assessment_events("cy", hot_but_slow),  # warehouse_later, 13
        *assessment_events(
            "di", {"warehouse_in_place": "has_one", "sources": ["crm"]}, complete=False
        ),
        *assessment_events("ed", {}, complete=False),
        later("ann-meeting", "meeting.booked", "ann", 18),
        later("bo-meeting", "meeting.booked", "bo", 9),  # before bo completed: not a conversion
        later("ann-note", "sales_note.viewed", "ann", 19),
    )
    report = assessment_report.report(store, PROGRAM, "readiness")
    assert (report.started, report.completed, report.completion_percent) == (5, 3, 60.0)
    assert report.stopped_before_answering == 1
    assert {q.question: q.stopped_after for q in report.drop_off}["sources"] == 1
    assert {q.question: q.answered for q in report.drop_off}["warehouse_in_place"] == 4
    total = next(s for s in report.scores if s.key == "total")
    assert (total.min, total.median, total.max) == (1, 13.0, 21)
    assert report.levels == {"early": 1, "developing": 0, "ready": 2}
    assert [(s.key, s.leads, s.qualified) for s in report.segments] == [
        ("hot", 1, 1),
        ("warehouse_later", 1, 0),
        ("education", 1, 0),
    ]
    assert (report.qualified, report.conversion_percent) == (1, 33.3)
    assert report.segment_usefulness == round(100.0 / 33.3, 2)
    assert (report.sales_notes_viewed, report.sales_context_adoption_percent) == (1, 50.0)
