"""Persistence: SQLAlchemy Core tables, Alembic migrations, bulk repository, unit of work."""
