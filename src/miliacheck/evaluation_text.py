"""`miliacheck eval-text`: how well the words are read, field by field.

Precision and recall per field on the labelled narratives (tests/data/text/), the values
the reader contradicts in the dev vignettes' structured fields, and (once the ask box
exists) its accuracy on the question set.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from miliacheck.kb.load import KnowledgeBase
from miliacheck.text.reader import CERTAIN, Understood, read

NUMERIC = ("age_years", "duration_days", "size_mm")


def reading(kb: KnowledgeBase, text: str) -> dict[str, Any]:
    """The stated values of a text, as the merge would use them (first mention wins;
    a red flag stated present anywhere counts as present)."""
    items: list[Understood] = read(kb, text)
    red = {f for f, s in kb.findings.findings.items() if s.red_flag}
    out: dict[str, Any] = {"findings": {}, "locations": set()}
    for u in items:
        if u.certainty != CERTAIN:
            continue
        if u.field == "locations":
            out["locations"].add(u.value)
        elif u.field.startswith("findings."):
            fid = u.field[9:]
            if fid not in out["findings"] or (fid in red and u.value is True):
                out["findings"][fid] = u.value
        elif u.field not in out and u.field != "writer_age_years":
            out[u.field] = u.value
    if out.get("duration_days") == "since_birth":
        age = out.get("age_years")
        out["duration_days"] = round(age * 365.25, 1) if isinstance(age, float) else None
        if out["duration_days"] is None:
            del out["duration_days"]
    if not out["locations"]:
        del out["locations"]
    return out


def _same(field: str, got: Any, want: Any, kb: KnowledgeBase) -> bool:
    if field == "age_years":
        return abs(float(got) - float(want)) <= max(0.02, 0.1 * float(want))
    if field in ("duration_days", "size_mm"):
        bins = kb.manifest.duration_bins if field == "duration_days" else kb.manifest.size_bins

        def which(x: float) -> int:
            return next(
                (i for i, (lo, hi) in enumerate(bins.values()) if lo <= x < hi), len(bins) - 1
            )

        return which(float(got)) == which(float(want))
    return bool(got == want)


def score_narratives(kb: KnowledgeBase, rows: list[dict[str, Any]]) -> dict[str, Any]:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    negated_as_present: list[str] = []
    errors: list[dict[str, Any]] = []
    for row in rows:
        exp = row["expected"]
        got = reading(kb, row["text"])
        unsure = set(exp.get("uncertain", [])) | set(exp.get("past", []))
        fields = {"age_years", "sex", "whose", "duration_days", "count", "size_mm", "colour"}
        for f in fields:
            if f in got and f in exp:
                if _same(f, got[f], exp[f], kb):
                    tp[f] += 1
                else:
                    fp[f] += 1
                    fn[f] += 1
                    errors.append({"id": row["id"], "field": f, "got": got[f], "want": exp[f]})
            elif f in got:
                fp[f] += 1
                errors.append({"id": row["id"], "field": f, "got": got[f], "want": None})
            elif f in exp and f not in unsure:
                fn[f] += 1
        want_locs, got_locs = set(exp.get("locations", [])), got.get("locations", set())
        tp["locations"] += len(want_locs & got_locs)
        fp["locations"] += len(got_locs - want_locs)
        fn["locations"] += len(want_locs - got_locs)
        if got_locs != want_locs:
            errors.append(
                {
                    "id": row["id"],
                    "field": "locations",
                    "got": sorted(got_locs),
                    "want": sorted(want_locs),
                }
            )
        want_f, got_f = exp.get("findings", {}), got["findings"]
        for fid in set(want_f) | set(got_f):
            path = f"findings.{fid}"
            if fid in got_f and fid in want_f and got_f[fid] == want_f[fid]:
                tp["findings"] += 1
                continue
            if fid in got_f:
                fp["findings"] += 1
                if got_f[fid] is True and (want_f.get(fid) is False or path in unsure):
                    negated_as_present.append(f"{row['id']}:{fid}")
            if fid in want_f:
                fn["findings"] += 1
            errors.append(
                {"id": row["id"], "field": path, "got": got_f.get(fid), "want": want_f.get(fid)}
            )
    per_field = {}
    for f in sorted(set(tp) | set(fp) | set(fn)):
        p = tp[f] / (tp[f] + fp[f]) if tp[f] + fp[f] else 1.0
        r = tp[f] / (tp[f] + fn[f]) if tp[f] + fn[f] else 1.0
        per_field[f] = {
            "precision": round(p, 3),
            "recall": round(r, 3),
            "tp": tp[f],
            "fp": fp[f],
            "fn": fn[f],
        }
    all_tp, all_fp, all_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    return {
        "narratives": len(rows),
        "precision": round(all_tp / max(1, all_tp + all_fp), 3),
        "recall": round(all_tp / max(1, all_tp + all_fn), 3),
        "per_field": per_field,
        "negated_read_as_present": negated_as_present,
        "errors": errors,
    }


def care_levels_from_words(
    kb: KnowledgeBase, rows: list[dict[str, Any]], default_age: float = 30.0
) -> dict[str, Any]:
    """Each labelled text assessed twice, from its labels (the stated ones) and from its
    words alone, at the labelled age (or ``default_age`` for both when none is given):
    where the words give a lower care level, reading cost safety."""
    from miliacheck.service import assess_json

    order = ("self_care", "routine", "soon", "urgent", "emergency")
    lower: list[str] = []
    higher: list[str] = []
    for row in rows:
        exp = row["expected"]
        unsure = set(exp.get("uncertain", []))
        age = exp.get("age_years", default_age)
        labelled: dict[str, Any] = {"age_years": age}
        for key in ("sex", "duration_days", "count", "size_mm", "colour"):
            if key in exp and key not in unsure:
                labelled[key] = exp[key]
        if exp.get("locations") and "locations" not in unsure:
            labelled["locations"] = exp["locations"]
        found = {f: v for f, v in exp.get("findings", {}).items() if f"findings.{f}" not in unsure}
        if found:
            labelled["findings"] = found
        by_labels = assess_json(kb, labelled)["triage"]["level"]
        by_words = assess_json(kb, {"age_years": age, "narrative": row["text"]})["triage"]["level"]
        if order.index(by_words) < order.index(by_labels):
            lower.append(f"{row['id']}:{by_labels}->{by_words}")
        elif order.index(by_words) > order.index(by_labels):
            higher.append(row["id"])
    return {"texts": len(rows), "lower": lower, "higher": len(higher)}


def contradictions(kb: KnowledgeBase, vignettes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every value read from a vignette's words that contradicts its structured fields."""
    out = []
    red = {f for f, s in kb.findings.findings.items() if s.red_flag}
    for v in vignettes:
        case, words = v["case"], v["case"].get("narrative")
        if not words:
            continue
        got = reading(kb, words)
        for fid, value in got["findings"].items():
            if fid in case.get("findings", {}) and case["findings"][fid] != value:
                out.append(
                    {
                        "id": v["id"],
                        "field": f"findings.{fid}",
                        "words": value,
                        "structured": case["findings"][fid],
                        "red_flag": fid in red,
                    }
                )
        for f in ("colour", "count", "sex"):
            if f in got and f in case and got[f] != case[f]:
                out.append(
                    {
                        "id": v["id"],
                        "field": f,
                        "words": got[f],
                        "structured": case[f],
                        "red_flag": False,
                    }
                )
        if (
            "locations" in got
            and "locations" in case
            and not got["locations"] <= set(case["locations"]) | {"other"}
        ):
            out.append(
                {
                    "id": v["id"],
                    "field": "locations",
                    "words": sorted(got["locations"]),
                    "structured": case["locations"],
                    "red_flag": False,
                }
            )
    return out


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def score_questions(
    kb: KnowledgeBase, rows: list[dict[str, Any]], semantic: bool = False
) -> dict[str, Any]:
    """The ask box on the question set: top-1 article, emergencies, safety, out of scope.
    Lexical search alone unless ``semantic`` (then the extra must be installed)."""
    from miliacheck.text.ask import ask
    from miliacheck.text.semantic import default_embedder

    embedder = default_embedder() if semantic else None
    if semantic and embedder is None:
        raise RuntimeError("the semantic extra is not installed: pip install -e '.[semantic]'")

    top1 = answerable = emergencies = flagged = safety = cautioned = oos = refused = offers = (
        offered
    ) = 0
    misses: list[dict[str, Any]] = []
    for row in rows:
        exp, got = row["expected"], ask(kb, row["question"], semantic=semantic, embedder=embedder)
        first = got["passages"][0]["article"].removeprefix("/library/") if got["passages"] else None
        if exp["article"]:
            answerable += 1
            ok = first in {exp["article"], *exp.get("also_ok", [])}
            top1 += ok
            if not ok:
                misses.append(
                    {"id": row["id"], "kind": "article", "got": first, "want": exp["article"]}
                )
        else:
            oos += 1
            ok = got["out_of_scope"] and not got["passages"]
            refused += ok
            if not ok:
                misses.append({"id": row["id"], "kind": "out_of_scope", "got": first, "want": None})
        if exp["emergency"]:
            emergencies += 1
            flagged += got["emergency"]
            if not got["emergency"]:
                misses.append({"id": row["id"], "kind": "emergency"})
        if exp["safety"] and exp.get("must_mention"):
            safety += 1
            hit = any(exp["must_mention"].lower() in p["text"].lower() for p in got["passages"])
            cautioned += hit
            if not hit:
                misses.append({"id": row["id"], "kind": "safety", "want": exp["must_mention"]})
        if exp.get("offer_checker"):
            offers += 1
            offered += got["offer_checker"]
    return {
        "questions": len(rows),
        "search": "lexical + semantic" if semantic else "lexical",
        "top1_article": round(top1 / max(1, answerable), 3),
        "emergencies_flagged": f"{flagged}/{emergencies}",
        "safety_cautions": f"{cautioned}/{safety}",
        "out_of_scope_refused": f"{refused}/{oos}",
        "checker_offered": f"{offered}/{offers}",
        "misses": misses,
    }
