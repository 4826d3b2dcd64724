"""The `integrations:` section of a program file: which of Accolade's values a connector
writes to which property of the target (HubSpot contacts), and which effects are told to a
Slack or Teams channel in what words. Secrets never live here: access tokens and incoming-
webhook URLs come from settings (ACCOLADE_HUBSPOT_ACCESS_TOKEN, ACCOLADE_SLACK_WEBHOOK_URL, ...)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

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

# A member's current values a connector can write (service/crm_members.py), besides
# `attributes.<name>`.
MEMBER_VALUES = (
    "tier",
    "lifetime_points",
    "balance",
    "stage",
    "badges_count",
    "last_activity",
    "referral_pipeline",
    "referral_won",
)
# The member attribute that holds the CRM's own record id (HubSpot's hs_object_id, a Salesforce
# record Id): when a member has it, their record is updated by that id, not upserted by email.
AttributeName = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HubSpot(_Model):
    """Leads' assessment results, and members' current values, written to HubSpot contacts,
    keyed by email (or, for a member, by the HubSpot record id their `id_attribute` holds)."""

    email_attribute: str = Field(default="email", min_length=1, max_length=100)
    # every CRM field the assessments write (`crm:` and `result_fields:`), under its own name
    crm_fields: bool = True
    lead_properties: dict[str, PropertyName] = Field(default_factory=dict)
    member_properties: dict[str, PropertyName] = Field(default_factory=dict)
    id_attribute: AttributeName | None = None


# A Salesforce field's API name (custom ones end in __c).
FieldName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=80)]


class Salesforce(_Model):
    """Leads' assessment results upserted into Salesforce records (Lead or Contact) by an
    external id field, whose value is the lead's email (or its Accolade id)."""

    object: Literal["Lead", "Contact"] = "Lead"
    external_id_field: FieldName
    key: Literal["email", "lead"] = "email"
    email_attribute: str = Field(default="email", min_length=1, max_length=100)
    # assessments' CRM fields under their own names: off, as Salesforce names end in __c
    crm_fields: bool = False
    lead_fields: dict[str, FieldName] = Field(default_factory=dict)
    # the lead's attributes (from events' `attributes`) written to fields, e.g. LastName and
    # Company, which a new Lead needs
    attribute_fields: dict[str, FieldName] = Field(default_factory=dict)
    # members' current values (MEMBER_VALUES, `attributes.<name>`) written to fields
    member_fields: dict[str, FieldName] = Field(default_factory=dict)
    id_attribute: AttributeName | None = None


class InboundRule(_Model):
    """A CRM change (a property of a HubSpot object, a field of a Salesforce record, taking a
    value) that moves the referral whose id is the CRM record's id."""

    source: Literal["hubspot", "salesforce"]
    object: str = Field(min_length=1, max_length=80)
    property: str = Field(min_length=1, max_length=100)
    value: str | list[str]
    move: Literal["accept", "qualify", "opportunity", "win", "lose", "disqualify"]
    reason: str | None = Field(default=None, min_length=1, max_length=200)
    amount_field: str | None = Field(default=None, min_length=1, max_length=100)
    currency_field: str | None = Field(default=None, min_length=1, max_length=100)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")


# A channel's name: the key of its incoming-webhook URL in settings (never the URL itself).
ChannelName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
WhenValue = str | int | bool | list[str | int | bool]


class Notice(_Model):
    """One effect told to a channel: the outbox type it follows, an optional filter on the
    message's fields, and templates (Jinja2, sandboxed) over those fields."""

    type: str = Field(min_length=1)  # (not `on`: YAML 1.1 reads `on:` as true)
    channel: ChannelName = "default"
    when: dict[str, WhenValue] = Field(default_factory=dict)
    title: str | None = Field(default=None, min_length=1, max_length=150)
    text: str = Field(min_length=1, max_length=3000)
    context: str | None = Field(default=None, min_length=1, max_length=2000)


class Notices(_Model):
    """A chat connector (Slack or Teams): the notices it posts."""

    notices: list[Notice] = Field(min_length=1)


class Integrations(_Model):
    hubspot: HubSpot | None = None
    salesforce: Salesforce | None = None
    slack: Notices | None = None
    teams: Notices | None = None
    inbound: list[InboundRule] = Field(default_factory=list)


