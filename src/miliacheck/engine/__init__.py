"""The engine: pure functions of (knowledge base, case)."""

from miliacheck.engine.assess import assess
from miliacheck.engine.case import Case, parse_case

__all__ = ["Case", "assess", "parse_case"]
