"""The ask box: answer a question with passages from the library, and nothing else.

Passages are the library's sections (a ``##`` heading and its text). They are ranked
by BM25 over the words (headings and titles weigh more), with the lexicon's spelling
variants folded in. A passage about a treatment always comes with that treatment's
safety section. Emergencies are recognised by the triage floors applied to what the
words say; a description of symptoms is offered the checker, pre-filled. When nothing
in the library matches well enough, the answer says so: it never invents a sentence.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from miliacheck.engine.case import Case
from miliacheck.engine.rules import holds
from miliacheck.engine.triage import LEVEL_RANK
from miliacheck.kb.load import KnowledgeBase
from miliacheck.text.reader import CERTAIN, read

WORD = re.compile(r"[a-z0-9]+")
CITE = re.compile(r"\s*\[@[^\]]+\]")
LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")
BOOST = 0.3  # each question word in an article's title multiplies its passages' scores (estimate)
MIN_SCORE = 1.5  # BM25: below this nothing in the library answers the question (estimate)
QUESTION = re.compile(
    r"\?|^\s*(what|why|how|when|where|who|which|can|could|should|is|are|do|does|did|will|would|may|might)\b",
    re.I,
)


@dataclass(frozen=True)
class Passage:
    article: str
    title: str
    heading: str
    text: str  # as shown: Markdown without citation markers
    references: tuple[str, ...]
    safety: bool  # a safety section
    treatment: bool  # belongs to a treatment article


_INDEX: dict[int, tuple[KnowledgeBase, Any]] = {}


def passages(kb: KnowledgeBase) -> list[Passage]:
    out: list[Passage] = []
    for a in kb.articles.values():
        sections = re.split(r"^(#{2,3} .*)$", a.body, flags=re.M)
        heading, chunks = a.title, [sections[0]]
        blocks: list[tuple[str, str]] = []
        for part in sections[1:]:
            if re.match(r"^#{2,3} ", part):
                blocks.append((heading, "".join(chunks)))
                heading, chunks = part.lstrip("#").strip(), []
            else:
                chunks.append(part)
        blocks.append((heading, "".join(chunks)))
        for head, raw in blocks:
            if not raw.strip():
                continue
            refs = tuple(
                dict.fromkeys(
                    re.findall(r"@([A-Za-z0-9_]+)", " ".join(re.findall(r"\[@[^\]]+\]", raw)))
                )
            )
            text = LINK.sub(r"\1", CITE.sub("", raw)).strip()
            safety = "safety" in head.lower() or text.lower().startswith("**safety")
            out.append(Passage(a.slug, a.title, head, text, refs, safety, a.kind == "treatment"))
    return out


def _words(text: str, fold: dict[str, str]) -> list[str]:
    stop = _STOP
    out = []
    for w in WORD.findall(text.lower()):
        w = fold.get(w, w)
        if w in stop:
            continue
        if len(w) > 4 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.append(w)
    return out


_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "could",
        "do",
        "does",
        "for",
        "from",
        "get",
        "got",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "so",
        "that",
        "the",
        "their",
        "them",
        "they",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "im",
        "ive",
        "dont",
        "u",
        "ur",
        "pls",
        "please",
    ]
)


def _index(kb: KnowledgeBase) -> Any:
    cached = _INDEX.get(id(kb))
    if cached is not None and cached[0] is kb:
        return cached[1]
    fold = {str(k): str(v) for k, v in (kb.lexicon.get("ask_spellings") or {}).items()}
    ps = passages(kb)
    docs = [Counter(_words(" ".join([p.title] * 2 + [p.heading] * 3 + [p.text]), fold)) for p in ps]
    df: Counter[str] = Counter()
    for d in docs:
        df.update(d.keys())
    avg = sum(sum(d.values()) for d in docs) / max(1, len(docs))
    index = (ps, docs, df, avg, fold)
    _INDEX[id(kb)] = (kb, index)
    return index


def _terms(kb: KnowledgeBase, question: str) -> tuple[list[str], list[str]]:
    """The question's words in the library's spelling, and the words the library lacks."""
    _, _, df, _, fold = _index(kb)
    terms, unknown = [], []
    for t in _words(question, fold):
        if t not in df and len(t) >= 6:
            close = difflib.get_close_matches(t, _vocabulary(kb), n=1, cutoff=0.88)
            t = close[0] if close else t
        (terms if t in df else unknown).append(t)
    return terms, unknown


def _vocabulary(kb: KnowledgeBase) -> list[str]:
    return sorted(_index(kb)[2])


def search(kb: KnowledgeBase, question: str, limit: int = 3) -> list[tuple[float, Passage]]:
    """The best passage of each of the best ``limit`` articles, by BM25 with title boost."""
    ps, docs, df, avg, fold = _index(kb)
    terms, _ = _terms(kb, question)
    n = len(docs)
    titles = {p.article: set(_words(p.title + " " + p.article.replace("-", " "), fold)) for p in ps}
    best: dict[str, tuple[float, Passage]] = {}
    for p, d in zip(ps, docs, strict=True):
        length = sum(d.values())
        score = 0.0
        for t in terms:
            f = d.get(t, 0)
            if f:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                score += idf * f * 2.2 / (f + 1.2 * (0.25 + 0.75 * length / avg))
        score *= 1 + BOOST * len(titles[p.article] & set(terms))
        if score > 0 and (p.article not in best or score > best[p.article][0]):
            best[p.article] = (score, p)
    return sorted(best.values(), key=lambda x: -x[0])[:limit]


GENERIC = frozenset(
    [
        "rash",
        "skin",
        "spot",
        "spots",
        "bump",
        "bumps",
        "lump",
        "lumps",
        "what",
        "when",
        "why",
        "how",
        "doctor",
        "see",
        "treatment",
        "treatments",
        "type",
        "types",
        "cause",
        "causes",
        "look",
        "like",
        "baby",
        "babies",
        "newborn",
        "white",
        "tiny",
        "small",
        "red",
        "yellow",
        "one",
        "wont",
        "pop",
        "when",
        "see",
    ]
)


def out_of_scope(kb: KnowledgeBase, question: str, hits: list[tuple[float, Passage]]) -> bool:
    """Nothing in the library answers it. A question naming something the library is about
    (milia, a condition, a treatment) is in scope; otherwise a question whose own words the
    library lacks ('shingles', 'tax') and which matches fewer than two telling words is not."""
    terms, unknown = _terms(kb, question)
    if not hits or not terms:
        return True
    topics = [str(t) for t in (kb.lexicon.get("ask_not_covered") or [])]
    if any(re.search(rf"\b{re.escape(t)}\b", question, re.I) for t in topics):
        return True
    ps, docs, df, _, fold = _index(kb)
    subjects = {w for p in ps for w in _words(p.article.replace("-", " "), fold)} - GENERIC
    if set(terms) & subjects:
        return False
    if hits[0][0] < MIN_SCORE:
        return True
    if not unknown:
        return False
    n = len(docs)
    top = _doc_of(kb, hits[0][1])
    telling = [t for t in set(terms) if t in top and math.log(n / df[t]) >= 1.5]
    return len(telling) < 2


def _doc_of(kb: KnowledgeBase, p: Passage) -> Counter[str]:
    ps, docs, *_ = _index(kb)
    return dict(zip(ps, docs, strict=True)).get(p, Counter())  # type: ignore[return-value]


CAUTION_HEADINGS = re.compile(
    r"\b(not|never|safety|safe|risk|risks|avoid|danger|harm|why you should)\b", re.I
)


def _risky(kb: KnowledgeBase, question: str) -> bool:
    words = [str(w) for w in (kb.lexicon.get("ask_caution") or [])]
    return any(re.search(rf"\b{re.escape(w)}\b", question, re.I) for w in words)


def _caution(kb: KnowledgeBase, question: str, articles: list[str]) -> Passage | None:
    """The best-matching cautionary passage (a 'What not to do' or safety section) among
    the articles that answer the question, best article first."""
    ps, docs, *_ = _index(kb)
    terms, _ = _terms(kb, question)
    best: tuple[float, Passage] | None = None
    for rank, article in enumerate(articles):
        for p, d in zip(ps, docs, strict=True):
            if p.article != article or not (p.safety or CAUTION_HEADINGS.search(p.heading)):
                continue
            score = sum(d.get(t, 0) for t in terms) / (1 + rank)
            if best is None or score > best[0]:
                best = (score, p)
    return best[1] if best else None


def _case_from(kb: KnowledgeBase, question: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The case the words describe (stated readings) and what an emergency check may use
    (uncertain ages too: "my newborn has a fever" is about a newborn)."""
    case: dict[str, Any] = {}
    findings: dict[str, bool] = {}
    age_any: float | None = None
    for u in read(kb, question):
        if u.field == "age_years" and age_any is None:
            age_any = float(u.value)
        if u.certainty != CERTAIN:
            continue
        if u.field.startswith("findings.") and u.field[9:] not in findings:
            findings[u.field[9:]] = bool(u.value)
        elif u.field == "locations":
            case.setdefault("locations", [])
            if u.value not in case["locations"]:
                case["locations"].append(u.value)
        elif u.field in ("age_years", "sex", "colour", "count", "size_mm") and u.field not in case:
            case[u.field] = u.value
        elif u.field == "duration_days" and isinstance(u.value, float):
            case.setdefault("duration_days", u.value)
    if findings:
        case["findings"] = findings
    return case, {"age_years": case.get("age_years", age_any)}


