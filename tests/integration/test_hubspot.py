"""The HubSpot connector against a local HubSpot-compatible server, on SQLite and PostgreSQL:
a lead's `lead.assessed` values reach the contact, only changed properties are sent again,
429 waits for Retry-After, an expired token is read again, a refused contact goes dead with
HubSpot's reason, and the token shows up in no log and no stored error."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from accolade.engine.assessments import ASSESSMENT_ANSWERED
from accolade.integrations.hubspot import UPSERT_PATH, client_from, sync_hubspot
from accolade.service import assessment_progress as taking
from accolade.service.ingest import ingest_batch
from accolade.service.programs import publish
from accolade.settings import Settings
from accolade.store.tables import webhook_deliveries, webhook_subscriptions
from tests.integration import loopback
from tests.integration.builders import MovingClock

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "examples" / "readiness-assessment.yaml").read_text(encoding="utf-8")
EVENTS = [
    json.loads(line)
    for line in (ROOT / "examples" / "readiness-events.jsonl").read_text().splitlines()
    if line.strip()
]
MAPPING = """
integrations:
  hubspot:
    lead_properties:
      segment: accolade_segment
      nurture_path: accolade_nurture_path
      sales_note: accolade_sales_note
      level: accolade_readiness_level
      total: accolade_readiness_total
      scores.urgency: accolade_urgency
"""
TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
NEW_TOKEN = "pat-na1-99999999-8888-7777-6666-555555555555"


# a local HubSpot --------------------------------------------------------------------------


@dataclass
class HubSpot:
    """Answers `POST /crm/v3/objects/contacts/batch/upsert` as HubSpot does: Bearer token,
    inputs keyed by email, 400 for an invalid email; ``answers`` are scripted answers
    (status, headers) given first, one per request."""

    url: str = ""
    token: str = TOKEN
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    contacts: dict[str, dict[str, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, auth: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests.append({"path": path, "authorization": auth, "body": body})
            if path != UPSERT_PATH:
                return 404, {"status": "error", "message": "not found"}
            if auth != f"Bearer {self.token}":
                return 401, {
                    "status": "error",
                    "message": "Authentication credentials not found.",
                    "category": "INVALID_AUTHENTICATION",
                }
            if self.answers:
                status, _ = self.answers[0]
                return status, {"status": "error", "message": "scripted", "category": "RATE_LIMITS"}
            inputs = body["inputs"]
            for item in inputs:
                assert item["idProperty"] == "email"
                assert all(isinstance(v, str) for v in item["properties"].values())
                if item["id"].endswith(".invalid"):
                    return 400, {
                        "status": "error",
                        "message": f"Property values were not valid: email {item['id']}",
                        "category": "VALIDATION_ERROR",
                    }
            for item in inputs:
                self.contacts.setdefault(item["id"], {}).update(item["properties"])
            results = [
                {"id": str(i), "properties": item["properties"]} for i, item in enumerate(inputs)
            ]
            return 200, {"status": "COMPLETE", "results": results}

    def sent(self) -> list[dict[str, Any]]:
        """The accepted upserts' inputs."""
        return [r["body"]["inputs"] for r in self.requests if r.get("status") == 200]


