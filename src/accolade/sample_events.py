"""A reproducible stream of partner-program events, for the demo, the examples and the benchmarks."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

REGIONS = ("NA", "EMEA", "APAC", "LATAM")
INDUSTRIES = ("manufacturing", "software", "finance", "healthcare", "retail")
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def generate_events(
    events: int,
    members: int,
    *,
    seed: int = 7,
    start: datetime = START,
    days: int = 120,
    duplicates: float = 0.0,
) -> Iterator[dict[str, Any]]:
    """``events`` events over ``members`` members in ``days`` days, in time order.

    Activity is skewed (a few members do most of it, as in real programs); ``duplicates`` is
    the share of events sent twice, as retrying senders do.
    """
    rng = random.Random(seed)
    companies = max(1, members // 8)
    span = days * 86_400
    step = span / max(events, 1)
    weights = [1.0 / (i + 1) ** 0.6 for i in range(members)]
    picks = rng.choices(range(members), weights=weights, k=events)
    for n, index in enumerate(picks):
        at = start + timedelta(seconds=int(n * step + rng.random() * step))
        company = index % companies
        event: dict[str, Any] = {
            "id": f"evt-{seed}-{n:07d}",
            "member": f"partner-{index:05d}",
            "company": f"company-{company:04d}",
            "team": f"team-{company:04d}-{index % 2}",
            "occurred_at": at.isoformat().replace("+00:00", "Z"),
        }
        kind = rng.random()
        if kind < 0.50:
            event["type"] = "video.watched"
            event["properties"] = {
                "video": f"v{rng.randrange(40)}",
                "duration_seconds": rng.choice((120, 300, 320, 600)),
            }
        elif kind < 0.63:
            event["type"] = "quiz.passed"
            event["properties"] = {"quiz": f"q{rng.randrange(12)}", "score": rng.randrange(70, 101)}
        elif kind < 0.80:
            event["type"] = "community.answered"
            event["properties"] = {"thread": f"t{rng.randrange(5000)}"}
        elif kind < 0.84:
            event["type"] = "profile.completed"
        elif kind < 0.95:
            event["type"] = "lead.registered"
            event["properties"] = {"lead": f"lead-{n}", "qualified": rng.random() < 0.7}
        else:
            event["type"] = "deal.won"
            event["properties"] = {"deal": f"deal-{n}", "amount_usd": rng.randrange(1_000, 200_000)}
        if rng.random() < 0.05:
            event["attributes"] = {
                "region": REGIONS[index % len(REGIONS)],
                "industry": INDUSTRIES[company % len(INDUSTRIES)],
                "role": rng.choice(("sales", "presales", "support")),
            }
        yield event
        if duplicates and rng.random() < duplicates:
            yield event
