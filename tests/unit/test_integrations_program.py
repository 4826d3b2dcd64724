"""The program file's `integrations.hubspot` mapping: refused at validate with its path when
it names a value, dimension or CRM field no assessment gives; turned into HubSpot text."""

from __future__ import annotations

from pathlib import Path

import pytest

from accolade.errors import InvalidProgram
from accolade.program.integrations import HubSpot
from accolade.program.loader import load_program
from accolade.service.crm import lead_properties

EXAMPLE = (
    Path(__file__).resolve().parents[2] / "examples" / "readiness-assessment.yaml"
).read_text()


def errors_of(mapping: str) -> list[str]:
    with pytest.raises(InvalidProgram) as caught:
        load_program(EXAMPLE + mapping)
    return [str(e) for e in caught.value.errors]


def test_a_valid_mapping_loads():
    program = load_program(
        EXAMPLE
        + "integrations:\n  hubspot:\n    lead_properties:\n"
        + "      segment: accolade_segment\n      scores.fit: accolade_fit\n"
        + "      fields.budget_status: budget\n"
    )
    assert program.integrations is not None
    hubspot = program.integrations.hubspot
    assert hubspot is not None and hubspot.lead_properties["scores.fit"] == "accolade_fit"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("segmnt", "integrations.hubspot.lead_properties.segmnt: unknown value 'segmnt'"),
        ("scores.speed", "integrations.hubspot.lead_properties.scores.speed: no assessment has"),
        ("fields.shoe_size", "integrations.hubspot.lead_properties.fields.shoe_size: no "),
    ],
)
def test_an_unknown_value_is_refused_with_its_path(value, expected):
    errors = errors_of(f"integrations:\n  hubspot:\n    lead_properties:\n      {value}: x_prop\n")
    assert any(e.startswith(expected) for e in errors), errors


def test_a_property_that_is_not_a_hubspot_name_is_refused_with_its_path():
    errors = errors_of("integrations:\n  hubspot:\n    lead_properties:\n      segment: Bad Name\n")
    assert any("integrations.hubspot.lead_properties.segment" in e for e in errors), errors


def test_a_property_written_twice_is_refused():
    errors = errors_of(
        "integrations:\n  hubspot:\n    lead_properties:\n      segment: same\n      level: same\n"
    )
    assert any("property 'same' is written by 'segment' already" in e for e in errors), errors


def test_values_become_hubspot_text_and_mappings_win_over_crm_fields():
    config = HubSpot(lead_properties={"segment": "budget_status", "scores.fit": "fit"})
    data = {
        "segment": "hot",
        "scores": {"fit": 7},
        "sales_note": None,
        "fields": {"budget_status": "approved", "use_cases": ["bi", "ml"], "sponsor": True},
    }
    assert lead_properties(config, data) == {
        "budget_status": "hot",
        "use_cases": "bi;ml",
        "sponsor": "true",
        "fit": "7",
    }
