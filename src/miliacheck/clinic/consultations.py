"""Consultation requests: from a result to the clinic, and the clinic's side of them.

A request copies the case and the result it was made from (with the knowledge base
version), so it says what the person consented to share even after their anonymous
interview is purged. The person holds a private key (the link); only its SHA-256 is
stored. Clinicians work the queue; every view and change goes into the audit log, which
names the actor and the action, never the content.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import statistics
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from miliacheck import interviews, metrics
from miliacheck.clinic import photos as photo_rules
from miliacheck.clinic.accounts import Clinician, digest
from miliacheck.engine.case import parse_case
from miliacheck.engine.triage import LEVEL_RANK
from miliacheck.errors import CaseError, ConflictError, FieldError, NotFoundError
from miliacheck.kb.load import KnowledgeBase
from miliacheck.service import assess_case
from miliacheck.store import Store
from miliacheck.store.tables import AuditRow, ConsultationRow, PhotoRow, now
from miliacheck.text import with_narrative

FIELDS = ("interview_id", "case", "name", "email", "phone", "preferred_times", "consent", "photos")
#: The clinic's workflow; withdrawn is the person's own choice.
NEXT_STATUS: dict[str, tuple[str, ...]] = {
    "new": ("contacted", "declined"),
    "contacted": ("booked", "closed", "declined"),
    "booked": ("closed", "declined"),
    "closed": (),
    "declined": (),
    "withdrawn": (),
}
OPEN = ("new", "contacted", "booked")
PRIVATE_AREAS = {"genitals", "nappy_area"}
MAX_NOTE = 2000
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_PHONE = re.compile(r"^\+?[0-9 ()\-.]{6,25}$")


def _text(body: dict[str, Any], name: str, limit: int, errors: list[FieldError]) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append({"field": name, "message": "must be text"})
        return None
    value = value.strip()
    if len(value) > limit:
        errors.append({"field": name, "message": f"at most {limit} characters"})
        return None
    return value or None


def _contact(body: dict[str, Any], errors: list[FieldError]) -> dict[str, str | None]:
    contact = {
        "name": _text(body, "name", 200, errors),
        "email": _text(body, "email", 254, errors),
        "phone": _text(body, "phone", 40, errors),
        "preferred_times": _text(body, "preferred_times", 500, errors),
    }
    if contact["email"] and not _EMAIL.match(contact["email"]):
        errors.append({"field": "email", "message": "must be an email address, like a@b.org"})
    if contact["phone"] and (
        not _PHONE.match(contact["phone"]) or sum(c.isdigit() for c in contact["phone"]) < 6
    ):
        errors.append({"field": "phone", "message": "must be a phone number (digits, + ( ) -)"})
    if (
        not contact["email"]
        and not contact["phone"]
        and not any(e["field"] in ("email", "phone") for e in errors)
    ):
        errors.append(
            {
                "field": "email",
                "message": "give an email address or a phone number so the clinic can reach you",
            }
        )
    return contact


def _photos_from_json(value: object, errors: list[FieldError]) -> list[bytes]:
    """``photos`` in the API: a list of base64 strings (or ``{"data": base64}``)."""
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append({"field": "photos", "message": "must be a list of base64-encoded images"})
        return []
    if len(value) > photo_rules.MAX_PHOTOS:
        errors.append({"field": "photos", "message": f"at most {photo_rules.MAX_PHOTOS} photos"})
        return []
    raw: list[bytes] = []
    for i, item in enumerate(value):
        data = item.get("data") if isinstance(item, dict) else item
        if not isinstance(data, str) or len(data) > photo_rules.MAX_BYTES * 4 // 3 + 8:
            errors.append(
                {"field": f"photos[{i}]", "message": "must be a base64 image of at most 10 MB"}
            )
            continue
        try:
            raw.append(base64.b64decode(data, validate=True))
        except (binascii.Error, ValueError):
            errors.append({"field": f"photos[{i}]", "message": "is not valid base64"})
    return raw


def youngest_age(case: dict[str, Any], result: dict[str, Any]) -> float:
    """The case's age, or a younger one read from the words (the younger counts)."""
    ages = [float(case.get("age_years", 0))]
    ages += [
        float(c["words"])
        for c in result.get("conflicts", [])
        if c.get("field") == "age_years" and isinstance(c.get("words"), int | float)
    ]
    return min(ages)


