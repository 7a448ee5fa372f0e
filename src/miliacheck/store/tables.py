"""The stored rows. Interviews hold no personal data: a case, answers and the result."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
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
