"""Webhooks: subscriptions, fan-out by type, signed delivery to a real HTTP receiver,
backoff, dead letters, redelivery, and many deliverers side by side."""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from accolade.errors import Conflict, InvalidInput, NotFound
from accolade.integrations.webhooks import HttpSender, start_in_process_worker
from accolade.service.webhooks import (
    DeliveryReport,
    deliver_due,
    disable_subscription,
    get_delivery,
    get_subscription,
    list_deliveries,
    list_subscriptions,
    redeliver,
    subscribe,
)
from accolade.settings import Settings
from accolade.store.unit_of_work import Store
from tests.integration import loopback

from .builders import PROGRAM, demo_with, publish_demo, row_counts

OTHER = "other"


# a real receiver ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST and answers 200, or 500 while
    ``failing`` is set."""

    url: str = ""
    failing: bool = False
    requests: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(loopback.Handler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            answer = 500 if receiver.failing else 200
            with receiver.lock:
                receiver.requests.append(
                    Received(
                        self.path, {k.lower(): v for k, v in self.headers.items()}, body, answer
                    )
                )
            self.send_response(answer)
            self.send_header("content-length", "0")
            self.end_headers()
            receiver.arrived.set()

    # Bound and listening once constructed: requests wait in the backlog until it serves.
    with loopback.serving(Handler) as url:
        receiver.url = url
        yield receiver


@pytest.fixture
def sender() -> Iterator[HttpSender]:
    with HttpSender(timeout=5.0) as send:
        yield send


class Clock:
    """Injected time that moves only when told (starts at the real now, so signatures also
    pass the receiver's five-minute freshness check)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


# builders ---------------------------------------------------------------------------------------


def publish_two(store: Store) -> None:
    publish_demo(store)
    publish_demo(store, demo_with(f"key: {PROGRAM}", f"key: {OTHER}"))


def tell(store: Store, type_: str, clock: Clock, program: str = PROGRAM, **data: object) -> str:
    """Append one outbox message as ingest would; returns its payload."""
    payload = json.dumps(
        {"type": type_, "timestamp": clock().isoformat(), "data": {"member": "zoë", **data}},
        ensure_ascii=False,
        indent=1,  # spacing and non-ASCII a re-serialising sender would not keep
    )
    with store.transaction() as uow:
        program_row = uow.programs.program_by_key(program)
        assert program_row is not None
        uow.outbox.append(program_row.id, [(type_, payload)], clock())
    return payload


def deliver(store: Store, send: HttpSender, clock: Clock, max_attempts: int = 3) -> DeliveryReport:
    return deliver_due(store, send, clock=clock, max_attempts=max_attempts, backoff_seconds=30)


def signature_holds(secret: str, request: Received) -> bool:
    """The signature recomputed for the request's own id and timestamp (whatever their age)."""
    stamp = datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), UTC)
    expected = Webhook(secret).sign(request.headers["webhook-id"], stamp, request.body.decode())
    return request.headers["webhook-signature"] == expected


# subscriptions ----------------------------------------------------------------------------------


def test_subscribe_returns_a_whsec_secret_that_get_shows_again(store: Store, clock: Clock) -> None:
    publish_demo(store)

    created = subscribe(
        store, PROGRAM, "https://hooks.example.com/accolade", "tier.changed, badge.earned", "crm"
    )

    assert created.secret.startswith("whsec_")
    Webhook(created.secret)  # a secret the standard library accepts
    assert created.types == ("badge.earned", "tier.changed")
    assert get_subscription(store, PROGRAM, created.id) == created
    assert list_subscriptions(store, PROGRAM) == [created]
    other = subscribe(store, PROGRAM, "http://localhost:9/x", ["badge.earned", "*"])
    assert other.types == ("*",)
    assert other.secret != created.secret


@pytest.mark.parametrize(
    "url",
    ["ftp://hooks.example.com/x", "http://", "hooks.example.com/x", "https:///x", "http://a b"],
)
def test_a_url_that_is_not_http_with_a_host_is_refused_and_nothing_stored(
    store: Store, url: str
) -> None:
    publish_demo(store)
    before = row_counts(store)

    with pytest.raises(InvalidInput) as refused:
        subscribe(store, PROGRAM, url, ["*"])

    assert refused.value.field == "url"
    assert row_counts(store) == before


@pytest.mark.parametrize(
    ("types", "named"),
    [
        (["badge.earned", "badge.eanred"], "badge.eanred"),
        ([], "at least one"),
        ("points", "points"),
    ],
)
def test_an_unknown_type_is_refused_by_name_and_nothing_stored(
    store: Store, types: list[str] | str, named: str
) -> None:
    publish_demo(store)
    before = row_counts(store)

    with pytest.raises(InvalidInput) as refused:
        subscribe(store, PROGRAM, "https://hooks.example.com/x", types)

    assert refused.value.field == "types"
    assert named in refused.value.message
    assert row_counts(store) == before


