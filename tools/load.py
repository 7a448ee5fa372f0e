"""A small load driver for the stored interviews and consultation requests, and its checks.

N concurrent users (threads, one httpx client each) start an interview with a varied case,
answer its questions until it is done (``null`` for "don't know" now and then, otherwise a
plausible value for the question's type) and some ask the clinic for a consultation, now
and then with a small generated JPEG. Every acknowledged success (2xx) is appended to a
journal file and flushed before the next request: an interview's id with the number of
answers acknowledged and the latest result's care level; a consultation's id, private key
and number of photos. ``verify`` then checks the database against the journal (and every
stored row on its own) directly through SQL and through the API.

Used by ``tools/crash.py`` (kill -9 under load), ``tools/soak.py`` (a long steady run) and
``tests/ops/test_crash.py``. On its own::

    .venv/bin/python tools/load.py --seconds 20 --users 8 [--database-url URL]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from miliacheck.engine.case import parse_case
from miliacheck.errors import CaseError
from miliacheck.kb.load import KnowledgeBase, load_kb

ROOT = Path(__file__).resolve().parents[1]
PRIVATE_AREAS = {"genitals", "nappy_area"}


# ---- the server -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``uvicorn miliacheck.api.app:create_app`` in a subprocess, on one database."""

    def __init__(self, database_url: str, log_path: Path | None = None) -> None:
        self.database_url = database_url
        if log_path is None:
            fd, name = tempfile.mkstemp(prefix="miliacheck-server-", suffix=".log")
            os.close(fd)
            log_path = Path(name)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 180) -> float:
        """Start it and wait until ``/api/v1/ready`` answers 200; returns the seconds taken."""
        self.port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "MILIACHECK_RATE_LIMIT_EXEMPT": "127.0.0.1",
        }
        log = self.log_path.open("ab")
        log.write(f"\n== start {self.starts + 1} on port {self.port}\n".encode())
        log.flush()
        began = time.monotonic()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "miliacheck.api.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-access-log",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.starts += 1
        while time.monotonic() - began < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}):\n{self.tail()}")
            try:
                if httpx.get(f"{self.base_url}/api/v1/ready", timeout=2).status_code == 200:
                    return time.monotonic() - began
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server was not ready within {timeout} s:\n{self.tail()}")

    def kill(self) -> None:
        """kill -9: no shutdown, no flush, no rollback."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def rss_kb(self) -> int | None:
        """The server's resident memory (VmRSS), in KiB."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            return None
        return None

    def tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


# ---- databases --------------------------------------------------------------------------


@contextmanager
def fresh_database(postgres_url: str | None, folder: Path) -> Iterator[str]:
    """A new SQLite file in ``folder``, or a new schema in the PostgreSQL at ``postgres_url``
    (dropped afterwards), so that nobody else's rows are counted and none are touched."""
    if not postgres_url:
        yield f"sqlite:///{folder / f'load-{uuid.uuid4().hex[:8]}.db'}"
        return
    from sqlalchemy import create_engine, text

    from miliacheck.store.db import _normalise

    schema = f"load_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_normalise(postgres_url))
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    joiner = "&" if "?" in postgres_url else "?"
    try:
        yield f"{postgres_url}{joiner}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


# ---- what the users send ----------------------------------------------------------------


def make_case(kb: KnowledgeBase, rng: random.Random) -> dict[str, Any]:
    """A varied, valid case: ages from a baby to the old, a few locations, some findings."""
    m = kb.model
    while True:
        case: dict[str, Any] = {
            "age_years": rng.choice([0.05, 0.5, 3, 9, 17, 24, 34, 47, 63, 80]),
            "sex": rng.choice(["female", "male", "female", "male", "other"]),
        }
        if rng.random() < 0.7:
            case["locations"] = rng.sample(list(m.location_ids), rng.randint(1, 3))
        if rng.random() < 0.5:
            case["colour"] = rng.choice(["white", "yellow", "skin", "pink"])
        if rng.random() < 0.4:
            case["size_mm"] = rng.choice([0.8, 1.5, 2, 3, 5])
        if rng.random() < 0.6:
            picks = rng.sample(list(m.finding_ids), rng.randint(1, 5))
            case["findings"] = {f: rng.random() < 0.3 for f in picks}
        try:
            parse_case(kb, case)
        except CaseError:
            continue
        return case


