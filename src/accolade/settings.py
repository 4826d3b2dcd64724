"""Every knob, from ACCOLADE_* environment variables, with defaults that run on SQLite."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACCOLADE_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./accolade.db",
        description="SQLAlchemy URL; postgresql+psycopg://user@host/db in production.",
    )
    program: str | None = Field(
        default=None,
        description="Program key the CLI works on when several programs share a database.",
    )
    ingest_chunk_size: int = Field(
        default=25_000, ge=1, le=100_000, description="Events applied per transaction by ingest."
    )
    echo_sql: bool = Field(default=False, description="Log every SQL statement (debugging).")
    db_pool_size: int = Field(
        default=10,
        ge=1,
        le=200,
        description="Database connections each process keeps open; a request that finds them "
        "all busy waits for one (`accolade serve` runs at most this many requests at once per "
        "worker).",
    )
    host: str = Field(default="127.0.0.1", description="Address `accolade serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `accolade serve` listens on.")
    workers: int = Field(
        default=1, ge=1, le=64, description="Worker processes of `accolade serve` (PostgreSQL)."
    )
    rate_limit_per_minute: int = Field(
        default=6000,
        ge=0,
        description="Requests per minute one API key (or member token) may make, per worker "
        "process; 0 turns the limit off.",
    )
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        description="Largest request body the API reads, in bytes; a larger one is refused "
        "with 413 before it is read (a batch of events keeps its limit of 1,000).",
    )
    member_token_ttl_seconds: int = Field(
        default=900, ge=1, le=86400, description="Default lifetime of a member token."
    )
    webhook_max_attempts: int = Field(
        default=8, ge=1, le=100, description="Delivery attempts before a webhook is dead."
    )
    webhook_backoff_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Wait before the second attempt; doubled after each failure (at most 6 h).",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="Time a receiver has to answer one delivery."
    )
    deliver_webhooks: bool = Field(
        default=True,
        description="`accolade serve` also delivers webhooks in-process (the embedded default); "
        "turn off when `accolade worker` runs beside it.",
    )
    failed_auth_per_minute: int = Field(
        default=60,
        ge=0,
        description="Requests with an unknown, revoked or malformed credential one client address "
        "may make a minute, per worker process, before 429; 0 turns the limit off.",
    )
    publish_requires_simulation: bool = Field(
        default=False,
        description="Publishing (or rolling back to) a version never active before needs a "
        "simulation of its content first (`accolade program simulate FILE`).",
    )
    portal_session_seconds: int = Field(
        default=8 * 3600,
        ge=60,
        le=7 * 86400,
        description="How long a member stays signed in to the portal after following a link.",
    )
    console_session_seconds: int = Field(
        default=8 * 3600,
        ge=60,
        le=7 * 86400,
        description="How long a console user stays signed in to the admin console.",
    )
    console_figures_max_age_seconds: float = Field(
        default=120.0,
        ge=0,
        le=86400,
        description="How long the admin console's dashboards may show figures computed before "
        "the latest events (said to be as of their time, while fresh ones are computed in the "
        "background); 0: recomputed whenever the log has moved.",
    )
    portal_frame_ancestors: str = Field(
        default="",
        max_length=2000,
        description="Origins that may show the member portal in an iframe, space-separated "
        "(e.g. `https://app.example.com`); empty: none may (the portal opens as a page).",
    )
    assess_frame_ancestors: str = Field(
        default="'self'",
        max_length=2000,
        description="Origins that may show the hosted assessment pages (/assess/KEY) in an "
        "iframe, space-separated (e.g. `'self' https://www.example.com`); empty: none may.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        min_length=32,
        description="Server secret member tokens are signed with (the same on every worker). "
        "Unset: required on PostgreSQL; a SQLite database gets one generated into "
        "`<database file>.secret`.",
    )
    hubspot_base_url: str = Field(
        default="https://api.hubapi.com",
        max_length=2000,
        description="Where the HubSpot connector sends its contact upserts (a local server in "
        "tests).",
    )
    hubspot_access_token: SecretStr | None = Field(
        default=None,
        description="The HubSpot private app's (or OAuth) access token of the HubSpot "
        "connector; never logged, never stored in the database or the program file.",
    )
    hubspot_access_token_file: str | None = Field(
        default=None,
        description="A file holding the HubSpot access token instead, read again whenever "
        "HubSpot answers 401 (an expired token another process refreshes).",
    )
    hubspot_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="Time HubSpot has to answer one batch upsert."
    )
    slack_webhook_url: SecretStr | None = Field(
        default=None,
        description="The Slack incoming-webhook URL of the `default` channel of Slack notices; "
        "a secret: never logged, never stored in the database or the program file.",
    )
    slack_webhook_urls: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Incoming-webhook URLs of named Slack channels, as a JSON object (channel "
        'name to URL, e.g. `{"sales": "https://hooks.slack.com/services/..."}`).',
    )
    teams_webhook_url: SecretStr | None = Field(
        default=None,
        description="The Microsoft Teams incoming-webhook (or Workflows) URL of the `default` "
        "channel of Teams notices; a secret, like the Slack one.",
    )
    teams_webhook_urls: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Incoming-webhook URLs of named Teams channels, as a JSON object.",
    )
    notice_spacing_seconds: float = Field(
        default=1.0,
        ge=0,
        le=3600,
        description="Least time between two notices to one Slack or Teams channel (Slack allows "
        "about one message a second per webhook).",
    )
    notice_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="Time Slack or Teams has to answer one notice."
    )
    public_url: str | None = Field(
        default=None,
        max_length=2000,
        description="The address people reach Accolade at (e.g. `https://accolade.example.com`): "
        "the base of the absolute ids of Open Badges documents and of the links members share. "
        "Unset: the address each request came to.",
    )
    badge_key_file: str | None = Field(
        default=None,
        description="The Ed25519 private key (PEM) Open Badges 3.0 credentials are signed with, "
        "made by `accolade badges keygen`; never logged. Unset: no 3.0 credentials are served.",
    )
    badge_issuer_url: str | None = Field(
        default=None,
        max_length=2000,
        description="The Open Badges issuer's web site (the program's owner). Unset: the public "
        "URL.",
    )
    badge_issuer_email: str | None = Field(
        default=None,
        max_length=320,
        description="The Open Badges issuer's contact email; validators of Open Badges 2.0 "
        "require one.",
    )
    salesforce_instance_url: str | None = Field(
        default=None,
        max_length=2000,
        description="The Salesforce org's URL (https://MyDomain.my.salesforce.com) the Salesforce "
        "connector's upserts go to; unset, the one the OAuth token answer names.",
    )
    salesforce_access_token: SecretStr | None = Field(
        default=None,
        description="An OAuth access token of the Salesforce connector (instead of the client "
        "credentials flow); never logged, never stored in the database or the program file.",
    )
    salesforce_client_id: str | None = Field(
        default=None,
        max_length=300,
        description="The connected app's consumer key, for the OAuth 2.0 client credentials flow.",
    )
    salesforce_client_secret: SecretStr | None = Field(
        default=None, description="The connected app's consumer secret (client credentials flow)."
    )
    salesforce_login_url: str = Field(
        default="https://login.salesforce.com",
        max_length=2000,
        description="Where the client credentials flow asks for a token "
        "(`/services/oauth2/token`): the org's My Domain URL in production.",
    )
    salesforce_api_version: str = Field(
        default="v60.0", pattern=r"^v\d+\.\d$", description="The Salesforce REST API version used."
    )
    salesforce_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="Time Salesforce has to answer one request."
    )
    hubspot_app_secret: SecretStr | None = Field(
        default=None,
        description="The HubSpot app's client secret that signs its webhooks "
        "(X-HubSpot-Signature-v3); set, POST /v1/inbound/hubspot/{program} accepts them.",
    )
    salesforce_inbound_secret: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="The secret Salesforce's Flow or Apex signs inbound notices with "
        "(X-Accolade-Signature); set, POST /v1/inbound/salesforce/{program} accepts them.",
    )
