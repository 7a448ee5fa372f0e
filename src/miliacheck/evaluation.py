"""The evaluation harness: run vignettes in full or interview mode and score them.

Full mode assesses the whole case as a person or program would hand it over: the
structured fields and, where the vignette has one, the narrative, read and merged by the
format's rules. Structured mode leaves the narrative out (the model without the reader).
Interview mode starts from age and sex and answers each question from the case by the
format's rules (unknown: don't know).
Narrative mode gives only the age and the person's words, with no questions;
narrative-interview starts the interview from age, sex and the words. ``perturb``
drops 30 % of the known fields with a fixed seed.
"""

from __future__ import annotations

import json
import random
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from miliacheck.engine.assess import assess
from miliacheck.engine.case import parse_case
from miliacheck.engine.evidence import posterior
from miliacheck.engine.interview import apply_fields, get_path
from miliacheck.engine.triage import is_must_not_miss
from miliacheck.kb.load import NOT_LISTED, KnowledgeBase
from miliacheck.kb.schema import CARE_LEVELS
from miliacheck.service import assess_case
from miliacheck.text import with_narrative

RANK = {level: i for i, level in enumerate(CARE_LEVELS)}
INTERVIEW_LIMIT = 40  # a runaway interview is a bug; stop and count it


@dataclass
class Outcome:
    id: str
    expected: str
    acceptable: list[str]
    expected_triage: str
    ranked: list[str]
    level: str
    unsure: bool
    brier: float
    questions: int
    screen_complete: bool
    must_not_miss: bool

    def hit(self, k: int) -> bool:
        return any(c in self.ranked[:k] for c in [self.expected, *self.acceptable])


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        o = self.outcomes
        n = len(o)
        if n == 0:
            return {"cases": 0}

        def share(xs: Iterable[bool]) -> float:
            xs = list(xs)
            return round(sum(xs) / len(xs), 4) if xs else 0.0

        serious = [x for x in o if RANK[x.expected_triage] >= RANK["soon"]]
        qs = [x.questions for x in o]
        return {
            "cases": n,
            "top1": share(x.hit(1) for x in o),
            "top3": share(x.hit(3) for x in o),
            "triage_exact": share(x.level == x.expected_triage for x in o),
            "triage_safe": share(RANK[x.level] >= RANK[x.expected_triage] - 1 for x in o),
            "under_triage": share(RANK[x.level] < RANK[x.expected_triage] for x in o),
            "over_triage": share(RANK[x.level] > RANK[x.expected_triage] for x in o),
            "serious_cases": len(serious),
            "under_triage_serious": sum(RANK[x.level] < RANK[x.expected_triage] for x in serious),
            "over_triage_serious": sum(RANK[x.level] > RANK[x.expected_triage] for x in serious),
            "must_not_miss_misses": sum(
                x.must_not_miss and (not x.hit(3) or RANK[x.level] < RANK[x.expected_triage])
                for x in o
            ),
            "unsure_rate": share(x.unsure for x in o),
            "brier": round(statistics.fmean(x.brier for x in o), 4),
            "median_questions": statistics.median(qs),
            "max_questions": max(qs),
            "screen_incomplete": sum(not x.screen_complete for x in o),
        }

    def failures(self) -> list[dict[str, Any]]:
        return [
            {
                "id": x.id,
                "expected": x.expected,
                "got": x.ranked[:3],
                "triage": f"{x.expected_triage}->{x.level}",
            }
            for x in self.outcomes
            if not x.hit(3) or x.level != x.expected_triage
        ]


def read_vignettes(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def perturb(case: dict[str, Any], rng: random.Random, share: float = 0.3) -> dict[str, Any]:
    """Drop ``share`` of the known fields (never age), as a person who skips questions."""
    paths = [
        k for k in ("sex", "locations", "duration_days", "count", "size_mm", "colour") if k in case
    ]
    paths += [f"findings.{f}" for f in case.get("findings", {})]
    drop = set(rng.sample(paths, round(len(paths) * share)))
    out = {k: v for k, v in case.items() if k not in drop and k not in ("findings", "dont_know")}
    findings = {f: v for f, v in case.get("findings", {}).items() if f"findings.{f}" not in drop}
    if findings:
        out["findings"] = findings
    return out


def interview(
    kb: KnowledgeBase, reference: dict[str, Any], narrative: str | None = None
) -> tuple[dict[str, Any], dict[str, Any], int]:
    """Run the interview against ``reference``: the last result, the case built, questions asked.

    With ``narrative`` the interview starts from age, sex and the person's words.
    """
    case: dict[str, Any] = {"age_years": reference["age_years"]}
    if "sex" in reference:
        case["sex"] = reference["sex"]
    if narrative:
        case["narrative"] = narrative
    asked = 0
    while True:
        result = assess_case(kb, parse_case(kb, case))
        q = result["next_question"]
        if q is None or asked >= INTERVIEW_LIMIT:
            return result, case, asked
        asked += 1
        case = apply_fields(case, {p: get_path(reference, p) for p in q["fields"]})


MODES = ("full", "structured", "interview", "narrative", "narrative-interview")


def evaluate(
    kb: KnowledgeBase,
    vignettes: list[dict[str, Any]],
    mode: str = "full",
    perturbed: bool = False,
    seed: int = 7,
) -> Report:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    rng = random.Random(seed)
    report = Report()
    for v in vignettes:
        words = v["case"].get("narrative")
        case = {k: val for k, val in v["case"].items() if k != "narrative"}
        if perturbed:
            case = perturb(case, rng)
        if mode == "interview":
            result, final, asked = interview(kb, case)
        elif mode == "narrative-interview":
            result, final, asked = interview(kb, case, words)
        elif mode == "narrative":
            final = {"age_years": case["age_years"], **({"narrative": words} if words else {})}
            result, asked = assess_case(kb, parse_case(kb, final)), 0
        elif mode == "full":
            final = {**case, **({"narrative": words} if words else {})}
            result, asked = assess_case(kb, parse_case(kb, final)), 0
        else:  # structured
            result, final, asked = assess(kb, parse_case(kb, case)), case, 0
        exp = v["expected"]
        ranked = [c["id"] for c in result["conditions"]]
        parsed = with_narrative(kb, parse_case(kb, final))[0]
        post = posterior(kb, parsed)
        truth = [1.0 if cid == exp["diagnosis"] else 0.0 for cid in kb.model.ids]
        brier = float(sum((float(p) - y) ** 2 for p, y in zip(post, truth, strict=True)))
        cond = kb.conditions.get(exp["diagnosis"])
        mnm = cond is not None and is_must_not_miss(cond, parse_case(kb, case))
        report.outcomes.append(
            Outcome(
                id=v["id"],
                expected=exp["diagnosis"],
                acceptable=list(exp.get("also_acceptable", [])),
                expected_triage=exp["triage"],
                ranked=ranked,
                level=result["triage"]["level"],
                unsure=result["unsure"]["value"],
                brier=brier,
                questions=asked,
                screen_complete=result["triage"]["screen_complete"],
                must_not_miss=mnm,
            )
        )
    return report


__all__ = ["MODES", "NOT_LISTED", "Report", "evaluate", "interview", "perturb", "read_vignettes"]
