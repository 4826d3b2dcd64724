"""`accolade crm sync`: a lead's assessment reaches a local HubSpot-compatible server."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.builders import run
from tests.integration.test_hubspot import EXAMPLE, MAPPING, TOKEN, hubspot, lead_events

__all__ = ["hubspot"]  # the local HubSpot server fixture


def test_crm_sync_upserts_the_assessed_lead_and_says_so(tmp_path: Path, hubspot) -> None:
    source = tmp_path / "readiness.yaml"
    source.write_text(EXAMPLE + MAPPING, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text(
        "".join(json.dumps(e) + "\n" for e in lead_events("lead-7", "seven@example.com"))
    )
    for args in (("program", "publish", source), ("ingest", events, "-p", "readiness")):
        result = run(tmp_path, *args)
        assert result.exit_code == 0, result.output
    env = {"ACCOLADE_HUBSPOT_BASE_URL": hubspot.url, "ACCOLADE_HUBSPOT_ACCESS_TOKEN": TOKEN}
    result = run(tmp_path, "crm", "sync", env=env)
    assert result.exit_code == 0, result.output
    assert "hubspot: 1 delivered, 0 to retry, 0 dead" in result.output
    assert hubspot.contacts["seven@example.com"]["accolade_segment"]
    assert TOKEN not in result.output


def test_crm_sync_without_a_token_names_the_setting(tmp_path: Path) -> None:
    result = run(tmp_path, "crm", "sync")
    assert result.exit_code == 2, result.output
    assert "ACCOLADE_HUBSPOT_ACCESS_TOKEN" in result.output
