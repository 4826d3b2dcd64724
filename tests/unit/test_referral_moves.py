"""A referral's state machine, without a database: which move may follow which, what a move
sends to the referring member and what it takes back."""

from __future__ import annotations

import pytest

from accolade.engine.referrals import (
    STAGES,
    check_move,
    require_what_it_needs,
    stages_taken_back,
    stages_to_send,
    status_after,
)
from accolade.errors import Conflict, InvalidInput


def test_each_move_leads_to_its_status_and_an_unknown_one_is_named():
    assert [status_after(m) for m in ("accept", "qualify", "opportunity", "win")] == [
        "accepted",
        "qualified",
        "opportunity",
        "won",
    ]
    with pytest.raises(InvalidInput) as raised:
        status_after("promote")
    assert raised.value.field == "move" and "accept" in raised.value.message


@pytest.mark.parametrize(
    ("move", "has_amount", "has_reason", "field"),
    [
        ("win", False, True, "amount"),
        ("lose", True, False, "reason"),
        ("disqualify", True, False, "reason"),
    ],
)
def test_a_move_without_what_it_needs_names_the_field(move, has_amount, has_reason, field):
    with pytest.raises(InvalidInput) as raised:
        require_what_it_needs(move, has_amount=has_amount, has_reason=has_reason)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("status", "target"),
    [
        ("submitted", "won"),
        ("qualified", "opportunity"),
        ("won", "lost"),
        ("won", "disqualified"),
        ("lost", "disqualified"),
        ("opportunity", "lost"),
    ],
)
def test_allowed_moves_pass(status, target):
    check_move("r-1", status, None, target)


@pytest.mark.parametrize(
    ("status", "target", "says"),
    [
        ("duplicate", "accepted", "duplicate of 'r-0'"),
        ("disqualified", "won", "is disqualified"),
        ("lost", "won", "is lost"),
        ("won", "opportunity", "won already"),
        ("opportunity", "accepted", "does not go back to accepted"),
    ],
)
def test_forbidden_moves_are_conflicts_on_status(status, target, says):
    with pytest.raises(Conflict) as raised:
        check_move("r-1", status, "r-0", target)
    assert raised.value.field == "status" and says in raised.value.message


def test_a_jump_sends_every_stage_it_skips_and_a_closing_move_sends_none():
    assert stages_to_send("submitted", "won") == ["accepted", "qualified", "opportunity", "won"]
    assert stages_to_send("qualified", "opportunity") == ["opportunity"]
    assert stages_to_send("accepted", "lost") == []
    assert stages_to_send("opportunity", "disqualified") == []


def test_disqualifying_takes_back_every_stage_losing_only_the_win():
    assert stages_taken_back("disqualified") == STAGES
    assert stages_taken_back("lost") == ("won",)
    assert stages_taken_back("qualified") == ()