# The fields of each outbox message type's data a notice may read (docs/webhooks.md), besides
# `type`, `timestamp` and `program` (the program's name). Checked against service/notify.py's
# types by a unit test.
_MEMBER_EVENT = ("member", "event_id")
_REDEMPTION = (
    "redemption_id",
    "member",
    "reward",
    "price",
    "value",
    "fulfilment",
    "status",
)
NOTICE_FIELDS: dict[str, tuple[str, ...]] = {
    "points.awarded": (*_MEMBER_EVENT, "points", "balance", "lifetime"),
    "badge.earned": (*_MEMBER_EVENT, "badge", "period"),
    "badge.revoked": (*_MEMBER_EVENT, "badge", "period"),
    "tier.changed": (*_MEMBER_EVENT, "from", "to"),
    "event.reversed": (*_MEMBER_EVENT, "reason", "points", "balance", "lifetime"),
    "quest.completed": (*_MEMBER_EVENT, "quest", "entitlements"),
    "quest.undone": (*_MEMBER_EVENT, "quest", "entitlements"),
    "challenge.won": (*_MEMBER_EVENT, "challenge"),
    "stage.changed": (*_MEMBER_EVENT, "from", "to"),
    "reward.redeemed": _REDEMPTION,
    "redemption.updated": _REDEMPTION,
    "points.expiring": ("member", "points", "by"),
    "lead.assessed": (
        "lead",
        "assessment",
        "event_id",
        "completed_at",
        "scores",
        "total",
        "level",
        "segment",
        "next_content",
        "nurture_path",
        "sales_note",
        "fields",
    ),
}
NOTICE_COMMON_FIELDS = ("type", "timestamp", "program")


def check_integrations(raw: dict[str, Any]) -> list[FieldError]:
    """Each mapped value names something an assessment of the file gives: a known result
    value, one of its dimensions or one of its CRM fields; no property is written twice.
    Each notice follows a known type, filters and renders only fields that type has."""
    section = raw.get("integrations")
    errors: list[FieldError] = []
    for kind in ("slack", "teams"):
        chat = section.get(kind) if isinstance(section, dict) else None
        notices = chat.get("notices") if isinstance(chat, dict) else None
        for i, notice in enumerate(_dicts(notices)):
            errors.extend(check_notice(f"integrations.{kind}.notices[{i}]", notice))
    rules = section.get("inbound") if isinstance(section, dict) else None
    for i, rule in enumerate(_dicts(rules)):
        errors.extend(check_inbound_rule(f"integrations.inbound[{i}]", rule))
    return errors + _check_hubspot(raw)


def check_inbound_rule(path: str, rule: dict[str, Any]) -> list[FieldError]:
    """What the move needs is in the rule: a reason to lose or disqualify; the amount's field
    (Salesforce, whose payload carries the record's fields) to win, with its currency."""
    move, source = rule.get("move"), rule.get("source")
    errors: list[FieldError] = []
    if move in ("lose", "disqualify") and not rule.get("reason"):
        errors.append(FieldError(f"{path}.reason", f"a '{move}' move needs a reason"))
    if rule.get("amount_field") is not None and source == "hubspot":
        errors.append(
            FieldError(
                f"{path}.amount_field",
                "HubSpot's webhook carries only the changed property: no amount to read",
            )
        )
    elif move == "win" and source == "hubspot":
        errors.append(
            FieldError(
                f"{path}.move",
                "a won deal needs its amount, which HubSpot's webhook does not carry: move it "
                "with POST /v1/referrals/{id}/win, or win it from Salesforce",
            )
        )
    elif move == "win" and not rule.get("amount_field"):
        errors.append(FieldError(f"{path}.amount_field", "a 'win' move needs the amount's field"))
    if rule.get("amount_field") and not (rule.get("currency") or rule.get("currency_field")):
        errors.append(FieldError(f"{path}.currency", "an amount needs currency or currency_field"))
    return errors


def check_notice(path: str, notice: dict[str, Any]) -> list[FieldError]:
    """A notice's type is known, its `when` names fields of it, and its templates compile and
    render against a sample message of that type (an unknown field is an error here, not on
    the first badge earned)."""
    from jinja2 import TemplateError

    from accolade.program.assessments import sales_note_template

    type_ = notice.get("type")
    fields = NOTICE_FIELDS.get(str(type_))
    if fields is None:
        known = ", ".join(NOTICE_FIELDS)
        return [FieldError(f"{path}.type", f"unknown message type '{type_}' (known: {known})")]
    errors: list[FieldError] = []
    when = notice.get("when")
    for name in when if isinstance(when, dict) else {}:
        if name not in fields:
            errors.append(
                FieldError(
                    f"{path}.when.{name}",
                    f"a {type_} message has no field '{name}' (known: {', '.join(fields)})",
                )
            )
    sample = notice_sample(str(type_))
    for key in ("title", "text", "context"):
        source = notice.get(key)
        if not isinstance(source, str):
            continue
        try:
            sales_note_template(source).render(sample)
        except (TemplateError, TypeError, ValueError) as exc:
            known = ", ".join((*fields, *NOTICE_COMMON_FIELDS))
            errors.append(FieldError(f"{path}.{key}", f"{exc} (fields of {type_}: {known})"))
    return errors


