"""The Salesforce connector against a local Salesforce-compatible server, on SQLite and
PostgreSQL: a lead's `lead.assessed` values reach the Lead upserted by its external id (sObject
Collections, one request per batch), only changed fields are sent again, an expired session
gets a new client-credentials token, a record Salesforce refuses goes dead with its message
while the others arrive, a Salesforce away for ten minutes loses nothing, and no secret shows
up in a log or a stored error."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from accolade.integrations.salesforce import SalesforceClient, sync_salesforce
from accolade.service.members import update
from accolade.service.programs import publish
from accolade.service.webhooks import list_deliveries
from accolade.settings import Settings
from accolade.store.tables import webhook_deliveries, webhook_subscriptions
from tests.integration import loopback
from tests.integration.test_hubspot import EXAMPLE, Clock, ingest, lead_events

MAPPING = """
integrations:
  salesforce:
    object: Lead
    external_id_field: Accolade_Email__c
    lead_fields:
      segment: Accolade_Segment__c
      level: Accolade_Readiness__c
      total: Accolade_Score__c
      sales_note: Description
    attribute_fields:
      last_name: LastName
      company: Company
"""
CLIENT_ID = "3MVG9-accolade-test"
CLIENT_SECRET = "client-secret-1234567890abcdef"
PATH = "/services/data/v60.0/composite/sobjects/Lead/Accolade_Email__c"
KNOWN_FIELDS = {
    "Accolade_Email__c",
    "Accolade_Segment__c",
    "Accolade_Readiness__c",
    "Accolade_Score__c",
    "Description",
    "LastName",
    "Company",
}


@dataclass
class Org:
    """Answers as Salesforce does: `POST /services/oauth2/token` (client credentials) gives a
    fresh session token; the sObject Collections upsert needs the current one (401
    INVALID_SESSION_ID otherwise), refuses an unknown field for the whole request (400
    INVALID_FIELD), and refuses per record a new Lead without LastName or Company.
    ``answers`` are scripted (status, body) upsert answers, given first."""

    url: str = ""
    tokens: int = 0
    answers: list[tuple[int, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    leads: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def token(self) -> str:
        return f"00D000000000001!session{self.tokens}"

    def answer(self, method: str, path: str, auth: str, raw: bytes) -> tuple[int, Any]:
        with self.lock:
            if method == "POST" and path == "/services/oauth2/token":
                form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                self.requests.append({"path": path, "form": form})
                ok = form.get("client_id") == CLIENT_ID
                if form.get("grant_type") != "client_credentials" or not ok:
                    return 400, {"error": "invalid_client", "error_description": "invalid client"}
                if form.get("client_secret") != CLIENT_SECRET:
                    return 400, {"error": "invalid_client", "error_description": "bad secret"}
                self.tokens += 1
                return 200, {
                    "access_token": self.token,
                    "instance_url": self.url,
                    "token_type": "Bearer",
                }
            body = json.loads(raw)
            self.requests.append({"path": path, "body": body})
            if method != "PATCH" or path != PATH:
                return 404, [{"errorCode": "NOT_FOUND", "message": "not found"}]
            if auth != f"Bearer {self.token}":
                return 401, [
                    {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
                ]
            if self.answers:
                return self.answers.pop(0)
            assert body["allOrNone"] is False
            for record in body["records"]:
                assert record["attributes"] == {"type": "Lead"}
                for name in record:
                    if name != "attributes" and name not in KNOWN_FIELDS:
                        return 400, [
                            {
                                "message": f"No such column '{name}' on sobject of type Lead",
                                "errorCode": "INVALID_FIELD",
                            }
                        ]
            results = []
            for record in body["records"]:
                key = record["Accolade_Email__c"]
                fields = {k: v for k, v in record.items() if k != "attributes"}
                existing = self.leads.get(key)
                missing = [
                    f for f in ("LastName", "Company") if existing is None and not fields.get(f)
                ]
                if missing:
                    results.append(
                        {
                            "success": False,
                            "errors": [
                                {
                                    "statusCode": "REQUIRED_FIELD_MISSING",
                                    "message": f"Required fields are missing: {missing}",
                                    "fields": missing,
                                }
                            ],
                        }
                    )
                    continue
                self.leads.setdefault(key, {}).update(fields)
                results.append(
                    {
                        "id": "00Q" + str(len(self.leads)),
                        "success": True,
                        "errors": [],
                        "created": existing is None,
                    }
                )
            return 200, results

    def upserts(self) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests if r["path"] == PATH and r.get("status") == 200]


@pytest.fixture
def org() -> Iterator[Org]:
    state = Org()

    class Handler(loopback.Handler):
        def _answer(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            status, answer = state.answer(
                self.command, self.path, self.headers.get("authorization", ""), raw
            )
            with state.lock:
                state.requests[-1]["status"] = status
            data = json.dumps(answer).encode()
            self.reply(status, data)

        do_POST = _answer
        do_PATCH = _answer

    with loopback.serving(Handler) as url:
        state.url = url
        yield state


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def program(store, clock):
    publish(store, EXAMPLE + MAPPING, clock=clock)
    return store


def settings_for(org: Org, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "salesforce_login_url": org.url,
        "salesforce_client_id": CLIENT_ID,
        "salesforce_client_secret": SecretStr(CLIENT_SECRET),
        "webhook_backoff_seconds": 30.0,
        "webhook_max_attempts": 3,
        "salesforce_timeout_seconds": 5.0,
    }
    return Settings(**(values | overrides))


def lead(name: str, email: str | None, *, company: str | None = "Acme") -> list[dict[str, Any]]:
    events = lead_events(name, email)
    attributes = dict(events[0].get("attributes") or {})
    attributes["last_name"] = name.title()
    if company is not None:
        attributes["company"] = company
    events[0] = {**events[0], "attributes": attributes}
    return events


def sync(store, org: Org, clock: Clock, **overrides: Any):
    settings = settings_for(org, **overrides)
    with SalesforceClient(settings) as client:
        return sync_salesforce(store, settings, client, clock=clock)


def deliveries(store) -> list[Any]:
    with store.engine.connect() as conn:
        return list(
            conn.execute(
                select(webhook_deliveries)
                .join(
                    webhook_subscriptions,
                    webhook_subscriptions.c.id == webhook_deliveries.c.subscription_id,
                )
                .where(webhook_subscriptions.c.kind == "salesforce")
                .order_by(webhook_deliveries.c.id)
            )
        )


def assessed(store) -> dict[str, Any]:
    from accolade.store.tables import outbox

    with store.engine.connect() as conn:
        payload = conn.execute(
            select(outbox.c.payload).where(outbox.c.type == "lead.assessed")
        ).scalar_one()
    return dict(json.loads(payload)["data"])


# tests --------------------------------------------------------------------------------------


def test_an_assessed_lead_reaches_the_salesforce_lead_by_its_external_id(program, org, clock):
    store = program
    ingest(store, lead("lead-1", "Ana@Example.com"), clock)
    report = sync(store, org, clock)
    assert (report.delivered, report.failed, report.dead) == (1, 0, 0)
    data = assessed(store)
    assert org.leads["ana@example.com"] == {
        "Accolade_Email__c": "ana@example.com",
        "Accolade_Segment__c": data["segment"],
        "Accolade_Readiness__c": data["level"],
        "Accolade_Score__c": str(data["total"]),
        "Description": data["sales_note"],
        "LastName": "Lead-1",
        "Company": "Acme",
    }
    token_requests = [r for r in org.requests if r["path"] == "/services/oauth2/token"]
    assert len(token_requests) == 1


def test_only_changed_fields_are_sent_again(program, org, clock):
    store = program
    ingest(store, lead("lead-1", "ana@example.com"), clock)
    sync(store, org, clock)
    update(store, "readiness", "lead-1", attributes={"company": "Acme Holdings"}, clock=clock)
    from accolade.store.tables import outbox

    with store.engine.connect() as conn:
        first = conn.execute(select(outbox).where(outbox.c.type == "lead.assessed")).first()
    assert first is not None
    with store.transaction() as uow:
        uow.outbox.append(first.program_id, [("lead.assessed", first.payload)], clock())
    assert sync(store, org, clock).delivered == 1
    last = org.upserts()[-1]["records"]
    assert last == [
        {
            "attributes": {"type": "Lead"},
            "Company": "Acme Holdings",
            "Accolade_Email__c": "ana@example.com",
        }
    ]


def test_an_expired_session_gets_a_new_token_and_the_upsert_is_sent_again(program, org, clock):
    store = program
    settings = settings_for(org)
    with SalesforceClient(settings) as client:
        ingest(store, lead("lead-1", "one@example.com"), clock)
        assert sync_salesforce(store, settings, client, clock=clock).delivered == 1
        org.tokens += 10  # the session expires
        ingest(store, lead("lead-2", "two@example.com"), clock)
        report = sync_salesforce(store, settings, client, clock=clock)
    assert (report.delivered, report.failed, report.dead) == (1, 0, 0)
    assert [r["status"] for r in org.requests] == [200, 200, 401, 200, 200]
    assert "two@example.com" in org.leads


def test_a_refused_record_is_dead_with_salesforces_message_and_the_others_arrive(
    program, org, clock
):
    store = program
    ingest(store, lead("lead-1", "good@example.com"), clock)
    ingest(store, lead("lead-2", "nocompany@example.com", company=None), clock)
    report = sync(store, org, clock)
    assert (report.delivered, report.dead) == (1, 1)
    assert len(org.upserts()) == 1  # one request: Salesforce answers record by record
    [dead] = list_deliveries(store, "readiness", status="dead")
    assert dead.last_error == "REQUIRED_FIELD_MISSING: Required fields are missing: ['Company']"
    assert set(org.leads) == {"good@example.com"}


def test_a_field_salesforce_does_not_know_is_dead_with_its_message(store, org, clock):
    publish(store, EXAMPLE + MAPPING.replace("Description", "Bogus__c"), clock=clock)
    ingest(store, lead("lead-1", "one@example.com"), clock)
    report = sync(store, org, clock)
    assert report.dead == 1
    [dead] = deliveries(store)
    assert dead.last_status == 400
    assert dead.last_error == (
        "HTTP 400: INVALID_FIELD: No such column 'Bogus__c' on sobject of type Lead"
    )


def test_salesforce_away_for_ten_minutes_loses_nothing(program, org, clock):
    store = program
    for n in range(3):
        ingest(store, lead(f"lead-{n}", f"lead{n}@example.com"), clock)
    start = clock.now
    while clock.now < start + timedelta(minutes=10):
        org.answers.append((503, [{"errorCode": "SERVER_UNAVAILABLE", "message": "down"}]))
        sync(store, org, clock, webhook_max_attempts=8)
        org.answers.clear()
        clock.advance(seconds=15)
    assert not [d for d in deliveries(store) if d.status == "dead"]
    for _ in range(40):
        sync(store, org, clock, webhook_max_attempts=8)
        clock.advance(seconds=15)
    assert {d.status for d in deliveries(store)} == {"delivered"}
    assert set(org.leads) == {"lead0@example.com", "lead1@example.com", "lead2@example.com"}


def test_bad_client_credentials_are_retried_and_no_secret_is_logged_or_stored(
    program, org, clock, caplog
):
    store = program
    caplog.set_level(logging.DEBUG)
    ingest(store, lead("lead-1", "one@example.com"), clock)
    report = sync(store, org, clock, salesforce_client_secret=SecretStr("wrong-secret-abc"))
    assert report.failed == 1
    [delivery] = deliveries(store)
    assert delivery.last_error == "token: HTTP 400: bad secret"
    clock.advance(minutes=1)
    assert sync(store, org, clock).delivered == 1
    stored = " ".join(str(tuple(d)) for d in deliveries(store))
    for secret in (CLIENT_SECRET, "wrong-secret-abc", org.token):
        assert secret not in stored
        assert secret not in caplog.text
