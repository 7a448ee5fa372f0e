"""Alembic environment: runs against the engine the Store hands over."""

from __future__ import annotations

from alembic import context

from miliacheck.store.tables import Base

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
