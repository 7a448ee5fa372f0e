"""Hypothesis on the two readers of outside input: the case parser and the narrative reader.

``parse_case`` on any JSON-like value raises nothing but CaseError, and a valid case
survives ``Case.to_json()`` unchanged. The narrative reader on any text (unicode, control
characters, up to the 5,000-character limit, and runs of the lexicon's own words) never
raises, and everything it returns lies within the text and is a valid value of its field.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from miliacheck.engine.case import DONT_KNOW_FIELDS, MAX_AGE, MAX_SIZE_MM, TOP_LEVEL, parse_case
from miliacheck.errors import CaseError
from miliacheck.kb.load import load_kb
from miliacheck.kb.schema import COLOURS, COUNTS, SEXES
from miliacheck.text import read
from miliacheck.text.reader import MAX_TEXT

KB = load_kb()
FINDINGS = list(KB.findings.findings)
LOCATIONS = list(KB.questions.locations["labels"])
PATHS = [*DONT_KNOW_FIELDS, *(f"findings.{f}" for f in FINDINGS)]
SOME = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

# -- parse_case ------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from([*LOCATIONS, *FINDINGS, *PATHS, *SEXES, *COUNTS, *COLOURS]),
)
KEYS = st.one_of(st.sampled_from([*TOP_LEVEL, *FINDINGS]), st.text(max_size=10))
JSON_LIKE = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=30,
)
#: Objects shaped like cases (known keys, plausible values), so parsing goes deep.
CASE_LIKE = st.dictionaries(
    st.sampled_from(TOP_LEVEL) | st.text(max_size=8),
    st.one_of(
        JSON_LIKE,
        st.floats(-10, 200),
        st.lists(st.sampled_from([*LOCATIONS, *PATHS]) | SCALARS, max_size=6),
        st.dictionaries(st.sampled_from(FINDINGS) | st.text(max_size=5), SCALARS, max_size=6),
    ),
    max_size=10,
)


@SOME
@given(st.one_of(JSON_LIKE, CASE_LIKE))
def test_parse_case_raises_only_case_errors(obj: Any) -> None:
    try:
        parse_case(KB, obj)
    except CaseError as exc:
        assert exc.errors
        for error in exc.errors:
            assert error["field"] is None or isinstance(error["field"], str)
            assert isinstance(error["message"], str) and error["message"]


@st.composite
def valid_cases(draw: st.DrawFn) -> dict[str, Any]:
    age = draw(st.floats(0, MAX_AGE) | st.integers(0, int(MAX_AGE)))
    case: dict[str, Any] = {"age_years": age}
    optional: dict[str, st.SearchStrategy[Any]] = {
        "sex": st.sampled_from(SEXES),
        "narrative": st.text(max_size=200),
        "locations": st.lists(st.sampled_from(LOCATIONS), min_size=1, max_size=5, unique=True),
        "duration_days": st.floats(0, age * 366 + 2) | st.integers(0, int(age * 366)),
        "count": st.sampled_from(COUNTS),
        "size_mm": st.floats(0, MAX_SIZE_MM, exclude_min=True) | st.integers(1, 500),
        "colour": st.sampled_from(COLOURS),
        "findings": st.dictionaries(st.sampled_from(FINDINGS), st.booleans(), max_size=8),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            case[key] = draw(strategy)
    if not case.get("findings"):
        case.pop("findings", None)
    free = [
        p
        for p in PATHS
        if p not in case and p.removeprefix("findings.") not in case.get("findings", {})
    ]
    dont_know = draw(st.lists(st.sampled_from(free), max_size=5, unique=True))
    if dont_know:
        case["dont_know"] = dont_know
    return case


@SOME
@given(valid_cases())
def test_a_valid_case_round_trips(obj: dict[str, Any]) -> None:
    case = parse_case(KB, obj)
    out = case.to_json()
    assert out == {**obj, **({"dont_know": sorted(obj["dont_know"])} if "dont_know" in obj else {})}
    assert parse_case(KB, out) == case


# -- the narrative reader --------------------------------------------------------------


def _strings(obj: object) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


#: The lexicon's own words and phrases, numbers, units and punctuation: text the reader reads.
WORDS = sorted({w for w in _strings(KB.lexicon) if w.strip()})
WORDS += ["my", "baby", "daughter", "son", "I'm", "years old", "weeks", "mm", "not", "maybe"]
WORDS += ["0", "2", "10", "150", "3.5", "1e9", "-4", "99999999999999999999"]
SEPARATORS = st.sampled_from([" ", " ", " ", ", ", ". ", "\n", "! ", "? ", " - ", "; ", "\t"])
LEXICON_TEXT = st.lists(st.tuples(st.sampled_from(WORDS), SEPARATORS), max_size=80).map(
    lambda pairs: "".join(w + s for w, s in pairs)
)
ANY_TEXT = st.text(max_size=400)
CONTROL_TEXT = st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Zl", "Zp"]))
MIXED_TEXT = st.lists(LEXICON_TEXT | ANY_TEXT | CONTROL_TEXT, max_size=6).map("".join)
LONG_TEXT = st.builds(
    lambda words, n: (words * (MAX_TEXT // max(len(words), 1) + 1))[:n] if words else "a" * n,
    LEXICON_TEXT,
    st.integers(MAX_TEXT - 50, MAX_TEXT + 50),
)

CERTAINTIES = {"stated", "uncertain", "past"}
WHOSE = {"me", "child", "other"}


def _number(value: Any, low: float, high: float, low_open: bool = False) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return False
    return (low < value if low_open else low <= value) and value <= high


def valid_reading(field: str, value: Any) -> bool:
    """Whether ``value`` could stand in a case at ``field`` (or is a ``whose`` or a region)."""
    if field.startswith("findings."):
        return field[9:] in FINDINGS and isinstance(value, bool)
    checks = {
        "age_years": lambda v: _number(v, 0, MAX_AGE),
        "sex": lambda v: v in SEXES,
        "locations": lambda v: v in LOCATIONS,
        "duration_days": lambda v: v == "since_birth" or _number(v, 0, math.inf),
        "count": lambda v: v in COUNTS,
        "size_mm": lambda v: _number(v, 0, MAX_SIZE_MM, low_open=True),
        "colour": lambda v: v in COLOURS,
        "whose": lambda v: v in WHOSE,
        "region": lambda v: v in KB.questions.regions,  # "on my face", not a case field
    }
    return field in checks and bool(checks[field](value))


def check_reading(text: str) -> None:
    for u in read(KB, text):
        assert 0 <= u.start <= u.end <= min(len(text), MAX_TEXT), u
        assert text[u.start : u.end] == u.text, u
        assert u.certainty in CERTAINTIES, u
        assert valid_reading(u.field, u.value), u


@SOME
@given(MIXED_TEXT)
def test_the_reader_reads_any_text_within_it(text: str) -> None:
    check_reading(text)


@SOME
@given(LEXICON_TEXT)
def test_the_reader_reads_its_own_words_into_valid_values(text: str) -> None:
    check_reading(text)


@FEW
@given(LONG_TEXT)
def test_the_reader_reads_text_at_the_limit(text: str) -> None:
    check_reading(text)