def notice_sample(type_: str) -> dict[str, Any]:
    """A message of ``type_`` with a placeholder for each field, to try templates on."""
    sample: dict[str, Any] = {name: "x" for name in NOTICE_FIELDS[type_]}
    for name in ("scores", "fields", "entitlements"):
        if name in sample:
            sample[name] = {}
    return sample | {"type": type_, "timestamp": "2026-01-01T00:00:00Z", "program": "x"}


def _check_hubspot(raw: dict[str, Any]) -> list[FieldError]:
    return (
        _check_mapping(raw, "hubspot", "lead_properties")
        + _check_members(raw, "hubspot", "member_properties", ("lead_properties",))
        + _check_salesforce(raw)
    )


def _check_members(
    raw: dict[str, Any], kind: str, key: str, others: tuple[str, ...]
) -> list[FieldError]:
    """Each value of the member mapping is a member value or `attributes.<name>`; no property
    is written twice, by this mapping or by the ``others`` of the same connector."""
    section = raw.get("integrations")
    config = section.get(kind) if isinstance(section, dict) else None
    mapping = config.get(key) if isinstance(config, dict) else None
    if not isinstance(config, dict) or not isinstance(mapping, dict):
        return []
    written: dict[object, str] = {}
    for other in others:
        items = config.get(other)
        for value, prop in items.items() if isinstance(items, dict) else []:
            written.setdefault(prop, f"{other}.{value}")
    errors: list[FieldError] = []
    for value, prop in mapping.items():
        path = f"integrations.{kind}.{key}.{value}"
        head, _, name = str(value).partition(".")
        if value not in MEMBER_VALUES and not (head == "attributes" and name):
            known = ", ".join(MEMBER_VALUES)
            errors.append(
                FieldError(
                    path, f"unknown member value '{value}' (known: {known}, attributes.<name>)"
                )
            )
        if prop in written:
            errors.append(FieldError(path, f"'{prop}' is written by {written[prop]} already"))
        else:
            written[prop] = f"{key}.{value}"
    return errors


def _check_salesforce(raw: dict[str, Any]) -> list[FieldError]:
    """Besides the values of `lead_fields` and `member_fields`: no field is the external id
    field (the key is not written), and no field is written by two mappings."""
    errors = _check_mapping(raw, "salesforce", "lead_fields") + _check_members(
        raw, "salesforce", "member_fields", ("lead_fields", "attribute_fields")
    )
    section = raw.get("integrations")
    config = section.get("salesforce") if isinstance(section, dict) else None
    if not isinstance(config, dict):
        return errors
    key_field = config.get("external_id_field")
    written: set[object] = set()
    for mapping in ("lead_fields", "attribute_fields", "member_fields"):
        items = config.get(mapping)
        for value, name in items.items() if isinstance(items, dict) else []:
            path = f"integrations.salesforce.{mapping}.{value}"
            if name == key_field:
                errors.append(FieldError(path, f"'{name}' is the external id field"))
            elif str(name).lower() == "id":
                errors.append(FieldError(path, "'Id' is the record's own id, not written"))
            elif mapping == "attribute_fields" and name in written:
                errors.append(FieldError(path, f"field '{name}' is written by lead_fields"))
            written.add(name)
    return errors


def _check_mapping(raw: dict[str, Any], kind: str, key: str) -> list[FieldError]:
    section = raw.get("integrations")
    config = section.get(kind) if isinstance(section, dict) else None
    mapping = config.get(key) if isinstance(config, dict) else None
    if not isinstance(mapping, dict):
        return []
    dimensions, fields = _assessment_names(raw.get("assessments"))
    errors: list[FieldError] = []
    written: dict[str, str] = {}
    for value, prop in mapping.items():
        path = f"integrations.{kind}.{key}.{value}"
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
