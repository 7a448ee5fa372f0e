"""Writing an answer into a case, by the rules of case/v1 (the client's side of the interview).

The server keeps no state: each answer becomes part of the case and the case is assessed
again. These functions work on case JSON, so the CLI, the web app and the evaluation
harness all write answers the same way.
"""

from __future__ import annotations

import copy
from typing import Any

from miliacheck.errors import CaseError

DONT_KNOW = None  # the answer value for "don't know"


def apply_answer(case: dict[str, Any], question: dict[str, Any], answer: Any) -> dict[str, Any]:
    """A new case JSON with ``answer`` to ``question`` written in; ``None`` is don't know."""
    out = copy.deepcopy(case)
    fields: list[str] = list(question["fields"])
    if answer is DONT_KNOW:
        for path in fields:
            _clear(out, path)
        out["dont_know"] = sorted(set(out.get("dont_know", [])) | set(fields))
        return out
    kind = question["type"]
    if kind == "yes_no":
        if not isinstance(answer, bool):
            raise CaseError([{"field": "answer", "message": "must be true, false or null"}])
        _set(out, fields[0], answer)
    elif kind == "single":
        allowed = [o["value"] for o in question["options"]]
        if answer not in allowed:
            raise CaseError([{"field": "answer", "message": f"must be one of {allowed}"}])
        _set(out, fields[0], answer)
    elif kind == "number":
        if isinstance(answer, bool) or not isinstance(answer, int | float):
            raise CaseError([{"field": "answer", "message": "must be a number or null"}])
        lo, hi = question.get("min"), question.get("max")
        if (lo is not None and answer < lo) or (hi is not None and answer > hi):
            raise CaseError([{"field": "answer", "message": f"must be between {lo} and {hi}"}])
        _set(out, fields[0], answer)
    elif kind == "multi":
        if not isinstance(answer, list):
            raise CaseError([{"field": "answer", "message": "must be a list of ticked values"}])
        allowed = [o["value"] for o in question["options"]]
        for value in answer:
            if value not in allowed:
                # Only text is echoed: a deeply nested list has no repr.
                what = f"unknown option {value!r}" if isinstance(value, str) else "not an option"
                raise CaseError([{"field": "answer", "message": what}])
        if fields == ["locations"]:
            if not answer:
                raise CaseError([{"field": "answer", "message": "tick at least one place"}])
            _set(out, "locations", list(dict.fromkeys(answer)))
        else:
            for path in fields:
                _set(out, path, path in answer)
    else:
        raise CaseError([{"field": "question.type", "message": f"unknown type {kind!r}"}])
    return out


def apply_fields(case: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Write several paths at once; a value of ``None`` puts its path in ``dont_know``."""
    out = copy.deepcopy(case)
    unknown = [p for p, v in values.items() if v is None]
    for path, value in values.items():
        if value is not None:
            _set(out, path, value)
    if unknown:
        for path in unknown:
            _clear(out, path)
        out["dont_know"] = sorted(set(out.get("dont_know", [])) | set(unknown))
    return out


def get_path(case: dict[str, Any], path: str) -> Any:
    if path.startswith("findings."):
        return case.get("findings", {}).get(path[9:])
    return case.get(path)


def _set(case: dict[str, Any], path: str, value: Any) -> None:
    if "dont_know" in case and path in case["dont_know"]:
        case["dont_know"] = [p for p in case["dont_know"] if p != path]
        if not case["dont_know"]:
            del case["dont_know"]
    if path.startswith("findings."):
        case.setdefault("findings", {})[path[9:]] = value
    else:
        case[path] = value


def _clear(case: dict[str, Any], path: str) -> None:
    if path.startswith("findings."):
        case.get("findings", {}).pop(path[9:], None)
        if "findings" in case and not case["findings"]:
            del case["findings"]
    else:
        case.pop(path, None)
