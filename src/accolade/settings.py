"""Every knob, from ACCOLADE_* environment variables, with defaults that run on SQLite."""

from __future__ import annotations

from pydantic import Field
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
