"""The portal as a member's browser meets it: `accolade serve`'s app on a real socket (uvicorn in
a thread, on loopback), on a fresh database with the demo program grown to every page (a quest,
a challenge, streaks, stages, leaderboards, rewards, referrals and references), an API key that
can do everything, members with a history, and the links a host app would hand them.

The server's clock is injected and starts at a fixed time, so the pages (and their screenshots)
are the same on every run, and a link's expiry is reached by moving the clock, not by sleeping.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from playwright.sync_api import Page, Response

from accolade.api.app import create_app
from accolade.service.keys import SCOPES, create_key
from accolade.service.programs import publish
from accolade.settings import Settings
from accolade.store.unit_of_work import Store
from tests.e2e.builders import TEST_SECRET_KEY, Clock
from tests.integration.builders import DEMO_SOURCE

PROGRAM = "partner"
# Monday 1 June 2026, 08:00 in New York (the program's zone): inside the June challenge.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

# The demo program (examples/partner-program.yaml) with a section for every portal page.
_ACTIONS = """\
  - {key: project_logged, event: project.logged, name: Log a customer project, points: 40}
  - {key: referral_submitted, event: referral.submitted, points: 50}
  - {key: referral_qualified, event: referral.qualified, points: 500}
  - {key: reference_call, event: reference.completed, points: 300}
"""
_BADGES = """\
  - key: partner_ready
    name: Partner Ready
    description: Finished partner onboarding.
  - key: steady_learner
    name: Steady Learner
    description: Four weeks of training in a row.
"""
_SECTIONS = """
quests:
  - key: onboarding
    name: Partner onboarding
    description: Four steps to your first registered lead.
    steps:
      - {key: profile, name: Complete your partner profile, action: profile_completed, points: 20}
      - {key: first_video, name: Watch a training video, action: video_watched, points: 20}
      - {key: certification, name: Pass a certification quiz, action: quiz_passed, points: 50}
      - {key: first_lead, name: Register a qualified lead, action: lead_registered, points: 100}
    reward: {badge: partner_ready, points: 100}
challenges:
  - key: june_sprint
    name: June certification sprint
    description: Pass three certification quizzes in June.
    starts: 2026-06-01
    ends: 2026-06-30
    goal: {action: quiz_passed, count: 3}
    reward: {points: 300}
streaks:
  - key: weekly_learner
    name: Weekly learner
    action: video_watched
    period: week
    grace: 1
    milestones:
      - {length: 4, points: 100, badge: steady_learner}
stages:
  - key: registered
    name: Registered
    next_step: Pass a certification quiz to become a certified partner.
  - key: certified
    name: Certified
    when: {action: quiz_passed}
    next_step: Register a qualified lead to become an active seller.
  - key: selling
    name: Selling
    when: {action: lead_registered}
leaderboards:
  - {key: all_time, name: Hall of fame}
  - {key: this_month, name: Top partners this month, window: month}
  - {key: regional, name: Top partners in your region, window: quarter, partition: [region]}
rewards:
  - key: gift_card
    name: 25 USD gift card
    description: A code to use at once.
    price: 500
    fulfilment: code
    limit: {count: 2, per: month}
  - key: tshirt
    name: Partner T-shirt
    price: 1500
    stock: 50
    limit: {count: 1}
  - key: trees
    name: Plant ten trees
    price: 1000
    fulfilment: donation
  - key: summit_pass
    name: Partner summit pass
    price: 20000
    tiers: [gold, platinum]
    approval: true
references:
  match: [region, industry]
  limits:
    - {count: 2, within: 30d}
"""
PORTAL_SOURCE = (
    DEMO_SOURCE.replace("actions:\n", "actions:\n" + _ACTIONS, 1).replace(
        "badges:\n", "badges:\n" + _BADGES, 1
    )
    + _SECTIONS
)
CODES = [f"GIFT-{n:04d}" for n in range(1, 41)]


@dataclass
class Site:
    """A running portal: its address, its store and clock, and an API client with a key of
    every scope (what the host application holds)."""

    url: str
    store: Store
    clock: Clock
    api: httpx.Client

    def link(self, member: str, ttl_seconds: int | None = None) -> str:
        """The link a host app hands its member: http://.../portal/enter?token=mt_..."""
        body = {"ttl_seconds": ttl_seconds} if ttl_seconds else None
        minted = self.api.post(f"/v1/members/{member}/token", json=body)
        assert minted.status_code == 200, minted.text
        return f"{self.url}/portal/enter?token={minted.json()['token']}"

    def send(self, *events: dict[str, Any]) -> None:
        """Events from the host product, through the API, as they would arrive."""
        sent = self.api.post("/v1/events", json=list(events))
        assert sent.status_code == 200, sent.text
        results = sent.json()["results"]
        assert all(r["status"] == "accepted" for r in results), sent.text

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        done = self.api.post(path, json=body)
        assert done.status_code in (200, 201), done.text
        found: dict[str, Any] = done.json()
        return found


def event(
    id: str, type: str, member: str, days_ago: float = 0, **properties: Any
) -> dict[str, Any]:
    """An event of ``member``, ``days_ago`` days before NOW."""
    at = NOW - timedelta(days=days_ago, minutes=5)
    return {
        "id": id,
        "type": type,
        "member": member,
        "occurred_at": at.isoformat(),
        "properties": properties,
    }


