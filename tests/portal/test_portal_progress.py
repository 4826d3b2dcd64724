"""The progress pages (quests, challenges, badges, leaderboards) through the real app, on
SQLite and PostgreSQL: what a member holds after events, only their own, the opt-out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from accolade.service.programs import publish
from tests.integration.builders import (
    DEMO_SOURCE,
    NOW,
    clock_at,
    event,
    quiz,
    row_counts,
    video,
)

from .builders import Portal, csrf_of, portal_on

# The demo program with quests, challenges and leaderboards (the clock says 1 June 2026).
PROGRESS_SOURCE = (
    DEMO_SOURCE.replace(
        "\ntiers:\n",
        """
  - key: onboarded
    name: Onboarded
    description: Finished getting started.

tiers:
""",
        1,
    )
    + """
quests:
  - key: getting_started
    name: Getting started
    description: Three steps to your first certification.
    steps:
      - {key: profile, name: Complete your profile, action: profile_completed, points: 10}
      - {key: video, name: Watch a training video, action: video_watched, points: 20}
      - {key: quiz, name: Pass a certification quiz, action: quiz_passed, points: 50}
    reward: {points: 100, badge: onboarded, entitlements: {sandbox_access: true}}
  - key: advanced
    name: Advanced track
    requires: {quests: [getting_started]}
    steps:
      - {key: lead, name: Register a qualified lead, action: lead_registered, points: 40}

challenges:
  - key: june_quizzes
    name: June quiz sprint
    starts: 2026-06-01
    ends: 2026-06-30
    goal: {action: quiz_passed, count: 2}
    reward: {points: 300}
  - key: may_videos
    name: May video month
    starts: 2026-05-01
    ends: 2026-05-31
    goal: {action: video_watched, count: 5}
  - key: april_answers
    name: April answers
    starts: 2026-04-01
    ends: 2026-04-30
    goal: {action: community_answer, count: 3}
  - key: july_deals
    name: July deal rush
    starts: 2026-07-01
    ends: 2026-07-31
    goal: {action: deal_won}
    reward: {badge: onboarded}

leaderboards:
  - {key: all_time, name: Hall of fame}
  - {key: weekly, name: Top of the week, window: week}
  - {key: regional, name: Top in your region, window: month, partition: [region]}
