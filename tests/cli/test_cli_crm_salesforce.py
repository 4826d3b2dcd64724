"""`accolade crm sync` with Salesforce's credentials: a lead's assessment reaches a local
Salesforce-compatible server, and the secret is not printed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.builders import run
from tests.integration.test_hubspot import EXAMPLE
from tests.integration.test_salesforce import CLIENT_ID, CLIENT_SECRET, MAPPING, lead, org

__all__ = ["org"]  # the local Salesforce server fixture


def test_crm_sync_upserts_the_assessed_lead_into_salesforce(tmp_path: Path, org) -> None:
    source = tmp_path / "readiness.yaml"
    source.write_text(EXAMPLE + MAPPING, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in lead("lead-7", "seven@example.com")))
    for args in (("program", "publish", source), ("ingest", events, "-p", "readiness")):
        result = run(tmp_path, *args)
        assert result.exit_code == 0, result.output
    env = {
        "ACCOLADE_SALESFORCE_LOGIN_URL": org.url,
        "ACCOLADE_SALESFORCE_CLIENT_ID": CLIENT_ID,
        "ACCOLADE_SALESFORCE_CLIENT_SECRET": CLIENT_SECRET,
    }
    result = run(tmp_path, "crm", "sync", env=env)
    assert result.exit_code == 0, result.output
    assert "salesforce: 1 delivered, 0 to retry, 0 dead" in result.output
    assert "hubspot" not in result.output
    assert org.leads["seven@example.com"]["LastName"] == "Lead-7"
    assert CLIENT_SECRET not in result.output
