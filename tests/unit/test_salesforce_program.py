"""The program file's `integrations.salesforce` mapping: refused at validate with its path when it
names a value no assessment gives, a field that is not a Salesforce API name, or writes the
external id field or one field twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from accolade.errors import InvalidProgram
from accolade.program.loader import load_program

EXAMPLE = (
    Path(__file__).resolve().parents[2] / "examples" / "readiness-assessment.yaml"
).read_text()
HEAD = "integrations:\n  salesforce:\n    external_id_field: Accolade_Email__c\n"


def errors_of(mapping: str) -> list[str]:
    with pytest.raises(InvalidProgram) as caught:
        load_program(EXAMPLE + HEAD + mapping)
    return [str(e) for e in caught.value.errors]


def test_a_valid_mapping_loads():
    program = load_program(
        EXAMPLE
        + HEAD
        + "    object: Contact\n    lead_fields:\n      segment: Accolade_Segment__c\n"
        + "    attribute_fields:\n      last_name: LastName\n"
    )
    assert program.integrations is not None
    salesforce = program.integrations.salesforce
    assert salesforce is not None
    assert (salesforce.object, salesforce.key, salesforce.crm_fields) == ("Contact", "email", False)
    assert salesforce.attribute_fields == {"last_name": "LastName"}


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        (
            "    lead_fields:\n      segmnt: Segment__c\n",
            "integrations.salesforce.lead_fields.segmnt: unknown value 'segmnt'",
        ),
        (
            "    lead_fields:\n      scores.speed: Speed__c\n",
            "integrations.salesforce.lead_fields.scores.speed: no assessment has",
        ),
        (
            "    lead_fields:\n      segment: Accolade_Email__c\n",
            "integrations.salesforce.lead_fields.segment: 'Accolade_Email__c' is the external id",
        ),
        (
            "    lead_fields:\n      segment: Same__c\n      level: Same__c\n",
            "integrations.salesforce.lead_fields.level: property 'Same__c' is written",
        ),
        (
            "    lead_fields:\n      segment: Segment__c\n"
            "    attribute_fields:\n      seg: Segment__c\n",
            "integrations.salesforce.attribute_fields.seg: field 'Segment__c' is written by",
        ),
        ("    lead_fields:\n      segment: 'Bad Name'\n", "integrations.salesforce.lead_fields"),
        ("    object: Account\n", "integrations.salesforce.object"),
    ],
)
def test_a_bad_mapping_is_refused_with_its_path(mapping, expected):
    errors = errors_of(mapping)
    assert any(e.startswith(expected) for e in errors), errors


def test_the_external_id_field_is_required():
    with pytest.raises(InvalidProgram) as caught:
        load_program(EXAMPLE + "integrations:\n  salesforce:\n    object: Lead\n")
    errors = [str(e) for e in caught.value.errors]
    assert any(e.startswith("integrations.salesforce.external_id_field") for e in errors), errors
