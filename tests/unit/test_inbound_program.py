"""The program file's `integrations.inbound` rules: refused at validate with their path when
the move lacks what it needs (a reason; an amount, which HubSpot's webhook never carries)."""

from __future__ import annotations

import pytest

from accolade.errors import InvalidProgram
from accolade.program.loader import load_program
from tests.integration.test_referrals import PROGRAM


def errors_of(rule: str) -> list[str]:
    with pytest.raises(InvalidProgram) as caught:
        load_program(PROGRAM + "integrations:\n  inbound:\n    - " + rule + "\n")
    return [str(e) for e in caught.value.errors]


def test_valid_rules_load():
    program = load_program(
        PROGRAM
        + "integrations:\n  inbound:\n"
        + "    - {source: hubspot, object: deal, property: dealstage, value: x, move: qualify}\n"
        + "    - {source: salesforce, object: Opportunity, property: StageName, value: Won,"
        + " move: win, amount_field: Amount, currency: EUR}\n"
    )
    assert program.integrations is not None
    assert [r.move for r in program.integrations.inbound] == ["qualify", "win"]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            "{source: hubspot, object: deal, property: dealstage, value: x, move: lose}",
            "integrations.inbound[0].reason: a 'lose' move needs a reason",
        ),
        (
            "{source: hubspot, object: deal, property: dealstage, value: x, move: win}",
            "integrations.inbound[0].move: a won deal needs its amount",
        ),
        (
            "{source: salesforce, object: Opportunity, property: S, value: x, move: win}",
            "integrations.inbound[0].amount_field: a 'win' move needs",
        ),
        (
            "{source: salesforce, object: O, property: S, value: x, move: win, amount_field: A}",
            "integrations.inbound[0].currency: an amount needs",
        ),
        (
            "{source: pipedrive, object: deal, property: stage, value: x, move: qualify}",
            "integrations.inbound[0].source",
        ),
        (
            "{source: hubspot, object: deal, property: stage, value: x, move: promote}",
            "integrations.inbound[0].move",
        ),
    ],
)
def test_a_bad_rule_is_refused_with_its_path(rule, expected):
    errors = errors_of(rule)
    assert any(e.startswith(expected) for e in errors), errors
