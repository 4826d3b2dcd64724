"""The program file's `integrations.slack` and `integrations.teams` notices: refused at validate
with their path (unknown type, a field the type lacks, a template that does not render), and
rendered from a message's fields; Block Kit and Adaptive Card payloads of the rendered words."""

from __future__ import annotations

from pathlib import Path

import pytest

from accolade.errors import InvalidProgram
from accolade.integrations.notices import slack_blocks, slack_escape, teams_card
from accolade.program.integrations import NOTICE_FIELDS
from accolade.program.loader import load_program
from accolade.service.notices import Rendered, render
from accolade.service.notify import EFFECT_TYPES

DEMO = (Path(__file__).resolve().parents[2] / "examples" / "partner-program.yaml").read_text()


def with_notices(kind: str, notices: str) -> str:
    return DEMO + f"integrations:\n  {kind}:\n    notices:\n{notices}"


def errors_of(source: str) -> list[str]:
    with pytest.raises(InvalidProgram) as caught:
        load_program(source)
    return [str(e) for e in caught.value.errors]


def test_every_outbox_type_has_its_notice_fields():
    assert set(NOTICE_FIELDS) == set(EFFECT_TYPES)


def test_valid_notices_load():
    program = load_program(
        with_notices(
            "slack",
            "      - type: badge.earned\n        text: '*{{ member }}* earned {{ badge }}'\n"
            "      - type: reward.redeemed\n        channel: approvals\n"
            "        when: {status: requested}\n        text: '{{ reward }} for {{ member }}'\n",
        )
    )
    assert program.integrations is not None and program.integrations.slack is not None
    assert [n.channel for n in program.integrations.slack.notices] == ["default", "approvals"]


@pytest.mark.parametrize(
    ("notice", "expected"),
    [
        (
            "      - type: badge.won\n        text: hi\n",
            "integrations.slack.notices[0].type: unknown message type 'badge.won'",
        ),
        (
            "      - type: badge.earned\n        text: '{{ tier }}'\n",
            "integrations.slack.notices[0].text: 'tier' is undefined",
        ),
        (
            "      - type: badge.earned\n        text: '{{ member'\n",
            "integrations.slack.notices[0].text: ",
        ),
        (
            "      - type: tier.changed\n        when: {status: x}\n        text: hi\n",
            "integrations.slack.notices[0].when.status: a tier.changed message has no field",
        ),
        (
            "      - type: tier.changed\n        channel: Sales Team\n        text: hi\n",
            "integrations.slack.notices[0].channel: must be lowercase",
        ),
    ],
)
def test_a_bad_notice_is_refused_with_its_path(notice, expected):
    errors = errors_of(with_notices("slack", notice))
    assert any(e.startswith(expected) or expected in e for e in errors), errors


def test_a_teams_notice_is_checked_too():
    errors = errors_of(
        with_notices("teams", "      - type: tier.changed\n        text: '{{ x }}'\n")
    )
    assert any(e.startswith("integrations.teams.notices[0].text:") for e in errors), errors


def test_a_notice_renders_the_messages_fields_and_follows_its_filter():
    program = load_program(
        with_notices(
            "slack",
            "      - type: reward.redeemed\n        when: {status: [requested]}\n"
            "        title: 'Approve {{ reward }}?'\n"
            "        text: '{{ member }} asks for {{ reward }} ({{ price }} points)'\n"
            "        context: '{{ program }} at {{ timestamp }}'\n",
        )
    )
    assert program.integrations is not None and program.integrations.slack is not None
    config = program.integrations.slack
    data = {"member": "<!channel>", "reward": "mug", "price": 500, "status": "requested"}
    message = {"type": "reward.redeemed", "timestamp": "2026-06-01T12:00:00Z", "data": data}
    [notice] = render(config, "default", message, "Acme", slack_escape)
    assert notice == Rendered(
        title="Approve mug?",
        text="&lt;!channel&gt; asks for mug (500 points)",
        context="Acme at 2026-06-01T12:00:00Z",
    )
    approved = {**message, "data": {**data, "status": "approved"}}
    assert render(config, "default", approved, "Acme") == []
    assert render(config, "other", message, "Acme") == []


def test_slack_gets_block_kit_and_teams_an_adaptive_card():
    notice = Rendered(title="Badge", text="*ann* earned it", context="Acme")
    blocks = slack_blocks([notice])
    assert blocks["blocks"] == [
        {"type": "header", "text": {"type": "plain_text", "text": "Badge"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*ann* earned it"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Acme"}]},
    ]
    assert blocks["text"] == "Badge"
    card = teams_card([notice])
    assert card["type"] == "message"
    [attachment] = card["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    content = attachment["content"]
    assert (content["type"], content["version"]) == ("AdaptiveCard", "1.4")
    assert [b["text"] for b in content["body"]] == ["Badge", "*ann* earned it", "Acme"]
    assert all(b["type"] == "TextBlock" for b in content["body"])