def answer_for(question: dict[str, Any], rng: random.Random, age_years: float = 30) -> Any:
    """A plausible answer to a question by its type; ``None`` (don't know) now and then."""
    if rng.random() < 0.12:
        return None
    kind = question["type"]
    values = [o["value"] for o in question.get("options") or []]
    if kind == "yes_no":
        return rng.random() < 0.35
    if kind == "single":
        return rng.choice(values)
    if kind == "number":
        low = float(question.get("min") or 0)
        high = float(question.get("max") or 100)
        if question["fields"] == ["duration_days"]:
            value: float = min(rng.choice([2, 10, 30, 90, 365, 1500]), int(age_years * 365))
        elif question["fields"] == ["size_mm"]:
            value = rng.choice([0.5, 1, 1.5, 2, 4, 8])
        else:
            value = rng.uniform(low, high)
        return min(max(value, low), high)
    if kind == "multi":
        if question["fields"] == ["locations"]:
            return rng.sample(values, rng.randint(1, min(2, len(values))))
        return [] if rng.random() < 0.7 else rng.sample(values, 1)
    raise ValueError(f"unknown question type {kind!r}")


def make_jpeg(rng: random.Random) -> bytes:
    """A small, distinct JPEG (noise on a colour) as a phone would send, only smaller."""
    from PIL import Image

    width, height = rng.choice([(64, 48), (120, 90), (200, 150)])
    image = Image.new("RGB", (width, height), tuple(rng.randrange(256) for _ in range(3)))
    pixels = image.load()
    assert pixels is not None
    for _ in range(width * height // 8):
        pixels[rng.randrange(width), rng.randrange(height)] = (
            rng.randrange(256),
            rng.randrange(256),
            rng.randrange(256),
        )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


# ---- the journal and the counts ---------------------------------------------------------


class Journal:
    """Acknowledged writes, one JSON line each, appended and flushed before going on."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()

    def close(self) -> None:
        self._file.close()


def read_journal(path: Path) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Each interview's latest acknowledgement (most answers) and each consultation."""
    interviews: dict[str, dict[str, Any]] = {}
    consultations: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return interviews, consultations
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["kind"] == "interview":
            known = interviews.get(entry["id"])
            if known is None or entry["answers"] >= known["answers"]:
                interviews[entry["id"]] = entry
        else:
            consultations[entry["id"]] = entry
    return interviews, consultations


@dataclass
class Stats:
    ok: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    error_times: list[float] = field(default_factory=list)
    latency_ms: dict[str, list[float]] = field(default_factory=dict)
    in_flight_writes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def success(self, op: str, ms: float) -> None:
        with self.lock:
            self.ok[op] += 1
            self.latency_ms.setdefault(op, []).append(ms)

    def error(self, op: str, what: str) -> None:
        with self.lock:
            self.errors[f"{op} {what}"] += 1
            self.error_times.append(time.monotonic())

    def summary(self) -> dict[str, Any]:
        with self.lock:
            latency = {
                op: {
                    "n": len(xs),
                    "median_ms": round(statistics.median(xs), 2),
                    "p99_ms": round(sorted(xs)[min(len(xs) - 1, int(0.99 * len(xs)))], 2),
                }
                for op, xs in self.latency_ms.items()
                if xs
            }
            return {
                "requests_ok": sum(self.ok.values()),
                "ok_by_operation": dict(self.ok),
                "errors": sum(self.errors.values()),
                "errors_by_status": dict(self.errors),
                "latency": latency,
            }


# ---- the users --------------------------------------------------------------------------


@dataclass
class Load:
    """Users driving one server until ``stop`` is set."""

    kb: KnowledgeBase
    base_url: str
    journal: Journal
    users: int = 8
    think: float = 0.0  # mean seconds between a user's requests (exponential)
    consult_share: float = 0.3
    photo_share: float = 0.4
    seed: int = 1
    stats: Stats = field(default_factory=Stats)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        self.stop.clear()
        self.threads = [
            threading.Thread(target=self._user, args=(i,), daemon=True) for i in range(self.users)
        ]
        for t in self.threads:
            t.start()

    def finish(self, timeout: float = 60) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout)

    def _post(
        self, client: httpx.Client, op: str, path: str, body: dict[str, Any]
    ) -> dict[str, Any] | None:
        """One write; the parsed answer on a 2xx, else None (the error counted)."""
        with self.stats.lock:
            self.stats.in_flight_writes += 1
        began = time.perf_counter()
        try:
            r = client.post(path, json=body)
        except httpx.HTTPError as exc:
            self.stats.error(op, type(exc).__name__)
            return None
        finally:
            with self.stats.lock:
                self.stats.in_flight_writes -= 1
        if not 200 <= r.status_code < 300:
            self.stats.error(op, str(r.status_code))
            return None
        self.stats.success(op, (time.perf_counter() - began) * 1000)
        answer: dict[str, Any] = r.json()
        return answer

    def _pause(self, rng: random.Random) -> None:
        if self.think > 0:
            self.stop.wait(rng.expovariate(1 / self.think))

    def _user(self, n: int) -> None:
        rng = random.Random(self.seed * 1000 + n)
        with httpx.Client(base_url=self.base_url, timeout=60) as client:
            while not self.stop.is_set():
                self._interview(client, rng)
                self._pause(rng)

    def _interview(self, client: httpx.Client, rng: random.Random) -> None:
        case = make_case(self.kb, rng)
        body = self._post(client, "start", "/api/v1/interviews", {"case": case})
        if body is None:
            self.stop.wait(0.5)
            return
        iid = body["id"]
        answers = 0
        locations = set(case.get("locations", []))
        self._ack_interview(iid, answers, body)
        while body["question"] is not None and not self.stop.is_set():
            self._pause(rng)
            question = body["question"]
            value = answer_for(question, rng, case["age_years"])
            if question["fields"] == ["locations"] and value:
                locations = set(value)
            step = {"question_id": question["id"], "answer": value}
            body = self._post(client, "answer", f"/api/v1/interviews/{iid}/answers", step)
            if body is None:
                return
            answers += 1
            self._ack_interview(iid, answers, body)
        level = body["result"]["triage"]["level"]
        if body["question"] is not None or level == "emergency":
            return
        if rng.random() >= self.consult_share:
            return
        request: dict[str, Any] = {
            "interview_id": iid,
            "email": f"load{rng.randrange(10**6)}@example.org",
            "consent": True,
        }
        private = locations & PRIVATE_AREAS and case["age_years"] < 18
        if not private and rng.random() < self.photo_share:
            request["photos"] = [
                base64.b64encode(make_jpeg(rng)).decode() for _ in range(rng.randint(1, 2))
            ]
        self._pause(rng)
        made = self._post(client, "consult", "/api/v1/consultations", request)
        if made is not None:
            self.journal.write(
                {
                    "kind": "consultation",
                    "id": made["id"],
                    "key": made["key"],
                    "photos": made["photos"],
                    "interview_id": iid,
                    "level": made["level"],
                }
            )

    def _ack_interview(self, iid: str, answers: int, body: dict[str, Any]) -> None:
        self.journal.write(
            {
                "kind": "interview",
                "id": iid,
                "answers": answers,
                "level": body["result"]["triage"]["level"],
                "done": body["done"],
            }
        )