FIELD = ("emil", "fatima", "goran", "hana", "ivan", "jun", "kofi", "lena", "mateo", "nadia")


def seed(site: Site) -> None:
    """Members with a history every page can show: alice (the one the screenshots show), a few
    others to rank her against, a referral of hers and a reference request that asks her."""
    attributes = {
        "alice": {"region": "EMEA", "industry": "fintech"},
        "bob": {"region": "EMEA", "industry": "retail"},
        "chen": {"region": "APAC", "industry": "fintech"},
        "dora": {"region": "EMEA", "industry": "health"},
    }
    first = [
        {**event(f"{m}-profile", "profile.completed", m, 40), "attributes": a}
        for m, a in attributes.items()
    ]
    alice = [
        *(
            event(f"alice-video-{w}", "video.watched", "alice", 7 * w + 1, duration_seconds=300)
            for w in range(5)
        ),
        event("alice-quiz-1", "quiz.passed", "alice", 20, quiz="core", score=92),
        event("alice-quiz-2", "quiz.passed", "alice", 0.2, quiz="security", score=88),
        *(event(f"alice-answer-{n}", "community.answered", "alice", n + 2) for n in range(6)),
        event("alice-deal-1", "deal.won", "alice", 12, amount_usd=240_000),
    ]
    others = [
        event("bob-lead-1", "lead.registered", "bob", 10, lead="b1", qualified=True),
        event("bob-deal-1", "deal.won", "bob", 9, amount_usd=410_000),
        event("bob-quiz-1", "quiz.passed", "bob", 3, quiz="core", score=81),
        event("chen-quiz-1", "quiz.passed", "chen", 2, quiz="core", score=95),
        event("chen-video-1", "video.watched", "chen", 1, duration_seconds=420),
        event("dora-video-1", "video.watched", "dora", 1, duration_seconds=300),
    ]
    # a field to rank her in: n quizzes and deals of n * 30,000 USD
    field = [
        event(f"{m}-{kind}-{k}", kind, m, 30 - 2 * k - n / 10, quiz=f"q{k}", amount_usd=30_000 * n)
        for n, m in enumerate(FIELD, start=1)
        for k in range(n % 4)
        for kind in ("quiz.passed", "deal.won")
    ]
    site.send(*sorted([*first, *alice, *others, *field], key=lambda e: e["occurred_at"]))
    site.post("/v1/rewards/gift_card/codes", {"codes": CODES})
    site.post("/v1/rewards/gift_card/redemptions", {"member": "alice", "redemption_id": "seed-1"})
    site.post(
        "/v1/referrals",
        {
            "member": "alice",
            "prospect": "Globex Corporation",
            "domain": "globex.com",
            "referral_id": "globex-1",
        },
    )
    request = site.post(
        "/v1/references/requests",
        {
            "criteria": {"region": "EMEA"},
            "requested_by": "sam.sales",
            "note": "Globex renewal: a 20-minute call about onboarding.",
            "request_id": "opp-globex",
        },
    )
    site.post(f"/v1/references/requests/{request['request_id']}/asks", {"members": ["alice"]})


def free_port_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve(store: Store) -> Iterator[Site]:
    """The app `accolade serve` runs, on ``store`` (migrated, empty), listening on a free port
    of 127.0.0.1 until the block ends; the program published and the members seeded."""
    clock = Clock(NOW)
    publish(store, PORTAL_SOURCE, clock=clock)
    key = create_key(store, PROGRAM, tuple(SCOPES), "browser tests", clock=clock)
    app = create_app(
        Settings(secret_key=TEST_SECRET_KEY, rate_limit_per_minute=0),  # type: ignore[arg-type]
        store,
        clock=clock,
        deliver_webhooks=False,
    )
    sock = free_port_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(500):
            if server.started:
                break
            thread.join(0.01)
        assert server.started, "the portal's server did not start"
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {key.key}"}, timeout=30
        ) as api:
            site = Site(url, store, clock, api)
            seed(site)
            yield site
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


# Every page of the portal a member opens, by the name its screenshots carry: its path under
# the site; {entry} is the newest entry of the member's history.
PAGES = {
    "home": "/portal/",
    "quests": "/portal/quests",
    "challenges": "/portal/challenges",
    "badges": "/portal/badges",
    "leaderboards": "/portal/leaderboards",
    "history": "/portal/history",
    "entry": "/portal/history/{entry}",
    "rewards": "/portal/rewards",
    "redeem": "/portal/rewards/gift_card/redeem",
    "referrals": "/portal/referrals",
    "references": "/portal/references",
    "not-found": "/portal/no-such-page",
}


def open_page(page: Page, site: Site, name: str) -> Response:
    """Open the page ``name`` of PAGES in a signed-in browser page; its answer (200 asserted
    unless it is the page that is not found)."""
    path = PAGES[name]
    if "{entry}" in path:
        page.goto(site.url + PAGES["history"])
        newest = page.locator('a[href^="/portal/history/"]').first.get_attribute("href")
        assert newest, "the history shows no entry to open"
        path = newest
    answer = page.goto(site.url + path)
    assert answer is not None, path
    assert answer.status == (404 if name == "not-found" else 200), f"{path}: {answer.status}"
    return answer
