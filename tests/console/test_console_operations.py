"""The operations pages: an operator approves or rejects redemptions in bulk and closes the
challenges due, each an audit row naming them; an admin redelivers webhooks; references,
referrals by stage, boards and webhook deliveries are shown. A viewer sees no button, and the
endpoints refuse them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accolade.service import redemptions, webhooks
from accolade.service.adjustments import adjust_points
from accolade.service.audit import list_audit
from accolade.service.ingest import ingest_batch
from accolade.service.members import show
from accolade.service.rewards import redeem
from tests.console.builders import console_on, post
from tests.integration.builders import event, publish_demo

EXAMPLES = Path(__file__).parents[2] / "examples"
STORE = "advocates_store"
# the speaking slot for anybody (not only gold members): a redemption that awaits approval
REWARDS = (
    (EXAMPLES / "rewards.yaml")
    .read_text()
    .replace("    tiers: [gold, platinum]\n    approval: true", "    approval: true")
)


@pytest.fixture
def console(store):
    with console_on(store) as console:
        publish_demo(store, REWARDS)
        publish_demo(store, (EXAMPLES / "onboarding-quest.yaml").read_text())
        reviews = [(i, event(f"rv-{m}", "review.posted", m)) for i, m in enumerate(("ada", "bo"))]
        ingest_batch(store, STORE, reviews, clock=console.api.clock)
        for member in ("ada", "bo"):
            adjust_points(store, STORE, member, 40_000, "seed", clock=console.api.clock)
        yield console


def pending(console, member, rid):
    return redeem(
        console.api.store, STORE, member, "speaker_slot", redemption_id=rid, clock=console.api.clock
    ).redemption_id


def browser(console, role, email=None, program=STORE):
    client = console.browser(role, email)
    client.get(f"/console/switch?program={program}")
    return client


def actions(console, program=STORE):
    return [(e.actor, e.action, e.target) for e in list_audit(console.api.store, program).entries]


def status(console, rid):
    return redemptions.redemption(console.api.store, STORE, rid).status


def test_the_queue_lists_redemptions_awaiting_approval(console):
    rid = pending(console, "ada", "r-1")
    viewer = browser(console, "viewer")

    page = viewer.get("/console/operations")

    assert page.status_code == 200, page.text
    assert rid in page.text
    assert 'name="redemption"' not in page.text  # no checkbox, no button for a viewer
    assert "Approve the chosen" not in page.text


def test_operator_approves_in_bulk_each_audited(console):
    first, second = pending(console, "ada", "r-1"), pending(console, "bo", "r-2")
    operator = browser(console, "operator", "op@example.com")

    done = post(
        operator,
        "/console/operations/redemptions",
        {"redemption": [first, second], "decision": "approve"},
    )

    assert done.status_code == 303, done.text
    assert "The redemptions were approved." in operator.get(done.headers["location"]).text
    assert [status(console, first), status(console, second)] == ["approved", "approved"]
    assert sorted(actions(console)[:2]) == [
        ("op@example.com", "redemption.approved", first),
        ("op@example.com", "redemption.approved", second),
    ]


def test_operator_rejects_and_the_points_come_back(console):
    rid = pending(console, "ada", "r-1")
    before = show(console.api.store, STORE, "ada").balance
    operator = browser(console, "operator", "op@example.com")

    done = post(
        operator,
        "/console/operations/redemptions",
        {"redemption": [rid], "decision": "reject", "note": "no slot left"},
    )

    assert done.status_code == 303, done.text
    assert status(console, rid) == "rejected"
    assert show(console.api.store, STORE, "ada").balance == before + 15_000
    assert actions(console)[0] == ("op@example.com", "redemption.rejected", rid)


def test_a_decision_with_nothing_ticked_names_the_field(console):
    pending(console, "ada", "r-1")
    operator = browser(console, "operator")

    refused = post(operator, "/console/operations/redemptions", {"decision": "approve"})

    assert refused.status_code == 422
    assert "<strong>redemption</strong>:" in refused.text


def test_a_decided_redemption_is_a_conflict_and_names_it(console):
    rid = pending(console, "ada", "r-1")
    redemptions.decide(console.api.store, STORE, rid, "reject", by="x", clock=console.api.clock)
    operator = browser(console, "operator")

    refused = post(
        operator, "/console/operations/redemptions", {"redemption": [rid], "decision": "approve"}
    )

    assert refused.status_code == 409
    assert "<strong>status</strong>:" in refused.text


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/console/operations/redemptions", {"redemption": ["r-1"], "decision": "approve"}),
        ("/console/operations/challenges/close", {}),
    ],
)
def test_a_viewer_is_refused_the_operators_changes(console, path, form):
    rid = pending(console, "ada", "r-1")
    viewer = browser(console, "viewer")

    refused = post(viewer, path, form)

    assert refused.status_code == 403
    assert status(console, rid) == "requested"
    assert actions(console) == []


def test_operator_closes_the_challenges_due_audited(console):
    operator = browser(console, "operator", "op@example.com", program="onboarding")

    page = operator.get("/console/operations").text
    assert "due to close" in page
    done = post(operator, "/console/operations/challenges/close", {})

    assert done.status_code == 303, done.text
    after = operator.get(done.headers["location"]).text
    assert "The challenges due were closed." in after and "due to close" not in after
    assert actions(console, "onboarding")[0] == (
        "op@example.com",
        "challenge.closed",
        "may_quiz_sprint",
    )


def test_references_and_referrals_are_shown(console):
    viewer = browser(console, "viewer")

    page = viewer.get("/console/operations?stage=won")

    assert "No reference request yet." in page.text
    assert "No referral at this stage." in page.text
    assert viewer.get("/console/operations?stage=nowhere").status_code == 422


def test_webhooks_page_lists_subscriptions_and_only_an_admin_may_redeliver(console):
    webhooks.subscribe(console.api.store, STORE, "https://example.com/hook", "*")
    operator = browser(console, "operator")
    admin = browser(console, "admin")

    page = operator.get("/console/operations/webhooks")

    assert page.status_code == 200
    assert "https://example.com/hook" in page.text
    assert (
        post(operator, "/console/operations/webhooks/redeliver", {"delivery_id": "1"}).status_code
        == 403
    )
    missing = post(admin, "/console/operations/webhooks/redeliver", {"delivery_id": "999"})
    assert missing.status_code == 404
    assert "<strong>delivery_id</strong>" in missing.text


def test_a_board_page_shows_its_standings(console):
    publish_demo(console.api.store, (EXAMPLES / "leaderboards.yaml").read_text())
    key = re.search(r"^key: (\S+)", (EXAMPLES / "leaderboards.yaml").read_text(), re.M).group(1)
    viewer = browser(console, "viewer", program=key)

    page = viewer.get("/console/operations").text
    board = re.search(r"^  - key: (\S+)", (EXAMPLES / "leaderboards.yaml").read_text(), re.M).group(
        1
    )

    assert "Leaderboards" in page
    assert viewer.get(f"/console/operations/boards/{board}").status_code == 200


def test_operator_marks_approved_redemptions_fulfilled(console):
    rid = pending(console, "ada", "r-1")
    redemptions.decide(console.api.store, STORE, rid, "approve", by="x", clock=console.api.clock)
    operator = browser(console, "operator", "op@example.com")

    done = post(
        operator, "/console/operations/redemptions", {"redemption": [rid], "decision": "fulfil"}
    )

    assert done.status_code == 303, done.text
    assert status(console, rid) == "fulfilled"
    assert actions(console)[0] == ("op@example.com", "redemption.fulfilled", rid)
