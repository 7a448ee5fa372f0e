"""Clinician accounts: argon2id password hashes, server-side sessions, throttled logins.

A session cookie holds a random token; only its SHA-256 is stored, so a copy of the
database cannot be used to log in. A new token is issued at every login and any token
the browser brought is dropped (no session fixation). Failed logins are counted per
account and per address (both hashed); after ``FREE_FAILURES`` each further attempt must
wait twice as long as the last, up to ``MAX_WAIT``, and is refused without checking the
password, so the wait cannot be used to test passwords.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from miliacheck.errors import CaseError
from miliacheck.store import Store
from miliacheck.store.tables import ClinicianRow, LoginFailureRow, SessionRow, now

FREE_FAILURES = 5
MAX_WAIT = timedelta(minutes=15)
MIN_PASSWORD = 12
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not a real password, only for equal timing")


@dataclass(frozen=True)
class Clinician:
    id: int
    email: str
    name: str


class LoginThrottled(Exception):
    def __init__(self, wait: timedelta) -> None:
        self.wait_seconds = max(1, int(wait.total_seconds()))
        super().__init__(f"too many failed logins: wait {self.wait_seconds} s")


def new_token() -> str:
    """A random token for a cookie: 256 bits, URL-safe."""
    return secrets.token_urlsafe(32)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def add_clinician(store: Store, email: str, name: str, password: str) -> Clinician:
    """Create an account (or reset its password and name if the email exists)."""
    email = email.strip().lower()
    errors = []
    if "@" not in email or len(email) > 254:
        errors.append({"field": "email", "message": "must be an email address"})
    if not name.strip():
        errors.append({"field": "name", "message": "required"})
    if len(password) < MIN_PASSWORD:
        errors.append({"field": "password", "message": f"at least {MIN_PASSWORD} characters"})
    if errors:
        raise CaseError(errors)  # type: ignore[arg-type]
    with store.session() as s:
        row = s.scalar(select(ClinicianRow).where(ClinicianRow.email == email))
        if row is None:
            row = ClinicianRow(email=email, name=name.strip(), password_hash="", active=True)
            s.add(row)
        row.name = name.strip()
        row.password_hash = _hasher.hash(password)
        row.active = True
        s.flush()
        return Clinician(row.id, row.email, row.name)


def _wait(failures: int, last: datetime, at: datetime) -> timedelta:
    if failures < FREE_FAILURES:
        return timedelta(0)
    backoff = min(MAX_WAIT, timedelta(seconds=2 ** (failures - FREE_FAILURES + 1)))
    return max(timedelta(0), last + backoff - at)


def login(
    store: Store, email: str, password: str, address: str, hours: int, at: datetime | None = None
) -> tuple[Clinician, str] | None:
    """The clinician and a new session token, or None; raises LoginThrottled while waiting."""
    at = at or now()
    email = email.strip().lower()[:254]
    keys = [digest("account:" + email), digest("address:" + address)]
    with store.session() as s:
        rows = {
            r.key: r
            for r in s.scalars(select(LoginFailureRow).where(LoginFailureRow.key.in_(keys)))
        }
        wait = max(
            (_wait(r.failures, _aware(r.last_failure_at), at) for r in rows.values()),
            default=timedelta(0),
        )
        if wait > timedelta(0):
            raise LoginThrottled(wait)
        clinician = s.scalar(select(ClinicianRow).where(ClinicianRow.email == email))
        ok = False
        try:
            ok = _hasher.verify(clinician.password_hash if clinician else _DUMMY, password)
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or clinician is None or not clinician.active:
            for key in keys:
                row = rows.get(key)
                if row is None:
                    s.add(LoginFailureRow(key=key, failures=1, last_failure_at=at))
                else:
                    row.failures += 1
                    row.last_failure_at = at
            return None
        s.execute(delete(LoginFailureRow).where(LoginFailureRow.key == keys[0]))
        if _hasher.check_needs_rehash(clinician.password_hash):
            clinician.password_hash = _hasher.hash(password)
        token = new_token()
        s.add(
            SessionRow(
                token_hash=digest(token),
                clinician_id=clinician.id,
                created_at=at,
                expires_at=at + timedelta(hours=hours),
            )
        )
        return Clinician(clinician.id, clinician.email, clinician.name), token


def current(store: Store, token: str | None, at: datetime | None = None) -> Clinician | None:
    """The clinician a session token belongs to, if it is live."""
    if not token or len(token) > 200:
        return None
    with store.session() as s:
        row = s.get(SessionRow, digest(token))
        if row is None or _aware(row.expires_at) <= (at or now()):
            return None
        clinician = s.get(ClinicianRow, row.clinician_id)
        if clinician is None or not clinician.active:
            return None
        return Clinician(clinician.id, clinician.email, clinician.name)


def logout(store: Store, token: str | None) -> None:
    if token:
        with store.session() as s:
            s.execute(delete(SessionRow).where(SessionRow.token_hash == digest(token[:200])))


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns: they are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
