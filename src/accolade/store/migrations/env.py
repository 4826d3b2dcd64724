"""Alembic environment: runs on the engine Accolade hands over (see store.database)."""

from __future__ import annotations

from alembic import context

from accolade.store.tables import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
