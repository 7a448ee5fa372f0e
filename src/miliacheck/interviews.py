"""Stored interviews: the stateless interview of the engine, kept under an unguessable id.

An interview stores the case it started from and its answers in order; the current
case is always the start with every answer written in by the format's rules, so an
earlier answer can be replaced or undone and the case rebuilt. Nothing personal is
needed or kept.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from miliacheck import metrics
from miliacheck.engine.case import parse_case
from miliacheck.engine.interview import apply_answer
from miliacheck.errors import CaseError, ConflictError, FieldError, NotFoundError
from miliacheck.kb.load import KnowledgeBase
from miliacheck.service import assess_case
from miliacheck.store import Store
from miliacheck.store.tables import FeedbackRow, InterviewRow, now

ANSWER_KEYS = ("question_id", "answer")
MAX_COMMENT = 1000


def new_id() -> str:
    """An unguessable id: 144 random bits, URL-safe."""
    return secrets.token_urlsafe(18)


def _build(
    kb: KnowledgeBase,
    base: dict[str, Any],
    answers: list[dict[str, Any]],
    ignore: list[str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    case = base
    for entry in answers:
        case = apply_answer(case, entry["question"], entry["answer"])
    return case, assess_case(kb, parse_case(kb, case), frozenset(ignore or []))


def view(row: InterviewRow, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "done": row.done,
        "question": row.result["next_question"],
        "result": row.result,
    }
    if full:
        out["case"] = row.case
        out["answers"] = [
            {"question_id": a["question"]["id"], "answer": a["answer"]} for a in row.answers
        ]
        out["kb_version"] = row.kb_version
        out["created_at"] = row.created_at.isoformat()
        out["updated_at"] = row.updated_at.isoformat()
    return out


def start(kb: KnowledgeBase, store: Store, body: object) -> dict[str, Any]:
    """Start an interview from ``{"case": {...}}``; answers the first question."""
    if not isinstance(body, dict):
        raise CaseError([{"field": None, "message": 'the body must be {"case": {...}}'}])
    errors: list[FieldError] = [
        {"field": str(k), "message": "unknown field"} for k in body if k != "case"
    ]
    if "case" not in body:
        errors.append({"field": "case", "message": "required"})
    if errors:
        raise CaseError(errors)
    case = body["case"]
    try:
        parse_case(kb, case)
    except CaseError as exc:
        raise CaseError(
            [
                {**e, "field": f"case.{e['field']}" if e["field"] is not None else "case"}
                for e in exc.errors
            ]
        ) from None
    built, result = _build(kb, case, [])
    row = InterviewRow(
        id=new_id(),
        base_case=case,
        answers=[],
        corrections=[],
        case=built,
        result=result,
        kb_version=kb.version,
        done=result["next_question"] is None,
    )
    with store.session() as s:
        s.add(row)
    metrics.INTERVIEWS_STARTED.inc()
    if row.done:
        metrics.INTERVIEWS_FINISHED.inc()
        metrics.RESULTS.labels(result["triage"]["level"]).inc()
    return view(row)


def _get(session: Any, interview_id: str, lock: bool = False) -> InterviewRow:
    """The row; ``lock`` for a change: on PostgreSQL the row is locked until the commit, so
    two changes to one interview at once are applied one after the other, never lost."""
    row = session.get(InterviewRow, interview_id, with_for_update=lock or None)
    if row is None:
        raise NotFoundError(
            [{"field": "interview_id", "message": "no such interview (it may have been erased)"}]
        )
    return row


def read(store: Store, interview_id: str) -> dict[str, Any]:
    with store.session() as s:
        return view(_get(s, interview_id), full=True)


def answer(kb: KnowledgeBase, store: Store, interview_id: str, body: object) -> dict[str, Any]:
    """Answer the current question, or replace the answer to an earlier one."""
    if not isinstance(body, dict):
        raise CaseError(
            [{"field": None, "message": 'the body must be {"question_id": ..., "answer": ...}'}]
        )
    errors = [{"field": k, "message": "unknown field"} for k in body if k not in ANSWER_KEYS]
    errors += [{"field": k, "message": "required"} for k in ANSWER_KEYS if k not in body]
    if errors:
        raise CaseError(errors)
    qid = body["question_id"]
    if not isinstance(qid, str):
        raise CaseError([{"field": "question_id", "message": "must be a question id"}])
    with store.session(write=True) as s:
        row = _get(s, interview_id, lock=True)
        answers = list(row.answers)
        current = row.result["next_question"]
        earlier = next((i for i, a in enumerate(answers) if a["question"]["id"] == qid), None)
        if earlier is not None:
            answers[earlier] = {"question": answers[earlier]["question"], "answer": body["answer"]}
        elif current is not None and current["id"] == qid:
            answers.append({"question": _plain(current), "answer": body["answer"]})
        else:
            raise ConflictError(
                [{"field": "question_id", "message": f"{qid!r} was not asked in this interview"}]
            )
        _save(kb, row, answers)
        return view(row)


def undo(kb: KnowledgeBase, store: Store, interview_id: str, question_id: str) -> dict[str, Any]:
    """Remove one answer; the case goes back to what it was without it."""
    with store.session(write=True) as s:
        row = _get(s, interview_id, lock=True)
        answers = [a for a in row.answers if a["question"]["id"] != question_id]
        if len(answers) == len(row.answers):
            raise NotFoundError(
                [{"field": "question_id", "message": f"{question_id!r} has no answer here"}]
            )
        _save(kb, row, answers)
        return view(row)


def undo_last(kb: KnowledgeBase, store: Store, interview_id: str) -> dict[str, Any]:
    """The web's Back: remove the most recent answer (nothing to undo: unchanged)."""
    with store.session(write=True) as s:
        row = _get(s, interview_id, lock=True)
        if row.answers:
            _save(kb, row, list(row.answers[:-1]))
        return view(row)