def test_ids_of_another_program_are_not_found(
    store: Store, receiver: Receiver, sender: HttpSender, clock: Clock
) -> None:
    publish_two(store)
    theirs = subscribe(store, OTHER, receiver.url, ["*"])
    tell(store, "badge.earned", clock, program=OTHER, badge="closer")
    deliver(store, sender, clock)
    [their_delivery] = list_deliveries(store, OTHER)

    for attempt in (
        lambda: get_subscription(store, PROGRAM, theirs.id),
        lambda: disable_subscription(store, PROGRAM, theirs.id),
        lambda: list_deliveries(store, PROGRAM, subscription_id=theirs.id),
    ):
        with pytest.raises(NotFound) as missing:
            attempt()
        assert missing.value.field == "subscription_id"
    for attempt in (
        lambda: redeliver(store, PROGRAM, their_delivery.id),
        lambda: get_delivery(store, PROGRAM, their_delivery.id),
    ):
        with pytest.raises(NotFound) as missing:
            attempt()
        assert missing.value.field == "delivery_id"
    with pytest.raises(NotFound) as missing:
        subscribe(store, "nope", receiver.url, ["*"])
    assert missing.value.field == "program"
    assert list_subscriptions(store, PROGRAM) == []
    assert get_subscription(store, OTHER, theirs.id).disabled_at is None


# delivery ---------------------------------------------------------------------------------------


def test_a_delivery_is_signed_and_carries_the_payload_byte_for_byte(
    store: Store, receiver: Receiver, sender: HttpSender, clock: Clock
) -> None:
    publish_demo(store)
    subscription = subscribe(store, PROGRAM, receiver.url + "/hook", ["*"])
    payload = tell(store, "badge.earned", clock, event_id="e-1", badge="closer", period="")

    report = deliver(store, sender, clock)

    assert report == DeliveryReport(delivered=1, failed=0, dead=0, fanned_out=1)
    [request] = receiver.requests
    assert request.path == "/hook"
    assert request.body == payload.encode()
    assert request.headers["content-type"] == "application/json"
    assert Webhook(subscription.secret).verify(request.body, request.headers) == json.loads(payload)
    assert request.headers["webhook-timestamp"] == str(int(clock.now.timestamp()))
    [delivery] = list_deliveries(store, PROGRAM)
    assert (delivery.message_id, delivery.type) == (request.headers["webhook-id"], "badge.earned")
    assert delivery.message_id.startswith("msg_")
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)
    assert delivery.delivered_at == clock.now
    assert deliver(store, sender, clock).idle  # sent once, not again
    assert len(receiver.requests) == 1


def test_a_subscription_gets_only_the_types_it_asked_for(
    store: Store, receiver: Receiver, sender: HttpSender, clock: Clock
) -> None:
    publish_demo(store)
    badges = subscribe(store, PROGRAM, receiver.url + "/badges", ["badge.earned"])
    everything = subscribe(store, PROGRAM, receiver.url + "/all", ["*"])
    tell(store, "points.awarded", clock, event_id="e-1", points=50, balance=50, lifetime=50)
    tell(store, "badge.earned", clock, event_id="e-1", badge="first_steps", period="")

    report = deliver(store, sender, clock)

    assert report == DeliveryReport(delivered=3, failed=0, dead=0, fanned_out=2)
    assert [r.json["type"] for r in receiver.on("/badges")] == ["badge.earned"]
    assert sorted(r.json["type"] for r in receiver.on("/all")) == ["badge.earned", "points.awarded"]
    assert [d.type for d in list_deliveries(store, PROGRAM, subscription_id=badges.id)] == [
        "badge.earned"
    ]
    assert len(list_deliveries(store, PROGRAM, subscription_id=everything.id)) == 2


