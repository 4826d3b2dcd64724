"""The `integrations:` section of a program file: which of Accolade's values a connector
writes to which property of the target (HubSpot contacts, for now). Secrets never live here:
the access token comes from settings (ACCOLADE_HUBSPOT_ACCESS_TOKEN or its _FILE)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from accolade.errors import FieldError

# HubSpot's internal property names: lowercase letters, digits and underscores.
PropertyName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=100)]

# What a `lead.assessed` message offers, besides `scores.<dimension>` and `fields.<crm field>`.
LEAD_VALUES = (
    "assessment",
    "segment",
    "nurture_path",
    "next_content",
    "level",
    "total",
    "sales_note",
    "completed_at",
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HubSpot(_Model):
    """Leads' assessment results upserted into HubSpot contacts, keyed by email."""

    email_attribute: str = Field(default="email", min_length=1, max_length=100)
    # every CRM field the assessments write (`crm:` and `result_fields:`), under its own name
    crm_fields: bool = True
    lead_properties: dict[str, PropertyName] = Field(default_factory=dict)


class Integrations(_Model):
    hubspot: HubSpot | None = None


def check_integrations(raw: dict[str, Any]) -> list[FieldError]:
    """Each mapped value names something an assessment of the file gives: a known result
    value, one of its dimensions or one of its CRM fields; no property is written twice."""
    section = raw.get("integrations")
    hubspot = section.get("hubspot") if isinstance(section, dict) else None
    mapping = hubspot.get("lead_properties") if isinstance(hubspot, dict) else None
    if not isinstance(mapping, dict):
        return []
    dimensions, fields = _assessment_names(raw.get("assessments"))
    errors: list[FieldError] = []
    written: dict[str, str] = {}
    for value, prop in mapping.items():
        path = f"integrations.hubspot.lead_properties.{value}"
        problem = _unknown(str(value), dimensions, fields)
        if problem is not None:
            errors.append(FieldError(path, problem))
        if isinstance(prop, str) and prop in written:
            errors.append(
                FieldError(path, f"property '{prop}' is written by '{written[prop]}' already")
            )
        elif isinstance(prop, str):
            written[prop] = str(value)
    return errors


def _unknown(value: str, dimensions: set[str], fields: set[str]) -> str | None:
    if not dimensions:
        return "no assessment in this program gives lead values"
    if value in LEAD_VALUES:
        return None
    head, _, name = value.partition(".")
    if head == "scores" and name:
        if name in dimensions:
            return None
        return f"no assessment has a dimension '{name}' (known: {', '.join(sorted(dimensions))})"
    if head == "fields" and name:
        if name in fields:
            return None
        known = ", ".join(sorted(fields)) or "none"
        return f"no assessment writes a CRM field '{name}' (known: {known})"
    return (
        f"unknown value '{value}' (known: {', '.join(LEAD_VALUES)}, scores.<dimension> or "
        "fields.<crm field>)"
    )


def _assessment_names(assessments: object) -> tuple[set[str], set[str]]:
    dimensions: set[str] = set()
    fields: set[str] = set()
    for assessment in assessments if isinstance(assessments, list) else []:
        if not isinstance(assessment, dict):
            continue
        for item in _dicts(assessment.get("dimensions")):
            dimensions.add(str(item.get("key")))
        for question in _dicts(assessment.get("questions")):
            fields.update(str(crm.get("field")) for crm in _dicts(question.get("crm")))
        fields.update(str(item.get("field")) for item in _dicts(assessment.get("result_fields")))
    return dimensions, fields


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