def photos_allowed(case: dict[str, Any], result: dict[str, Any]) -> bool:
    """No photos of the genitals or nappy area of anyone under 18 (safeguarding)."""
    places = set(case.get("locations") or [])
    places |= {u["value"] for u in result.get("understood", []) if u.get("field") == "locations"}
    return not (places & PRIVATE_AREAS and youngest_age(case, result) < 18)


def create(
    kb: KnowledgeBase,
    store: Store,
    body: object,
    uploads: Sequence[bytes] = (),
    notify: Callable[[str, str], None] | None = None,
) -> dict[str, Any]:
    """Make a request from ``{"interview_id"| "case", contact, "consent": true, "photos"?}``.

    ``uploads`` are photo bytes from a web form; the API sends ``photos`` in the body.
    ``notify(id, level)`` is called once the request is stored (the clinic's email).
    """
    if not isinstance(body, dict):
        raise CaseError([{"field": None, "message": "the body must be a JSON object"}])
    errors: list[FieldError] = [
        {"field": k, "message": "unknown field"} for k in body if k not in FIELDS
    ]
    if ("interview_id" in body) == ("case" in body):
        errors.append({"field": "interview_id", "message": "give either interview_id or case"})
    if body.get("consent") is not True:
        errors.append(
            {
                "field": "consent",
                "message": "the clinic can only see your assessment if you agree to share it",
            }
        )
    contact = _contact(body, errors)
    raw_photos = list(uploads) + _photos_from_json(body.get("photos"), errors)
    if len(raw_photos) > photo_rules.MAX_PHOTOS:
        errors.append({"field": "photos", "message": f"at most {photo_rules.MAX_PHOTOS} photos"})
    case, result, interview_id = _assessment(kb, store, body, errors)
    if errors:
        raise CaseError(errors)
    assert case is not None and result is not None
    level = result["triage"]["level"]
    if level == "emergency":
        raise CaseError(
            [
                {
                    "field": "interview_id" if interview_id else "case",
                    "message": (
                        "this result needs emergency care now, not a clinic request: go to the "
                        "emergency department or call your emergency number"
                    ),
                }
            ],
            title="An emergency cannot wait for the clinic",
        )
    if raw_photos and not photos_allowed(case, result):
        raise CaseError(
            [
                {
                    "field": "photos",
                    "message": (
                        "photos of the genitals or nappy area of anyone under 18 cannot be "
                        "sent; the clinic will examine in person"
                    ),
                }
            ]
        )
    cleaned = []
    for i, raw in enumerate(raw_photos):
        try:
            cleaned.append(photo_rules.clean(raw, i + 1))
        except photo_rules.PhotoError as exc:
            errors.append({"field": f"photos[{i}]", "message": exc.message})
    if errors:
        raise CaseError(errors)
    key = secrets.token_urlsafe(24)
    row = ConsultationRow(
        id=str(uuid.uuid4()),
        key_hash=digest(key),
        interview_id=interview_id,
        case=case,
        result=result,
        kb_version=result.get("kb_version", kb.version),
        level_rank=LEVEL_RANK[level],
        consent=True,
        status="new",
        notes=[],
        history=[{"status": "new", "at": now().isoformat(), "by": "person"}],
        **contact,
    )
    with store.session() as s:
        s.add(row)
        s.flush()
        for n, photo in enumerate(cleaned, 1):
            s.add(
                PhotoRow(
                    consultation_id=row.id,
                    n=n,
                    content_type=photo.content_type,
                    data=photo.data,
                    thumbnail=photo.thumbnail,
                    width=photo.width,
                    height=photo.height,
                )
            )
        s.add(AuditRow(actor="person", action="created", consultation_id=row.id))
    metrics.CONSULTATIONS.labels(level).inc()
    if notify is not None:
        notify(row.id, level)
    return {
        "id": row.id,
        "key": key,
        "link": f"/requests/{key}",
        "status": "new",
        "level": level,
        "photos": len(cleaned),
    }