def test_a_failed_delivery_backs_off_and_is_delivered_when_the_receiver_recovers(
    store: Store, receiver: Receiver, sender: HttpSender, clock: Clock
) -> None:
    publish_demo(store)
    subscription = subscribe(store, PROGRAM, receiver.url, ["*"])
    payload = tell(store, "tier.changed", clock, event_id="e-9", **{"from": None, "to": "gold"})
    receiver.failing = True
    started = clock.now

    assert deliver(store, sender, clock, max_attempts=5).failed == 1
    [delivery] = list_deliveries(store, PROGRAM)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert (delivery.last_status, delivery.last_error) == (500, "HTTP 500")
    assert delivery.next_attempt_at == started + timedelta(seconds=30)

    clock.advance(seconds=29)
    assert deliver(store, sender, clock, max_attempts=5).idle  # not due yet
    clock.advance(seconds=1)
    assert deliver(store, sender, clock, max_attempts=5).failed == 1
    [delivery] = list_deliveries(store, PROGRAM)
    assert delivery.attempts == 2
    assert delivery.next_attempt_at == clock.now + timedelta(seconds=60)  # doubled

    receiver.failing = False
    clock.advance(seconds=60)
    assert deliver(store, sender, clock, max_attempts=5).delivered == 1

    assert [r.answered for r in receiver.requests] == [500, 500, 200]
    assert {r.body for r in receiver.requests} == {payload.encode()}
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1  # one message
    assert all(signature_holds(subscription.secret, r) for r in receiver.requests)
    # Each attempt is signed at its own time.
    assert [
        int(r.headers["webhook-timestamp"]) - int(started.timestamp()) for r in receiver.requests
    ] == [0, 30, 90]
    [delivery] = list_deliveries(store, PROGRAM)
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("delivered", 3, 200)
    assert delivery.next_attempt_at is None


def test_backoff_stops_growing_at_six_hours(
    store: Store, receiver: Receiver, sender: HttpSender, clock: Clock
) -> None:
    publish_demo(store)
    subscribe(store, PROGRAM, receiver.url, ["*"])
    tell(store, "badge.earned", clock, badge="closer")
    receiver.failing = True

    waits = []
    for _ in range(12):
        deliver(store, sender, clock, max_attempts=20)
        [delivery] = list_deliveries(store, PROGRAM)
        assert delivery.next_attempt_at is not None
        waits.append(delivery.next_attempt_at - clock.now)
        clock.now = delivery.next_attempt_at

    assert [w.total_seconds() for w in waits] == [
        30 * 2**i if 30 * 2**i < 6 * 3600 else 6 * 3600 for i in range(12)
    ]


def test_a_delivery_is_dead_after_max_attempts_and_redeliver_sends_it_again(
    store: Store, receiver: Receiver, sender: HttpSender, clock: Clock
) -> None:
    publish_demo(store)
    subscription = subscribe(store, PROGRAM, receiver.url, ["*"])
    tell(store, "points.awarded", clock, points=5, balance=5, lifetime=5)
    receiver.failing = True

    reports = []
    for _ in range(3):
        reports.append(deliver(store, sender, clock))
        clock.advance(hours=1)
    assert [(r.failed, r.dead) for r in reports] == [(1, 0), (1, 0), (0, 1)]
    [dead] = list_deliveries(store, PROGRAM, status="dead")
    assert (dead.attempts, dead.last_error, dead.next_attempt_at) == (3, "HTTP 500", None)
    clock.advance(days=2)
    assert deliver(store, sender, clock).idle  # given up: never sent again by itself
    assert len(receiver.requests) == 3

    receiver.failing = False
    again = redeliver(store, PROGRAM, dead.id, clock=clock)
    assert (again.status, again.attempts, again.next_attempt_at) == ("pending", 0, clock.now)
    with pytest.raises(Conflict) as refused:
        redeliver(store, PROGRAM, dead.id, clock=clock)
    assert refused.value.field == "delivery_id"

    assert deliver(store, sender, clock).delivered == 1
    assert len(receiver.requests) == 4
    assert signature_holds(subscription.secret, receiver.requests[-1])
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert get_delivery(store, PROGRAM, dead.id).status == "delivered"


def test_a_delivered_delivery_can_be_sent_again(
    store: Store, receiver: Receiver, sender: HttpSender, clock: Clock
) -> None:
    publish_demo(store)
    subscribe(store, PROGRAM, receiver.url, ["*"])
    tell(store, "badge.revoked", clock, badge="closer", period="")
    deliver(store, sender, clock)
    [delivered] = list_deliveries(store, PROGRAM)

    redeliver(store, PROGRAM, delivered.id, clock=clock)

    assert get_delivery(store, PROGRAM, delivered.id).delivered_at is None
    assert deliver(store, sender, clock).delivered == 1
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["webhook-id"] == second.headers["webhook-id"]


def test_a_receiver_that_cannot_be_reached_is_a_failed_attempt(
    store: Store, sender: HttpSender, clock: Clock
) -> None:
    publish_demo(store)
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subscribe(store, PROGRAM, f"http://127.0.0.1:{port}/hook", ["*"])
    tell(store, "event.reversed", clock, reason="duplicate", points=-50)

    assert deliver(store, sender, clock).failed == 1

    [delivery] = list_deliveries(store, PROGRAM)
    assert (delivery.status, delivery.last_status) == ("pending", None)
    assert delivery.last_error is not None and delivery.last_error.startswith("cannot connect")


