"""The clinic: consultation requests, photos, clinicians, sessions, login throttling, audit.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "consultations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("interview_id", sa.String(64), nullable=True),
        sa.Column("case", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("kb_version", sa.String(40), nullable=False),
        sa.Column("level_rank", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("preferred_times", sa.String(500), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("confirmed_condition", sa.String(80), nullable=True),
        sa.Column("confirmed_level", sa.String(20), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("contacted_at", nullable=True),
    )
    op.create_index("ix_consultations_key_hash", "consultations", ["key_hash"], unique=True)
    op.create_index("ix_consultations_level_rank", "consultations", ["level_rank"])
    op.create_index("ix_consultations_status", "consultations", ["status"])
    op.create_index("ix_consultations_created_at", "consultations", ["created_at"])
    op.create_table(
        "photos",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "consultation_id",
            sa.String(64),
            sa.ForeignKey("consultations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("thumbnail", sa.LargeBinary(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
    )
    op.create_index("ix_photos_consultation_id", "photos", ["consultation_id"])
    op.create_table(
        "clinicians",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "clinician_id",
            sa.Integer(),
            sa.ForeignKey("clinicians.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _ts("created_at"),
        _ts("expires_at"),
    )
    op.create_index("ix_sessions_clinician_id", "sessions", ["clinician_id"])
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        _ts("last_failure_at"),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _ts("at"),
        sa.Column("actor", sa.String(260), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("consultation_id", sa.String(64), nullable=True),
        sa.Column("detail", sa.String(200), nullable=True),
    )
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_index("ix_audit_consultation_id", "audit", ["consultation_id"])


def downgrade() -> None:
    for table in ("audit", "login_failures", "sessions", "clinicians", "photos", "consultations"):
        op.drop_table(table)
