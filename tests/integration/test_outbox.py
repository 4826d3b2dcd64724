"""The outbox: effects worth telling are written in the effect's own transaction, only for
the types some subscription wants; nothing is written for what did not commit."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import insert, select

from accolade.service.reverse import reverse
from accolade.store.repositories.members import MembersRepository
from accolade.store.tables import outbox, programs, webhook_subscriptions
from tests.integration.builders import (
    NOW,
    PROGRAM,
    clock_at,
    publish_demo,
    quiz,
    quizzes,
    send,
    video,
)


def subscribe(store, types: str) -> None:
    with store.transaction() as uow:
        program_id = uow.conn.scalar(select(programs.c.id).where(programs.c.key == PROGRAM))
        uow.conn.execute(
            insert(webhook_subscriptions).values(
                program_id=program_id,
                url="http://127.0.0.1:9/hook",
                types=types,
                secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                created_at=NOW,
            )
        )


def messages(store) -> list[tuple[str, dict]]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(outbox.c.type, outbox.c.payload).order_by(outbox.c.id))
        return [(t, json.loads(p)) for t, p in rows]


def test_without_subscriptions_nothing_is_written(store):
    publish_demo(store)
    send(store, *quizzes(2))
    assert messages(store) == []


def test_every_effect_is_told_once_with_what_it_did(store):
    publish_demo(store)
    subscribe(store, "*")
    send(store, quiz("q1"))
    told = messages(store)
    assert [t for t, _ in told] == ["points.awarded", "badge.earned", "tier.changed"]
    points = told[0][1]
    assert points["type"] == "points.awarded" and points["timestamp"].endswith("Z")
    assert points["data"] == {
        "member": "alice",
        "event_id": "q1",
        "points": 100,
        "balance": 100,
        "lifetime": 100,
    }
    assert told[1][1]["data"]["badge"] == "certified_user"
    assert told[2][1]["data"] == {"member": "alice", "event_id": "q1", "from": None, "to": "bronze"}


def test_only_the_wanted_types_are_written(store):
    publish_demo(store)
    subscribe(store, "badge.earned badge.revoked")
    send(store, video("v1"), quiz("q1"))
    reverse(store, PROGRAM, "q1", "cheated", clock=clock_at())
    assert [(t, d["data"]["badge"]) for t, d in messages(store)] == [
        ("badge.earned", "certified_user"),
        ("badge.revoked", "certified_user"),
    ]


def test_a_reversal_is_told_with_its_reason_and_points(store):
    publish_demo(store)
    subscribe(store, "event.reversed")
    send(store, quiz("q1"))
    reverse(store, PROGRAM, "q1", "cheated", clock=clock_at())
    [(type_, payload)] = messages(store)
    assert type_ == "event.reversed"
    assert payload["data"]["reason"] == "cheated" and payload["data"]["points"] == -100


def test_a_duplicate_tells_nothing_again(store):
    publish_demo(store)
    subscribe(store, "*")
    send(store, quiz("q1"))
    count = len(messages(store))
    send(store, quiz("q1"))
    assert len(messages(store)) == count


def test_nothing_is_told_when_the_transaction_rolls_back(store, monkeypatch):
    publish_demo(store)
    subscribe(store, "*")

    def fail(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(MembersRepository, "save_members", fail)
    with pytest.raises(RuntimeError):
        send(store, quiz("q1"))
    assert messages(store) == []
