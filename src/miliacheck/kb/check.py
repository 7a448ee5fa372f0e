"""Semantic checks of a knowledge base: ids resolve, numbers are in range and sourced.

:func:`check` returns every problem found (errors and warnings); ``miliacheck kb check``
prints them and the app refuses to start while any error remains.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from miliacheck.kb.load import KnowledgeBase
from miliacheck.kb.schema import (
    CARE_LEVELS,
    COLOURS,
    COUNTS,
    Condition,
    Likelihoods,
    Sourced,
    When,
)

#: The conditions of case/v1: the knowledge base must model every one of them.
FORMAT_CONDITIONS: tuple[str, ...] = (
    "milia_primary",
    "milia_neonatal",
    "milia_secondary",
    "milia_multiple_eruptive",
    "milia_en_plaque",
    "closed_comedones",
    "sebaceous_hyperplasia",
    "syringoma",
    "basal_cell_carcinoma",
    "molluscum_contagiosum",
    "xanthelasma",
    "epidermoid_cyst",
    "fordyce_spots",
    "miliaria",
    "erythema_toxicum_neonatorum",
    "keratosis_pilaris",
    "flat_warts",
    "folliculitis",
    "periorbital_cellulitis",
    "hordeolum_chalazion",
    "oral_candidiasis",
    "herpes_simplex",
    "steatocystoma_multiplex",
)
ICD10 = "http://hl7.org/fhir/sid/icd-10"
DECISIVE = 5


@dataclass(frozen=True)
class Problem:
    severity: str  # "error" | "warning"
    where: str
    message: str


@dataclass(frozen=True)
class Decisive:
    """One likelihood and how far it moves the odds (|log LR| against the background)."""

    condition: str
    field: str
    value: Sourced
    weight: float


def check(
    kb: KnowledgeBase, vignette_ids: Iterable[str] | None = None, today: date | None = None
) -> list[Problem]:
    """All problems of ``kb``. ``vignette_ids`` defaults to the ids in the known vignette files."""
    out: list[Problem] = []
    out += _check_bins(kb)
    out += _check_sources(kb)
    out += _check_colour_seen(kb)
    out += _check_findings_seen(kb)
    out += _check_conditions(kb)
    out += _check_rules(kb)
    out += _check_articles(kb, today or date.today())
    out += _check_lexicon(kb)
    out += _check_ask(kb)
    ids = set(vignette_ids) if vignette_ids is not None else _known_vignette_ids()
    out += _check_no_vignette_ids(kb, ids)
    return out


def _check_bins(kb: KnowledgeBase) -> Iterator[Problem]:
    """Age bands and size, duration and onset bins: each [from, to) and each starting where
    the one before it ends, so every age or value falls in exactly one (a gap or overlap
    would silently give a baby the wrong band's priors)."""
    m = kb.manifest
    named = {
        "age_bands": m.age_bands,
        "size_bins": m.size_bins,
        "duration_bins": m.duration_bins,
        "onset_bins": m.onset_bins,
    }
    for name, bins in named.items():
        end: float | None = None
        for key, (lo, hi) in bins.items():
            if not lo < hi:
                yield Problem("error", f"manifest.{name}.{key}", f"[{lo}, {hi}) is empty")
            if end is not None and lo != end:
                yield Problem(
                    "error",
                    f"manifest.{name}.{key}",
                    f"starts at {lo}, not where the bin before it ends ({end})",
                )
            end = hi


def sourced_numbers(kb: KnowledgeBase) -> Iterator[tuple[str, Sourced]]:
    """Every sourced number in the knowledge base, with where it stands."""
    th = kb.manifest.thresholds
    for name in type(th).model_fields:
        yield f"manifest.thresholds.{name}", getattr(th, name)
    yield "manifest.not_listed.prior", kb.manifest.not_listed.prior
    for fid, f in kb.findings.findings.items():
        yield f"findings.{fid}.background", f.background
        if f.answerable is not None:
            yield f"findings.{fid}.answerable", f.answerable
        for true, seen in f.colour_seen_as.items():
            for colour, s in seen.items():
                yield f"findings.{fid}.colour_seen_as.{true}.{colour}", s
        for other, s in f.findings_seen.items():
            yield f"findings.{fid}.findings_seen.{other}", s
    for q in kb.questions.questions:
        if q.answerable is not None:
            yield f"questions.{q.id}.answerable", q.answerable
    for g in kb.questions.groups:
        if g.answerable is not None:
            yield f"questions.groups.{g.id}.answerable", g.answerable
    for c in kb.conditions.values():
        for band, s in c.prior.prevalence.items():
            yield f"{c.id}.prior.prevalence.{band}", s
        yield f"{c.id}.prior.consult", c.prior.consult
        for band, s in c.prior.consult_bands.items():
            yield f"{c.id}.prior.consult_bands.{band}", s
        for sex, s in c.prior.sex.items():
            yield f"{c.id}.prior.sex.{sex}", s
        if c.act_threshold is not None:
            yield f"{c.id}.act_threshold", c.act_threshold
        for name, lk in (("likelihoods", c.likelihoods), *_variants(c)):
            parts = ("findings", "locations", "colour", "count", "size", "duration", "onset")
            for part in parts:
                for key, s in getattr(lk, part).items():
                    yield f"{c.id}.{name}.{part}.{key}", s
            for i, prof in enumerate(lk.site_profiles):
                yield f"{c.id}.{name}.site_profiles[{i}].weight", prof.weight
                for key, s in prof.locations.items():
                    yield f"{c.id}.{name}.site_profiles[{i}].locations.{key}", s
                for key, s in prof.findings.items():
                    yield f"{c.id}.{name}.site_profiles[{i}].findings.{key}", s
                for key, s in prof.duration.items():
                    yield f"{c.id}.{name}.site_profiles[{i}].duration.{key}", s


def _variants(c: Condition) -> list[tuple[str, Likelihoods]]:
    return [(f"likelihood_variants[{i}]", v) for i, v in enumerate(c.likelihood_variants)]


def decisive_numbers(kb: KnowledgeBase, cond: Condition) -> list[Decisive]:
    """The condition's likelihoods (and each variant's) ordered by how much they move the odds."""
    out: list[Decisive] = []
    for name, lk in (("likelihoods", cond.likelihoods), *_variants(cond)):
        out += _decisive(kb, cond, lk, "" if name == "likelihoods" else name + ".")
    out.sort(key=lambda d: -d.weight)
    return out


def _decisive(kb: KnowledgeBase, cond: Condition, lk: Likelihoods, prefix: str) -> list[Decisive]:
    out: list[Decisive] = []
    for fid, s in lk.findings.items():
        if not 0 < s.p < 1:
            continue  # out of range: reported by _check_sources
        bg = kb.findings.findings[fid].background.p if fid in kb.findings.findings else 0.5
        w = max(abs(math.log(s.p / bg)), abs(math.log((1 - s.p) / (1 - bg))))
        out.append(Decisive(cond.id, f"{prefix}findings.{fid}", s, w))
    sites = [("locations", lk.locations)]
    sites += [
        (f"site_profiles[{i}].locations", p.locations) for i, p in enumerate(lk.site_profiles)
    ]
    for part, given in sites:
        for loc, s in given.items():
            if loc != "default" and s.p > 0:
                w = abs(math.log(s.p / 0.05))
                out.append(Decisive(cond.id, f"{prefix}{part}.{loc}", s, w))
    sizes = {
        "colour": len(COLOURS),
        "count": len(COUNTS),
        "size": len(kb.manifest.size_bins),
        "duration": len(kb.manifest.duration_bins),
        "onset": max(len(kb.manifest.onset_bins), 1),
    }
    for part, n in sizes.items():
        for key, s in getattr(lk, part).items():
            if s.p > 0:
                out.append(Decisive(cond.id, f"{prefix}{part}.{key}", s, abs(math.log(s.p * n))))
    return out


def _check_sources(kb: KnowledgeBase) -> Iterator[Problem]:
    refs = kb.references
    for where, s in sourced_numbers(kb):
        if s.src is not None and s.src not in refs:
            yield Problem("error", where, f"unknown reference {s.src!r}")
        if s.est is not None and not s.est.strip():
            yield Problem("error", where, "an estimate needs its reason")
        low, high = (0.0, 10.0) if ".prior.sex." in where else (0.0, 1.0)
        if not low < s.p < high:
            yield Problem("error", where, f"{s.p} is not in ({low}, {high})")
    for c in kb.conditions.values():
        cited: list[str | None] = [x.src for x in c.codes]
        cited += [x.src for x in c.care] + [x.src for x in c.escalate]
        cited += [t.src for t in c.treatments]
        for items in (c.advice.do, c.advice.avoid, c.advice.see_a_doctor_if):
            cited += [i.src for i in items]
        for src in cited:
            if src is not None and src not in refs:
                yield Problem("error", c.id, f"unknown reference {src!r}")
        numbers = [s.src for where, s in sourced_numbers(kb) if where.startswith(c.id + ".")]
        if len({x for x in [*cited, *numbers] if x is not None}) < 2:
            yield Problem("error", c.id, "a condition needs at least two references")
    for rule in kb.triage.floors:
        if rule.src is not None and rule.src not in refs:
            yield Problem("error", f"triage.{rule.id}", f"unknown reference {rule.src!r}")
    advice_items = list(kb.advice.always.do) + list(kb.advice.always.avoid)
    for r in kb.advice.rules:
        advice_items += list(r.do) + list(r.avoid)
    for item in advice_items:
        if item.src is not None and item.src not in refs:
            yield Problem("error", "advice", f"unknown reference {item.src!r}")
    for net in kb.advice.safety_net:
        if net.src is not None and net.src not in refs:
            yield Problem("error", "advice.safety_net", f"unknown reference {net.src!r}")
    for rid, ref in refs.items():
        if not (ref.pmid or ref.doi or ref.url or ref.journal or ref.publisher):
            yield Problem("error", f"references.{rid}", "needs a pmid, doi, url or journal")


def _check_findings_seen(kb: KnowledgeBase) -> Iterator[Problem]:
    """A finding that makes others harder to see is advice-only (skin tone points to no
    condition) and names findings that enter the posterior and set no floor (a red flag is
    taken as said: the floors read it)."""
    spec = kb.findings.findings
    for fid, f in spec.items():
        where = f"findings.{fid}.findings_seen"
        if f.findings_seen and not f.advice_only:
            yield Problem("error", where, "only an advice-only finding may change what is seen")
        for other in f.findings_seen:
            if other not in spec:
                yield Problem("error", f"{where}.{other}", "unknown finding")
            elif spec[other].advice_only or spec[other].red_flag:
                yield Problem(
                    "error",
                    f"{where}.{other}",
                    "must be a finding of the posterior, not a red flag",
                )


def _check_colour_seen(kb: KnowledgeBase) -> Iterator[Problem]:
    """A finding that changes how colour is seen gives, for every true colour, how often it
    is seen as each colour: known colours, each row summing to one."""
    for fid, f in kb.findings.findings.items():
        if not f.colour_seen_as:
            continue
        where = f"findings.{fid}.colour_seen_as"
        if not f.advice_only:
            yield Problem("error", where, "only an advice-only finding may change colour")
        for true in COLOURS:
            row = f.colour_seen_as.get(true)
            if row is None:
                yield Problem("error", where, f"no row for the true colour {true!r}")
                continue
            unknown = set(row) - set(COLOURS)
            if unknown:
                yield Problem("error", f"{where}.{true}", f"unknown colours {sorted(unknown)}")
            total = sum(s.p for s in row.values())
            if abs(total - 1.0) > 1e-6:
                yield Problem("error", f"{where}.{true}", f"shares sum to {total:g}, not 1")
        for true in set(f.colour_seen_as) - set(COLOURS):
            yield Problem("error", f"{where}.{true}", "unknown true colour")


def _check_conditions(kb: KnowledgeBase) -> Iterator[Problem]:
    fids = set(kb.findings.findings)
    advice_only = {f for f, x in kb.findings.findings.items() if x.advice_only}
    lids = set(kb.questions.locations["labels"])
    bands = set(kb.manifest.age_bands)
    for cid in FORMAT_CONDITIONS:
        if cid not in kb.conditions:
            yield Problem("error", cid, "a condition of the case format is missing")
    for c in kb.conditions.values():
        for k, v in enumerate(c.likelihood_variants):
            for band in v.bands:
                if band not in bands:
                    yield Problem("error", f"{c.id}.likelihood_variants", f"unknown band {band!r}")
            # A variant replaces only the sites it names: a site the condition lists well
            # above the variant's default is silently kept (usually a forgotten site).
            default = v.locations.get("default")
            for loc, base in c.likelihoods.locations.items():
                kept = default and loc != "default" and loc not in v.locations
                if kept and default and base.p > max(3 * default.p, 0.05):
                    yield Problem(
                        "warning",
                        f"{c.id}.likelihood_variants[{k}].locations",
                        f"{loc!r} keeps the condition's {base.p} (the variant's default is "
                        f"{default.p}): list it in the variant if that is not meant",
                    )
        for _, lk in (("likelihoods", c.likelihoods), *_variants(c)):
            yield from _check_likelihoods(kb, c, lk, fids, advice_only, lids)
        yield from _check_condition(kb, c, bands, fids, lids)


def _check_likelihoods(
    kb: KnowledgeBase,
    c: Condition,
    lk: Likelihoods,
    fids: set[str],
    advice_only: set[str],
    lids: set[str],
) -> Iterator[Problem]:
    for f in lk.findings:
        if f not in fids:
            yield Problem("error", f"{c.id}.likelihoods.findings", f"unknown finding {f!r}")
        elif f in advice_only:
            yield Problem("error", f"{c.id}.likelihoods.findings", f"{f!r} is advice-only")
    for loc in lk.locations:
        if loc == "other" or (loc not in lids and loc != "default"):
            yield Problem("error", f"{c.id}.likelihoods.locations", f"bad location {loc!r}")
    for i, prof in enumerate(lk.site_profiles):
        where = f"{c.id}.likelihoods.site_profiles[{i}]"
        if "default" not in prof.locations:
            yield Problem("error", where, "a site profile needs a default")
        for f in prof.findings:
            if f not in fids or f in advice_only:
                yield Problem("error", where, f"{f!r} is not a finding a profile can hold")
        for loc in prof.locations:
            if loc == "other" or (loc not in lids and loc != "default"):
                yield Problem("error", where, f"bad location {loc!r}")
        durations = tuple(kb.manifest.duration_bins)
        for k in prof.duration:
            if k not in durations:
                yield Problem("error", f"{where}.duration", f"unknown value {k!r}")
        if sum(x.p for x in prof.duration.values()) > 1.0001:
            yield Problem("error", f"{where}.duration", "sums to more than 1")
    shares = sum(prof.weight.p for prof in lk.site_profiles)
    if shares >= 1:
        yield Problem(
            "error", f"{c.id}.likelihoods.site_profiles", f"shares sum to {shares:.3f} >= 1"
        )
    parts = {
        "colour": COLOURS,
        "count": COUNTS,
        "size": tuple(kb.manifest.size_bins),
        "duration": tuple(kb.manifest.duration_bins),
        "onset": tuple(kb.manifest.onset_bins),
    }
    for part, values in parts.items():
        dist = getattr(lk, part)
        for k in dist:
            if k not in values:
                yield Problem("error", f"{c.id}.likelihoods.{part}", f"unknown value {k!r}")
        total = sum(s.p for s in dist.values())
        if total > 1.0001:
            yield Problem("error", f"{c.id}.likelihoods.{part}", f"sums to {total:.3f} > 1")


def _check_condition(
    kb: KnowledgeBase, c: Condition, bands: set[str], fids: set[str], lids: set[str]
) -> Iterator[Problem]:
    for band in c.prior.consult_bands:
        if band not in bands:
            yield Problem("error", f"{c.id}.prior.consult_bands", f"unknown band {band!r}")
    missing = bands - set(c.prior.prevalence)
    if missing:
        yield Problem("error", f"{c.id}.prior.prevalence", f"missing bands {sorted(missing)}")
    for k in c.prior.sex:
        if k not in ("female", "male"):
            yield Problem("error", f"{c.id}.prior.sex", f"unknown sex {k!r}")
    if not any(code.system == ICD10 for code in c.codes):
        yield Problem("error", f"{c.id}.codes", "needs an ICD-10 code")
    if not (c.advice.do and c.advice.avoid and c.advice.see_a_doctor_if):
        yield Problem("error", f"{c.id}.advice", "needs do, avoid and see_a_doctor_if")
    if not c.care or c.care[-1].when is not None:
        yield Problem("error", f"{c.id}.care", "the last care entry must have no `when`")
    for d in decisive_numbers(kb, c)[:DECISIVE]:
        if d.value.src is None:
            yield Problem(
                "error",
                f"{c.id}.likelihoods.{d.field}",
                "one of the five most decisive numbers: it must cite a source",
            )
    whens: list[When] = [e.when for e in c.care if e.when is not None]
    whens += [r.when for r in c.escalate]
    if isinstance(c.must_not_miss, When):
        whens.append(c.must_not_miss)
    for w in whens:
        yield from _check_when(w, fids, lids, c.id)


def _check_rules(kb: KnowledgeBase) -> Iterator[Problem]:
    fids = set(kb.findings.findings)
    lids = set(kb.questions.locations["labels"])
    for rule in kb.triage.floors:
        yield from _check_when(rule.when, fids, lids, f"triage.{rule.id}")
        if rule.when.duration_gte is not None:
            # an unknown duration would lower such a floor: floors count the unknown
            # toward safety (began_from_day does), so a long duration raises only through
            # a condition's escalation
            yield Problem("error", f"triage.{rule.id}", "a floor may not need duration_gte")
        if rule.points_to is not None and rule.points_to not in kb.conditions:
            yield Problem(
                "error", f"triage.{rule.id}.points_to", f"unknown condition {rule.points_to!r}"
            )
    for g in kb.triage.screen:
        yield from _check_when(g.when, fids, lids, f"triage.screen.{g.id}")
        for name in g.fields:
            if name not in fids:
                yield Problem("error", f"triage.screen.{g.id}", f"unknown finding {name!r}")
    for r in kb.advice.rules:
        yield from _check_when(r.when, fids, lids, f"advice.{r.id}")
    # Monotone triage needs every red flag to carry a floor of at least `routine` on its own.
    routine = CARE_LEVELS.index("routine")
    for fid, spec in kb.findings.findings.items():
        if not spec.red_flag:
            continue
        alone = [
            r
            for r in kb.triage.floors
            if fid in r.when.any_findings_true
            and not r.when.findings_true
            and not r.when.locations_any
            and r.when.age_lt is None
            and r.when.age_gte is None
            and CARE_LEVELS.index(r.level) >= routine
        ]
        if not alone:
            yield Problem("error", f"findings.{fid}", "a red flag needs a floor >= routine")
        if not any(fid in g.fields for g in kb.triage.screen):
            yield Problem("error", f"findings.{fid}", "a red flag must be in a screen group")
    for q in kb.questions.questions:
        for path in q.fields:
            if path not in ("locations", "colour", "count", "size_mm", "duration_days"):
                yield Problem("error", f"questions.{q.id}", f"unknown field {path!r}")
    yield from _check_groups(kb, fids, lids)
    for rid, region in kb.questions.regions.items():
        for site in region.sites:
            if site not in lids or site == "other":
                yield Problem("error", f"questions.regions.{rid}", f"unknown site {site!r}")


def _check_groups(kb: KnowledgeBase, fids: set[str], lids: set[str]) -> Iterator[Problem]:
    """Grouped questions: known findings, each in one group, none a red flag (the screen
    asks those) or advice-only, and ids that no other question uses."""
    taken = {q.id for q in kb.questions.questions} | {g.id for g in kb.triage.screen}
    taken |= {f"q_{fid}" for fid in fids}
    seen: dict[str, str] = {}
    for g in kb.questions.groups:
        where = f"questions.groups.{g.id}"
        if g.id in taken:
            yield Problem("error", where, "the id is already a question's")
        taken.add(g.id)
        if len(g.members) < 2:
            yield Problem("error", where, "a group needs at least two findings")
        for m in g.members:
            yield from _check_when(m.when, fids, lids, f"{where}.{m.finding}")
            spec = kb.findings.findings.get(m.finding)
            if spec is None:
                yield Problem("error", where, f"unknown finding {m.finding!r}")
            elif spec.red_flag:
                yield Problem("error", where, f"{m.finding!r} is a red flag (the screen asks it)")
            elif spec.advice_only != g.ask_last:
                # an ask-last group holds only advice-only findings, and only it may
                yield Problem(
                    "error",
                    where,
                    f"{m.finding!r} is advice-only: only an ask_last group holds those"
                    if spec.advice_only
                    else f"{m.finding!r} is not advice-only: an ask_last group holds only those",
                )
            if m.finding in seen:
                yield Problem("error", where, f"{m.finding!r} is already in {seen[m.finding]!r}")
            seen[m.finding] = g.id


CITATION = re.compile(r"@([A-Za-z0-9_]+)")
CITE_BLOCK = re.compile(r"\[(@[^\]]+)\]")
REVIEW_EVERY = timedelta(days=365)


def _check_articles(kb: KnowledgeBase, today: date) -> Iterator[Problem]:
    """Every reference resolves, every condition has its article, reviews are recent."""
    slugs = set(kb.articles)
    for c in kb.conditions.values():
        slug = c.article.removeprefix("/library/")
        if slug not in slugs:
            yield Problem("error", f"{c.id}.article", f"no article {slug!r} in articles/")
    for a in kb.articles.values():
        where = f"articles/{a.slug}.md"
        for rid in a.references:
            if rid not in kb.references:
                yield Problem("error", where, f"unknown reference {rid!r}")
        cited = {m for block in CITE_BLOCK.findall(a.body) for m in CITATION.findall(block)}
        for rid in sorted(cited - set(a.references)):
            yield Problem("error", where, f"cites {rid!r} without listing it in references")
        if not cited:
            yield Problem("error", where, "cites nothing: every claim needs its reference")
        for slug in a.related:
            if slug not in slugs:
                yield Problem("error", where, f"related article {slug!r} does not exist")
        if a.kind == "condition" and a.condition not in kb.conditions:
            yield Problem("error", where, f"condition {a.condition!r} is not in the knowledge base")
        if a.kind == "treatment" and "safety" not in a.body.lower():
            yield Problem("error", where, "a treatment article needs its safety section")
        level = 1  # the page's title is the h1: body headings start at ## and never skip
        for hashes in re.findall(r"^(#{1,6}) ", a.body, flags=re.M):
            if len(hashes) > level + 1 or len(hashes) == 1:
                yield Problem("error", where, f"heading {hashes} skips a level (after h{level})")
                break
            level = len(hashes)
        if today - a.reviewed_on > REVIEW_EVERY:
            yield Problem("warning", where, f"not reviewed since {a.reviewed_on}: over 12 months")


def _check_lexicon(kb: KnowledgeBase) -> Iterator[Problem]:
    """Every id the lexicon names is one the case format knows; every phrase is text."""
    lex = kb.lexicon
    if not lex:
        yield Problem("error", "lexicon.yaml", "missing: the narrative cannot be read")
        return
    known = {
        "locations": set(kb.questions.locations["labels"]),
        "findings": set(kb.findings.findings),
        "fixed": set(kb.findings.findings),
        "colours": set(COLOURS),
        "counts": set(COUNTS),
    }
    for part, ids in known.items():
        for key, phrases in (lex.get(part) or {}).items():
            if key not in ids:
                yield Problem("error", f"lexicon.{part}", f"unknown id {key!r}")
            words = phrases["phrases"] if part == "fixed" else phrases
            for w in words:
                if not isinstance(w, str):
                    yield Problem("error", f"lexicon.{part}.{key}", f"{w!r} is not text (quote it)")
    for region, phrases in (lex.get("regions") or {}).items():
        if region not in kb.questions.regions:
            yield Problem("error", "lexicon.regions", f"unknown region {region!r}")
        for w in [*phrases, *(lex.get("region_not_a_site") or [])]:
            if not isinstance(w, str):
                yield Problem("error", f"lexicon.regions.{region}", f"{w!r} is not text (quote it)")
    for fid in lex.get("timeless", []):
        if fid not in kb.findings.findings:
            yield Problem("error", "lexicon.timeless", f"unknown finding {fid!r}")
    for part in ("hedges", "past", "negations"):
        for side, words in (lex.get(part) or {}).items():
            for w in words:
                if not isinstance(w, str):
                    yield Problem(
                        "error", f"lexicon.{part}.{side}", f"{w!r} is not text (quote it)"
                    )
    for part in ("change_after_ago", "duration_of_a_change", "duration_relative"):
        for w in lex.get(part) or []:
            if not isinstance(w, str):
                yield Problem("error", f"lexicon.{part}", f"{w!r} is not text (quote it)")
    for phrase, days in (lex.get("durations_vague") or {}).items():
        if not isinstance(phrase, str):
            yield Problem("error", "lexicon.durations_vague", f"{phrase!r} is not text (quote it)")
        if isinstance(days, bool) or not isinstance(days, (int, float)) or days <= 0:
            yield Problem(
                "error", f"lexicon.durations_vague.{phrase}", f"{days!r} is not a number of days"
            )


#: The lexicon's sections for the ask box (``text/ask.py``), and what each holds.
ASK_LISTS = ("ask_caution", "ask_domain", "ask_not_covered", "ask_caution_cues")
ASK_PHRASE_MAPS = ("ask_caution_places", "ask_intents")  # library words -> phrases
ASK_SECTIONS = (*ASK_LISTS, *ASK_PHRASE_MAPS, "ask_spellings", "ask_emergency")
_CITE = re.compile(r"\s*\[@[^\]]+\]")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def _check_ask(kb: KnowledgeBase) -> Iterator[Problem]:
    """The ask box's sections of the lexicon: each of the right shape, no empty list
    where one would match nothing (or, in an emergency rule, everything), every finding
    and article it names known, and every library word it names said by the library."""
    lex = kb.lexicon
    if not lex:
        return
    for key in lex:
        if str(key).startswith("ask_") and key not in ASK_SECTIONS:
            yield Problem("error", f"lexicon.{key}", "unknown ask box section: it is never read")
    for key in ASK_SECTIONS:
        if key not in lex:
            yield Problem("warning", f"lexicon.{key}", "missing: the ask box runs without it")
    library = "\n".join(f"{a.title}\n{a.body}" for a in kb.articles.values()).lower()
    spellings = lex.get("ask_spellings")
    folds = spellings if isinstance(spellings, dict) else {}

    def said(words: str) -> bool:
        """Every word starts a word of the library's text, or the library says it in one
        of the spellings folded into it ('de-roofing' for 'deroofing')."""
        return all(
            re.search(rf"\b{re.escape(w)}", library)
            or any(
                w in str(to).lower().split()
                and re.search(rf"\b{re.escape(str(k).lower())}\b", library)
                for k, to in folds.items()
            )
            for w in words.lower().split()
        )

    for key in ASK_LISTS:
        if key in lex:
            yield from _phrases(lex[key], f"lexicon.{key}", empty="warning")
    for key in ASK_PHRASE_MAPS:
        if key not in lex:
            continue
        if not isinstance(lex[key], dict):
            yield Problem("error", f"lexicon.{key}", "must map library words to phrases")
            continue
        for words, phrases in lex[key].items():
            where = f"lexicon.{key}.{words}"
            if not isinstance(words, str) or not words.strip():
                yield Problem("error", f"lexicon.{key}", f"{words!r} is not text (quote it)")
            elif not said(words):
                yield Problem("error", where, "the library never says it: it matches nothing")
            yield from _phrases(phrases, where, empty="error")
    if spellings is not None and not isinstance(spellings, dict):
        yield Problem("error", "lexicon.ask_spellings", "must map a spelling to the library's")
    for said_as, word in folds.items():
        where = f"lexicon.ask_spellings.{said_as}"
        if not isinstance(said_as, str) or not isinstance(word, str) or not word.strip():
            yield Problem("error", where, f"{said_as!r}: {word!r} is not text to text (quote it)")
        elif not said(word):
            yield Problem("error", where, f"the library never says {word!r}")
    if "ask_emergency" in lex:
        yield from _check_ask_emergency(kb, lex["ask_emergency"])


def _check_ask_emergency(kb: KnowledgeBase, spec: object) -> Iterator[Problem]:
    where = "lexicon.ask_emergency"
    if not isinstance(spec, dict):
        yield Problem("error", where, "must be a mapping with findings and library")
        return
    for key in spec:
        if key not in ("findings", "library"):
            yield Problem("error", where, f"unknown key {key!r}: findings or library")
    findings = spec.get("findings") or {}
    if not isinstance(findings, dict):
        yield Problem("error", f"{where}.findings", "must map a finding to ways of saying it")
        findings = {}
    # A finding helps only when a floor of urgent or above can fire on it.
    rank = {level: i for i, level in enumerate(CARE_LEVELS)}
    floored = {
        f
        for r in kb.triage.floors
        if rank[r.level] >= rank["urgent"]
        for f in (*r.when.findings_true, *r.when.any_findings_true)
    }
    for fid, ways in findings.items():
        at = f"{where}.findings.{fid}"
        if fid not in kb.findings.findings:
            yield Problem("error", at, f"unknown finding {fid!r}")
        elif fid not in floored:
            yield Problem("warning", at, "no triage floor of urgent or above uses this finding")
        if not isinstance(ways, list) or not ways:
            yield Problem("error", at, "needs a list of ways of saying it")
            continue
        for i, groups in enumerate(ways):
            yield from _groups(groups, f"{at}[{i}]")
    rules = spec.get("library") or []
    if not isinstance(rules, list):
        yield Problem("error", f"{where}.library", "must be a list of rules")
        rules = []
    for i, rule in enumerate(rules):
        at = f"{where}.library[{i}]"
        if not isinstance(rule, dict) or set(rule) != {"all", "article", "says"}:
            yield Problem("error", at, "a rule has exactly: all, article, says")
            continue
        yield from _groups(rule["all"], f"{at}.all")
        article = kb.articles.get(str(rule["article"]))
        if article is None:
            yield Problem("error", f"{at}.article", f"unknown article {rule['article']!r}")
        elif not isinstance(rule["says"], str) or not rule["says"].strip():
            yield Problem("error", f"{at}.says", "must be text from the article")
        elif not any(
            rule["says"].lower() in _LINK.sub(r"\1", _CITE.sub("", line)).lower()
            for line in article.body.splitlines()
        ):
            yield Problem(
                "error",
                f"{at}.says",
                f"{rule['says']!r} is not a line of {article.slug}: the emergency is never shown",
            )


def _groups(groups: object, where: str) -> Iterator[Problem]:
    """Phrase groups, one phrase of each to be said: none may be empty (an empty group
    matches nothing), and there must be one (no group at all matches every question)."""
    if not isinstance(groups, list) or not groups:
        yield Problem("error", where, "needs a non-empty list of phrase groups")
        return
    for j, group in enumerate(groups):
        yield from _phrases(group, f"{where}[{j}]", empty="error")


def _phrases(phrases: object, where: str, empty: str) -> Iterator[Problem]:
    """A list of phrases: text, not blank, and not only '*' (the wildcard)."""
    if not isinstance(phrases, list):
        yield Problem("error", where, "must be a list of phrases")
        return
    if not phrases:
        yield Problem(empty, where, "empty list: it matches nothing")
    for ph in phrases:
        if not isinstance(ph, str):
            yield Problem("error", where, f"{ph!r} is not text (quote it)")
        elif not ph.replace("*", "").strip():
            yield Problem("error", where, f"{ph!r} has no words")


def _check_when(w: When, fids: set[str], lids: set[str], where: str) -> Iterator[Problem]:
    for f in (*w.findings_true, *w.any_findings_true):
        if f not in fids:
            yield Problem("error", where, f"rule names unknown finding {f!r}")
    for loc in (*w.locations_any, *w.not_only_locations):
        if loc not in lids:
            yield Problem("error", where, f"rule names unknown location {loc!r}")
    for n in w.count_in:
        if n not in COUNTS:
            yield Problem("error", where, f"rule names unknown count {n!r}")


def _known_vignette_ids() -> set[str]:
    here = Path(__file__).resolve()
    roots = [here.parents[3], here.parents[3].parent / "shared"]
    ids: set[str] = set()
    for root in roots:
        for path in [*root.glob("tests/data/vignettes/*.jsonl"), *root.glob("vignettes/*.jsonl")]:
            ids.update(re.findall(r'"id":\s*"([^"]+)"', path.read_text(encoding="utf-8")))
    return ids


def _check_no_vignette_ids(kb: KnowledgeBase, ids: set[str]) -> Iterator[Problem]:
    if not ids:
        return
    pattern = re.compile(
        r"(?<![\w.])(" + "|".join(re.escape(i) for i in sorted(ids)) + r")(?![\w.])"
    )
    for name, text in kb.texts.items():
        m = pattern.search(text)
        if m:
            yield Problem(
                "error", name, f"names vignette id {m.group(1)!r}: keep tests out of the KB"
            )
