"""miliacheck: an open, private, evidence-based symptom checker for milia and look-alikes."""

from miliacheck.engine.assess import assess
from miliacheck.engine.case import Case, parse_case
from miliacheck.errors import CaseError, KnowledgeError, MiliacheckError, NotFoundError
from miliacheck.kb.load import KnowledgeBase, load_kb

__all__ = [
    "Case",
    "CaseError",
    "KnowledgeBase",
    "KnowledgeError",
    "MiliacheckError",
    "NotFoundError",
    "assess",
    "load_kb",
    "parse_case",
]
