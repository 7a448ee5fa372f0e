"""The stored rows. Interviews hold no personal data: a case, answers and the result.
Consultation requests hold the contact details a person chose to give, with consent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class InterviewRow(Base):
    __tablename__ = "interviews"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    base_case: Mapped[dict[str, Any]] = mapped_column(JSON)  # the case as started
    answers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{question, answer}] in order
    case: Mapped[dict[str, Any]] = mapped_column(JSON)  # base case with every answer written in
    result: Mapped[dict[str, Any]] = mapped_column(JSON)  # the latest result
    corrections: Mapped[list[str]] = mapped_column(JSON, default=list)  # misread words to ignore
    kb_version: Mapped[str] = mapped_column(String(40))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class FeedbackRow(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    interview_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("interviews.id", ondelete="CASCADE"), nullable=True, index=True
    )
    page: Mapped[str] = mapped_column(String(200))
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class ConsultationRow(Base):
    """A request to the clinic: a copy of the assessment, and contact details given with consent.

    The case and result are copied (not referenced) so the request keeps what the person
    consented to share even after the anonymous interview is purged. ``key_hash`` is the
    SHA-256 of the private link's key: the key itself is never stored.
    """

    __tablename__ = "consultations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    interview_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    case: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    kb_version: Mapped[str] = mapped_column(String(40))
    level_rank: Mapped[int] = mapped_column(Integer, index=True)  # 0 self_care .. 4 emergency
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    preferred_times: Mapped[str | None] = mapped_column(String(500), nullable=True)
    consent: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(20), index=True)
    notes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    confirmed_condition: Mapped[str | None] = mapped_column(String(80), nullable=True)
    confirmed_level: Mapped[str | None] = mapped_column(String(20), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    contacted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PhotoRow(Base):
    """A cleaned photo (decoded, re-encoded, metadata stripped) and its thumbnail."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    consultation_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    n: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    thumbnail: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)


class ClinicianRow(Base):
    __tablename__ = "clinicians"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class SessionRow(Base):
    """A clinician's login. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    clinician_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("clinicians.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginFailureRow(Base):
    """Failed logins per key (a hashed account or address), for throttling with back-off."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class AuditRow(Base):
    """Who viewed or changed what, and when (never the content itself)."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    actor: Mapped[str] = mapped_column(String(260))  # "clinician:<id>", "person", "system"
    action: Mapped[str] = mapped_column(String(40))
    consultation_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    detail: Mapped[str | None] = mapped_column(String(200), nullable=True)