def _assessment(
    kb: KnowledgeBase, store: Store, body: dict[str, Any], errors: list[FieldError]
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, str | None]:
    if "interview_id" in body:
        iid = body["interview_id"]
        if not isinstance(iid, str) or not 0 < len(iid) <= 64:
            errors.append({"field": "interview_id", "message": "must be an interview id"})
            return None, None, None
        try:
            view = interviews.read(store, iid)
        except NotFoundError:
            errors.append({"field": "interview_id", "message": "no such interview"})
            return None, None, None
        return view["case"], view["result"], iid
    if "case" in body:
        try:
            case = parse_case(kb, body["case"])
        except CaseError as exc:
            errors.extend(
                {**e, "field": f"case.{e['field']}" if e["field"] is not None else "case"}
                for e in exc.errors
            )
            return None, None, None
        return body["case"], assess_case(kb, case), None
    return None, None, None


def _by_key(session: Session, key: str, lock: bool = False) -> ConsultationRow:
    row: ConsultationRow | None = None
    if 0 < len(key) <= 100:
        query = select(ConsultationRow).where(ConsultationRow.key_hash == digest(key))
        row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFoundError(
            [{"field": "key", "message": "no such request (it may have been erased)"}]
        )
    return row


def _by_id(session: Session, cid: str, lock: bool = False) -> ConsultationRow:
    """The row; ``lock`` for a change (PostgreSQL locks it until the commit)."""
    row: ConsultationRow | None = (
        session.get(ConsultationRow, cid, with_for_update=lock or None)
        if 0 < len(cid) <= 64
        else None
    )
    if row is None:
        raise NotFoundError([{"field": "id", "message": "no such request"}])
    return row


def _photo_list(session: Session, cid: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(PhotoRow).where(PhotoRow.consultation_id == cid).order_by(PhotoRow.n)
    )
    return [
        {"n": p.n, "content_type": p.content_type, "width": p.width, "height": p.height}
        for p in rows
    ]


def _summary(row: ConsultationRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "level": row.result["triage"]["level"],
        "service": row.result["triage"]["service"],
        "created_at": _aware(row.created_at).isoformat(),
        "updated_at": _aware(row.updated_at).isoformat(),
    }


def for_person(store: Store, key: str) -> dict[str, Any]:
    """What the person sees through their private link: their own request, no clinic notes."""
    with store.session() as s:
        row = _by_key(s, key)
        return {
            **_summary(row),
            "contact": {
                "name": row.name,
                "email": row.email,
                "phone": row.phone,
                "preferred_times": row.preferred_times,
            },
            "history": [{"status": h["status"], "at": h["at"]} for h in row.history],
            "photos": _photo_list(s, row.id),
            "can_withdraw": row.status in OPEN,
        }


def withdraw(store: Store, key: str) -> dict[str, Any]:
    with store.session(write=True) as s:
        row = _by_key(s, key, lock=True)
        if row.status not in OPEN:
            raise ConflictError(
                [{"field": "status", "message": f"the request is already {row.status}"}]
            )
        _move(row, "withdrawn", "person")
        s.add(AuditRow(actor="person", action="withdrew", consultation_id=row.id))
    return for_person(store, key)


def erase(store: Store, key: str) -> None:
    """Erase the request, its contact details and photos; the audit keeps only the fact."""
    with store.session() as s:
        row = _by_key(s, key)
        s.execute(delete(PhotoRow).where(PhotoRow.consultation_id == row.id))
        s.delete(row)
        s.add(AuditRow(actor="person", action="erased", consultation_id=row.id))


def person_photo(store: Store, key: str, n: int, thumbnail: bool = False) -> tuple[bytes, str]:
    with store.session() as s:
        row = _by_key(s, key)
        return _photo(s, row.id, n, thumbnail)


