"""A program with one assessment, for the assessment tests of every floor: a data-readiness
diagnostic over three dimensions, with a skipped section, four kinds of question, three
levels and three segments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

ASSESSMENT_PROGRAM = """\
key: diag
name: Diagnostics
actions:
  - key: webinar_attended
    points: 10
assessments:
  - key: readiness
    name: Data readiness
    dimensions:
      - {key: maturity, name: Data maturity}
      - {key: urgency, name: Urgency}
      - {key: fit, name: Fit}
    sections:
      - {key: basics, name: Basics}
      - {key: warehouse, name: Your warehouse}
      - {key: timing, name: Timing}
    questions:
      - key: warehouse_in_place
        section: basics
        kind: single
        text: Do you run a data warehouse?
        options:
          - {key: has_one, label: "Yes", scores: {maturity: 3}, crm_value: "true"}
          - {key: none, label: "No", skip: [warehouse], crm_value: "false"}
        crm:
          - {field: has_warehouse, why: Sales qualifies on an existing warehouse}
      - key: sources
        section: basics
        kind: multi
        text: Which sources do you load?
        options:
          - {key: crm, label: CRM, scores: {fit: 2}}
          - {key: erp, label: ERP, scores: {fit: 3, maturity: 1}}
          - {key: web, label: Web analytics, scores: {fit: 1}}
        crm:
          - {field: data_sources, why: Routes the lead to the connector specialist}
      - key: warehouse_size
        section: warehouse
        kind: number
        text: How many terabytes does it hold?
        min: 0
        max: 10000
        bands:
          - {max: 1, scores: {fit: 0}}
          - {min: 1, max: 100, scores: {fit: 2}}
          - {min: 100, scores: {fit: 4}}
      - key: team_confidence
        section: warehouse
        kind: scale
        text: How confident is the team in its data (1 to 5)?
        min: 1
        max: 5
        scores: {maturity: 1}
      - key: timeline
        section: timing
        kind: single
        text: When do you need it working?
        options:
          - {key: quarter, label: This quarter, scores: {urgency: 5}}
          - {key: year, label: This year, scores: {urgency: 2}}
          - {key: later, label: Later}
    levels:
      - {key: early, name: Early, min: 0}
      - {key: developing, name: Developing, min: 6}
      - {key: ready, name: Ready, min: 12}
    segments:
      - key: hot
        name: Ready to buy
        when:
          - {level: [ready]}
          - {score: urgency, gte: 5}
        next_content: migration-checklist
        nurture_path: sales_fast_track
        sales_note: >-
          {{ lead }} scored {{ total }} ({{ level }}): needs it {{ answers.timeline }},
          loads {{ answers.sources }}.
      - key: warehouse_later
        name: Warehouse, no hurry
        when:
          - {question: warehouse_in_place, eq: has_one}
        next_content: warehouse-benchmark
        nurture_path: nurture_warehouse
        sales_note: "{{ lead }} has a warehouse; maturity {{ scores.maturity }}."
      - key: education
        name: Still learning
        next_content: data-readiness-guide
        nurture_path: nurture_education
    result_fields:
      - {field: readiness_level, value: level, why: Sales sees readiness in the CRM}
      - {field: readiness_score, value: total, why: Lead scoring adds it to its own}
"""

# Every question answered: maturity 3 + 1 + 3, fit 5 + 4, urgency 5 = 21, ready, hot.
HOT_ANSWERS: dict[str, Any] = {
    "warehouse_in_place": "has_one",
    "sources": ["crm", "erp"],
    "warehouse_size": 250,
    "team_confidence": 4,
    "timeline": "quarter",
}
# No warehouse skips its section: fit 1, 1 in all, early, education.
SKIPPING_ANSWERS: dict[str, Any] = {
    "warehouse_in_place": "none",
    "sources": ["web"],
    "timeline": "later",
}

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def assessment_events(
    lead: str, answers: dict[str, Any], *, prefix: str = "", complete: bool = True
) -> list[dict[str, Any]]:
    """The events of a lead taking the readiness assessment: started, one answer per
    question (a minute apart), completed."""
    prefix = prefix or lead
    at = START
    out: list[dict[str, Any]] = [
        _event(f"{prefix}-start", "assessment.started", lead, at, {"assessment": "readiness"})
    ]
    for n, (question, answer) in enumerate(answers.items(), 1):
        at += timedelta(minutes=1)
        props = {"assessment": "readiness", "question": question, "answer": answer}
        out.append(_event(f"{prefix}-a{n}", "assessment.answered", lead, at, props))
    if complete:
        at += timedelta(minutes=1)
        props = {"assessment": "readiness"}
        out.append(_event(f"{prefix}-done", "assessment.completed", lead, at, props))
    return out


def _event(
    id: str, type: str, lead: str, at: datetime, properties: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": id,
        "type": type,
        "member": lead,
        "occurred_at": at.isoformat().replace("+00:00", "Z"),
        "properties": properties,
    }
