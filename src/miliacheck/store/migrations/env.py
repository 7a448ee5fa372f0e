"""Alembic environment: runs against the engine the Store hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from miliacheck.store.tables import Base

#: Any number, the same in every worker: PostgreSQL lets one migrate at a time.
MIGRATION_LOCK = 7_270_051

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    if connection.dialect.name == "postgresql":
        # Several workers starting together: the first migrates, the others wait, then
        # find the schema at head and do nothing. The lock ends with the transaction.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
