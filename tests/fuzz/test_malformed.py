"""Malformed requests to every route that takes a body, generated field by field.

Wrong types for every field, unknown keys and ids, numbers out of range (negative,
NaN-like strings, 1e309, 400 digits), huge strings, deep nesting, bad UTF-8, empty
bodies, bodies that are not JSON or not an object: every answer is 4xx problem JSON,
and where one field is at fault an error names it in the case's path form.

Two limits are the body's, not a field's, so no field is named: a body over 1 MB is
413, and nesting deeper than the JSON reader goes (1,024 levels) is not JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from miliacheck.api.app import create_app
from miliacheck.kb.load import KnowledgeBase, load_kb
from miliacheck.store import Store

KB = load_kb()
FINDINGS = list(KB.findings.findings)
LOCATIONS = list(KB.questions.locations["labels"])
MIN_CASES = 200
MB = 1024 * 1024


@dataclass(frozen=True)
class Raw:
    """JSON text written by hand (what json.dumps cannot or will not write)."""

    text: bytes


def nest(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


def raw_in(obj: dict[str, Any], path: str, text: str) -> Raw:
    """``obj`` as JSON with the value at ``path`` (dotted) replaced by the text ``text``."""
    marker = "\u2603MARK\u2603"
    obj = json.loads(json.dumps(obj))
    holder: Any = obj
    *parents, last = path.split(".")
    for key in parents:
        holder = holder.setdefault(key, {})
    holder[last] = marker
    return Raw(json.dumps(obj).replace(json.dumps(marker), text).encode())


@dataclass(frozen=True)
class Bad:
    route: str  # "assess", "interviews", "answers", "ask", "consultations"
    name: str
    body: Any  # a JSON value, or Raw text
    field: str | None  # the field an error must name; None: a body-level problem
    status: int = 422
    answer_to: str | None = None  # answers: the question type the body answers


#: Numbers JSON allows but a double cannot hold (JSON text).
OUT_OF_DOUBLE = [Raw(b"1e309"), Raw(b"-1e309"), Raw(b"1" + b"0" * 400)]
#: Values of a wrong type (or null) for each kind of field.
NOT_A_NUMBER: list[Any] = ["3", "NaN", "Infinity", "-Infinity", "1e309", True, False, None]
NOT_A_NUMBER += [[], [3], {}, {"value": 3}]
NOT_TEXT: list[Any] = [1, 2.5, True, None, [], ["female"], {}, {"text": "x"}]
NOT_A_LIST: list[Any] = ["cheeks", 1, True, None, {}, {"0": "cheeks"}]
NOT_AN_OBJECT: list[Any] = [[], ["itchy"], "itchy", 1, True, None]
NOT_A_BOOLEAN: list[Any] = [1, 0, "true", "yes", None, [], {}, [True]]

CASE_NUMBERS = ("age_years", "duration_days", "size_mm")
CASE_CHOICES = ("sex", "count", "colour")
#: Out of range by field: JSON text, since 1e309 and 400 digits are beyond a double.
OUT_OF_RANGE = {
    "age_years": ["-1", "-0.001", "120.01", "1e309", "-1e309", "1" + "0" * 400, "1e300"],
    "duration_days": ["-1", "-1e-9", "1e309", "1" + "0" * 400, "20000"],
    "size_mm": ["0", "-1", "500.5", "1e309", "-1e309", "1" + "0" * 400],
}


def case_problems() -> Iterator[tuple[str, Any, str | None]]:
    """(name, case, field) for malformed cases; the case is a JSON value or Raw text."""
    base: dict[str, Any] = {"age_years": 30}
    for field in CASE_NUMBERS:
        for v in NOT_A_NUMBER:
            yield f"{field}={v!r}", {**base, field: v}, field
        for text in OUT_OF_RANGE[field]:
            yield f"{field}={text[:12]}", raw_in(base, field, text), field
    for field in CASE_CHOICES:
        for v in [*NOT_TEXT, "FEMALE", "", " white", "x" * 100_000]:
            yield f"{field}={str(v)[:12]!r}", {**base, field: v}, field
    for v in [1, True, None, [], {}, ["words"]]:
        yield f"narrative={v!r}", {**base, "narrative": v}, "narrative"
    for n in (5001, 50_000, 900_000):
        yield f"narrative of {n}", {**base, "narrative": "a" * n}, "narrative"
    for v in NOT_A_LIST:
        yield f"locations={v!r}", {**base, "locations": v}, "locations"
    yield "locations=[]", {**base, "locations": []}, "locations"
    for i, bad in enumerate([1, None, True, "nowhere", "Cheeks", "x" * 100_000, {}, ["cheeks"]]):
        locations = [*LOCATIONS[:i], bad]
        name = f"locations[{i}]={str(bad)[:12]!r}"
        yield name, {**base, "locations": locations}, f"locations[{i}]"
    yield "locations twice", {**base, "locations": ["cheeks", "nose", "cheeks"]}, "locations[2]"
    for v in NOT_AN_OBJECT:
        yield f"findings={v!r}", {**base, "findings": v}, "findings"
    for i, finding in enumerate(FINDINGS):
        v = NOT_A_BOOLEAN[i % len(NOT_A_BOOLEAN)]
        yield f"findings.{finding}={v!r}", {**base, "findings": {finding: v}}, f"findings.{finding}"
    for finding in ("no_such_finding", "Itchy", "itchy ", "", "x" * 10_000):
        unknown = {**base, "findings": {finding: True}}
        yield f"findings.{finding[:12]}", unknown, f"findings.{finding}"
    for v in ["sex", 1, {}, None, True]:
        yield f"dont_know={v!r}", {**base, "dont_know": v}, "dont_know"
    for v in [1, None, [], "nowhere", "findings.no_such", "findings.", "age_years"]:
        yield f"dont_know[0]={v!r}", {**base, "dont_know": [v]}, "dont_know[0]"
    yield "sex set and dont_know", {**base, "sex": "male", "dont_know": ["sex"]}, "sex"
    both = {**base, "findings": {"itchy": True}, "dont_know": ["findings.itchy"]}
    yield "finding set and dont_know", both, "findings.itchy"
    yield "duration longer than a life", {"age_years": 1, "duration_days": 800}, "duration_days"
    yield "age_years missing", {"sex": "female"}, "age_years"
    for key in ("Age_years", "age", "", "findings.itchy", "__proto__", "k" * 100_000):
        yield f"unknown key {key[:12]!r}", {**base, key: 1}, key
    # Nested as deep as the JSON reader goes (1,024 levels), in every kind of field.
    for field, path in (
        ("age_years", "age_years"),
        ("sex", "sex"),
        ("narrative", "narrative"),
        ("locations[0]", "locations"),
        ("findings", "findings"),
        ("findings.itchy", "findings.itchy"),
        ("dont_know[0]", "dont_know"),
        ("deep", "deep"),
    ):
        yield f"{field} nested 1,000 deep", raw_in(base, path, nest(1000)), field
    nested = f'["cheeks", "nose", {nest(1000)}]'
    yield "locations[2] nested", raw_in(base, "locations", nested), "locations[2]"


def body_problems() -> Iterator[tuple[str, Any, str | None, int]]:
    """(name, body, field, status) that no route takes: not JSON, not an object, too big."""
    for text in (b"", b" ", b"{", b"}", b"age_years=30", b"<case/>", b"{'age_years': 30}"):
        yield f"not JSON {text[:10]!r}", Raw(text), None, 422
    for text in (b'{"age_years": NaN}', b'{"age_years": Infinity}', b'{"age_years": 30,}'):
        yield f"not JSON {text[:20]!r}", Raw(text), None, 422
    for text in (b'{"age_years": 30, "narrative": "\xff\xfe"}', b'{"\xc3\x28": 1}', b"\x80"):
        yield f"bad UTF-8 {text[:12]!r}", Raw(text), None, 422
    yield "a lone surrogate", Raw(b'{"narrative": "\\ud800"}'), None, 422
    yield "a NUL byte outside a string", Raw(b'{"age_years": 30}\x00'), None, 422
    for value in ([], [{"age_years": 30}], "case", 30, True, None):
        yield f"JSON {value!r}", value, None, 422
    yield "nested 10,000 deep", Raw(nest(10_000).encode()), None, 422
    yield "a value nested 10,000 deep", Raw(f'{{"x": {nest(10_000)}}}'.encode()), None, 422
    yield "over the body limit", {"narrative": "a"}, None, 413


def generate() -> list[Bad]:
    bad: list[Bad] = []
    for name, case, field in case_problems():
        bad.append(Bad("assess", name, case, field))
        if isinstance(case, Raw):
            wrapped: Any = Raw(b'{"case": ' + case.text + b"}")
            consult = Raw(b'{"consent": true, "email": "a@b.org", "case": ' + case.text + b"}")
        else:
            wrapped = {"case": case}
            consult = {"consent": True, "email": "a@b.org", "case": case}
        prefixed = f"case.{field}" if field is not None else "case"
        bad.append(Bad("interviews", name, wrapped, prefixed))
        bad.append(Bad("consultations", name, consult, prefixed))
    for route in ("assess", "interviews", "answers", "ask", "consultations"):
        bad += [Bad(route, n, b, f, s) for n, b, f, s in body_problems()]
    bad += list(interview_problems())
    bad += list(answer_problems())
    bad += list(ask_problems())
    bad += list(consultation_problems())
    return bad


def interview_problems() -> Iterator[Bad]:
    case = {"age_years": 30}
    yield Bad("interviews", "no case", {}, "case")
    yield Bad("interviews", "a case and more", {"case": case, "answers": []}, "answers")
    yield Bad("interviews", "a bare case", case, "age_years")
    for v in NOT_AN_OBJECT:
        yield Bad("interviews", f"case={v!r}", {"case": v}, "case")


def answer_problems() -> Iterator[Bad]:
    yield Bad("answers", "no answer", {"question_id": "q_rf_lesion"}, "answer")
    yield Bad("answers", "no question_id", {"answer": None}, "question_id")
    yield Bad("answers", "an unknown key", {"question_id": "q", "answer": 1, "why": 1}, "why")
    for v in [1, None, True, [], {}, ["q_rf_lesion"]]:
        yield Bad(
            "answers", f"question_id={v!r}", {"question_id": v, "answer": None}, "question_id"
        )
    for qid in ("q_never_asked", "", "Q_RF_LESION", "x" * 10_000):
        body = {"question_id": qid, "answer": None}
        yield Bad("answers", f"question_id={qid[:12]!r}", body, "question_id", 409)
    wrong: dict[str, list[Any]] = {
        "multi": [True, 1, "findings.bleeding", {}, [1], ["nope"], [None], [[["x"]]]],
        "yes_no": [1, 0, "yes", "true", [], {}, [True]],
        "number": ["3", True, [], {}, [3], "below", "above", *OUT_OF_DOUBLE],
        "single": [1, True, [], {}, "no such option", ["x"]],
    }
    for kind, values in wrong.items():
        for v in values:
            yield Bad("answers", f"{kind} answer {str(v)[:12]!r}", v, "answer", answer_to=kind)
    yield Bad(
        "answers", "multi answer nested", Raw(nest(1000).encode()), "answer", answer_to="multi"
    )


def ask_problems() -> Iterator[Bad]:
    for v in [*NOT_TEXT, "", "   ", "\n\t", "a" * 1001, "a" * 500_000]:
        yield Bad("ask", f"question={str(v)[:12]!r}", {"question": v}, "question")
    yield Bad("ask", "no question", {}, "question")
    yield Bad("ask", "question nested", raw_in({}, "question", nest(1000)), "question")
    for key in ("q", "Question", "case", ""):
        yield Bad("ask", f"unknown key {key!r}", {"question": "milia?", key: 1}, key)


def consultation_problems() -> Iterator[Bad]:
    ok = {"consent": True, "email": "a@b.org", "case": {"age_years": 30}}
    for field in ("name", "email", "phone", "preferred_times"):
        for v in [1, True, [], {}, ["a@b.org"]]:
            yield Bad("consultations", f"{field}={v!r}", {**ok, field: v}, field)
        yield Bad("consultations", f"{field} too long", {**ok, field: "a" * 10_000}, field)
    for v in ["not an email", "a@b", "@b.org", "a b@c.org"]:
        yield Bad("consultations", f"email={v!r}", {**ok, "email": v}, "email")
    for v in ["abc", "12", "+44 (0) abc 123"]:
        yield Bad("consultations", f"phone={v!r}", {**ok, "email": None, "phone": v}, "phone")
    no_contact = {"consent": True, "case": {"age_years": 30}}
    yield Bad("consultations", "no email or phone", no_contact, "email")
    for v in [False, "true", 1, None, [], {}]:
        yield Bad("consultations", f"consent={v!r}", {**ok, "consent": v}, "consent")
    yield Bad(
        "consultations", "no consent", {k: v for k, v in ok.items() if k != "consent"}, "consent"
    )
    for v in [1, True, [], {}, "", "x" * 65, "no-such-interview"]:
        body = {k: v for k, v in ok.items() if k != "case"} | {"interview_id": v}
        yield Bad("consultations", f"interview_id={str(v)[:12]!r}", body, "interview_id")
    yield Bad(
        "consultations", "both interview and case", {**ok, "interview_id": "x"}, "interview_id"
    )
    neither = {k: v for k, v in ok.items() if k != "case"}
    yield Bad("consultations", "neither interview nor case", neither, "interview_id")
    for v in ["photo", 1, {}, True]:
        yield Bad("consultations", f"photos={v!r}", {**ok, "photos": v}, "photos")
    yield Bad("consultations", "four photos", {**ok, "photos": ["aGk="] * 4}, "photos")
    for v in [1, None, [], "not base64!", "aGk", "aGVsbG8=", {"data": 1}]:
        yield Bad("consultations", f"photos[0]={v!r}", {**ok, "photos": [v]}, "photos[0]")
    for key in ("Email", "photo", "notes", ""):
        yield Bad("consultations", f"unknown key {key!r}", {**ok, key: "x"}, key)


CASES = generate()


def test_there_are_enough_malformed_cases() -> None:
    assert len(CASES) >= MIN_CASES
    assert {b.route for b in CASES} == {"assess", "interviews", "answers", "ask", "consultations"}


@pytest.fixture(scope="module")
def api(kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The app, and an interview whose every question type has been asked (don't know)."""
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('malformed') / 'api.db'}")
    store.migrate()
    client = TestClient(create_app(kb=kb, store=store))
    iid = client.post("/api/v1/interviews", json={"case": {"age_years": 30}}).json()["id"]
    asked: dict[str, dict[str, Any]] = {}
    question = client.get(f"/api/v1/interviews/{iid}").json()["question"]
    while question is not None:
        asked.setdefault(question["type"], question)
        r = client.post(
            f"/api/v1/interviews/{iid}/answers",
            json={"question_id": question["id"], "answer": None},
        )
        question = r.json()["question"]
    assert set(asked) == {"multi", "yes_no", "number", "single"}
    yield client, iid, asked
    store.dispose()


