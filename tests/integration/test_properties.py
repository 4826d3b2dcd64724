"""Property: whatever the batching, duplicates, reversals and program versions, incremental
ingestion, replay and one-event-at-a-time ingestion end in the same state, and balances equal
the ledger."""

from __future__ import annotations

from datetime import timedelta
from itertools import cycle
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accolade.errors import Conflict
from accolade.service.ingest import ingest_batch
from accolade.service.replay import replay
from accolade.service.reverse import reverse
from accolade.store.tables import metadata
from accolade.store.unit_of_work import Store

from .builders import (
    DEMO_SOURCE,
    MONDAY,
    PROGRAM,
    assert_balances_match_ledger,
    clock_at,
    demo_with,
    projection,
    publish_demo,
)

Op = tuple[str, Any]
# Another version of the demo, published and re-published (re-activated) mid-stream.
RICHER = demo_with("points: 100", "points: 700").replace("points: 10\n", "points: 15\n", 1)


@st.composite
def bodies(draw: st.DrawFn, n: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["video", "video", "quiz", "answer", "profile", "lead", "deal"]))
    at = MONDAY + timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
    body: dict[str, Any] = {
        "id": f"e-{n}",
        "member": draw(st.sampled_from(["ann", "ben", "cy"])),
        "occurred_at": at.isoformat(),
    }
    if kind == "video":
        seconds = draw(st.sampled_from([120, 300, 600]))
        body |= {"type": "video.watched", "properties": {"duration_seconds": seconds}}
    elif kind == "quiz":
        body |= {"type": "quiz.passed", "properties": {"quiz": f"q{n % 3}", "score": 80}}
    elif kind == "answer":
        body |= {"type": "community.answered", "properties": {"thread": f"t{n}"}}
    elif kind == "profile":
        body |= {"type": "profile.completed"}
    elif kind == "lead":
        body |= {"type": "lead.registered", "properties": {"qualified": draw(st.booleans())}}
    else:
        amount = draw(st.integers(1_000, 2_000_000))
        body |= {"type": "deal.won", "properties": {"amount_usd": amount}}
    if draw(st.booleans()):
        body["attributes"] = {"region": draw(st.sampled_from(["NA", "EMEA"]))}
    return body


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[Op], list[int]]:
    """Events, with resends, conflicting resends and reversals (repeated or not) interleaved."""
    ops: list[Op] = []
    sent: list[dict[str, Any]] = []
    for n in range(draw(st.integers(1, 20))):
        body = draw(bodies(n))
        sent.append(body)
        ops.append(("send", body))
        extra = draw(st.sampled_from(["none", "none", "resend", "conflict", "reverse", "publish"]))
        earlier = draw(st.sampled_from(sent))
        if extra == "resend":
            ops.append(("send", earlier))
        elif extra == "conflict":
            ops.append(("send", {**earlier, "occurred_at": MONDAY.isoformat()}))
        elif extra == "reverse":
            ops.append(("reverse", (earlier["id"], draw(st.sampled_from(["fraud", "churned"])))))
        elif extra == "publish":
            ops.append(("publish", draw(st.sampled_from([DEMO_SOURCE, RICHER]))))
    batch_sizes = draw(st.lists(st.integers(1, 8), min_size=1, max_size=5))
    return ops, batch_sizes


def run(store: Store, ops: list[Op], batch_sizes: list[int]) -> list[Any]:
    """Apply ``ops``: events in batches of the given sizes (cycled), reversals between them."""
    results: list[Any] = []
    pending: list[tuple[int, object]] = []
    sizes = cycle(batch_sizes)
    size = next(sizes)

    def flush() -> None:
        nonlocal size
        if pending:
            outcomes = ingest_batch(store, PROGRAM, list(pending), clock=clock_at())
            results.extend((o.position, o.status.value, o.result) for o in outcomes)
            pending.clear()
            size = next(sizes)

    for position, (kind, value) in enumerate(ops):
        if kind == "send":
            pending.append((position, value))
            if len(pending) >= size:
                flush()
            continue
        flush()
        if kind == "publish":
            results.append((position, publish_demo(store, value).version))
            continue
        event_id, reason = value
        try:
            results.append((position, reverse(store, PROGRAM, event_id, reason, clock=clock_at())))
        except Conflict as exc:
            results.append((position, "conflict", exc.field))
    flush()
    return results


def reset(store: Store) -> None:
    with store.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    publish_demo(store)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(stream=streams())
def test_replay_and_single_event_batches_reach_the_state_of_incremental_ingest(
    store: Store, stream: tuple[list[Op], list[int]]
) -> None:
    ops, batch_sizes = stream
    reset(store)
    batched_results = run(store, ops, batch_sizes)
    incremental = projection(store)
    assert_balances_match_ledger(store)

    replay(store, PROGRAM, clock=clock_at())
    assert projection(store) == incremental

    reset(store)
    single_results = run(store, ops, [1])
    assert single_results == batched_results
    assert projection(store) == incremental