def erase(store: Store, interview_id: str) -> None:
    with store.session() as s:
        s.delete(_get(s, interview_id))


def purge(store: Store, older_than_days: int, at: datetime | None = None) -> int:
    """Erase interviews created more than ``older_than_days`` ago; returns how many."""
    cutoff = (at or now()) - timedelta(days=older_than_days)
    with store.session() as s:
        s.execute(
            delete(FeedbackRow).where(
                FeedbackRow.interview_id.in_(
                    select(InterviewRow.id).where(InterviewRow.created_at < cutoff)
                )
            )
        )
        result = s.execute(delete(InterviewRow).where(InterviewRow.created_at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)


def feedback(
    store: Store, page: str, helpful: bool, comment: str | None, interview_id: str | None = None
) -> None:
    """Keep a 'was this helpful?' answer (the comment is free text: never logged)."""
    if comment is not None and len(comment) > MAX_COMMENT:
        raise CaseError([{"field": "comment", "message": f"at most {MAX_COMMENT} characters"}])
    with store.session() as s:
        if interview_id is not None:
            _get(s, interview_id)
        s.add(
            FeedbackRow(
                page=page[:200], helpful=helpful, comment=comment or None, interview_id=interview_id
            )
        )


def correct(kb: KnowledgeBase, store: Store, interview_id: str, reading: str) -> dict[str, Any]:
    """The person says a reading of their words is wrong: stop using it and ask instead."""
    with store.session(write=True) as s:
        row = _get(s, interview_id, lock=True)
        if reading not in row.corrections:
            row.corrections = [*row.corrections, reading]
        _save(kb, row, list(row.answers))
        return view(row)


def _save(kb: KnowledgeBase, row: InterviewRow, answers: list[dict[str, Any]]) -> None:
    case, result = _build(kb, row.base_case, answers, row.corrections)
    row.answers = answers
    row.case = case
    row.result = result
    row.kb_version = kb.version
    finished = result["next_question"] is None
    if finished and not row.done:
        metrics.INTERVIEWS_FINISHED.inc()
        metrics.RESULTS.labels(result["triage"]["level"]).inc()
    row.done = finished
    row.updated_at = now()


def _plain(question: dict[str, Any]) -> dict[str, Any]:
    """The question as stored with its answer: what is needed to write the answer in."""
    return {k: question[k] for k in ("id", "type", "fields", "options", "min", "max")}
