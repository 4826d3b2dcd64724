"""Slack and Teams notices against local servers that answer as their incoming webhooks do, on
SQLite and PostgreSQL: a badge reaches Slack as Block Kit and a tier Teams as an Adaptive
Card, a channel gets one message per spacing, 429 holds the channel for Retry-After, a refused
payload goes dead with the target's words (shown by the deliveries API), a channel away for ten
minutes loses nothing, and the webhook URL shows up in no log and no stored error."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from accolade.integrations.notices import gate_from, poster_from, send_notices
from accolade.service.ingest import ingest_batch
from accolade.service.programs import publish
from accolade.service.webhooks import list_deliveries
from accolade.settings import Settings
from accolade.store.tables import webhook_deliveries, webhook_subscriptions
from tests.integration import loopback
from tests.integration.builders import DEMO_SOURCE, PROGRAM, MovingClock, deal, quiz

SLACK_PATH = "/services/T0001/B0001/XXXXXXXXXXXXXXXXXXXXXXXX"
EXPERTS_PATH = "/services/T0001/B0002/YYYYYYYYYYYYYYYYYYYYYYYY"
TEAMS_PATH = "/webhookb2/aaaa-bbbb/IncomingWebhook/cccc/dddd"
NOTICES = """
integrations:
  slack:
    notices:
      - type: badge.earned
        title: "New badge"
        text: "*{{ member }}* earned the `{{ badge }}` badge"
        context: "{{ program }}"
      - type: badge.earned
        channel: experts
        when: {badge: product_expert}
        text: "{{ member }} is a product expert"
  teams:
    notices:
      - type: tier.changed
        title: "{{ member }} reached {{ to }}"
        text: "From {{ from }} to {{ to }}."
        context: "{{ program }}"
