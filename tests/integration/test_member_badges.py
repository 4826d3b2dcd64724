"""A member's badges as the portal and the API read them: earned with their dates and periods,
newest first, and the rest locked with their criteria in words."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accolade.errors import NotFound
from accolade.service.badges import member_badges
from accolade.store.unit_of_work import Store

from .builders import MONDAY, PROGRAM, deal, lead, publish_demo, quizzes, send


def test_earned_badges_come_newest_first_with_their_periods(store: Store) -> None:
    publish_demo(store)
    send(
        store,
        *quizzes(5),
        lead("l1", at=MONDAY + timedelta(days=1)),
        deal("d1", at=MONDAY + timedelta(days=2)),
    )
    badges = member_badges(store, PROGRAM, "alice")
    assert (badges.program, badges.program_name) == ("partner", "Acme Partner Program")
    assert [(b.key, b.period) for b in badges.earned] == [
        ("deal_maker", ""),
        ("product_expert", "2026"),
        ("certified_user", ""),
    ]
    assert badges.earned[-1].awarded_at == MONDAY
    assert badges.earned[1].criteria == (
        "Pass a product certification quiz, 5 times in one calendar year"
    )


def test_locked_badges_say_how_they_are_earned_in_the_program_order(store: Store) -> None:
    publish_demo(store)
    send(store, *quizzes(1))
    locked = member_badges(store, PROGRAM, "alice").locked
    assert [(b.key, b.criteria) for b in locked] == [
        ("product_expert", "Pass a product certification quiz, 5 times in one calendar year"),
        ("top_contributor", "Answer a question in the partner community, 10 times within 30 days"),
        ("deal_maker", "all of: Register a qualified lead; Close a registered deal"),
        ("high_achiever", "earn 10,000 lifetime points"),
    ]
    assert locked[-1].points == 500


def test_a_member_the_program_lacks_is_not_found(store: Store) -> None:
    publish_demo(store)
    with pytest.raises(NotFound) as raised:
        member_badges(store, PROGRAM, "nobody")
    assert raised.value.field == "member"
