"""Event files (JSON Lines, CSV) read a line at a time and ingested on each backend."""

from __future__ import annotations

import json
from pathlib import Path

from accolade.errors import InvalidEvent
from accolade.service.ingest import Outcome, ingest
from accolade.service.sources import read_events
from accolade.store.unit_of_work import Store

from .builders import PROGRAM, clock_at, member_row, publish_demo, quiz, row_counts, video


def test_jsonl_with_a_bad_line_rejects_that_line_by_number(store: Store, tmp_path: Path) -> None:
    publish_demo(store)
    path = tmp_path / "events.jsonl"
    lines = [json.dumps(quiz("q-1")), "", '{"id": "broken", "type": ', json.dumps(video("v-1"))]
    path.write_text("\n".join(lines) + "\n")
    outcomes: list[Outcome] = []

    report = ingest(store, PROGRAM, read_events(path), clock=clock_at(), on_chunk=outcomes.extend)

    assert [(o.position, o.status.value) for o in outcomes] == [
        (1, "accepted"),
        (3, "rejected"),
        (4, "accepted"),
    ]
    bad = outcomes[1].error
    assert isinstance(bad, InvalidEvent)
    assert bad.field == "line"
    assert "not valid JSON" in bad.message
    assert (report.accepted, report.rejected) == (2, 1)
    assert row_counts(store)["events"] == 2


def test_ingest_report_points_at_the_rejected_line(store: Store, tmp_path: Path) -> None:
    publish_demo(store)
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(quiz("q-1")) + "\nnot json\n")
    rejected: list[tuple[int, str | None]] = []

    ingest(
        store,
        PROGRAM,
        read_events(path),
        clock=clock_at(),
        on_chunk=lambda outcomes: rejected.extend(
            (o.position, o.error.field) for o in outcomes if o.error is not None
        ),
    )

    assert rejected == [(2, "line")]


def test_csv_types_properties_and_attributes_columns(store: Store, tmp_path: Path) -> None:
    publish_demo(store)
    path = tmp_path / "events.csv"
    path.write_text(
        "id,type,member,company,occurred_at,properties.lead,properties.qualified,"
        "properties.amount_usd,attributes.region,attributes.seats,attributes.partner\n"
        "l-1,lead.registered,alice,acme,2026-03-02T14:00:00Z,L1,true,,EMEA,12,TRUE\n"
        "l-2,lead.registered,alice,acme,2026-03-02T15:00:00Z,L2,false,,,,\n"
        "d-1,deal.won,alice,,2026-03-02T16:00:00Z,,,12550.5,,2.5,false\n"
    )

    records = list(read_events(path))
    report = ingest(store, PROGRAM, records, clock=clock_at())

    assert [number for number, _ in records] == [2, 3, 4]
    first, second, third = (r for _, r in records)
    assert first["properties"] == {"lead": "L1", "qualified": True}
    assert first["attributes"] == {"region": "EMEA", "seats": 12, "partner": True}
    assert second["properties"] == {"lead": "L2", "qualified": False}
    assert "attributes" not in second
    assert third["properties"] == {"amount_usd": 12550.5}
    assert third["attributes"] == {"seats": 2.5, "partner": False}
    assert report.accepted == 3
    row = member_row(store, "alice")
    assert row.company == "acme"
    assert dict(row.attributes) == {"region": "EMEA", "seats": 2.5, "partner": False}
    assert row.lifetime == 500 + 125  # the unqualified lead earns nothing; 12,550.50 USD is 125


def test_csv_with_an_unknown_column_rejects_the_row_naming_the_column(
    store: Store, tmp_path: Path
) -> None:
    publish_demo(store)
    path = tmp_path / "events.csv"
    path.write_text(
        "id,type,member,occurred_at,points\nq-1,quiz.passed,alice,2026-03-02T14:00:00Z,100\n"
    )

    [(number, record)] = list(read_events(path))
    report = ingest(store, PROGRAM, [(number, record)], clock=clock_at())

    assert number == 2
    assert isinstance(record, InvalidEvent) and record.field == "points"
    assert report.rejected == 1
    assert row_counts(store)["events"] == 0


def _hostile_jsonl(path: Path) -> None:
    """Good lines around every kind of line a file should never hold."""
    good = [quiz("q-1"), video("v-9", member="bob")]
    bad = [
        {**quiz("q-2"), "occurred_at": "9999-12-31T23:59:59-05:00"},
        {**quiz("q-3"), "properties": {"score": 10**400}},
        {**quiz("q-4"), "properties": {"score": 1e300}},
        {**quiz("q-5"), "member": "ali\x00ce"},
        {**quiz("q-6"), "member": "\ud800"},
    ]
    with path.open("wb") as out:
        out.write(json.dumps(good[0]).encode() + b"\n")
        for event in bad:
            out.write(json.dumps(event).encode() + b"\n")
        out.write(b'{"id": "q-7", "x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}\n")
        out.write(b'{"id": "q-8", "member": "b\xffob"}\n')  # not UTF-8
        out.write(json.dumps(good[1]).encode() + b"\n")


def test_hostile_lines_are_rejected_by_number_and_field_and_the_good_ones_stored(
    store: Store, tmp_path: Path
) -> None:
    publish_demo(store)
    path = tmp_path / "events.jsonl"
    _hostile_jsonl(path)
    outcomes: list[Outcome] = []

    report = ingest(store, PROGRAM, read_events(path), clock=clock_at(), on_chunk=outcomes.extend)

    assert (report.accepted, report.rejected) == (2, 7)
    rejected = [(o.position, o.error.field) for o in outcomes if o.error is not None]
    assert rejected == [
        (2, "occurred_at"),
        (3, "properties.score"),
        (4, "properties.score"),
        (5, "member"),
        (6, "member"),
        (7, "line"),
        (8, "line"),
    ]
    assert member_row(store, "bob") is not None
    assert row_counts(store)["events"] == 2


def test_a_csv_cell_that_is_not_utf8_or_holds_nul_rejects_its_row_naming_the_column(
    store: Store, tmp_path: Path
) -> None:
    publish_demo(store)
    path = tmp_path / "events.csv"
    path.write_bytes(
        b"id,type,member,occurred_at,properties.quiz,properties.score\n"
        b"c1,quiz.passed,carl,2026-03-02T14:00:00Z,q1,90\n"
        b"c2,quiz.passed,ca\x00rl,2026-03-02T14:00:00Z,q1,90\n"
        b"c3,quiz.passed,d\xffan,2026-03-02T14:00:00Z,q1,90\n"
        b"c4,quiz.passed,dan,2026-03-02T14:00:00Z,q1,1e300\n"
        b"c5,quiz.passed,erin,2026-03-02T14:00:00Z,q2,90\n"
    )
    outcomes: list[Outcome] = []

    report = ingest(store, PROGRAM, read_events(path), clock=clock_at(), on_chunk=outcomes.extend)

    assert (report.accepted, report.rejected) == (2, 3)
    assert [(o.position, o.error.field) for o in outcomes if o.error is not None] == [
        (3, "member"),
        (4, "member"),
        (5, "properties.score"),
    ]
