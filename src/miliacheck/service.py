"""Use cases over the engine: what the API, the CLI and (later) the web pages call.

Interfaces never compute medicine; they call these functions with decoded JSON.
"""

from __future__ import annotations

from typing import Any

from miliacheck.engine.assess import assess
from miliacheck.engine.case import Case, parse_case
from miliacheck.errors import NotFoundError
from miliacheck.kb.load import KnowledgeBase
from miliacheck.kb.schema import Condition
from miliacheck.text import with_narrative


def assess_json(kb: KnowledgeBase, obj: object) -> dict[str, Any]:
    """Validate a decoded JSON case and assess it (raises CaseError naming the field)."""
    return assess_case(kb, parse_case(kb, obj))


def assess_case(
    kb: KnowledgeBase, case: Case, ignore: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Assess a case, reading its narrative first when it has one (minus corrected readings)."""
    merged, understood, conflicts = with_narrative(kb, case, ignore)
    result = assess(kb, merged)
    result["understood"] = understood
    result["conflicts"] = conflicts
    return result


def condition_summary(cond: Condition) -> dict[str, Any]:
    return {
        "id": cond.id,
        "name": cond.name,
        "clinical_name": cond.clinical_name,
        "must_not_miss": cond.must_not_miss if isinstance(cond.must_not_miss, bool) else True,
        "article": cond.article,
        "codes": [{"system": c.system, "code": c.code, "display": c.display} for c in cond.codes],
    }


def list_conditions(kb: KnowledgeBase) -> list[dict[str, Any]]:
    return [condition_summary(c) for c in kb.conditions.values()]


def get_condition(kb: KnowledgeBase, cid: str) -> dict[str, Any]:
    cond = kb.conditions.get(cid)
    if cond is None:
        raise NotFoundError([{"field": "condition_id", "message": f"no condition {cid!r}"}])
    data = cond.model_dump(mode="json")
    data["references"] = {
        rid: kb.references[rid].model_dump(mode="json", exclude_none=True)
        for rid in sorted(_cited(data))
        if rid in kb.references
    }
    return data


def list_findings(kb: KnowledgeBase) -> list[dict[str, Any]]:
    return [
        {
            "id": fid,
            "label": f.label,
            "question": f.question,
            "help": f.help,
            "red_flag": f.red_flag,
        }
        for fid, f in kb.findings.findings.items()
    ]


def list_questions(kb: KnowledgeBase) -> list[dict[str, Any]]:
    """Every question the interview can ask (field questions, yes/no findings, grouped
    findings, screen groups). A grouped finding is asked alone only when it is the last of
    its group left open."""
    out: list[dict[str, Any]] = [
        q.model_dump(mode="json", exclude_none=True) for q in kb.questions.questions
    ]
    for fid, f in kb.findings.findings.items():
        if f.red_flag or f.advice_only:
            continue
        out.append(
            {
                "id": f"q_{fid}",
                "type": "yes_no",
                "fields": [f"findings.{fid}"],
                "text": f.question,
                "help": f.help,
                "why": f.why,
            }
        )
    groups = [
        (g.id, [m.finding for m in g.members], g.text, g.help, g.why, False)
        for g in kb.questions.groups
    ]
    groups += [(g.id, list(g.fields), g.text, g.help, g.why, True) for g in kb.triage.screen]
    for qid, fids, text, help_, why, red_flag in groups:
        out.append(
            {
                "id": qid,
                "type": "multi",
                "red_flag": red_flag,
                "fields": [f"findings.{x}" for x in fids],
                "text": text,
                "help": help_,
                "why": why,
            }
        )
    return out


def _cited(data: object) -> set[str]:
    found: set[str] = set()
    if isinstance(data, dict):
        src = data.get("src")
        if isinstance(src, str):
            found.add(src)
        for v in data.values():
            found |= _cited(v)
    elif isinstance(data, list):
        for v in data:
            found |= _cited(v)
    return found


def list_articles(kb: KnowledgeBase) -> list[dict[str, Any]]:
    return [
        {
            "slug": a.slug,
            "title": a.title,
            "summary": a.summary,
            "kind": a.kind,
            "url": f"/library/{a.slug}",
        }
        for a in sorted(kb.articles.values(), key=lambda a: (a.kind != "topic", a.title))
    ]


def get_article(kb: KnowledgeBase, slug: str) -> dict[str, Any]:
    """An article with its body (Markdown) and its references in full."""
    article = kb.articles.get(slug)
    if article is None:
        raise NotFoundError([{"field": "slug", "message": f"no article {slug!r}"}])
    data = article.model_dump(mode="json", exclude_none=True)
    data["references"] = [
        {"id": rid, **kb.references[rid].model_dump(mode="json", exclude_none=True)}
        for rid in article.references
    ]
    return data


MAX_QUESTION = 1000


def ask_json(kb: KnowledgeBase, obj: object) -> dict[str, Any]:
    """The ask box over JSON: ``{"question": "..."}`` -> passages from the library."""
    from miliacheck.errors import CaseError
    from miliacheck.text.ask import ask

    if not isinstance(obj, dict):
        raise CaseError([{"field": None, "message": 'the body must be {"question": "..."}'}])
    errors: list[Any] = [{"field": k, "message": "unknown field"} for k in obj if k != "question"]
    question = obj.get("question")
    if not isinstance(question, str) or not question.strip():
        errors.append({"field": "question", "message": "a question is required (text)"})
    elif len(question) > MAX_QUESTION:
        errors.append({"field": "question", "message": f"at most {MAX_QUESTION} characters"})
    if errors:
        raise CaseError(errors)
    return ask(kb, str(question))
