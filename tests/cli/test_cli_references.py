"""`accolade references match|request|ask|answer|show`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli.builders import error_lines, ok, run, table_rows, write_jsonl
from tests.integration.test_references import PROGRAM


def pool(tmp_path: Path) -> None:
    source = tmp_path / "refs.yaml"
    source.write_text(PROGRAM)
    ok(tmp_path, "program", "publish", source)
    at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    sent = [
        {
            "id": f"l-{m}",
            "type": "login",
            "member": m,
            "occurred_at": at,
            "attributes": {"industry": industry, "region": "EMEA", "name": m.title()},
        }
        for m, industry in (("ana", "fintech"), ("ben", "fintech"), ("cy", "health"))
    ]
    ok(tmp_path, "ingest", write_jsonl(tmp_path / "events.jsonl", sent))


def test_request_ask_answer_and_show(tmp_path):
    pool(tmp_path)
    found = ok(tmp_path, "references", "match", "-c", "industry=fintech", "-c", "region=EMEA,NA")
    assert sorted(r[1] for r in table_rows(found)) == ["Ana (ana)", "Ben (ben)"]
    made = ok(
        tmp_path, "references", "request", "-c", "industry=health", "--id", "opp-1", "--by", "sam"
    )
    assert "opp-1" in made.stdout and [r[1] for r in table_rows(made)] == ["Cy (cy)"]
    ok(tmp_path, "references", "ask", "opp-1", "cy")
    done = ok(tmp_path, "references", "answer", "opp-1", "cy", "complete")
    assert "cy: completed" in done.stdout
    shown = ok(tmp_path, "references", "show", "opp-1")
    assert "opp-1 by sam" in shown.stdout and table_rows(shown)[0][:2] == ["cy", "completed"]
    refused = run(tmp_path, "references", "ask", "opp-1", "nobody")
    assert error_lines(refused) == ["error: members: no member 'nobody' in program 'refs'"]
    bad = run(tmp_path, "references", "match", "-c", "industry")
    assert error_lines(bad) == ["error: criteria: 'industry' is not name=value"]
