"""The pending period and expiry as rules on ledger totals (engine/expiry.py), no database."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from accolade.engine.expiry import (
    ExpiryTotals,
    coming,
    cutoffs,
    due,
    given_back,
    pending,
    pending_since,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DAY = 86400


def test_a_reversal_of_an_older_event_leaves_nothing_pending():
    assert pending(-40) == 0
    assert pending(120) == 120


def test_the_pending_period_is_counted_back_from_now():
    assert pending_since(NOW, 14 * DAY) == datetime(2026, 5, 18, tzinfo=UTC)


def test_cutoffs_are_due_now_and_due_by_the_end_of_the_warning():
    assert cutoffs(NOW, 365 * DAY, None) == [datetime(2025, 6, 1, tzinfo=UTC)]
    assert cutoffs(NOW, 365 * DAY, 30 * DAY) == [
        datetime(2025, 6, 1, tzinfo=UTC),
        datetime(2025, 7, 1, tzinfo=UTC),
    ]


def test_spending_takes_the_oldest_points_first():
    # 500 earned a year ago, 300 since; 200 spent: 300 of the old points expire, not 500
    totals = ExpiryTotals(earned=(500, 800), taken=-200, expired=0)
    assert due(totals, balance=600) == 300
    # by the end of the warning, the 300 newer points come due too
    assert coming(totals, balance=600, due_now=300) == 300


def test_nothing_expires_twice():
    totals = ExpiryTotals(earned=(500,), taken=-500, expired=-500)
    assert due(totals, balance=0) == 0


def test_a_reversed_expired_event_gives_back_what_was_taken_twice():
    # 100 earned and expired; the event is reversed (-100 earned): the expiry took 100 that
    # the reversal takes again
    totals = ExpiryTotals(earned=(0,), taken=-100, expired=-100)
    assert given_back(totals) == 100
    assert given_back(ExpiryTotals(earned=(100,), taken=-100, expired=-100)) == 0


totals_strategy = st.builds(
    ExpiryTotals,
    earned=st.tuples(st.integers(-(10**6), 10**6), st.integers(-(10**6), 10**6)),
    taken=st.integers(-(10**6), 0),
    expired=st.integers(-(10**6), 0),
)


@given(totals=totals_strategy, balance=st.integers(0, 10**6))
def test_what_expires_is_never_negative_nor_more_than_the_balance(totals, balance):
    now = due(totals, balance)
    later = coming(totals, balance, now)
    assert 0 <= now <= balance
    assert 0 <= later <= balance - now
    assert given_back(totals) >= 0
