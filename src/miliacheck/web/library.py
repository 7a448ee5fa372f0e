"""Searching the library: a small BM25 over each article's title, summary and body."""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import cache
from typing import Any

from miliacheck.kb.load import KnowledgeBase

WORD = re.compile(r"[a-z0-9]+")
STOP = frozenset(
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
        "do",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "the",
        "to",
        "what",
        "why",
        "with",
    ]
)


def words(text: str) -> list[str]:
    return [w for w in WORD.findall(text.lower()) if w not in STOP]


@cache
def _index(
    kb_id: int, docs: tuple[tuple[str, str], ...]
) -> tuple[dict[str, Counter[str]], dict[str, int], float]:
    tf = {slug: Counter(words(text)) for slug, text in docs}
    df: Counter[str] = Counter()
    for counts in tf.values():
        df.update(counts.keys())
    avg = sum(sum(c.values()) for c in tf.values()) / max(1, len(tf))
    return tf, dict(df), avg


def search(kb: KnowledgeBase, query: str, limit: int = 10) -> list[dict[str, Any]]:
    """Articles ranked by BM25 (k1 1.5, b 0.75); titles and summaries count three times."""
    docs = tuple(
        (a.slug, " ".join([a.title] * 3 + [a.summary] * 3 + [a.body])) for a in kb.articles.values()
    )
    tf, df, avg = _index(id(kb), docs)
    n = len(tf)
    terms = words(query)
    scores: dict[str, float] = {}
    for slug, counts in tf.items():
        length = sum(counts.values())
        score = 0.0
        for t in terms:
            f = counts.get(t, 0)
            if f:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                score += idf * f * 2.5 / (f + 1.5 * (1 - 0.75 + 0.75 * length / avg))
        if score > 0:
            scores[slug] = score
    ranked = sorted(scores, key=lambda s: -scores[s])[:limit]
    return [
        {"slug": s, "title": kb.articles[s].title, "summary": kb.articles[s].summary}
        for s in ranked
    ]
