"""`accolade demo` end to end, and `accolade generate-events`."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from accolade.api.app import create_app
from accolade.settings import Settings
from tests.cli.builders import ROOT, ok, run, summary, table_rows, write_generated
from tests.console.builders import csrf_of


def test_demo_publishes_ingests_and_lists_members(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the demo reads examples/ from the working directory

    result = ok(tmp_path, "demo", "--no-serve", "--top", "5")

    assert "program partner version 1 on sqlite:///" in result.stdout
    assert "ingested partner-events.jsonl" in result.stdout
    counts = summary(result)
    assert counts["accepted"] + counts["limited"] == 2000
    assert (counts["duplicate"], counts["rejected"]) == (0, 0)
    assert "top 5 of 60 members" in result.stdout
    members = [row for row in table_rows(result) if row[0].startswith("partner-")]
    assert len(members) == 5
    lifetimes = [int(row[2].replace(",", "")) for row in members]
    assert lifetimes == sorted(lifetimes, reverse=True)
    assert "next: accolade member show partner-00000" in result.stdout
    assert "tier" in ok(tmp_path, "member", "show", "partner-00000").stdout


def test_demo_prints_a_console_admin_who_can_sign_in(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    events = write_generated(tmp_path / "few.jsonl", events=10, members=2)

    printed = ok(tmp_path, "demo", "--no-serve", "--events", events).stdout

    found = re.search(
        r"admin console: (http://\S+)/console/signin as (\S+) with password (\S+) \(shown once\)",
        printed,
    )
    assert found, printed
    url, email, password = found.groups()
    assert url == "http://127.0.0.1:8000"
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/a.db"), deliver_webhooks=False)
    with TestClient(app) as client:
        form = client.get("/console/signin")
        signed = client.post(
            "/console/signin",
            data={"email": email, "password": password, "csrf": csrf_of(form.text)},
            follow_redirects=False,
        )
        assert signed.status_code == 303, signed.text
        assert "admin@demo.accolade.test" in client.get("/console/").text
    again = ok(tmp_path, "demo", "--no-serve", "--events", events).stdout
    assert "password was printed by the first `accolade demo`" in again


def test_demo_with_its_own_events(tmp_path):
    events = write_generated(tmp_path / "few.jsonl", events=30, members=4)

    result = ok(tmp_path, "demo", "--no-serve", "--events", events)

    assert "ingested few.jsonl" in result.stdout
    assert summary(result)["accepted"] + summary(result)["limited"] == 30
    assert "top 4 of 4 members" in result.stdout


def test_demo_twice_reports_duplicates(tmp_path):
    events = write_generated(tmp_path / "few.jsonl", events=30, members=4)
    ok(tmp_path, "demo", "--no-serve", "--events", events)

    result = ok(tmp_path, "demo", "--no-serve", "--events", events)

    assert summary(result)["duplicate"] == 30


def test_generate_events_writes_the_file(tmp_path):
    output = tmp_path / "events.jsonl"

    result = ok(tmp_path, "generate-events", output, "--events", "25", "--members", "3")

    assert "wrote 25 events over 3 members to" in result.stdout
    assert len(output.read_text().splitlines()) == 25


def test_generate_events_same_seed_same_file(tmp_path):
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"

    ok(tmp_path, "generate-events", a, "--events", "20", "--seed", "3")
    ok(tmp_path, "generate-events", b, "--events", "20", "--seed", "3")
    ok(tmp_path, "generate-events", c, "--events", "20", "--seed", "4")

    assert a.read_bytes() == b.read_bytes() != c.read_bytes()


def test_generated_events_ingest_without_rejects(tmp_path):
    output = tmp_path / "events.jsonl"
    ok(tmp_path, "generate-events", output, "--events", "40", "--members", "6", "--seed", "11")
    ok(tmp_path, "init")

    counts = summary(ok(tmp_path, "ingest", output))

    assert counts["rejected"] == 0


def test_generate_events_needs_at_least_one_event(tmp_path):
    result = run(tmp_path, "generate-events", tmp_path / "x.jsonl", "--events", "0")

    assert result.exit_code == 2, result.output
    assert not (tmp_path / "x.jsonl").exists()
