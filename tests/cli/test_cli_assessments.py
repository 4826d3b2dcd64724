"""`accolade assessments show`, and `accolade program validate`'s data value warnings."""

from __future__ import annotations

import json
from pathlib import Path

from tests.assessment_program import ASSESSMENT_PROGRAM, HOT_ANSWERS, assessment_events
from tests.cli.builders import error_lines, ok, run, summary, write_jsonl


def published(tmp_path: Path) -> None:
    source = tmp_path / "diag.yaml"
    source.write_text(ASSESSMENT_PROGRAM, encoding="utf-8")
    ok(tmp_path, "program", "publish", source)
    events = write_jsonl(tmp_path / "events.jsonl", assessment_events("ann", HOT_ANSWERS))
    ok(tmp_path, "ingest", events, "-p", "diag")


def test_show_prints_the_scores_segment_answers_fields_and_note(tmp_path):
    published(tmp_path)
    text = ok(tmp_path, "assessments", "show", "readiness", "ann").stdout
    assert "total 21 (maturity 7, urgency 5, fit 9) · level ready · segment hot" in text
    assert "nurture path sales_fast_track · next migration-checklist" in text
    assert "CRM data_sources: crm;erp" in text
    assert "sales note: ann scored 21 (Ready): needs it This quarter, loads CRM, ERP." in text


def test_show_json_is_the_result_with_each_answers_scores(tmp_path):
    published(tmp_path)
    body = json.loads(ok(tmp_path, "assessments", "show", "readiness", "ann", "--json").stdout)
    assert (body["lead"], body["segment"], body["total"]) == ("ann", "hot", 21)
    assert body["answers"][4] == {
        "question": "timeline",
        "answer": "quarter",
        "scores": {"urgency": 5},
    }


def test_show_of_a_lead_who_did_not_complete_names_the_lead(tmp_path):
    published(tmp_path)
    result = run(tmp_path, "assessments", "show", "readiness", "bo")
    assert result.exit_code == 2, result.output
    assert error_lines(result) == [
        "error: lead: lead 'bo' has not completed assessment 'readiness'"
    ]


def test_find_lists_the_leads_known_by_an_email(tmp_path):
    published(tmp_path)
    events = assessment_events("bo", HOT_ANSWERS)
    events[0]["attributes"] = {"email": "bo@example.com"}
    ok(tmp_path, "ingest", write_jsonl(tmp_path / "bo.jsonl", events), "-p", "diag")
    text = ok(tmp_path, "assessments", "find", "readiness", "Bo@Example.com").stdout
    assert "bo" in text and "hot" in text and "ann" not in text
    body = json.loads(ok(tmp_path, "assessments", "find", "readiness", "x@y.io", "--json").stdout)
    assert body == []
    result = run(tmp_path, "assessments", "find", "readiness", "nope")
    assert result.exit_code == 2, result.output
    assert error_lines(result) == ["error: email: 'nope' is not an email address"]


def test_validate_warns_of_a_question_that_feeds_nothing_and_stays_valid(tmp_path):
    source = tmp_path / "diag.yaml"
    source.write_text(
        ASSESSMENT_PROGRAM.replace(
            "    levels:\n",
            "      - key: colour\n        kind: scale\n        text: Favourite number?\n"
            "        min: 1\n        max: 3\n        required: false\n    levels:\n",
        ),
        encoding="utf-8",
    )
    result = ok(tmp_path, "program", "validate", source)
    assert "valid: diag" in result.stdout
    assert (
        "warning: assessments[0].questions[5]: question 'colour' feeds no score, segment, CRM "
        "field or sales note" in result.stdout
    )


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_example_diagnostic_validates_without_warnings_and_places_leads_in_each_segment(
    tmp_path,
):
    program = EXAMPLES / "readiness-assessment.yaml"
    checked = ok(tmp_path, "program", "validate", program)
    assert "warning" not in checked.stdout
    ok(tmp_path, "program", "publish", program)
    ingested = ok(tmp_path, "ingest", EXAMPLES / "readiness-events.jsonl", "-p", "readiness")
    assert summary(ingested)["rejected"] == 0
    events = [json.loads(line) for line in (EXAMPLES / "readiness-events.jsonl").open()]
    leads = sorted({e["member"] for e in events if e["type"] == "assessment.completed"})
    segments = {
        json.loads(
            ok(
                tmp_path, "assessments", "show", "data_readiness", lead, "-p", "readiness", "--json"
            ).stdout
        )["segment"]
        for lead in leads
    }
    assert segments == {"fast_track", "modernise", "foundations", "educate"}


def test_report_prints_completion_where_leads_stop_and_segments(tmp_path):
    published(tmp_path)
    stopped = assessment_events("bo", {"warehouse_in_place": "none"}, complete=False)
    ok(tmp_path, "ingest", write_jsonl(tmp_path / "more.jsonl", stopped), "-p", "diag")
    text = ok(tmp_path, "assessments", "report", "readiness").stdout
    assert "Data readiness: 2 started, 1 completed (50.0%), 0 stopped before answering" in text
    assert "qualified 0 (0.0%) · segment usefulness - · sales notes viewed 0 (0.0%)" in text
    body = json.loads(ok(tmp_path, "assessments", "report", "readiness", "--json").stdout)
    assert body["drop_off"][0] == {
        "question": "warehouse_in_place",
        "answered": 2,
        "stopped_after": 1,
    }
    assert [s["leads"] for s in body["segments"]] == [1, 0, 0]
