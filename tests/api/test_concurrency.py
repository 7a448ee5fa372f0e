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
        if sum(a["type"] == "yes_no" for a in asked) >= 3:
            break
    yes_no = [q for q in asked if q["type"] == "yes_no"]
    assert len(yes_no) >= 3
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(yes_no))

    def replace(q: dict[str, Any]) -> None:
        try:
            barrier.wait()
            interviews.answer(kb, store, view["id"], {"question_id": q["id"], "answer": True})
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=replace, args=(q,)) for q in yes_no]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    stored = {a["question_id"]: a["answer"] for a in interviews.read(store, view["id"])["answers"]}
    assert all(stored[q["id"]] is True for q in yes_no), stored