"""
)
TODAY = NOW - timedelta(hours=2)  # 06:00 in New York on Monday 1 June
MAY = datetime(2026, 5, 15, 15, 0, tzinfo=UTC)


@contextmanager
def progress_portal(store: Any) -> Iterator[Portal]:
    with portal_on(store) as portal:
        publish(store, PROGRESS_SOURCE, clock=clock_at())
        yield portal


def profile(id: str, member: str = "alice", at: datetime = TODAY) -> dict[str, Any]:
    return event(id, "profile.completed", member, at)


def region(member: str, value: str) -> dict[str, Any]:
    return {
        "id": f"region-{member}",
        "type": "member.updated",
        "member": member,
        "occurred_at": (TODAY - timedelta(days=40)).isoformat(),
        "attributes": {"region": value},
    }


def section(html: str, anchor: str) -> str:
    """The element with id ``anchor``, up to the next section (or list item) of its kind."""
    start = html.index(f'id="{anchor}"')
    tag = html.rfind("<", 0, start)
    name = html[tag + 1 : html.index(" ", tag)]
    return html[start : html.index(f"</{name}>", start)]


def bar_of(html: str, anchor: str) -> int:
    found = re.search(r'class="bar-fill"[^>]*width="(\d+)"', section(html, anchor))
    assert found, f"no bar in #{anchor}"
    return int(found.group(1))


def rows_of(html: str, caption: str) -> list[tuple[str, str, str, bool]]:
    """The rows (rank, name, score, is me) of the table with ``caption``."""
    start = html.index(f"<caption>{caption}")
    table = html[start : html.index("</table>", start)]
    out = []
    for row in re.findall(r"<tr(.*?)</tr>", table, re.DOTALL)[1:]:
        cells = [
            unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.DOTALL)
        ]
        out.append((cells[0], cells[1], cells[2], 'class="me"' in row))
    return out


# --- quests ---------------------------------------------------------------------------------


def test_quests_page_shows_each_step_and_what_the_quest_unlocks(store):
    with progress_portal(store) as portal:
        portal.send(profile("p1"), video("v1", at=TODAY))
        page = portal.browser("alice").get("/portal/quests")
    assert page.status_code == 200, page.text
    quest = section(page.text, "quest-getting_started")
    assert "In progress" in quest and "2 of 3 steps done" in quest
    assert bar_of(page.text, "quest-getting_started") == 66
    assert quest.count('class="step done"') == 2 and quest.count('class="step todo"') == 1
    assert "Next step: <strong>Pass a certification quiz</strong>" in quest
    assert "50 points" in quest and "the badge Onboarded" in quest and "sandbox access" in quest
    locked = section(page.text, "quest-advanced")
    assert "Locked" in locked and "Unlocks after: Getting started" in locked


def test_a_step_completed_through_the_api_moves_the_bar(store):
    with progress_portal(store) as portal:
        portal.send(profile("p1"))
        browser = portal.browser("alice")
        before = bar_of(browser.get("/portal/quests").text, "quest-getting_started")
        portal.send(video("v1", at=TODAY), quiz("q1", at=TODAY))
        after = browser.get("/portal/quests")
    assert (before, bar_of(after.text, "quest-getting_started")) == (33, 100)
    done = section(after.text, "quest-getting_started")
    assert "Completed" in done and "Next step" not in done
    assert "Not started" in section(after.text, "quest-advanced")


def test_home_links_to_the_quest_anchor_on_the_quests_page(store):
    with progress_portal(store) as portal:
        portal.send(profile("p1"))
        browser = portal.browser("alice")
        home = browser.get("/portal/").text
        quests = browser.get("/portal/quests").text
    assert 'href="/portal/quests#quest-getting_started"' in home
    assert 'id="quest-getting_started"' in quests


# --- challenges -----------------------------------------------------------------------------


def test_challenges_page_shows_open_upcoming_and_the_closed_ones_taken_part_in(store):
    with progress_portal(store) as portal:
        portal.send(video("v-may", at=MAY), quiz("q1", at=TODAY))
        page = portal.browser("alice").get("/portal/challenges")
    assert page.status_code == 200, page.text
    june = section(page.text, "challenge-june_quizzes")
    assert "quiz_passed 2 times" in june and "300 points" in june
    assert bar_of(page.text, "challenge-june_quizzes") == 50
    assert "29 days left" in june and "Open until 01 Jul 2026, 00:00" in june  # New York
    assert "July deal rush" in page.text and "Starts 01 Jul 2026" in page.text
    assert bar_of(page.text, "challenge-may_videos") == 20  # closed, and she took part
    assert "challenge-april_answers" not in page.text  # closed, she never counted toward it
    headings = re.findall(r"<h2>(.*?)</h2>", page.text)
    assert headings == ["Open now", "Coming up", "Ended"]


# --- badges ---------------------------------------------------------------------------------


def test_badges_page_shows_earned_badges_with_share_links_and_locked_ones_in_words(store):
    with progress_portal(store) as portal:
        portal.send(quiz("q1", at=TODAY))
        page = portal.browser("alice").get("/portal/badges")
    assert page.status_code == 200, page.text
    earned = section(page.text, "badge-certified_user")
    assert "Certified User" in earned and "Earned 01 Jun 2026, 06:00" in earned
    links = re.findall(r'href="([^"]+)"', earned)
    add = urlsplit(unescape(links[1]))
    assert (add.netloc, add.path) == ("www.linkedin.com", "/profile/add")
    query = {k: v[0] for k, v in parse_qs(add.query).items()}
    assert query["startTask"] == "CERTIFICATION_NAME"
    assert query["name"] == "Certified User"
    assert query["organizationName"] == "Acme Partner Program"
    assert (query["issueYear"], query["issueMonth"]) == ("2026", "6")
    assert len(query["certId"]) == 20 and "alice" not in query["certId"]
    assert query["certUrl"] == f"http://testserver/portal/badges/{query['certId']}"
    assert unescape(links[0]) == query["certUrl"]  # the public badge page
    share = urlsplit(unescape(links[2]))
    assert share.path == "/sharing/share-offsite/"
    assert parse_qs(share.query) == {"url": [query["certUrl"]]}
    locked = page.text[page.text.index('id="locked-title"') :]
    assert "Certified User" not in locked
    assert "Pass a product certification quiz, 5 times in one calendar year" in section(
        page.text, "badge-product_expert"
    )
    assert "all of: Register a qualified lead; Close a registered deal" in locked
    assert "earn 10,000 lifetime points" in locked
    assert "complete the quest Getting started" in section(page.text, "badge-onboarded")


def test_a_member_makes_their_public_badge_pages_private_and_public_again(store):
    with progress_portal(store) as portal:
        portal.send(quiz("q1", at=TODAY))
        browser = portal.browser("alice")
        page = browser.get("/portal/badges")
        public = unescape(
            re.findall(r'href="([^"]+)"', section(page.text, "badge-certified_user"))[0]
        )
        anyone = TestClient(portal.api.client.app)
        shown = anyone.get(public)
        assert shown.status_code == 200 and "Certified User" in shown.text
        assert "Earned by a member of Acme Partner Program" in shown.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        made = browser.post(
            "/portal/badges/privacy",
            data={"csrf": csrf.group(1), "choice": "private"},
            follow_redirects=True,
        )
        assert made.status_code == 200 and "Your badge pages are private now" in made.text
        hidden = anyone.get(public)
        assert hidden.status_code == 404 and "text/html" in hidden.headers["content-type"]
        browser.post("/portal/badges/privacy", data={"csrf": csrf.group(1), "choice": "public"})
        assert anyone.get(public).status_code == 200


def test_a_member_sees_only_their_own_progress(store):
    with progress_portal(store) as portal:
        portal.send(quiz("q-bob", "bob", at=TODAY), profile("p-bob", "bob"), profile("p1"))
        browser = portal.browser("alice")
        badges = browser.get("/portal/badges").text
        quests = browser.get("/portal/quests").text
        challenges = browser.get("/portal/challenges").text
    assert "badge-certified_user" in badges
    assert section(badges, "badge-certified_user").count("Earned") == 0  # locked for alice
    assert bar_of(quests, "quest-getting_started") == 33  # bob's quiz does not count
    assert bar_of(challenges, "challenge-june_quizzes") == 0
    assert "bob" not in badges + quests + challenges


# --- leaderboards ---------------------------------------------------------------------------


def _scores(portal: Portal) -> None:
    portal.send(
        region("alice", "EMEA"),
        region("bob", "EMEA"),
        region("carol", "APAC"),
        quiz("q-alice", "alice", at=TODAY),  # 100 points, and 100 last week: 200
        quiz("q-bob", "bob", at=TODAY),
        lead("l-bob", "bob"),  # 600
        quiz("q-carol", "carol", at=TODAY),
        video("v-carol", "carol", at=TODAY),  # 110
        quiz("q-old", "alice", at=TODAY - timedelta(days=7)),
    )


def lead(id: str, member: str) -> dict[str, Any]:
    return event(id, "lead.registered", member, TODAY, lead=f"l-{id}", qualified=True)


def test_leaderboards_page_shows_the_top_and_the_member_highlighted(store):
    with progress_portal(store) as portal:
        _scores(portal)
        page = portal.browser("alice").get("/portal/leaderboards")
    assert page.status_code == 200, page.text
    mine = page.text[page.text.index('id="mine-title"') : page.text.index('id="board"')]
    assert "Hall of fame" in mine and "Top of the week" in mine and "Top in your region" in mine
    top = rows_of(page.text, "Top of Hall of fame")
    assert [(r, s, me) for r, _, s, me in top] == [
        ("1", "600", False),
        ("2", "200", True),
        ("3", "110", False),
    ]
    assert top[1][1] == "You"
    assert 'aria-current="true"' in page.text
    around = rows_of(page.text, "Around you on Hall of fame")
    assert [r for r, *_ in around] == ["1", "2", "3"] and around[1][3]


def test_the_window_and_partition_switchers_show_another_window_and_region(store):
    with progress_portal(store) as portal:
        _scores(portal)
        browser = portal.browser("alice")
        weekly = browser.get("/portal/leaderboards", params={"board": "weekly"})
        previous = browser.get(
            "/portal/leaderboards", params={"board": "weekly", "window": "previous"}
        )
        regional = browser.get("/portal/leaderboards", params={"board": "regional"})
        apac = browser.get(
            "/portal/leaderboards", params={"board": "regional", "partition": "region:APAC"}
        )
    assert [s for _, _, s, _ in rows_of(weekly.text, "Top of Top of the week")] == [
        "600",
        "110",
        "100",
    ]
    assert "2026-W23" in weekly.text and "window=2026-W22" in unescape(weekly.text)
    assert "window=2026-W23" not in unescape(weekly.text)  # it is "This window"
    assert [(s, me) for _, _, s, me in rows_of(previous.text, "Top of Top of the week")] == [
        ("100", True)
    ]
    assert "2026-W22" in previous.text
    assert [s for _, _, s, _ in rows_of(regional.text, "Top of Top in your region")] == [
        "600",
        "100",  # her quiz of last week was in May
    ]
    assert "region EMEA" in regional.text and "region APAC" in regional.text
    assert [(s, me) for _, _, s, me in rows_of(apac.text, "Top of Top in your region")] == [
        ("110", False)
    ]
    assert "Around you" not in apac.text  # she competes in EMEA


def test_opting_out_and_in_removes_and_returns_the_member_from_boards(store):
    with progress_portal(store) as portal:
        _scores(portal)
        alice, bob = portal.browser("alice"), portal.browser("bob")
        page = alice.get("/portal/leaderboards")
        out = alice.post(
            "/portal/leaderboards/opt",
            data={"csrf": csrf_of(page.text), "choice": "out", "board": "all_time"},
            follow_redirects=False,
        )
        assert out.status_code == 303, out.text
        assert out.headers["location"] == "/portal/leaderboards?board=all_time&done=out"
        hidden = alice.get(out.headers["location"])
        seen_by_bob = rows_of(bob.get("/portal/leaderboards").text, "Top of Hall of fame")
        back = alice.post(
            "/portal/leaderboards/opt",
            data={"csrf": csrf_of(hidden.text), "choice": "in"},
            follow_redirects=False,
        )
        shown = alice.get(back.headers["location"])
        seen_again = rows_of(bob.get("/portal/leaderboards").text, "Top of Hall of fame")
        log = portal.api.client.get("/v1/members/alice", headers=portal.writer).json()
    assert "others no longer see you" in hidden.text
    assert "Show me on leaderboards again" in hidden.text
    assert [n for _, n, _, _ in seen_by_bob] == ["You", "carol"]
    assert "you show on leaderboards again" in shown.text
    assert [n for _, n, _, _ in seen_again] == ["You", "alice", "carol"]
    assert log["attributes"]["leaderboard_opt_out"] is False


def test_an_opt_post_without_or_with_a_wrong_csrf_is_refused_and_stores_nothing(store):
    with progress_portal(store) as portal:
        _scores(portal)
        alice = portal.browser("alice")
        alice.get("/portal/leaderboards")
        before = row_counts(store)
        missing = alice.post("/portal/leaderboards/opt", data={"choice": "out"})
        wrong = alice.post("/portal/leaderboards/opt", data={"choice": "out", "csrf": "x" * 43})
        after = row_counts(store)
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert "form is out of date" in wrong.text
    assert after == before


def test_an_unknown_opt_choice_shows_the_page_with_the_field_and_stores_nothing(store):
    with progress_portal(store) as portal:
        _scores(portal)
        alice = portal.browser("alice")
        token = csrf_of(alice.get("/portal/leaderboards").text)
        before = row_counts(store)
        refused = alice.post("/portal/leaderboards/opt", data={"csrf": token, "choice": "maybe"})
        after = row_counts(store)
    assert refused.status_code == 422
    assert 'role="alert"' in refused.text and "choice: choose out or in" in refused.text
    assert after == before


def test_bad_board_window_or_partition_give_the_page_with_the_field_named(store):
    with progress_portal(store) as portal:
        _scores(portal)
        alice = portal.browser("alice")
        board = alice.get("/portal/leaderboards", params={"board": "nope"})
        window = alice.get("/portal/leaderboards", params={"board": "weekly", "window": "june"})
        all_time = alice.get(
            "/portal/leaderboards", params={"board": "all_time", "window": "previous"}
        )
        partition = alice.get(
            "/portal/leaderboards", params={"board": "regional", "partition": "tier:gold"}
        )
        loose = alice.get("/portal/leaderboards", params={"board": "regional", "partition": "x"})
    assert board.status_code == 404 and "board: no leaderboard &#39;nope&#39;" in board.text
    assert (
        window.status_code == 422 and "window: &#39;june&#39; is not a week window" in window.text
    )
    assert all_time.status_code == 422 and "window: " in all_time.text
    assert partition.status_code == 422 and "partition: " in partition.text
    assert loose.status_code == 422 and "partition: &#39;x&#39; is not name:value" in loose.text
    for page in (board, window, all_time, partition, loose):
        assert "Your boards" in page.text  # the page, with its menu and the member's boards