@pytest.fixture
def hubspot() -> Iterator[HubSpot]:
    server_state = HubSpot()

    class Handler(loopback.Handler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            status, answer = server_state.answer(
                self.path, self.headers.get("authorization", ""), body
            )
            headers: dict[str, str] = {}
            with server_state.lock:
                server_state.requests[-1]["status"] = status
                if server_state.answers and status not in (401, 404):
                    headers = server_state.answers.pop(0)[1]
            data = json.dumps(answer).encode()
            self.reply(status, data, headers=headers)

    with loopback.serving(Handler) as url:
        server_state.url = url
        yield server_state


# builders -----------------------------------------------------------------------------------


Clock = MovingClock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "hubspot-token"
    path.write_text(TOKEN + "\n")
    return path


def settings_for(hubspot: HubSpot, token_file: Path) -> Settings:
    return Settings(
        hubspot_base_url=hubspot.url,
        hubspot_access_token_file=str(token_file),
        webhook_backoff_seconds=30.0,
        webhook_max_attempts=3,
        hubspot_timeout_seconds=5.0,
    )


def lead_events(lead: str, email: str | None, *, suffix: str = "") -> list[dict[str, Any]]:
    """The example's events for one lead under ``lead``, the first carrying their email."""
    events = [dict(e) for e in EVENTS if e["member"] == "lead-0048"]
    out = []
    for i, event in enumerate(events):
        event = {**event, "member": lead, "id": event["id"].replace("lead-0048", lead) + suffix}
        if i == 0 and email is not None:
            event["attributes"] = {"email": email}
        out.append(event)
    return out


def ingest(store, events: list[dict[str, Any]], clock: Clock) -> None:
    ingest_batch(store, "readiness", list(enumerate(events, start=1)), clock=clock)


def sync(store, hubspot: HubSpot, token_file: Path, clock: Clock):
    settings = settings_for(hubspot, token_file)
    with client_from(settings) as client:
        return sync_hubspot(store, settings, client, clock=clock)


def deliveries(store) -> list[Any]:
    with store.engine.connect() as conn:
        return list(
            conn.execute(
                select(webhook_deliveries)
                .join(
                    webhook_subscriptions,
                    webhook_subscriptions.c.id == webhook_deliveries.c.subscription_id,
                )
                .where(webhook_subscriptions.c.kind == "hubspot")
                .order_by(webhook_deliveries.c.id)
            )
        )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(map(str, value))
    return str(value)


@pytest.fixture
def program(store, clock):
    publish(store, EXAMPLE + MAPPING, clock=clock)
    return store


# tests --------------------------------------------------------------------------------------


def test_assessed_lead_reaches_the_hubspot_contact_with_its_lead_assessed_values(
    program, hubspot, token_file, clock
):
    store = program
    ingest(store, lead_events("lead-0048", "Ana@Example.com"), clock)
    report = sync(store, hubspot, token_file, clock)
    assert (report.delivered, report.failed, report.dead) == (1, 0, 0)
    [message] = [json.loads(r.payload) for r in _outbox(store) if r.type == "lead.assessed"]
    data = message["data"]
    contact = hubspot.contacts["ana@example.com"]
    assert contact["accolade_segment"] == data["segment"]
    assert contact["accolade_nurture_path"] == data["nurture_path"]
    assert contact["accolade_sales_note"] == data["sales_note"]
    assert contact["accolade_readiness_level"] == data["level"]
    assert contact["accolade_readiness_total"] == str(data["total"])
    assert contact["accolade_urgency"] == str(data["scores"]["urgency"])
    for name, value in data["fields"].items():
        assert contact[name] == _text(value), name
    assert data["sales_note"]  # the example's segments all have a note
    assert [d.status for d in deliveries(store)] == ["delivered"]


def test_a_lead_of_the_hosted_page_reaches_hubspot_by_the_email_given_at_start(
    program, hubspot, token_file, clock
):
    """The page's path (service/assessment_progress): the email typed at the start is the
    lead's attribute, so the contact is upserted by it."""
    store = program
    answered = [
        e["properties"] for e in lead_events("lead-0048", None) if e["type"] == ASSESSMENT_ANSWERED
    ]
    taking.start(store, "readiness", "data_readiness", "lead_page", " Bo@Example.com ", clock=clock)
    now = taking.progress(store, "readiness", "data_readiness", "lead_page")
    while not now.completed:
        section = now.sections[now.current]
        form = {
            a["question"]: [str(v) for v in a["answer"]]
            if isinstance(a["answer"], list)
            else [str(a["answer"])]
            for a in answered
            if a["question"] in {q.key for q in section.questions}
        }
        now = taking.answer_section(
            store, "readiness", "data_readiness", "lead_page", section.key, form, "a1", clock=clock
        )
    report = sync(store, hubspot, token_file, clock)
    assert (report.delivered, report.dead) == (1, 0)
    [message] = [json.loads(r.payload) for r in _outbox(store) if r.type == "lead.assessed"]
    contact = hubspot.contacts["bo@example.com"]
    assert contact["accolade_segment"] == message["data"]["segment"]
    assert contact["accolade_sales_note"] == message["data"]["sales_note"]


def test_only_changed_properties_are_sent_again(program, hubspot, token_file, clock):
    store = program
    ingest(store, lead_events("lead-0048", "ana@example.com"), clock)
    sync(store, hubspot, token_file, clock)
    [first] = [r for r in _outbox(store) if r.type == "lead.assessed"]
    message = json.loads(first.payload)
    changed = {**message, "data": {**message["data"], "segment": "nurture", "level": "x"}}
    with store.transaction() as uow:
        program_id = first.program_id
        uow.outbox.append(program_id, [("lead.assessed", json.dumps(changed))], clock())
        uow.outbox.append(program_id, [("lead.assessed", json.dumps(changed))], clock())
    report = sync(store, hubspot, token_file, clock)
    assert report.delivered == 2
    sent = [inputs[0]["properties"] for inputs in hubspot.sent()]
    assert len(sent[0]) > 5
    assert sent[1:] == [{"accolade_segment": "nurture", "accolade_readiness_level": "x"}]
    assert hubspot.contacts["ana@example.com"]["accolade_segment"] == "nurture"


def test_a_batch_of_leads_is_one_request(program, hubspot, token_file, clock):
    store = program
    for n in range(3):
        ingest(store, lead_events(f"lead-{n}", f"lead{n}@example.com"), clock)
    report = sync(store, hubspot, token_file, clock)
    assert report.delivered == 3
    assert len(hubspot.sent()) == 1
    assert sorted(i["id"] for i in hubspot.sent()[0]) == [
        "lead0@example.com",
        "lead1@example.com",
        "lead2@example.com",
    ]


def test_429_waits_for_retry_after_then_delivers(program, hubspot, token_file, clock):
    store = program
    ingest(store, lead_events("lead-0048", "ana@example.com"), clock)
    hubspot.answers.append((429, {"Retry-After": "120"}))
    report = sync(store, hubspot, token_file, clock)
    assert (report.delivered, report.failed) == (0, 1)
    [delivery] = deliveries(store)
    assert delivery.status == "pending"
    assert delivery.last_status == 429
    assert delivery.next_attempt_at == clock.now + timedelta(seconds=120)
    clock.advance(seconds=119)
    assert sync(store, hubspot, token_file, clock).delivered == 0
    clock.advance(seconds=1)
    assert sync(store, hubspot, token_file, clock).delivered == 1
    assert "ana@example.com" in hubspot.contacts


def test_expired_token_is_read_again_and_the_upsert_retried(program, hubspot, token_file, clock):
    store = program
    settings = settings_for(hubspot, token_file)
    with client_from(settings) as client:
        ingest(store, lead_events("lead-1", "one@example.com"), clock)
        assert sync_hubspot(store, settings, client, clock=clock).delivered == 1
        # The token expires; whatever refreshes it writes the new one to the file.
        hubspot.token = NEW_TOKEN
        token_file.write_text(NEW_TOKEN)
        ingest(store, lead_events("lead-2", "two@example.com"), clock)
        report = sync_hubspot(store, settings, client, clock=clock)
    assert (report.delivered, report.failed, report.dead) == (1, 0, 0)
    assert [r["status"] for r in hubspot.requests] == [200, 401, 200]
    assert "two@example.com" in hubspot.contacts


def test_a_token_still_refused_is_retried_later(program, hubspot, token_file, clock):
    store = program
    hubspot.token = NEW_TOKEN  # the file keeps the old one
    ingest(store, lead_events("lead-1", "one@example.com"), clock)
    report = sync(store, hubspot, token_file, clock)
    assert (report.delivered, report.failed, report.dead) == (0, 1, 0)
    [delivery] = deliveries(store)
    assert (delivery.status, delivery.last_status) == ("pending", 401)
    assert delivery.next_attempt_at == clock.now + timedelta(seconds=30)


def test_a_refused_contact_goes_dead_with_hubspots_reason_and_the_others_arrive(
    program, hubspot, token_file, clock
):
    store = program
    ingest(store, lead_events("lead-1", "good@example.com"), clock)
    ingest(store, lead_events("lead-2", "bad@example.invalid"), clock)
    report = sync(store, hubspot, token_file, clock)
    assert (report.delivered, report.dead) == (1, 1)
    by_status = {d.status: d for d in deliveries(store)}
    assert by_status["dead"].last_status == 400
    assert "Property values were not valid: email bad@example.invalid" in (
        by_status["dead"].last_error
    )
    assert set(hubspot.contacts) == {"good@example.com"}


def test_a_lead_without_email_goes_dead_saying_so(program, hubspot, token_file, clock):
    store = program
    ingest(store, lead_events("lead-1", None), clock)
    report = sync(store, hubspot, token_file, clock)
    assert report.dead == 1
    [delivery] = deliveries(store)
    assert "lead 'lead-1' has no email" in delivery.last_error
    assert hubspot.requests == []


def test_server_errors_back_off_until_dead(program, hubspot, token_file, clock):
    store = program
    ingest(store, lead_events("lead-1", "one@example.com"), clock)
    hubspot.answers.extend([(503, {})] * 3)
    for wait in (30, 60):
        assert sync(store, hubspot, token_file, clock).failed == 1
        clock.advance(seconds=wait)
    assert sync(store, hubspot, token_file, clock).dead == 1
    [delivery] = deliveries(store)
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("dead", 3, 503)


def test_the_token_is_in_no_log_and_no_stored_error(program, hubspot, token_file, clock, caplog):
    store = program
    caplog.set_level(logging.DEBUG)
    hubspot.token = NEW_TOKEN
    ingest(store, lead_events("lead-1", "one@example.com"), clock)
    ingest(store, lead_events("lead-2", "two@example.invalid"), clock)
    sync(store, hubspot, token_file, clock)
    token_file.write_text(NEW_TOKEN)
    hubspot.answers.append((429, {"Retry-After": "1"}))
    clock.advance(hours=1)
    sync(store, hubspot, token_file, clock)
    clock.advance(hours=1)
    sync(store, hubspot, token_file, clock)
    stored = " ".join(str(tuple(d)) for d in deliveries(store))
    with store.engine.connect() as conn:
        subscriptions = " ".join(str(tuple(r)) for r in conn.execute(select(webhook_subscriptions)))
    for token in (TOKEN, NEW_TOKEN):
        assert token not in caplog.text
        assert token not in stored
        assert token not in subscriptions


def test_removing_the_section_gives_up_pending_deliveries(program, hubspot, token_file, clock):
    store = program
    ingest(store, lead_events("lead-1", "one@example.com"), clock)
    publish(store, EXAMPLE, clock=clock)
    sync(store, hubspot, token_file, clock)
    assert all(d.status == "dead" for d in deliveries(store))
    assert hubspot.requests == []


def _outbox(store):
    from accolade.store.tables import outbox

    with store.engine.connect() as conn:
        return list(conn.execute(select(outbox).order_by(outbox.c.id)))
