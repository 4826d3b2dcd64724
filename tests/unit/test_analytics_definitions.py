"""The `analytics:` section of a program file: defaults, and every name checked with its path."""

from __future__ import annotations

import textwrap

import pytest

from accolade.errors import InvalidProgram
from accolade.program.loader import load_program

BASE = """
key: p
name: P
actions:
  - {key: invited, points: 0}
  - {key: quiz_passed, points: 100}
  - {key: lead_qualified, points: 500}
badges:
  - {key: certified, name: Certified, when: {action: quiz_passed}}
quests:
  - key: onboarding
    name: Onboarding
    steps: [{key: quiz, name: Pass the quiz, action: quiz_passed}]
"""


def errors_of(section: str) -> list[str]:
    with pytest.raises(InvalidProgram) as caught:
        load_program(BASE + textwrap.dedent(section))
    return [str(e) for e in caught.value.errors]


def test_a_program_without_analytics_reports_with_the_defaults():
    assert load_program(BASE).analytics is None


def test_every_name_in_the_analytics_section_is_checked_with_its_path():
    errors = errors_of(
        """
        analytics:
          invited: [invite]
          activated: ["quest:onboardng", "badge:*", "challenge:launch"]
          active: ["action:quiz_passed", "badge:certifed"]
          qualified: [lead_qualifed]
          pipeline: {property: deal, currency: EUR, won: [deal_won]}
        """
    )
    assert errors == [
        "analytics.invited[0]: unknown action 'invite' (did you mean 'invited'?)",
        "analytics.qualified[0]: unknown action 'lead_qualifed' (did you mean 'lead_qualified'?)",
        "analytics.activated[0]: unknown quest 'onboardng' (did you mean 'onboarding'?)",
        "analytics.activated[2]: unknown challenge 'launch'",
        "analytics.active[1]: unknown badge 'certifed' (did you mean 'certified'?)",
        "analytics.pipeline.won[0]: unknown action 'deal_won'",
    ]


@pytest.mark.parametrize(
    ("section", "error"),
    [
        (
            "analytics: {activated: ['lesson:x']}",
            "analytics.activated[0]: 'lesson:x' is not a milestone",
        ),
        ("analytics: {active: []}", "analytics.active: must not be empty"),
        (
            "analytics: {pipeline: {property: deal, currency: euro}}",
            "analytics.pipeline.currency: 'euro' is not an ISO 4217 currency code",
        ),
        ("analytics: {qualfied: [lead_qualified]}", "analytics.qualfied"),
    ],
)
def test_a_malformed_analytics_section_names_the_field(section, error):
    assert any(e.startswith(error) for e in errors_of(section)), errors_of(section)


@pytest.mark.parametrize(
    "section",
    [
        "",
        "analytics: {invited: [invited]}",
        "analytics: {activated: ['action:quiz_passed']}",
        "analytics: {invited: [invited], activated: ['action:*']}",
        "analytics: {invited: [invited], activated: ['badge:certified', 'quest:onboarding']}",
        "analytics: {invited: [invited], activated: ['action:quiz_passed', 'badge:*'], "
        "qualified: [lead_qualified]}",
    ],
)
def test_the_firsts_kept_are_the_event_types_the_reports_read_first(section: str) -> None:
    # what ingest keeps in the firsts rollup (program.analytics.firsts_types) is what the
    # reports ask of it: invited, activated and qualified as service/analytics reads them
    from accolade.program.analytics import Analytics, firsts_types
    from accolade.service.analytics import actions, milestones

    program = load_program(BASE + section)
    defs = program.analytics or Analytics()
    read = [
        actions(program, defs.invited) if defs.invited else None,
        milestones(program, defs.activated),
        actions(program, defs.qualified),
    ]
    kept = firsts_types(program.analytics, {a.key: a.event_type for a in program.actions})
    if any(m is None or m.any_event for m in read):
        assert kept is None
    else:
        assert kept == {t for m in read if m is not None for t in m.event_types}
