"""Pydantic models of a program's `assessments:` section: diagnostics a lead answers (questions
in sections, each answer scoring named dimensions), and what the answers lead to (a readiness
level, a segment with its next content, nurture path and sales note, CRM field values).

Structure only; names that point inside an assessment (a dimension, a section, a question) are
checked with their paths in program/assessment_checks.py."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    # program/models.py imports this module for Program; it completes these models once Key
    # exists there (Assessment.model_rebuild at its end)
    from accolade.program.models import Key

QuestionKind = Literal["single", "multi", "scale", "number"]
CHOICE_KINDS = ("single", "multi")
# what a segment rule may test, and what a result field may carry besides a dimension's score
SCORE_TOTAL = "total"
RESULT_VALUES = ("total", "level", "segment", "nurture_path")
AnswerScalar = str | int | float | bool


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class AssessmentDimension(_Model):
    """A named score the answers add to (data maturity, urgency, fit)."""

    key: Key
    name: str = Field(min_length=1)


class AssessmentSection(_Model):
    """A group of questions; an answer's ``skip`` can leave a later section out."""

    key: Key
    name: str = Field(min_length=1)
    description: str | None = None


class CrmField(_Model):
    """A CRM field an answer writes, and why the follow-up needs it (the data value rule)."""

    field: str = Field(min_length=1, max_length=100)
    why: str = Field(min_length=1)


class AnswerOption(_Model):
    """One choice of a single- or multi-choice question, with the scores it gives."""

    key: Key
    label: str = Field(min_length=1)
    scores: dict[str, int] = Field(default_factory=dict)
    # the sections this answer leaves out (later sections only)
    skip: list[str] = Field(default_factory=list)
    # what the CRM field gets for this answer (default: the option's key)
    crm_value: str | None = Field(default=None, min_length=1, max_length=200)


class AnswerBand(_Model):
    """A range of a number question's answers (``min`` <= answer < ``max``) and its scores."""

    min: float | None = None
    max: float | None = None
    scores: dict[str, int] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ordered(self) -> AnswerBand:
        if self.min is not None and self.max is not None and self.max <= self.min:
            raise ValueError("'max' must be above 'min'")
        return self


class Question(_Model):
    """A question: ``single`` and ``multi`` choose among ``options``; ``scale`` is a whole
    number from ``min`` to ``max`` scoring ``scores`` per step above ``min``; ``number`` is any
    number from ``min`` to ``max`` scoring by ``bands``."""

    key: Key
    text: str = Field(min_length=1)
    kind: QuestionKind
    section: str | None = None
    required: bool = True
    options: list[AnswerOption] = Field(default_factory=list)
    min: float | None = None
    max: float | None = None
    scores: dict[str, int] = Field(default_factory=dict)
    bands: list[AnswerBand] = Field(default_factory=list)
    crm: list[CrmField] = Field(default_factory=list)

    @model_validator(mode="after")
    def _shape(self) -> Question:
        if self.kind in CHOICE_KINDS:
            if len(self.options) < 2:
                raise ValueError(f"a {self.kind} question needs at least two options")
            if self.min is not None or self.max is not None or self.scores or self.bands:
                raise ValueError(
                    f"a {self.kind} question scores by its options: no min, max, scores or bands"
                )
            return self
        if self.options:
            raise ValueError(f"a {self.kind} question has no options")
        if self.min is not None and self.max is not None and self.max < self.min:
            raise ValueError("'max' must not be below 'min'")
        if self.kind == "scale":
            if self.min is None or self.max is None:
                raise ValueError("a scale question needs 'min' and 'max'")
            if not (self.min.is_integer() and self.max.is_integer()) or self.max <= self.min:
                raise ValueError("a scale goes from a whole number 'min' to a larger 'max'")
            if self.bands:
                raise ValueError("a scale question scores by 'scores' per step, not bands")
        elif self.scores:
            raise ValueError("a number question scores by its 'bands', not 'scores'")
        return self


class ReadinessLevel(_Model):
    """A readiness level, reached at a total score of ``min`` (levels climb in file order)."""

    key: Key
    name: str = Field(min_length=1)
    min: int
    description: str | None = None


class SegmentRule(_Model):
    """One test of a result: ``level`` (the readiness level is one of these), or a score (a
    dimension's key or ``total``) or the answer to a ``question`` with one test. ``eq`` and
    ``in`` test a choice question's option keys; a multi-choice answer matches when any chosen
    option does."""

    score: str | None = Field(default=None, min_length=1)
    level: list[str] | None = Field(default=None, min_length=1)
    question: str | None = Field(default=None, min_length=1)
    eq: AnswerScalar | None = None
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None
    in_: list[AnswerScalar] | None = Field(default=None, alias="in", min_length=1)

    @model_validator(mode="after")
    def _one_subject_one_test(self) -> SegmentRule:
        subjects = [s for s in (self.score, self.level, self.question) if s is not None]
        if len(subjects) != 1:
            raise ValueError("name exactly one of 'score', 'level' or 'question'")
        tests = [t for t in ("eq", "gt", "gte", "lt", "lte", "in_") if getattr(self, t) is not None]
        if self.level is not None:
            if tests:
                raise ValueError("'level' lists the levels that match; it takes no other test")
        elif len(tests) != 1:
            raise ValueError("give exactly one test of eq, gt, gte, lt, lte, in")
        return self


class AssessmentSegment(_Model):
    """Where a lead goes: the first segment whose rules all hold (the last one has none and
    takes everyone else), with what follows for them."""

    key: Key
    name: str = Field(min_length=1)
    when: list[SegmentRule] = Field(default_factory=list)
    next_content: str | None = Field(default=None, min_length=1)
    nurture_path: str | None = Field(default=None, min_length=1, max_length=100)
    # a Jinja2 template, rendered in a sandbox: lead, total, scores, level, segment, answers
    sales_note: str | None = Field(default=None, min_length=1)


class ResultField(_Model):
    """A CRM field the result writes: ``total``, ``level``, ``segment``, ``nurture_path`` or a
    dimension's score."""

    field: str = Field(min_length=1, max_length=100)
    value: str = Field(min_length=1)
    why: str = Field(min_length=1)


class Assessment(_Model):
    """A scored diagnostic a lead answers through `assessment.*` events."""

    key: Key
    name: str = Field(min_length=1)
    description: str | None = None
    dimensions: list[AssessmentDimension] = Field(min_length=1)
    sections: list[AssessmentSection] = Field(default_factory=list)
    questions: list[Question] = Field(min_length=1)
    levels: list[ReadinessLevel] = Field(min_length=1)
    segments: list[AssessmentSegment] = Field(min_length=1)
    result_fields: list[ResultField] = Field(default_factory=list)


@cache
def _notes() -> ImmutableSandboxedEnvironment:
    # A sandbox: a program author's template reads the result it is given and nothing else
    # (no attribute of Python's internals, no changing what it reads). Undefined names fail
    # when the program is checked against a sample result, not on a lead's completion.
    # (Imported here: only programs with sales notes pay for jinja2.)
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def sales_note_template(source: str) -> Template:
    """A segment's sales note, compiled (jinja2's TemplateSyntaxError when it is not valid)."""
    return _notes().from_string(source)


# Imported for its side effect, last: whoever imports this module first gets the models above
# completed (program/models.py defines Key and rebuilds them).
from accolade.program import models as _models  # noqa: E402, F401
