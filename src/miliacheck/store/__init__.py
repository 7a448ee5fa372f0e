"""Storage: SQLAlchemy tables, a small repository, and Alembic migrations."""

from miliacheck.store.db import Store

__all__ = ["Store"]
