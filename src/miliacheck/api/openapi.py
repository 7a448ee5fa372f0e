"""JSON Schemas of the case and the result, built from the knowledge base's ids."""

from __future__ import annotations

from typing import Any

from miliacheck.engine.case import DONT_KNOW_FIELDS, MAX_AGE, MAX_NARRATIVE, MAX_SIZE_MM
from miliacheck.kb.load import KnowledgeBase
from miliacheck.kb.schema import CARE_LEVELS, COLOURS, COUNTS, SERVICES, SEXES


def case_schema(kb: KnowledgeBase) -> dict[str, Any]:
    findings = list(kb.findings.findings)
    paths = [*DONT_KNOW_FIELDS, *(f"findings.{f}" for f in findings)]
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["age_years"],
        "properties": {
            "age_years": {"type": "number", "minimum": 0, "maximum": MAX_AGE},
            "sex": {"enum": list(SEXES)},
            "narrative": {"type": "string", "maxLength": MAX_NARRATIVE},
            "locations": {
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {"enum": list(kb.questions.locations["labels"])},
            },
            "duration_days": {"type": "number", "minimum": 0},
            "count": {"enum": list(COUNTS)},
            "size_mm": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_SIZE_MM},
            "colour": {"enum": list(COLOURS)},
            "findings": {
                "type": "object",
                "additionalProperties": False,
                "properties": {f: {"type": "boolean"} for f in findings},
            },
            "dont_know": {"type": "array", "uniqueItems": True, "items": {"enum": paths}},
        },
    }


def result_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": [
            "conditions",
            "other_probability",
            "not_listed_probability",
            "triage",
            "unsure",
            "advice",
            "understood",
            "next_question",
            "kb_version",
        ],
        "properties": {
            "conditions": {"type": "array", "items": {"type": "object"}},
            "other_probability": {"type": "number"},
            "not_listed_probability": {"type": "number"},
            "triage": {
                "type": "object",
                "properties": {
                    "level": {"enum": list(CARE_LEVELS)},
                    "service": {"enum": list(SERVICES)},
                },
            },
            "unsure": {"type": "object"},
            "advice": {"type": "object"},
            "understood": {"type": "array"},
            "next_question": {"type": ["object", "null"]},
            "kb_version": {"type": "string"},
        },
    }