def ask(kb: KnowledgeBase, question: str) -> dict[str, Any]:
    """The answer of the issue's shape: passages, emergency, out of scope, checker offer."""
    question = question[:1000]
    described, extra = _case_from(kb, question)
    age = extra["age_years"]
    if age is None:
        # "my baby ..." with no age: check it as a young baby, the cautious reading.
        age = 0.1 if re.search(r"\b(baby|newborn|bub)\b", question, re.I) else 30.0
    probe = Case(
        age_years=float(age),
        locations=tuple(described.get("locations", [])) or None,
        findings={k: v for k, v in described.get("findings", {}).items() if v},
    )
    urgent = [
        r
        for r in kb.triage.floors
        if LEVEL_RANK[r.level] >= LEVEL_RANK["urgent"] and holds(r.when, probe)
    ]
    emergency = bool(urgent)
    advice = " ".join(dict.fromkeys(r.instruction or r.reason for r in urgent)) or None
    hits = search(kb, question)
    nothing = out_of_scope(kb, question, hits)
    risky = _risky(kb, question)
    shown: list[Passage] = []
    if hits and (not nothing or emergency):  # in an emergency, show what the library says too
        best = hits[0][0]
        for score, p in hits:
            if score >= max(MIN_SCORE, 0.5 * best) and p not in shown:
                shown.append(p)
                if p.treatment and not p.safety:
                    note = next(
                        (q for q in passages(kb) if q.article == p.article and q.safety), None
                    )
                    if note is not None and note not in shown:
                        shown.append(note)
    if risky and not nothing:
        # A question about doing it yourself always gets the library's caution.
        caution = _caution(kb, question, [p.article for _, p in hits])
        if caution is not None and caution not in shown:
            shown.insert(min(1, len(shown)), caution)
    fields = sum(1 for k in described if k != "age_years") + len(described.get("findings", {}))
    offer = not emergency and fields >= 2 and not QUESTION.search(question)
    if described.get("locations") and not QUESTION.search(question.split(".")[0]):
        offer = offer or (not emergency and fields >= 2)
    checker_case = None
    if offer:
        checker_case = {
            "age_years": float(age),
            **{k: v for k, v in described.items() if k != "age_years"},
        }
        checker_case["narrative"] = question
    return {
        "passages": [
            {
                "text": p.text,
                "article": f"/library/{p.article}",
                "title": p.title,
                "heading": p.heading,
                "references": [
                    {"id": rid, **kb.references[rid].model_dump(mode="json", exclude_none=True)}
                    for rid in p.references
                    if rid in kb.references
                ],
            }
            for p in shown
        ],
        "emergency": emergency,
        "emergency_advice": advice,
        "out_of_scope": nothing and not emergency,
        "offer_checker": offer,
        "checker_case": checker_case,
    }