"""


@dataclass
class Chat:
    """Answers as Slack's and Teams' incoming webhooks: Slack `ok` (or 400 `invalid_blocks`
    for a payload without blocks, 404 `no_service` for an unknown hook), Teams `1`.
    ``answers`` are scripted (status, headers, body), given first, one per request."""

    url: str = ""
    answers: list[tuple[int, dict[str, str], str]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        with self.lock:
            self.requests.append({"path": path, "body": body})
            if self.answers:
                return self.answers.pop(0)
            if path in (SLACK_PATH, EXPERTS_PATH):
                ok = isinstance(body.get("blocks"), list) and body["blocks"]
                return (200, {}, "ok") if ok else (400, {}, "invalid_blocks")
            if path == TEAMS_PATH:
                [attachment] = body["attachments"]
                ok = attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
                return (200, {}, "1") if ok else (400, {}, "Bad payload")
            return 404, {}, "no_service"

    def posts(self, path: str) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests if r["path"] == path]


@pytest.fixture
def chat() -> Iterator[Chat]:
    state = Chat()

    class Handler(loopback.Handler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            status, headers, text = state.answer(self.path, body)
            data = text.encode()
            self.reply(status, data, content_type="text/plain", headers=headers)

    with loopback.serving(Handler) as url:
        state.url = url
        yield state


Clock = MovingClock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def program(store, clock):
    publish(store, DEMO_SOURCE + NOTICES, clock=clock)
    return store


def settings_for(chat: Chat, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_webhook_url": SecretStr(chat.url + SLACK_PATH),
        "slack_webhook_urls": {"experts": SecretStr(chat.url + EXPERTS_PATH)},
        "teams_webhook_url": SecretStr(chat.url + TEAMS_PATH),
        "webhook_backoff_seconds": 30.0,
        "webhook_max_attempts": 3,
        "notice_timeout_seconds": 5.0,
    }
    return Settings(**(values | overrides))


class Sender:
    """A deliverer that keeps its posters and the channels' gate across rounds, as the worker
    does."""

    def __init__(self, store, settings: Settings, clock: Clock) -> None:
        self.store, self.settings, self.clock = store, settings, clock
        self.gate = gate_from(settings)

    def round(self, kind: str = "slack"):
        with poster_from(self.settings, kind) as poster:
            return send_notices(self.store, self.settings, poster, self.gate, clock=self.clock)


def send(store, *events: dict[str, Any], clock: Clock) -> None:
    ingest_batch(store, PROGRAM, list(enumerate(events, start=1)), clock=clock)


def deliveries(store, kind: str) -> list[Any]:
    with store.engine.connect() as conn:
        return list(
            conn.execute(
                select(webhook_deliveries, webhook_subscriptions.c.url)
                .join(
                    webhook_subscriptions,
                    webhook_subscriptions.c.id == webhook_deliveries.c.subscription_id,
                )
                .where(webhook_subscriptions.c.kind == kind)
                .order_by(webhook_deliveries.c.id)
            )
        )


# tests --------------------------------------------------------------------------------------


def test_a_badge_earned_reaches_slack_as_block_kit(program, chat, clock):
    store = program
    send(store, quiz("q1", "ann"), clock=clock)
    report = Sender(store, settings_for(chat), clock).round()
    # the default channel posts; the experts channel's notice does not match certified_user
    assert (report.delivered, report.failed, report.dead) == (2, 0, 0)
    [post] = chat.posts(SLACK_PATH)
    assert post["blocks"] == [
        {"type": "header", "text": {"type": "plain_text", "text": "New badge"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*ann* earned the `certified_user` badge"},
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Acme Partner Program"}]},
    ]
    assert chat.posts(EXPERTS_PATH) == []
    assert {d.status for d in deliveries(store, "slack")} == {"delivered"}


def test_a_tier_reached_reaches_teams_as_an_adaptive_card(program, chat, clock):
    store = program
    send(store, deal("d1", "ann", amount_usd=100_000), clock=clock)
    report = Sender(store, settings_for(chat), clock).round("teams")
    assert (report.delivered, report.dead) == (1, 0)
    [post] = chat.posts(TEAMS_PATH)
    [attachment] = post["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    texts = [block["text"] for block in card["body"]]
    [change] = [json.loads(p) for p in _payloads(store, "tier.changed")]
    to, was = change["data"]["to"], change["data"]["from"]
    assert texts == [f"ann reached {to}", f"From {was} to {to}.", "Acme Partner Program"]


def test_a_channel_gets_one_notice_per_spacing_in_order(program, chat, clock):
    store = program
    send(store, quiz("q1", "ann"), quiz("q2", "bob"), quiz("q3", "cy"), clock=clock)
    sender = Sender(store, settings_for(chat), clock)
    assert len(_sent_after(sender, chat)) == 1
    assert len(_sent_after(sender, chat)) == 1  # the same instant: the channel is closed
    clock.advance(seconds=1)
    assert len(_sent_after(sender, chat)) == 2
    clock.advance(seconds=1)
    assert len(_sent_after(sender, chat)) == 3
    members = [p["blocks"][1]["text"]["text"].split("*")[1] for p in chat.posts(SLACK_PATH)]
    assert members == ["ann", "bob", "cy"]


def test_429_holds_the_channel_for_retry_after(program, chat, clock):
    store = program
    send(store, quiz("q1", "ann"), quiz("q2", "bob"), clock=clock)
    chat.answers.append((429, {"Retry-After": "30"}, "rate_limited"))
    sender = Sender(store, settings_for(chat, webhook_backoff_seconds=5.0), clock)
    report = sender.round()
    assert report.failed == 1
    limited = [d for d in deliveries(store, "slack") if d.last_status == 429]
    assert [(d.status, d.next_attempt_at) for d in limited] == [
        ("pending", clock.now + timedelta(seconds=30))
    ]
    clock.advance(seconds=29)
    sender.round()
    assert len(chat.posts(SLACK_PATH)) == 1  # only the refused attempt
    clock.advance(seconds=1)
    sender.round()
    clock.advance(seconds=1)
    sender.round()
    assert len(chat.posts(SLACK_PATH)) == 3
    assert all(
        d.status == "delivered" for d in deliveries(store, "slack") if d.url == "slack:default"
    )


def test_a_refused_payload_is_dead_with_slacks_words_in_the_deliveries_api(program, chat, clock):
    store = program
    send(store, quiz("q1", "ann"), clock=clock)
    chat.answers.append((400, {}, "invalid_blocks"))
    report = Sender(store, settings_for(chat), clock).round()
    assert report.dead == 1
    [dead] = list_deliveries(store, PROGRAM, status="dead")
    assert dead.type == "badge.earned"
    assert (dead.last_status, dead.last_error) == (400, "HTTP 400: invalid_blocks")


def test_teams_refusing_a_card_is_dead_with_its_words(program, chat, clock):
    store = program
    send(store, deal("d1", "ann", amount_usd=100_000), clock=clock)
    # Teams' legacy connectors answer 200 with the error in the body
    chat.answers.append(
        (200, {}, "Microsoft Teams endpoint returned HTTP error 413 with ContextId ...")
    )
    report = Sender(store, settings_for(chat), clock).round("teams")
    assert report.dead == 1
    [dead] = deliveries(store, "teams")
    assert dead.last_status == 413
    assert "returned HTTP error 413" in dead.last_error


def test_a_channel_away_for_ten_minutes_loses_nothing(program, chat, clock):
    store = program
    send(store, quiz("q1", "ann"), quiz("q2", "bob"), quiz("q3", "cy"), clock=clock)
    sender = Sender(store, settings_for(chat, webhook_max_attempts=8), clock)
    start = clock.now
    while clock.now < start + timedelta(minutes=10):
        chat.answers.append((503, {}, "upstream unavailable"))
        sender.round()
        chat.answers.clear()
        clock.advance(seconds=15)
    assert not [d for d in deliveries(store, "slack") if d.status == "dead"]
    for _ in range(40):
        sender.round()
        clock.advance(seconds=15)
    members = [p["blocks"][1]["text"]["text"].split("*")[1] for p in chat.posts(SLACK_PATH)[-3:]]
    assert members == ["ann", "bob", "cy"]
    assert {d.status for d in deliveries(store, "slack")} == {"delivered"}


def test_an_unreachable_channel_is_retried_and_its_url_is_in_no_log_and_no_error(
    program, chat, clock, caplog
):
    store = program
    caplog.set_level(logging.DEBUG)
    send(store, quiz("q1", "ann"), clock=clock)
    closed = "http://127.0.0.1:9" + SLACK_PATH  # nothing listens on the discard port
    report = Sender(store, settings_for(chat, slack_webhook_url=SecretStr(closed)), clock).round()
    assert report.failed == 1
    stored = " ".join(str(tuple(d)) for d in deliveries(store, "slack"))
    assert "[webhook URL]" in stored or "ConnectError" in stored
    for secret in (SLACK_PATH, EXPERTS_PATH, TEAMS_PATH):
        assert secret not in stored
        assert secret not in caplog.text


def test_a_channel_without_a_url_says_which_setting_is_missing(program, chat, clock):
    store = program
    send(store, quiz("q1", "ann"), clock=clock)
    report = Sender(store, Settings(slack_webhook_urls={"experts": SecretStr("x")}), clock).round()
    assert report.failed == 1
    [failed] = [d for d in deliveries(store, "slack") if d.status == "pending"]
    assert "set ACCOLADE_SLACK_WEBHOOK_URL" in failed.last_error


def test_removing_the_notices_posts_nothing_more(program, chat, clock):
    store = program
    send(store, quiz("q1", "ann"), clock=clock)
    publish(store, DEMO_SOURCE, clock=clock)
    Sender(store, settings_for(chat), clock).round()
    assert not [d for d in deliveries(store, "slack") if d.status != "dead"]
    assert chat.requests == []


def _sent_after(sender: Sender, chat: Chat) -> list[dict[str, Any]]:
    sender.round()
    return chat.posts(SLACK_PATH)


def _payloads(store, type_: str) -> list[str]:
    from accolade.store.tables import outbox

    with store.engine.connect() as conn:
        return list(conn.execute(select(outbox.c.payload).where(outbox.c.type == type_)).scalars())