LIMITS = {"consultations": 45 * MB}
URLS = {
    "assess": "/api/v1/assess",
    "interviews": "/api/v1/interviews",
    "ask": "/api/v1/ask",
    "consultations": "/api/v1/consultations",
}


def request_body(bad: Bad, iid: str, asked: dict[str, dict[str, Any]]) -> tuple[str, bytes]:
    url = URLS.get(bad.route, f"/api/v1/interviews/{iid}/answers")
    body = bad.body
    if bad.answer_to is not None:
        question = asked[bad.answer_to]
        if body in ("below", "above"):
            body = question["min"] - 1 if body == "below" else question["max"] + 1
        prefix = f'{{"question_id": "{question["id"]}", "answer": '.encode()
        text = body.text if isinstance(body, Raw) else json.dumps(body).encode()
        return url, prefix + text + b"}"
    if isinstance(body, Raw):
        return url, body.text
    return url, json.dumps(body).encode()


@pytest.mark.parametrize("bad", CASES, ids=[f"{b.route}: {b.name}" for b in CASES])
def test_malformed_is_refused_naming_the_field(api: Any, bad: Bad) -> None:
    client, iid, asked = api
    url, body = request_body(bad, iid, asked)
    if bad.status == 413:  # 1 MB, and 45 MB where photos go
        body = b'{"narrative": "' + b"a" * (LIMITS.get(bad.route, MB) + 10) + b'"}'
    r = client.post(url, content=body, headers={"content-type": "application/json"})
    assert r.status_code == bad.status, r.text[:500]
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert set(problem) == {"title", "status", "errors"}
    assert problem["status"] == r.status_code and problem["title"]
    assert problem["errors"], problem
    for error in problem["errors"]:
        assert set(error) == {"field", "message"} and error["message"]
    fields = [e["field"] for e in problem["errors"]]
    if bad.field is None:
        assert fields == [None], problem
    else:
        assert bad.field in fields, [str(f)[:80] for f in fields]