# ---- the checks -------------------------------------------------------------------------


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def verify(
    kb: KnowledgeBase,
    database_url: str,
    journal_path: Path,
    base_url: str | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """Check every journaled write against the database, and every stored row on its own.

    - every acknowledged interview is there with at least its acknowledged answers (at most
      one more: the one in flight when the server died), and with as many, the same level;
    - every stored interview is whole: its JSON parses, its case is its start with its
      answers written in, and its result is what assessing that case gives now;
    - every acknowledged consultation is there under its key with its photos; every stored
      one has its photos numbered 1..n, each a whole JPEG with a thumbnail, and its audit;
    - through the API (``base_url``): each interview and each request reads back.
    """
    from PIL import Image
    from sqlalchemy import text

    from miliacheck.interviews import _build
    from miliacheck.store import Store

    acked_interviews, acked_consultations = read_journal(journal_path)
    problems: list[str] = []

    def problem(message: str) -> None:
        problems.append(message)

    store = Store(database_url)
    stored: dict[str, dict[str, Any]] = {}
    consultations: dict[str, dict[str, Any]] = {}
    photos: dict[str, list[dict[str, Any]]] = {}
    created_audit: set[str] = set()
    try:
        with store.engine.connect() as c:
            rows = c.execute(
                text(
                    "SELECT id, CAST(base_case AS TEXT), CAST(answers AS TEXT), "
                    'CAST("case" AS TEXT), CAST(result AS TEXT), CAST(corrections AS TEXT), '
                    "done, kb_version FROM interviews"
                )
            ).all()
            for iid, *raw, done, kb_version in rows:
                try:
                    base, answers, case, result, corrections = (_loads(v) for v in raw)
                except (TypeError, ValueError):
                    problem(f"interview {iid}: a JSON column does not parse")
                    continue
                stored[iid] = {
                    "base": base,
                    "answers": answers,
                    "case": case,
                    "result": result,
                    "corrections": corrections,
                    "done": bool(done),
                    "kb_version": kb_version,
                }
            for cid, key_hash, iid, case, result, history in c.execute(
                text(
                    'SELECT id, key_hash, interview_id, CAST("case" AS TEXT), '
                    "CAST(result AS TEXT), CAST(history AS TEXT) FROM consultations"
                )
            ).all():
                try:
                    consultations[cid] = {
                        "key_hash": key_hash,
                        "interview_id": iid,
                        "case": _loads(case),
                        "result": _loads(result),
                        "history": _loads(history),
                    }
                except (TypeError, ValueError):
                    problem(f"consultation {cid}: a JSON column does not parse")
            for cid, n, kind, data, thumb, width, height in c.execute(
                text(
                    "SELECT consultation_id, n, content_type, data, thumbnail, width, height "
                    "FROM photos ORDER BY consultation_id, n"
                )
            ).all():
                photos.setdefault(cid, []).append(
                    {
                        "n": n,
                        "type": kind,
                        "data": bytes(data),
                        "thumb": bytes(thumb),
                        "size": (width, height),
                    }
                )
            created_audit = {
                cid
                for (cid,) in c.execute(
                    text("SELECT consultation_id FROM audit WHERE action = 'created'")
                ).all()
            }
    finally:
        store.dispose()

    # Every stored interview is whole and consistent with itself.
    for iid, row in stored.items():
        try:
            case, result = _build(kb, row["base"], row["answers"], row["corrections"])
        except Exception as exc:  # a half-written row would fail here in any way
            problem(f"interview {iid}: its answers do not rebuild ({type(exc).__name__})")
            continue
        if case != row["case"]:
            problem(f"interview {iid}: the stored case is not its start with its answers")
        if result["triage"]["level"] != row["result"]["triage"]["level"]:
            problem(
                f"interview {iid}: stored level {row['result']['triage']['level']}, "
                f"re-assessed {result['triage']['level']}"
            )
        if result != row["result"]:
            problem(f"interview {iid}: the stored result is not what its case gives")
        if row["done"] != (row["result"]["next_question"] is None):
            problem(f"interview {iid}: done={row['done']} disagrees with its next question")

    # Every acknowledged interview is there, with what was acknowledged.
    beyond = 0  # an answer committed whose acknowledgement the kill cut off
    for iid, ack in acked_interviews.items():
        kept = stored.get(iid)
        if kept is None:
            problem(f"LOST interview {iid} ({ack['answers']} answers acknowledged)")
            continue
        n = len(kept["answers"])
        if n < ack["answers"]:
            problem(f"LOST answers of {iid}: {ack['answers']} acknowledged, {n} stored")
        elif n == ack["answers"] + 1:
            beyond += 1
        elif n > ack["answers"] + 1:
            problem(f"interview {iid}: {n} answers stored, only {ack['answers']} sent")
        elif n == ack["answers"] and kept["result"]["triage"]["level"] != ack["level"]:
            problem(f"interview {iid}: level {ack['level']} acknowledged, stored otherwise")

    # Every stored consultation is whole.
    for cid, row in consultations.items():
        mine = photos.get(cid, [])
        if [p["n"] for p in mine] != list(range(1, len(mine) + 1)):
            problem(f"consultation {cid}: photos numbered {[p['n'] for p in mine]}")
        for p in mine:
            if not (p["data"][:2] == b"\xff\xd8" and p["data"][-2:] == b"\xff\xd9"):
                problem(f"consultation {cid}: photo {p['n']} is not a whole JPEG")
                continue
            try:
                with Image.open(io.BytesIO(p["data"])) as image:
                    image.load()
                    if image.size != p["size"]:
                        problem(f"consultation {cid}: photo {p['n']} size disagrees")
            except Exception:  # Pillow raises many types on damaged data
                problem(f"consultation {cid}: photo {p['n']} does not decode")
            if not p["thumb"]:
                problem(f"consultation {cid}: photo {p['n']} has no thumbnail")
        if cid not in created_audit:
            problem(f"consultation {cid}: no 'created' audit entry")
        if not row["history"] or row["history"][0]["status"] != "new":
            problem(f"consultation {cid}: its history does not start with 'new'")
        iid = row["interview_id"]
        if iid is not None and iid in stored:
            if row["case"] != stored[iid]["case"]:
                problem(f"consultation {cid}: its case is not its interview's")
            if row["result"]["triage"]["level"] != stored[iid]["result"]["triage"]["level"]:
                problem(f"consultation {cid}: its level is not its interview's")
    orphans = set(photos) - set(consultations)
    if orphans:
        problem(f"{len(orphans)} consultations' photos are stored without their request")

    # Every acknowledged consultation is there, under its key, with its photos.
    for cid, ack in acked_consultations.items():
        request = consultations.get(cid)
        if request is None:
            problem(f"LOST consultation {cid}")
            continue
        if request["key_hash"] != hashlib.sha256(ack["key"].encode()).hexdigest():
            problem(f"consultation {cid}: stored under another key")
        if len(photos.get(cid, [])) != ack["photos"]:
            problem(
                f"consultation {cid}: {ack['photos']} photos acknowledged, "
                f"{len(photos.get(cid, []))} stored"
            )
        if request["interview_id"] != ack["interview_id"]:
            problem(f"consultation {cid}: another interview")
        if request["result"]["triage"]["level"] != ack["level"]:
            problem(f"consultation {cid}: level {ack['level']} acknowledged, stored otherwise")

    api_reads = 0
    if base_url:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            for iid, ack in acked_interviews.items():
                r = client.get(f"/api/v1/interviews/{iid}")
                api_reads += 1
                if r.status_code != 200:
                    problem(f"API: interview {iid} answers {r.status_code}")
                elif len(r.json()["answers"]) < ack["answers"]:
                    problem(f"API: interview {iid} has fewer answers than acknowledged")
            for cid, ack in acked_consultations.items():
                r = client.get(f"/api/v1/requests/{ack['key']}")
                api_reads += 1
                if r.status_code != 200:
                    problem(f"API: request {cid} answers {r.status_code}")
                elif r.json()["id"] != cid or len(r.json()["photos"]) != ack["photos"]:
                    problem(f"API: request {cid} reads back otherwise")

    return {
        "interviews_acknowledged": len(acked_interviews),
        "answers_acknowledged": sum(a["answers"] for a in acked_interviews.values()),
        "consultations_acknowledged": len(acked_consultations),
        "photos_acknowledged": sum(a["photos"] for a in acked_consultations.values()),
        "interviews_stored": len(stored),
        "consultations_stored": len(consultations),
        "photos_stored": sum(len(p) for p in photos.values()),
        # Committed but never acknowledged (the server died before answering): allowed.
        "interviews_unacknowledged": len(set(stored) - set(acked_interviews)),
        "answers_unacknowledged": beyond,
        "consultations_unacknowledged": len(set(consultations) - set(acked_consultations)),
        "api_reads": api_reads,
        "problems": len(problems),
        "problem_list": problems[:limit],
        "lost": sum(p.startswith("LOST") for p in problems),
    }


# ---- on its own -------------------------------------------------------------------------


def run_for(
    kb: KnowledgeBase,
    server: Server,
    journal: Journal,
    seconds: float,
    users: int,
    think: float,
    every: float = 0,
    sample: Callable[[float, Load], None] | None = None,
    seed: int = 1,
) -> Load:
    """Drive ``server`` for ``seconds``; ``sample(elapsed, load)`` every ``every`` seconds."""
    load = Load(kb, server.base_url, journal, users=users, think=think, seed=seed)
    load.start()
    began = time.monotonic()
    while (elapsed := time.monotonic() - began) < seconds:
        if sample is not None:
            sample(elapsed, load)
        time.sleep(min(every or 1.0, max(0.0, seconds - elapsed)))
    load.finish()
    return load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--think", type=float, default=0.0)
    parser.add_argument("--database-url", help="a PostgreSQL URL (a fresh schema is used)")
    args = parser.parse_args()
    kb = load_kb()
    with tempfile.TemporaryDirectory() as tmp, fresh_database(args.database_url, Path(tmp)) as url:
        server = Server(url, Path(tmp) / "server.log")
        server.start()
        journal = Journal(Path(tmp) / "journal.jsonl")
        try:
            load = run_for(kb, server, journal, args.seconds, args.users, args.think)
            report = {
                **load.stats.summary(),
                "check": verify(kb, url, journal.path, server.base_url),
            }
        finally:
            journal.close()
            server.stop()
    print(json.dumps(report, indent=2))
    return 0 if report["errors"] == 0 and report["check"]["problems"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