def _photo(session: Session, cid: str, n: int, thumbnail: bool) -> tuple[bytes, str]:
    photo = session.scalar(select(PhotoRow).where(PhotoRow.consultation_id == cid, PhotoRow.n == n))
    if photo is None:
        raise NotFoundError([{"field": "n", "message": "no such photo"}])
    if thumbnail:
        return photo.thumbnail, _thumb_type(photo.thumbnail)
    return photo.data, photo.content_type


def _thumb_type(data: bytes) -> str:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    return "image/jpeg"


# ---- the clinic's side ------------------------------------------------------------------


def _audit(
    session: Session, who: Clinician, action: str, cid: str | None, detail: str | None = None
) -> None:
    session.add(
        AuditRow(actor=f"clinician:{who.id}", action=action, consultation_id=cid, detail=detail)
    )


def queue(store: Store, who: Clinician, everything: bool = False) -> list[dict[str, Any]]:
    """Open requests, most urgent first, then the longest waiting first."""
    with store.session() as s:
        query = select(ConsultationRow)
        if not everything:
            query = query.where(ConsultationRow.status.in_(OPEN))
        rows = s.scalars(
            query.order_by(ConsultationRow.level_rank.desc(), ConsultationRow.created_at.asc())
        ).all()
        _audit(s, who, "viewed_queue", None, f"{len(rows)} requests")
        out = []
        for row in rows:
            top = row.result["conditions"][0] if row.result["conditions"] else None
            out.append(
                {
                    **_summary(row),
                    "name": row.name,
                    "top": top["name"] if top else None,
                    "top_probability": top["probability"] if top else None,
                    "waiting": now() - _aware(row.created_at),
                    "photos": len(_photo_list(s, row.id)),
                }
            )
        return out


def for_clinician(store: Store, who: Clinician, cid: str) -> dict[str, Any]:
    """Everything the checker learned, for the clinician (the view is audited)."""
    with store.session() as s:
        row = _by_id(s, cid)
        _audit(s, who, "viewed", row.id)
        return _full(s, row)


def _full(session: Session, row: ConsultationRow) -> dict[str, Any]:
    return {
        **_summary(row),
        "contact": {
            "name": row.name,
            "email": row.email,
            "phone": row.phone,
            "preferred_times": row.preferred_times,
        },
        "case": row.case,
        "result": row.result,
        "kb_version": row.kb_version,
        "interview_id": row.interview_id,
        "notes": list(row.notes),
        "history": list(row.history),
        "photos": _photo_list(session, row.id),
        "confirmed": {"condition": row.confirmed_condition, "level": row.confirmed_level},
        "next_status": list(NEXT_STATUS[row.status]),
    }


def record(store: Store, cid: str) -> dict[str, Any]:
    """The request with its photo bytes: what the FHIR export and the summary read."""
    with store.session() as s:
        row = _by_id(s, cid)
        out = _full(s, row)
        out["photos"] = [
            {
                "n": p.n,
                "content_type": p.content_type,
                "data": p.data,
                "thumbnail": p.thumbnail,
                "width": p.width,
                "height": p.height,
            }
            for p in s.scalars(
                select(PhotoRow).where(PhotoRow.consultation_id == row.id).order_by(PhotoRow.n)
            )
        ]
        out["confirmed"] = (
            out["confirmed"] if row.confirmed_condition or row.confirmed_level else None
        )
        return out


def audit_export(store: Store, who: Clinician, cid: str, what: str) -> None:
    with store.session() as s:
        _by_id(s, cid)
        _audit(s, who, f"exported_{what}", cid)


def clinician_photo(
    store: Store, who: Clinician, cid: str, n: int, thumbnail: bool = False
) -> tuple[bytes, str]:
    with store.session() as s:
        row = _by_id(s, cid)
        if not thumbnail:
            _audit(s, who, "viewed_photo", row.id, f"photo {n}")
        return _photo(s, row.id, n, thumbnail)


