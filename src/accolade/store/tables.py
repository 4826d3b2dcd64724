"""The schema. Business rules stay in the engine; the database enforces uniqueness of event
ids, non-negative lifetime points and foreign keys."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite keeps rowid aliases only for INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
Id = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out; SQLite stores naive UTC text, PostgreSQL timestamptz."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: Accolade stores timezone-aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


programs = Table(
    "programs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("active_version", Integer, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

program_versions = Table(
    "program_versions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", Id, ForeignKey("programs.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("source", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("program_id", "version"),
    UniqueConstraint("program_id", "hash"),
)

program_activations = Table(
    "program_activations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", Id, ForeignKey("programs.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("action", String(16), nullable=False),  # publish | rollback
    Column("at", UTCDateTime, nullable=False),
    # the release record: why this version went live, and who approved it
    Column("notes", Text, nullable=True),
    Column("approved_by", String(200), nullable=True),
)

# One row per simulation of a draft, by the draft's program hash: publishing can require that a
# new version was simulated first (ACCOLADE_PUBLISH_REQUIRES_SIMULATION).
program_simulations = Table(
    "program_simulations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", Id, ForeignKey("programs.id"), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("simulated_at", UTCDateTime, nullable=False),
    Column("summary", Text, nullable=False),  # JSON
    Index(None, "program_id", "hash"),
)

members = Table(
    "members",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", Id, ForeignKey("programs.id"), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("team", String(200), nullable=True),
    Column("company", String(200), nullable=True),
    Column("attributes", Json, nullable=False),
    Column("lifetime", BigInteger, nullable=False, server_default="0"),
    # Below zero only after a reversal took back points already spent (a clawback); redeeming
    # needs a balance of at least the price (service.rewards).
    Column("balance", BigInteger, nullable=False, server_default="0"),
    Column("tier", String(64), nullable=True),
    Column("progress", Text, nullable=True),  # engine state without columns of its own (JSON)
    # +1 on every save: a writer that kept a member's state from an earlier transaction
    # reuses it only while the revision is unchanged.
    Column("revision", BigInteger, nullable=False, server_default="0"),
    Column("updated_at", UTCDateTime, nullable=True),
    UniqueConstraint("program_id", "external_id"),
    CheckConstraint("lifetime >= 0", name="lifetime_not_negative"),
)

# The log: every event, and every reversal, in arrival order (id). Derived state is rebuilt
# from it by replay.
#
# The high-volume tables (events, ledger_entries, member_badges) carry program_id without a
# foreign key: programs are never deleted, and the trigger behind each key costs ~15% of bulk
# ingest on PostgreSQL (measured). The log keeps its key to members. The derived tables
# (ledger_entries, member_badges) have no foreign keys at all (revision 0002): only the engine
# writes them, in the transaction of the log row they belong to, and replay rebuilds them;
# their four keys cost ~10% of ingest on PostgreSQL.
events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", Id, nullable=False),
    Column("kind", String(16), nullable=False),  # event | reversal
    Column("event_id", String(200), nullable=False),  # the sender's id (of the reversed event)
    Column("type", String(100), nullable=False),
    Column("member_id", Id, ForeignKey("members.id"), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("program_version", Integer, nullable=False),
    Column("schema_version", SmallInteger, nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    # The result is derived from the ledger entries this row caused; only the notes (why an
    # action did not match) have nowhere else to live.
    Column("notes", Text, nullable=True),
    Column("reversed_by", Id, nullable=True),
    UniqueConstraint("program_id", "kind", "event_id"),
    Index(None, "member_id", "id"),
    # analytics (revision 0017): who did what in a date range, read from the index alone: a
    # few types' events without reading the others', and an event of any type as a range per
    # type of the program's (revision 0024 dropped the index led by time that served those).
    # Partial on the events in force: led by (program_id, kind), an index tied with the unique
    # key for the duplicate check of ingest on PostgreSQL without fresh statistics, and the
    # planner could pick it and filter the whole program for every id.
    Index(
        "ix_events_analytics_types",
        "program_id",
        "type",
        "occurred_at",
        "member_id",
        sqlite_where=text("kind = 'event' AND reversed_by IS NULL"),
        postgresql_where=text("kind = 'event' AND reversed_by IS NULL"),
    ),
    # analytics (revision 0025): the reversed events of a range, which the activity rollup
    # still counts (repositories/activity.py). No row enters it at ingest: an event is
    # reversed later, and rarely.
    Index(
        "ix_events_reversed",
        "program_id",
        "occurred_at",
        sqlite_where=text("kind = 'event' AND reversed_by IS NOT NULL"),
        postgresql_where=text("kind = 'event' AND reversed_by IS NOT NULL"),
    ),
)

# Analytics rollup (revision 0015): each member's first event in force of each type (of any
# type: the earliest of them). "Who was first invited / activated / qualified when" is read
# from here, not from a scan of the whole log. Kept in the transaction that logs an event or reverses one
# (store/repositories/log.py); replay rebuilds it.
member_firsts = Table(
    "member_firsts",
    metadata,
    Column("program_id", Id, nullable=False),
    Column("type", String(100), nullable=False),
    Column("member_id", Id, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("program_id", "type", "member_id"),
    sqlite_with_rowid=False,  # one b-tree: the upkeep at ingest is one probe per row
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", Id, nullable=False),
    Column("member_id", Id, nullable=False),
    Column("event_id", Id, nullable=False),  # the log row of the event it is about
    Column("cause_id", Id, nullable=False),  # the log row that wrote it (same transaction)
    Column("kind", String(16), nullable=False),
    Column("rule", String(80), nullable=False),
    Column("period", String(16), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("lifetime_points", BigInteger, nullable=False),
    Column("program_version", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index(None, "member_id", "id"),
    Index(None, "cause_id"),  # what an event (or a reversal) wrote: duplicates' results
    Index("ix_ledger_entries_analytics", "program_id", "occurred_at"),  # revision 0013
)

# the analytics rollup of engagement by mechanic (repositories/engagement.py), revision 0023
engagement_days = Table(
    "engagement_days",
    metadata,
    Column("program_id", Id, nullable=False),
    Column("zone", String(64), nullable=False),  # the IANA zone the days are cut in
    Column("day", Integer, nullable=False),  # the local day's proleptic ordinal
    Column("rule", String(80), nullable=False),
    # PostgreSQL: a writer's share of the day (one of SLOTS, drawn per write), so that
    # concurrent ingests do not queue on one row per rule and day; SQLite: 0
    Column("slot", SmallInteger, nullable=False),
    Column("kind", String(16), nullable=False),  # the lowest kind of the rule's entries
    Column("events", BigInteger, nullable=False),
    Column("points", BigInteger, nullable=False),
    PrimaryKeyConstraint("program_id", "zone", "day", "rule", "slot"),
    sqlite_with_rowid=False,
)

engagement_members = Table(
    "engagement_members",
    metadata,
    Column("program_id", Id, nullable=False),
    Column("zone", String(64), nullable=False),
    Column("span", String(5), nullable=False),  # month | week (from Monday)
    Column("first_day", Integer, nullable=False),  # the period's first local day, an ordinal
    Column("rule", String(80), nullable=False),
    Column("block", Integer, nullable=False),  # member ids block * 1024 to block * 1024 + 1023
    Column("slot", SmallInteger, nullable=False),  # as engagement_days'
    # the block's members with an entry of the rule in the period: bit i of word w is member
    # id block * 1024 + 64 * w + i
    *(Column(f"w{w}", BigInteger, nullable=False) for w in range(16)),
    PrimaryKeyConstraint("program_id", "zone", "span", "first_day", "rule", "block", "slot"),
    sqlite_with_rowid=False,
)

# the analytics rollup of activity (repositories/activity.py), revision 0025: per event type
# and month or week, the members with an event of that type logged in it, as
# engagement_members keeps them per rule
activity_members = Table(
    "activity_members",
    metadata,
    Column("program_id", Id, nullable=False),
    Column("zone", String(64), nullable=False),
    Column("span", String(5), nullable=False),
    Column("first_day", Integer, nullable=False),
    Column("type", String(100), nullable=False),
    Column("block", Integer, nullable=False),
    Column("slot", SmallInteger, nullable=False),
    *(Column(f"w{w}", BigInteger, nullable=False) for w in range(16)),
    PrimaryKeyConstraint("program_id", "zone", "span", "first_day", "type", "block", "slot"),
    sqlite_with_rowid=False,
)

member_badges = Table(
    "member_badges",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", Id, nullable=False),
    Column("member_id", Id, nullable=False),
    Column("badge", String(64), nullable=False),
    Column("period", String(16), nullable=False),
    Column("event_id", Id, nullable=False),
    Column("awarded_at", UTCDateTime, nullable=False),
    UniqueConstraint("member_id", "badge", "period"),
    Index(None, "program_id", "badge"),
)

# Access: API keys are shown once and stored as a SHA-256 of the secret (the secret is 256
# random bits, so a slow hash adds nothing). `key_id` is the public half that finds the row.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", Id, ForeignKey("programs.id"), nullable=False),
    Column("key_id", String(32), nullable=False, unique=True),
    # Member tokens are signed with a secret derived from the server secret and key_id
    # (service/keys.py), so nothing stored here can forge one.
    Column("secret_hash", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("scopes", Text, nullable=False),  # space-separated
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)

# Webhooks. The outbox is written in the transaction of the effect it tells about (only for
# types some subscription wants); the deliverer fans each message out to the subscriptions
# that want it, one delivery row each, retried with backoff until delivered or dead.
webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", Id, ForeignKey("programs.id"), nullable=False),
    Column("url", Text, nullable=False),
    Column("types", Text, nullable=False),  # space-separated effect types, or "*"
    Column("secret", String(100), nullable=False),  # whsec_...: needed in clear to sign
    Column("description", String(200), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime, nullable=True),
    # "webhook", or the connector (e.g. "hubspot") a program file's `integrations:` section
    # keeps subscribed: its deliveries share the claim, retries and dead letters of webhooks.
    Column("kind", String(16), nullable=False, server_default="webhook"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", Id, nullable=False),
    Column("message_id", String(40), nullable=False, unique=True),  # webhook-id
    Column("type", String(40), nullable=False),
    Column("payload", Text, nullable=False),  # the JSON body sent, byte for byte
    Column("created_at", UTCDateTime, nullable=False),
    Column("fanned_out", SmallInteger, nullable=False, server_default="0"),
    Index(None, "fanned_out", "id"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", Id, nullable=False),
    Column("outbox_id", Id, ForeignKey("outbox.id"), nullable=False),
    Column("subscription_id", Id, ForeignKey("webhook_subscriptions.id"), nullable=False),
    Column("status", String(16), nullable=False),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("last_status", Integer, nullable=True),  # HTTP status of the last attempt
    Column("last_error", Text, nullable=True),
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("outbox_id", "subscription_id"),
    Index(None, "status", "next_attempt_at"),
    Index(None, "subscription_id", "id"),
)

# What a CRM connector last sent for a contact (property -> value, JSON), so a later message
# sends only the properties that changed.
crm_contacts = Table(
    "crm_contacts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subscription_id", Id, ForeignKey("webhook_subscriptions.id"), nullable=False),
    Column("contact", String(320), nullable=False),  # the CRM's key: a lowercased email
    Column("properties", Text, nullable=False),
    Column("synced_at", UTCDateTime, nullable=False),
    UniqueConstraint("subscription_id", "contact"),
)

# An award of a badge shown to the world (revision 0021): an Open Badges assertion's opaque id
# (service/openbadges.py), registered the first time a member's badges are listed, so the
# assertion and the public badge page can find the award. Its state (held, revoked) is read
# from the ledger, never stored here, so replay needs nothing from this table.
badge_assertions = Table(
    "badge_assertions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("assertion", String(40), nullable=False, unique=True),
    Column("program_id", Id, ForeignKey("programs.id"), nullable=False),
    Column("member_id", Id, ForeignKey("members.id"), nullable=False),
    Column("badge", String(64), nullable=False),
    Column("period", String(16), nullable=False),
    Column("registered_at", UTCDateTime, nullable=False),
)

# A challenge whose window closed, once per challenge: who won (in rank order). The winners' rewards
# are challenge.won events in the log, written in the same transaction; this row makes a second
# close pay nobody, even if late events have changed the standings since.
challenge_closes = Table(
    "challenge_closes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", Id, ForeignKey("programs.id"), nullable=False),
    Column("challenge", String(64), nullable=False),
    Column("program_version", Integer, nullable=False),
    Column("closed_at", UTCDateTime, nullable=False),
    Column("winners", Text, nullable=False),  # JSON: [{member, rank, progress, reached_at}]
    UniqueConstraint("program_id", "challenge"),
)

# Leaderboards. A board's windows (all-time, each calendar window it has scores in, its rolling
# window) are rows here: their id keys the scores, and a calendar window's close (final
# standings, prizes paid) and a rolling window's last day are recorded on it. Replay keeps
# these rows and rebuilds the three tables below from the log.
leaderboard_windows = Table(
    "leaderboard_windows",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", Id, ForeignKey("programs.id"), nullable=False),
    Column("board", String(64), nullable=False),
    Column("label", String(16), nullable=False),  # all | 2026-W47 | 2026-11 | rolling | ...
    Column("starts_at", UTCDateTime, nullable=True),
    Column("ends_at", UTCDateTime, nullable=True),
    Column("last_day", Integer, nullable=True),  # rolling: the newest local day (ordinal) inside
    Column("closed_at", UTCDateTime, nullable=True),
    Column("standings", Text, nullable=True),  # JSON at the close: each partition's top N
    UniqueConstraint("program_id", "board", "label"),
)

# One row per subject with a score in a window; `partition` is where the subject competes now
# (NULL: outside the board's segment), `visible` is 0 for a member who opted out. Derived and
# hot: no foreign keys (like the ledger).
leaderboard_scores = Table(
    "leaderboard_scores",
    metadata,
    Column("window_id", Id, primary_key=True),
    Column("subject", String(200), primary_key=True),
    Column("partition_key", Text, nullable=True),
    Column("visible", SmallInteger, nullable=False),
    Column("score", BigInteger, nullable=False),
    Column("reached_at", BigInteger, nullable=False),  # epoch seconds of the latest event
    # SQLite: the primary key is the table (no rowid B-tree beside it): one B-tree less to
    # write per score change. PostgreSQL ignores it.
    sqlite_with_rowid=False,
)
Index(
    "ix_leaderboard_scores_rank",
    leaderboard_scores.c.window_id,
    leaderboard_scores.c.partition_key,
    leaderboard_scores.c.score.desc(),
    leaderboard_scores.c.reached_at,
    leaderboard_scores.c.subject,
)

# How many ranked subjects (visible, score >= 1) each score bucket of a partition holds: a rank
# is the sum of the buckets above plus a short index range inside its own bucket, so its cost
# does not grow with the board (COUNT(*) over 1M scores takes 30-40 ms; this, under 1 ms).
# Rows with a negative bucket count a group of 64 buckets (rankings_repo.group_row).
leaderboard_buckets = Table(
    "leaderboard_buckets",
    metadata,
    Column("window_id", Id, primary_key=True),
    Column("partition_key", Text, primary_key=True),
    Column("bucket", Integer, primary_key=True),
    Column("count", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

# Rolling windows: each subject's score per local day, for the days still inside the window,
# so a day leaving it is subtracted without reading the log.
leaderboard_days = Table(
    "leaderboard_days",
    metadata,
    Column("window_id", Id, primary_key=True),
    Column("day", Integer, primary_key=True),
    Column("subject", String(200), primary_key=True),
    Column("score", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

# Rewards. A redemption's points move through the log (a row of kind `redemption` debits the
# balance, one of kind `refund` gives it back, each with its ledger entry), so replay rebuilds
# balances. These rows are the redemption's own life (approval, fulfilment, the code handed
# out) and the shared counts it draws on (stock, codes): they are not derived, and replay
# keeps them.
redemptions = Table(
    "redemptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", Id, ForeignKey("programs.id"), nullable=False),
    Column("redemption_id", String(200), nullable=False),  # public: the caller's or generated
    Column("member_id", Id, ForeignKey("members.id"), nullable=False),
    Column("reward", String(64), nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("value_amount", BigInteger, nullable=True),  # minor units, as the program said then
    Column("value_currency", String(3), nullable=True),
    Column("fulfilment", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("code_id", Id, nullable=True),  # reward_codes row reserved for it
    # it took a unit of stock (what a refund gives back, whatever the item's stock is now)
    Column("stock_taken", Boolean, nullable=False),
    Column("program_version", Integer, nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("decided_by", String(200), nullable=True),  # who approved, rejected, cancelled
    Column("note", Text, nullable=True),
    UniqueConstraint("program_id", "redemption_id"),
    Index(None, "member_id", "reward", "requested_at"),  # limits and a member's history
    Index(None, "program_id", "status", "id"),  # the approval queue
)

# Units of a stocked item taken by redemptions that are not rejected or cancelled: one row per
# item, updated with `taken < stock` in the statement, so two redemptions cannot both take the
# last unit.
reward_stock = Table(
    "reward_stock",
    metadata,
    Column("program_id", Id, ForeignKey("programs.id"), primary_key=True),
    Column("reward", String(64), primary_key=True),
    Column("taken", BigInteger, nullable=False),
)

# Unique codes of `code` items, each handed out once: `redemption` is the redemptions row it
# went to (NULL: free).
reward_codes = Table(
    "reward_codes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", Id, ForeignKey("programs.id"), nullable=False),
    Column("reward", String(64), nullable=False),
    Column("code", String(200), nullable=False),
    Column("redemption", Id, nullable=True),
    Column("added_at", UTCDateTime, nullable=False),
    UniqueConstraint("program_id", "reward", "code"),
)
Index(
    "ix_reward_codes_free",
    reward_codes.c.program_id,
    reward_codes.c.reward,
    reward_codes.c.id,
    sqlite_where=reward_codes.c.redemption.is_(None),
    postgresql_where=reward_codes.c.redemption.is_(None),
)

# Referrals: a member names a prospect; the CRM moves it through its stages (service.referrals).
# Each stage reached sends the referring member a `referral.<stage>` event through the log, so
# points, badges, boards and replay treat it like any event; these rows are the referral's own
# state (stage, deal value), which replay keeps.
referrals = Table(
    "referrals",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", Id, ForeignKey("programs.id"), nullable=False),
    Column("referral_id", String(200), nullable=False),  # public: the id the CRM carries
    Column("member_id", Id, ForeignKey("members.id"), nullable=False),
    Column("team", String(200), nullable=True),  # the referrer's team and company when submitted
    Column("company", String(200), nullable=True),
    Column("prospect", String(200), nullable=False),  # the prospect company's name
    Column("prospect_key", String(200), nullable=False),  # its domain, or its name normalised
    Column("contact_name", String(200), nullable=True),
    Column("contact_email", String(320), nullable=True),
    Column("status", String(16), nullable=False),
    Column("duplicate_of", String(200), nullable=True),  # the first valid referral's id
    Column("amount", BigInteger, nullable=True),  # the deal's value in minor units
    Column("currency", String(3), nullable=True),
    Column("reason", Text, nullable=True),  # why it was lost or disqualified
    Column("submitted_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("program_id", "referral_id"),
    Index(None, "program_id", "prospect_key", "id"),  # duplicates
    Index(None, "member_id", "id"),  # a member's referrals
)
# One valid referral per prospect: of two submitted at once, the second fails here and is
# retried as the duplicate it is.
_VALID_REFERRAL = referrals.c.status.in_(
    ("submitted", "accepted", "qualified", "opportunity", "won")
)
Index(
    "uq_referrals_valid_prospect",
    referrals.c.program_id,
    referrals.c.prospect_key,
    unique=True,
    sqlite_where=_VALID_REFERRAL,
    postgresql_where=_VALID_REFERRAL,
)

# The facet index: the member attributes reference requests match on (the program's
# `references.match`, and `reference_opt_out`), their tier and their stage (names `@tier`,
# `@stage`), one row per member and name, as text. A request's candidates are an intersection
# of index ranges instead of a scan of every member's attributes. Written where member states
# are saved, only when one of these values changed (service.facets); rebuilt by replay and when
# a version changes `references.match`.
member_facets = Table(
    "member_facets",
    metadata,
    Column("program_id", Id, primary_key=True),
    Column("member_id", Id, primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
    sqlite_with_rowid=False,
)
Index(
    "ix_member_facets_lookup",
    member_facets.c.program_id,
    member_facets.c.name,
    member_facets.c.value,
    member_facets.c.member_id,
)

# A sales rep's request for references, and the advocates asked for it.
reference_requests = Table(
    "reference_requests",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", Id, ForeignKey("programs.id"), nullable=False),
    Column("request_id", String(150), nullable=False),  # public
    Column("requested_by", String(200), nullable=False),
    Column("criteria", Text, nullable=False),  # JSON: attribute -> value or values
    Column("note", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("program_id", "request_id"),
)

reference_asks = Table(
    "reference_asks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", Id, nullable=False),
    Column("request_id", Id, ForeignKey("reference_requests.id"), nullable=False),
    Column("member_id", Id, ForeignKey("members.id"), nullable=False),
    Column("status", String(16), nullable=False),  # asked | accepted | declined | completed
    Column("asked_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("request_id", "member_id"),
    Index(None, "program_id", "asked_at"),  # the asks inside the longest limit
    Index(None, "member_id", "asked_at"),
)

# Experiments. A member's arm is the ledger's `experiment` entry of rule `experiment:<key>`
# (engine/experiments.py): this partial index finds every arm of an experiment without reading
# the rest of the ledger, and costs ingest nothing for the other kinds of entry.
Index(
    "ix_ledger_entries_experiment",
    ledger_entries.c.program_id,
    ledger_entries.c.rule,
    ledger_entries.c.period,  # the arm, and its members: a report's sets from the index alone
    ledger_entries.c.member_id,  # (revision 0018)
    sqlite_where=ledger_entries.c.kind == "experiment",
    postgresql_where=ledger_entries.c.kind == "experiment",
)

# What was decided about an experiment (ship, stop or extend), by whom and why; every decision
# is kept, the latest is the report's.
experiment_decisions = Table(
    "experiment_decisions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", Id, ForeignKey("programs.id"), nullable=False),
    Column("experiment", String(64), nullable=False),
    Column("decision", String(16), nullable=False),  # ship | stop | extend
    Column("decided_by", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("decided_at", UTCDateTime, nullable=False),
    Index(None, "program_id", "experiment", "id"),
)

# The admin console (revision 0016). Its users sign in with a password (argon2, hashed in
# service/console_users.py); five failed sign-ins in a row lock the account for a while.
console_users = Table(
    "console_users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False, unique=True),  # lowercased
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("failed_attempts", Integer, nullable=False, server_default="0"),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime, nullable=True),
    CheckConstraint("role IN ('viewer', 'operator', 'admin')", name="role"),
)

# Every change made through the console or the CLI's administration commands: who (a console
# user's email, 'api key <id>' or 'cli'), when, what, and the thing before and after.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(254), nullable=False),
    Column("action", String(64), nullable=False),
    Column("program_id", Id, ForeignKey("programs.id"), nullable=True),
    Column("target", String(254), nullable=False),
    Column("before", Json, nullable=True),
    Column("after", Json, nullable=True),
    Index(None, "program_id", "id"),  # one program's log, newest first
)

# A lead's completed assessment (revision 0019), written in the transaction of the event that
# completed it, and rebuilt by replay: its scores, level and segment, and in `result` (JSON)
# everything the `lead.assessed` message carried, with the scores each answer gave.
assessment_results = Table(
    "assessment_results",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", Id, ForeignKey("programs.id"), nullable=False),
    Column("assessment", String(64), nullable=False),
    Column("member_id", Id, ForeignKey("members.id"), nullable=False),  # the lead
    Column("event_id", String(200), nullable=False),  # the completing event (the sender's id)
    Column("program_version", Integer, nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("level", String(64), nullable=False),
    Column("segment", String(64), nullable=False),
    Column("result", Text, nullable=False),
    Column("completed_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    UniqueConstraint("program_id", "assessment", "member_id"),
)

# A trained next best action model (revision 0022), per program and program version: the
# logistic regressions' coefficients by action, with their feature names, as JSON (readable,
# no pickle), the sample sizes and the offline metrics of its training. The newest row of a
# version is the one served (service/recommend.py); older rows stay for audit.
recommendation_models = Table(
    "recommendation_models",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", Id, ForeignKey("programs.id"), nullable=False),
    Column("program_version", Integer, nullable=False),
    Column("trained_at", UTCDateTime, nullable=False),
    Column("samples", BigInteger, nullable=False),
    Column("positives", BigInteger, nullable=False),
    Column("model", Text, nullable=False),  # JSON
    Column("metrics", Text, nullable=False),  # JSON
    Index(None, "program_id", "program_version"),
)
