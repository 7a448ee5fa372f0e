"""Two changes to one stored interview at the same moment: both are kept, none is lost."""

from __future__ import annotations

import threading
from typing import Any

from miliacheck import interviews
from miliacheck.kb.load import KnowledgeBase
from miliacheck.store import Store


def test_concurrent_changes_to_one_interview_are_all_kept(kb: KnowledgeBase, store: Store) -> None:
    view = interviews.start(kb, store, {"case": {"age_years": 30}})
    asked: list[dict[str, Any]] = []
    for _ in range(15):  # answer questions "don't know" first
        q = view["question"]
        if q is None:
            break
        asked.append(q)
        view = interviews.answer(kb, store, view["id"], {"question_id": q["id"], "answer": None})
        if len(_about_findings(asked)) >= 3:
            break
    yes_no = _about_findings(asked)
    assert len(yes_no) >= 3
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(yes_no))

    def replace(q: dict[str, Any]) -> None:
        try:
            barrier.wait()
            interviews.answer(kb, store, view["id"], {"question_id": q["id"], "answer": _yes(q)})
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=replace, args=(q,)) for q in yes_no]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    stored = {a["question_id"]: a["answer"] for a in interviews.read(store, view["id"])["answers"]}
    assert all(stored[q["id"]] == _yes(q) for q in yes_no), stored


def _about_findings(asked: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Yes/no questions and grouped questions over findings (each a different answer id)."""
    return [q for q in asked if q["fields"][0].startswith("findings.")]


def _yes(q: dict[str, Any]) -> Any:
    """Yes to a yes/no question; the first box ticked in a grouped one."""
    return True if q["type"] == "yes_no" else [q["options"][0]["value"]]
