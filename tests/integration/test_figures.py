"""The console's kept figures (service/figures.py): served again while the log's high-water
mark stands, served stale for a while once it has moved while a fresh report is computed in
the background, computed in the request when too old, asked fresh, or never kept."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

import pytest

from accolade.service import analytics
from accolade.service.figures import Figures
from accolade.service.programs import publish, rollback
from accolade.service.reverse import reverse
from tests.integration.builders import (
    DEMO_SOURCE,
    PROGRAM,
    clock_at,
    demo_with,
    publish_demo,
    send,
    video,
)


@dataclass
class Counter:
    """A report that says how many times it was computed."""

    calls: int = 0
    fail: bool = False
    seen: list[int] = field(default_factory=list)

    def __call__(self) -> int:
        if self.fail:
            raise RuntimeError("the database went away")
        self.calls += 1
        return self.calls


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def program(store):
    publish_demo(store, DEMO_SOURCE + '\nanalytics:\n  active: ["action:*"]\n')
    send(store, video("v1"))
    return store


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def kept(program, ticks):
    figures = Figures(program, max_age=60, clock=clock_at(), monotonic=ticks)
    yield figures
    figures.close()


def test_a_report_is_kept_while_the_log_has_not_moved(kept):
    report = Counter()
    first = kept.get(PROGRAM, "k", report)
    again = kept.get(PROGRAM, "k", report)
    assert (first.value, again.value, report.calls) == (1, 1, 1)
    assert again.current and again.computed_at == clock_at()()


def test_once_the_log_moves_the_kept_report_is_served_stale_and_refreshed_beside(kept, program):
    report = Counter()
    kept.get(PROGRAM, "k", report)
    send(program, video("v2"))
    stale = kept.get(PROGRAM, "k", report)
    assert (stale.value, stale.current) == (1, False)
    kept.wait()
    fresh = kept.get(PROGRAM, "k", report)
    assert (fresh.value, fresh.current, report.calls) == (2, True, 2)


def test_a_report_older_than_max_age_is_computed_in_the_request(kept, program, ticks):
    report = Counter()
    kept.get(PROGRAM, "k", report)
    send(program, video("v2"))
    ticks.now += 61
    found = kept.get(PROGRAM, "k", report)
    assert (found.value, found.current) == (2, True)


def test_max_age_zero_recomputes_whenever_the_log_has_moved(program, ticks):
    figures = Figures(program, max_age=0, monotonic=ticks)
    report = Counter()
    figures.get(PROGRAM, "k", report)
    assert figures.get(PROGRAM, "k", report).value == 1
    send(program, video("v2"))
    ticks.now += 0.001
    assert figures.get(PROGRAM, "k", report).value == 2


def test_fresh_computes_again_though_the_log_stands(kept):
    report = Counter()
    kept.get(PROGRAM, "k", report)
    assert kept.get(PROGRAM, "k", report, fresh=True).value == 2
    assert kept.get(PROGRAM, "k", report).value == 2


def test_an_error_is_raised_and_nothing_kept(kept):
    report = Counter(fail=True)
    with pytest.raises(RuntimeError):
        kept.get(PROGRAM, "k", report)
    report.fail = False
    assert kept.get(PROGRAM, "k", report).value == 1


def test_a_refresh_that_fails_keeps_the_report_it_had(kept, program, caplog):
    report = Counter()
    kept.get(PROGRAM, "k", report)
    send(program, video("v2"))
    report.fail = True
    with caplog.at_level(logging.ERROR, logger="accolade.service.figures"):
        assert kept.get(PROGRAM, "k", report).value == 1
        kept.wait()
    assert "could not be computed" in caplog.text
    stale = kept.get(PROGRAM, "k", report)
    assert (stale.value, stale.current) == (1, False)


def test_the_least_recently_used_report_goes_first(program):
    figures = Figures(program, max_age=60, size=2)
    reports = {k: Counter() for k in "abc"}
    for k in "abc":
        figures.get(PROGRAM, k, reports[k])
    figures.get(PROGRAM, "b", reports["b"])
    figures.get(PROGRAM, "a", reports["a"])
    assert [reports[k].calls for k in "abc"] == [2, 1, 1]


def test_warm_computes_in_the_background_only_what_is_not_current(kept):
    report = Counter()
    kept.warm(PROGRAM, "k", report)
    kept.wait()
    assert report.calls == 1
    kept.warm(PROGRAM, "k", report)
    kept.wait()
    assert (report.calls, kept.get(PROGRAM, "k", report).value) == (1, 1)


def test_the_mark_moves_with_every_change_a_figure_can_depend_on(kept, program):
    marks = [kept.mark(PROGRAM)]

    def moved() -> bool:
        marks.append(kept.mark(PROGRAM))
        return marks[-1] != marks[-2]

    assert not moved()
    send(program, video("v2"))
    assert moved()  # a new event
    reverse(program, PROGRAM, "v2", "test", clock=clock_at())
    assert moved()  # its reversal
    publish(program, demo_with("name: Acme", "name: Renamed Acme"), clock=clock_at())
    assert moved()  # a new active version
    rollback(program, PROGRAM, 1, clock=clock_at())
    assert moved()  # the former version again


def test_kept_figures_equal_a_computation_while_the_mark_stands(kept, program):
    """What the console shows from the kept report is what the service computes."""
    q = (date(2026, 1, 1), date(2026, 6, 30))

    def compute() -> analytics.Report:
        return analytics.report(program, PROGRAM, "active", *q, "month")

    kept.get(PROGRAM, ("active",), compute)
    assert kept.get(PROGRAM, ("active",), compute).value.rows == compute().rows
