"""Searching the library: the ask box's passage search, one hit per article."""

from __future__ import annotations

from typing import Any

from miliacheck.kb.load import KnowledgeBase
from miliacheck.text.ask import search as passage_search


def search(kb: KnowledgeBase, query: str, limit: int = 10) -> list[dict[str, Any]]:
    """Articles ranked by their best-matching passage (BM25, titles weigh more)."""
    hits = passage_search(kb, query, limit=limit)
    return [
        {
            "slug": p.article,
            "title": kb.articles[p.article].title,
            "summary": kb.articles[p.article].summary,
        }
        for _, p in hits
    ]
