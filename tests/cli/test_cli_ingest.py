"""`accolade ingest`: the summary, duplicates, the rejects file, CSV files."""

from __future__ import annotations

import csv
import json

from tests.cli.builders import error_lines, event, ok, run, summary, write_generated, write_jsonl


def test_ingest_prints_the_summary(tmp_path):
    ok(tmp_path, "init")
    path = write_jsonl(
        tmp_path / "events.jsonl",
        [
            event("e1", "profile.completed", at="2026-05-04T14:00:00Z"),
            event("e2", "profile.completed", at="2026-05-05T14:00:00Z"),  # once: limited
            event("e3", "quiz.passed", at="2026-05-05T15:00:00Z", quiz="q1"),
            event("e3", "quiz.passed", at="2026-05-05T15:00:00Z", quiz="q1"),  # sent twice
        ],
    )

    result = ok(tmp_path, "ingest", path)

    assert "ingested events.jsonl" in result.stdout
    # 30 for the profile, 100 for the quiz, 0 for the Certified User badge
    assert summary(result) == {
        "accepted": 2,
        "duplicate": 1,
        "limited": 1,
        "rejected": 0,
        "points": 130,
    }
    assert not (tmp_path / "events.jsonl.rejects.csv").exists()


def test_ingest_of_generated_events_accounts_for_every_line(tmp_path):
    ok(tmp_path, "init")
    path = write_generated(tmp_path / "events.jsonl", events=60, members=5)

    counts = summary(ok(tmp_path, "ingest", path))

    assert counts["accepted"] + counts["limited"] == 60
    assert (counts["duplicate"], counts["rejected"]) == (0, 0)
    assert counts["points"] > 0


def test_second_ingest_of_the_same_file_is_all_duplicates(tmp_path):
    ok(tmp_path, "init")
    path = write_generated(tmp_path / "events.jsonl", events=60, members=5)
    ok(tmp_path, "ingest", path)

    counts = summary(ok(tmp_path, "ingest", path))

    assert counts == {"accepted": 0, "duplicate": 60, "limited": 0, "rejected": 0, "points": 0}


def test_ingest_in_small_chunks_gives_the_same_summary(tmp_path):
    path = write_generated(tmp_path / "events.jsonl", events=60, members=5)
    whole, chunked = tmp_path / "whole", tmp_path / "chunked"
    whole.mkdir()
    chunked.mkdir()
    ok(whole, "init")
    ok(chunked, "init")

    one = summary(ok(whole, "ingest", path))
    many = summary(ok(chunked, "ingest", path, "--chunk-size", "7"))

    assert many == one


def test_ingest_with_bad_lines_writes_the_rejects_file_and_exits_1(tmp_path):
    ok(tmp_path, "init")
    path = write_jsonl(
        tmp_path / "events.jsonl",
        [
            event("e1", "quiz.passed", quiz="q1"),
            "{not json",
            event("e3", "quiz.failed"),
            {"id": "e4", "type": "quiz.passed", "member": "alice"},
            event("e1", "quiz.passed", quiz="q2"),  # same id, another body
        ],
    )

    result = run(tmp_path, "ingest", path)

    assert result.exit_code == 1, result.output
    assert summary(result)["rejected"] == 4
    assert "4 rejected" in result.stderr
    with (tmp_path / "events.jsonl.rejects.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["line"], r["event_id"], r["field"]) for r in rows] == [
        ("2", "", "line"),
        ("3", "e3", "type"),
        ("4", "e4", "occurred_at"),
        ("5", "e1", "id"),
    ]
    assert rows[0]["reason"].startswith("not valid JSON")
    assert "unknown event type 'quiz.failed'" in rows[1]["reason"]
    assert rows[2]["reason"] == "is required"
    assert "different body" in rows[3]["reason"]


def test_ingest_writes_rejects_where_asked(tmp_path):
    ok(tmp_path, "init")
    path = write_jsonl(tmp_path / "events.jsonl", [event("e1", "nope")])
    rejects = tmp_path / "out" / "rejects.csv"
    rejects.parent.mkdir()

    result = run(tmp_path, "ingest", path, "--rejects", rejects)

    assert result.exit_code == 1, result.output
    assert rejects.read_text().splitlines()[0] == "line,event_id,field,reason"
    assert not (tmp_path / "events.jsonl.rejects.csv").exists()


