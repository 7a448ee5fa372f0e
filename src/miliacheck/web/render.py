"""Presentation helpers for the pages: Markdown with citations, words for levels and ages."""

from __future__ import annotations

import math
import re
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup

from miliacheck.kb.load import KnowledgeBase
from miliacheck.kb.schema import Article

LEVELS: dict[str, dict[str, str]] = {
    "self_care": {
        "title": "Self-care",
        "now": "You can look after this at home. See a doctor only if things change.",
    },
    "routine": {
        "title": "Book a routine appointment",
        "now": "Book an appointment with a GP or dermatologist in the coming weeks.",
    },
    "soon": {
        "title": "See a doctor soon",
        "now": "See a doctor within the next few days, and at most within two weeks.",
    },
    "urgent": {
        "title": "See a doctor today",
        "now": "See a doctor today: call your GP practice now, or an urgent care service.",
    },
    "emergency": {
        "title": "Emergency: get help now",
        "now": "Go to the emergency department now or call your emergency number.",
    },
}
SERVICES = {
    "home": "Look after it at home",
    "pharmacist": "A pharmacist",
    "gp": "A GP (family doctor)",
    "dermatologist": "A dermatologist (through your GP if needed)",
    "sexual_health_clinic": "A sexual health clinic",
    "eye_casualty": "Eye casualty (emergency eye service)",
    "emergency_department": "The emergency department (A&E)",
}
AGE_UNITS = {"years": 1.0, "months": 1 / 12, "weeks": 7 / 365, "days": 1 / 365}
DURATION_UNITS = {"days": 1.0, "weeks": 7.0, "months": 30.4, "years": 365.25}

_md = MarkdownIt("commonmark", {"html": False}).enable("table")
_CITE = re.compile(r"\[(@[A-Za-z0-9_]+(?:\s*;\s*@[A-Za-z0-9_]+)*)\]")


def article_html(kb: KnowledgeBase, article: Article) -> tuple[str, list[dict[str, Any]]]:
    """The article's body as HTML, citations as numbered links, and its numbered references."""
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        ids = [x.strip().lstrip("@") for x in match.group(1).split(";")]
        links = []
        for rid in ids:
            if rid not in order:
                order.append(rid)
            n = order.index(rid) + 1
            links.append(f"[[{n}]](#ref-{n})")
        return "".join(links)

    body = _CITE.sub(number, article.body)
    html = _md.render(body)
    html = re.sub(
        r'<a href="#ref-(\d+)">\[(\d+)\]</a>',
        r'<a class="cite" href="#ref-\1" aria-label="reference \1">[\2]</a>',
        html,
    )
    refs = []
    for n, rid in enumerate(order, 1):
        ref = kb.references.get(rid)
        if ref is not None:
            refs.append({"n": n, "id": rid, **ref.model_dump(exclude_none=True)})
    return html, refs


def chance_words(p: float) -> str:
    if p >= 0.95:
        return "very likely (more than 9 in 10)"
    if p >= 0.095:
        return f"about {round(p * 10)} in 10"
    return (
        f"about 1 in {min(100, max(10, 5 * round(1 / p / 5)))}"
        if p >= 0.01
        else "less than 1 in 100"
    )


def age_years(value: float, unit: str) -> float:
    return round(value * AGE_UNITS[unit], 4)


def days(value: float, unit: str) -> float:
    return round(value * DURATION_UNITS[unit], 2)


def percent(p: float) -> int:
    return max(1, min(100, math.floor(p * 100 + 0.5)))


def markdown(text: str) -> Markup:
    """Library Markdown to HTML; raw HTML in the source is escaped, so it is safe to show."""
    return Markup(_md.render(text))