def test_a_disabled_subscription_gets_nothing_new_and_gives_up_what_was_pending(
    store: Store, receiver: Receiver, sender: HttpSender, clock: Clock
) -> None:
    publish_demo(store)
    kept = subscribe(store, PROGRAM, receiver.url + "/kept", ["*"])
    dropped = subscribe(store, PROGRAM, receiver.url + "/dropped", ["*"])
    tell(store, "badge.earned", clock, badge="closer")
    receiver.failing = True
    deliver(store, sender, clock)  # one failed attempt each; both pending

    disabled = disable_subscription(store, PROGRAM, dropped.id, clock=clock)
    receiver.failing = False
    tell(store, "badge.earned", clock, badge="champion")
    clock.advance(hours=1)
    deliver(store, sender, clock)

    assert disabled.disabled_at == clock.now - timedelta(hours=1)
    assert len(receiver.on("/dropped")) == 1  # the attempt before it was disabled
    assert [r.answered for r in receiver.on("/kept")] == [500, 200, 200]
    [given_up] = list_deliveries(store, PROGRAM, subscription_id=dropped.id)
    assert (given_up.status, given_up.last_error) == ("dead", "subscription disabled")
    with pytest.raises(Conflict):
        redeliver(store, PROGRAM, given_up.id, clock=clock)
    assert list_subscriptions(store, PROGRAM) == [kept]
    assert [s.id for s in list_subscriptions(store, PROGRAM, include_disabled=True)] == [
        kept.id,
        dropped.id,
    ]
    assert disable_subscription(store, PROGRAM, dropped.id, clock=clock) == disabled  # no-op


def test_deliveries_are_listed_newest_first_with_their_message(
    store: Store, receiver: Receiver, sender: HttpSender, clock: Clock
) -> None:
    publish_demo(store)
    subscribe(store, PROGRAM, receiver.url, ["*"])
    for badge in ("a", "b", "c"):
        tell(store, "badge.earned", clock, badge=badge)
    deliver(store, sender, clock)

    listed = list_deliveries(store, PROGRAM)

    assert [d.id for d in listed] == sorted((d.id for d in listed), reverse=True)
    sent = [r.headers["webhook-id"] for r in receiver.requests]
    assert [d.message_id for d in listed] == sent[::-1]  # sent oldest first
    assert len(list_deliveries(store, PROGRAM, limit=2)) == 2
    assert list_deliveries(store, PROGRAM, status="pending") == []
    with pytest.raises(InvalidInput) as refused:
        list_deliveries(store, PROGRAM, status="lost")
    assert refused.value.field == "status"


def test_side_by_side_deliverers_send_each_delivery_once(store: Store, clock: Clock) -> None:
    publish_demo(store)
    subscription = subscribe(store, PROGRAM, "http://127.0.0.1:9/unused", ["*"])
    for i in range(40):
        tell(store, "points.awarded", clock, event_id=f"e-{i}", points=i)
    sent: Counter[str] = Counter()
    lock = threading.Lock()

    def record(url: str, secret: str, message_id: str, payload: str, timestamp: datetime):
        assert secret == subscription.secret
        with lock:
            sent[message_id] += 1
        return True, 204, None

    def deliverer(barrier: threading.Barrier) -> None:
        barrier.wait()
        while not deliver_due(
            store, record, clock=clock, max_attempts=3, backoff_seconds=30, batch=5
        ).idle:
            pass

    barrier = threading.Barrier(4, timeout=60)
    threads = [threading.Thread(target=deliverer, args=(barrier,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert not any(t.is_alive() for t in threads)
    assert len(sent) == 40
    assert set(sent.values()) == {1}
    assert {d.status for d in list_deliveries(store, PROGRAM, limit=100)} == {"delivered"}


def test_the_in_process_worker_delivers_until_stopped(store: Store, receiver: Receiver) -> None:
    publish_demo(store)
    subscription = subscribe(store, PROGRAM, receiver.url, ["badge.earned"])
    payload = tell(store, "badge.earned", Clock(), badge="closer")

    thread, stop = start_in_process_worker(store, Settings(webhook_timeout_seconds=5))
    try:
        assert receiver.arrived.wait(timeout=30), "the worker delivered nothing"
    finally:
        stop.set()
        thread.join(timeout=30)

    assert not thread.is_alive()
    [request] = receiver.requests
    assert request.body == payload.encode()
    Webhook(subscription.secret).verify(request.body, request.headers)  # real clock, fresh
    assert [d.status for d in list_deliveries(store, PROGRAM)] == ["delivered"]