def test_ingest_of_a_csv_file_types_property_columns(tmp_path):
    ok(tmp_path, "init")
    path = tmp_path / "events.csv"
    path.write_text(
        "id,type,member,company,occurred_at,properties.duration_seconds,properties.qualified\n"
        "c1,video.watched,bob,acme,2026-05-04T14:00:00Z,320,\n"
        "c2,video.watched,bob,acme,2026-05-04T15:00:00Z,120,\n"
        "c3,lead.registered,bob,acme,2026-05-04T16:00:00Z,,TRUE\n"
    )

    result = ok(tmp_path, "ingest", path)

    # 320 >= 300 only if typed as a number; TRUE matches `eq: true` only if typed as a boolean
    assert summary(result) == {
        "accepted": 3,
        "duplicate": 0,
        "limited": 0,
        "rejected": 0,
        "points": 510,
    }
    shown = ok(tmp_path, "member", "show", "bob")
    assert "bob  acme" in shown.stdout
    assert "balance 510 · lifetime 510 · tier Bronze" in shown.stdout


def test_ingest_of_a_csv_file_with_a_json_properties_column(tmp_path):
    ok(tmp_path, "init")
    path = tmp_path / "export.txt"
    path.write_text(
        "id,type,member,occurred_at,properties\n"
        'c1,deal.won,bob,2026-05-04T14:00:00Z,"{""amount_usd"": 12345}"\n'
    )

    result = ok(tmp_path, "ingest", path, "--format", "csv")

    assert summary(result)["points"] == 123


def test_csv_rejects_are_numbered_by_file_line(tmp_path):
    ok(tmp_path, "init")
    path = tmp_path / "events.csv"
    path.write_text(
        "id,type,member,occurred_at,colour\n"
        "c1,video.watched,bob,2026-05-04T14:00:00Z,\n"
        "c2,video.watched,bob,2026-05-04T15:00:00Z,red\n"
    )

    result = run(tmp_path, "ingest", path)

    assert result.exit_code == 1, result.output
    rows = list(csv.reader((tmp_path / "events.csv.rejects.csv").open(newline="")))
    assert [r[:3] for r in rows[1:]] == [["3", "", "colour"]]


def test_replay_after_csv_ingest_with_an_infinite_number_keeps_the_points(tmp_path):
    # "inf" in a numeric CSV column becomes float('inf'): it is evaluated as a number at ingest
    # (320 >= 300 style conditions pass), but stored as JSON null, so replay earns less.
    ok(tmp_path, "init")
    path = tmp_path / "events.csv"
    path.write_text(
        "id,type,member,occurred_at,properties.duration_seconds\n"
        "c1,video.watched,bob,2026-05-04T14:00:00Z,400\n"
        "c2,video.watched,bob,2026-05-04T15:00:00Z,inf\n"
    )
    ok(tmp_path, "ingest", path)
    before = ok(tmp_path, "member", "show", "bob").stdout.splitlines()[1]

    ok(tmp_path, "replay")

    after = ok(tmp_path, "member", "show", "bob").stdout.splitlines()[1]
    assert after == before


def test_ingest_with_rejects_in_a_missing_folder_fails_cleanly(tmp_path):
    ok(tmp_path, "init")
    path = write_jsonl(tmp_path / "events.jsonl", [event("e1", "nope")])

    result = run(tmp_path, "ingest", path, "--rejects", tmp_path / "missing" / "rejects.csv")

    assert result.exit_code == 2, result.output
    assert error_lines(result)[0].startswith("error: rejects"), result.output


def test_ingest_of_hostile_lines_rejects_each_stores_the_rest_and_exits_1(tmp_path):
    ok(tmp_path, "init")
    path = tmp_path / "events.jsonl"
    lines = [
        event("e1", "quiz.passed", quiz="q1"),
        {**event("e2", "quiz.passed", quiz="q2"), "occurred_at": "0001-01-01T00:00:00+05:00"},
        event("e3", "quiz.passed", quiz="q3", score=int("9" * 400)),
        {**event("e4", "quiz.passed", quiz="q4"), "id": "e4\x00"},
        {**event("e5", "quiz.passed", quiz="q5"), "member": "\ud800"},
        event("e6", "quiz.passed", member="bob", quiz="q6"),
    ]
    with path.open("wb") as out:
        for line in lines:
            out.write(json.dumps(line).encode() + b"\n")
        out.write(b'{"id": "e7", "x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}\n")
        out.write(b'{"id": "e8", "member": "\xff"}\n')

    result = run(tmp_path, "ingest", path)

    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert summary(result)["accepted"] == 2 and summary(result)["rejected"] == 6
    with (tmp_path / "events.jsonl.rejects.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["line"], r["event_id"], r["field"]) for r in rows] == [
        ("2", "e2", "occurred_at"),
        ("3", "e3", "properties.score"),
        ("4", "", "id"),
        ("5", "e5", "member"),
        ("7", "", "line"),
        ("8", "", "line"),
    ]