def update(
    kb: KnowledgeBase, store: Store, who: Clinician, cid: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Change the status and/or add a note; on closing, optionally the confirmed outcome."""
    errors: list[FieldError] = []
    status = body.get("status") or None
    note = _text(body, "note", MAX_NOTE, errors)
    condition = body.get("confirmed_condition") or None
    level = body.get("confirmed_level") or None
    if condition is not None and condition not in kb.conditions:
        errors.append({"field": "confirmed_condition", "message": "not a known condition"})
    if level is not None and level not in LEVEL_RANK:
        errors.append({"field": "confirmed_level", "message": "not a care level"})
    with store.session(write=True) as s:
        row = _by_id(s, cid, lock=True)
        if status is not None and status != row.status and status not in NEXT_STATUS[row.status]:
            allowed = ", ".join(NEXT_STATUS[row.status]) or "none (it is final)"
            errors.append(
                {"field": "status", "message": f"from {row.status} the next can be: {allowed}"}
            )
        if (condition or level) and (status or row.status) != "closed":
            errors.append(
                {"field": "confirmed_condition", "message": "record the outcome when closing"}
            )
        if errors:
            raise CaseError(errors)
        if status is not None and status != row.status:
            _move(row, status, f"clinician:{who.id}")
            _audit(s, who, "status", row.id, status)
        if note:
            row.notes = [*row.notes, {"at": now().isoformat(), "by": who.name, "text": note}]
            row.updated_at = now()
            _audit(s, who, "note", row.id)
        if condition or level:
            row.confirmed_condition = condition
            row.confirmed_level = level
            _audit(s, who, "outcome", row.id)
        return _full(s, row)


def _move(row: ConsultationRow, status: str, by: str) -> None:
    at = now()
    row.status = status
    row.history = [*row.history, {"status": status, "at": at.isoformat(), "by": by}]
    row.updated_at = at
    if status == "contacted" and row.contacted_at is None:
        row.contacted_at = at


def response_time(store: Store, days: int = 90, at: datetime | None = None) -> timedelta | None:
    """The measured median time to first contact over recent requests (None below 5)."""
    since = (at or now()) - timedelta(days=days)
    with store.session() as s:
        pairs = s.execute(
            select(ConsultationRow.created_at, ConsultationRow.contacted_at).where(
                ConsultationRow.created_at >= since, ConsultationRow.contacted_at.is_not(None)
            )
        ).all()
    waits = [(_aware(b) - _aware(a)).total_seconds() for a, b in pairs if b is not None]
    return timedelta(seconds=statistics.median(waits)) if len(waits) >= 5 else None


def audit_log(store: Store, cid: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    with store.session() as s:
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if cid is not None:
            query = query.where(AuditRow.consultation_id == cid)
        return [
            {
                "at": _aware(a.at).isoformat(),
                "actor": a.actor,
                "action": a.action,
                "consultation_id": a.consultation_id,
                "detail": a.detail,
            }
            for a in s.scalars(query)
        ]


def export_cases(kb: KnowledgeBase, store: Store) -> list[dict[str, Any]]:
    """Closed, consented requests with a confirmed diagnosis, de-identified as vignettes.

    Only the case's clinical fields go out: no contact details, no narrative (free text can
    name people and places), no ids that link back; ages are kept to the month for babies
    and to the year otherwise.
    """
    with store.session() as s:
        rows = s.scalars(
            select(ConsultationRow)
            .where(
                ConsultationRow.status == "closed",
                ConsultationRow.consent.is_(True),
                ConsultationRow.confirmed_condition.is_not(None),
            )
            .order_by(ConsultationRow.created_at)
        ).all()
        out = []
        for i, row in enumerate(rows, 1):
            # What the words said, written into the structured fields; then the words go.
            merged, _, _ = with_narrative(kb, parse_case(kb, row.case))
            case = {k: v for k, v in merged.to_json().items() if k != "narrative"}
            age = float(case.get("age_years", 0))
            case["age_years"] = round(age * 12) / 12 if age < 2 else float(int(age))
            case["age_years"] = round(case["age_years"], 3)
            expected: dict[str, Any] = {
                "diagnosis": row.confirmed_condition,
                "also_acceptable": [],
                "triage": row.confirmed_level or row.result["triage"]["level"],
            }
            out.append(
                {
                    "id": f"C{i:04d}",
                    "source": f"miliacheck clinic outcome (kb {row.kb_version})",
                    "case": case,
                    "expected": expected,
                }
            )
        return out


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
