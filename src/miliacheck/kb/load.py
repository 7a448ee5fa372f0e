"""Load the knowledge files into one frozen :class:`KnowledgeBase`, validated on load.

The loader reads YAML only; :func:`load_kb` then runs :func:`miliacheck.kb.check.check`
and refuses an invalid knowledge base with :class:`~miliacheck.errors.KnowledgeError`.
The compiled arrays (``Model``) are what the engine multiplies; they are built once here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml
from pydantic import ValidationError

from miliacheck.errors import FieldError, KnowledgeError
from miliacheck.kb.schema import (
    COLOURS,
    COUNTS,
    AdviceFile,
    Article,
    Condition,
    FindingsFile,
    Likelihoods,
    Manifest,
    QuestionsFile,
    Reference,
    Sourced,
    TriageFile,
)

Array = npt.NDArray[np.float64]
NOT_LISTED = "not_listed"
#: P(site involved | not_listed), and for a condition without a `default` site: an
#: estimate that an unrelated bump could be at any one site.
NOT_LISTED_SITE = 0.05


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything the engine knows, as read from ``knowledge/``."""

    root: str
    manifest: Manifest
    conditions: dict[str, Condition]
    findings: FindingsFile
    questions: QuestionsFile
    triage: TriageFile
    advice: AdviceFile
    references: dict[str, Reference]
    articles: dict[str, Article] = field(default_factory=dict)
    lexicon: dict[str, Any] = field(default_factory=dict, compare=False)
    texts: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def version(self) -> str:
        return self.manifest.kb_version

    @cached_property
    def model(self) -> Model:
        return Model.build(self)


@dataclass(frozen=True)
class Tables:
    """Likelihoods of one age band: row i is condition ``ids[i]``, the last row not_listed."""

    p_finding: Array  # (K, F) P(finding present | condition), site profiles mixed
    p_location: Array  # (K, P, L) P(site involved | condition, site profile)
    p_profile_finding: Array  # (K, P, F) P(finding present | condition, site profile)
    p_profile: Array  # (K, P) share of each site profile; profile 0 is the condition's own sites
    p_colour: Array  # (K, 7)
    p_count: Array  # (K, 3)
    p_size: Array  # (K, S)
    p_duration: Array  # (K, D) site profiles mixed
    p_profile_duration: Array  # (K, P, D) P(duration bin | condition, site profile)
    p_onset: Array  # (K, O) age at onset, days of life (babies only)

    @cached_property
    def coupled(self) -> tuple[int, ...]:
        """Finding columns whose chance differs between a condition's site profiles: their
        evidence and the sites' are mixed over the profiles together."""
        used = self.p_profile > 0
        spread = np.where(used[:, :, None], self.p_profile_finding, np.nan)
        diff = np.nanmax(spread, axis=1) - np.nanmin(spread, axis=1)
        return tuple(int(j) for j in np.flatnonzero((diff > 0).any(axis=0)))

    @cached_property
    def duration_coupled(self) -> bool:
        """Whether some condition's site profiles last differently (a stye days, a chalazion
        months): then the duration is mixed over the profiles with the coupled findings."""
        used = self.p_profile > 0
        spread = np.where(used[:, :, None], self.p_profile_duration, np.nan)
        return bool((np.nanmax(spread, axis=1) - np.nanmin(spread, axis=1) > 0).any())

    @cached_property
    def logs(self) -> dict[str, Array]:
        """Log-probabilities, computed once: the engine only adds them up."""
        return {
            "f1": np.log(self.p_finding),
            "f0": np.log1p(-self.p_finding),
            "pf1": np.log(self.p_profile_finding),
            "pf0": np.log1p(-self.p_profile_finding),
            "l1": np.log(self.p_location),
            "l0": np.log1p(-self.p_location),
            # log share of each profile; an unused slot (share 0) is -inf
            "lw": np.where(
                self.p_profile > 0, np.log(np.where(self.p_profile > 0, self.p_profile, 1)), -np.inf
            ),
            "count": np.log(self.p_count),
            "size": np.log(self.p_size),
            "duration": np.log(self.p_duration),
            "pd": np.log(self.p_profile_duration),
            "onset": np.log(self.p_onset),
        }


@dataclass(frozen=True)
class Model:
    """The knowledge base as arrays, one :class:`Tables` per age band."""

    ids: tuple[str, ...]
    finding_ids: tuple[str, ...]
    location_ids: tuple[str, ...]
    size_bins: tuple[str, ...]
    duration_bins: tuple[str, ...]
    onset_bins: tuple[str, ...]
    tables: tuple[Tables, ...]  # one per age band
    prevalence: Array  # (K, bands)
    sex_factor: Array  # (K, 3) female, male, other
    band_ids: tuple[str, ...]
    band_edges: tuple[tuple[float, float], ...]
    red_flag_idx: tuple[int, ...]  # columns of red-flag findings
    advice_only_idx: tuple[int, ...]  # columns that never enter the posterior
    # findings that change how colour is seen: (finding id, (7, 7) P(seen | true colour))
    colour_seen: tuple[tuple[str, Array], ...] = ()
    # findings that change how other findings are seen: (finding id, ((column, share), ...))
    finding_seen: tuple[tuple[str, tuple[tuple[int, float], ...]], ...] = ()

    def band(self, age: float) -> int:
        """The index of the age band holding ``age``."""
        for i, (lo, hi) in enumerate(self.band_edges):
            if lo <= age < hi:
                return i
        return len(self.band_edges) - 1

    def seen_shares(self, findings: Mapping[str, bool]) -> dict[int, float]:
        """Finding columns seen less often because of the case's own findings (redness on
        brown or black skin): column -> P(seen and reported | truly present)."""
        out: dict[int, float] = {}
        for fid, shares in self.finding_seen:
            if findings.get(fid) is True:
                for col, share in shares:
                    out[col] = out.get(col, 1.0) * share
        return out

    def at(self, age: float) -> Tables:
        """The likelihood tables for a person of this age."""
        return self.tables[self.band(age)]

    @staticmethod
    def build(kb: KnowledgeBase) -> Model:
        conds = list(kb.conditions.values())
        ids = (*[c.id for c in conds], NOT_LISTED)
        fids = tuple(kb.findings.findings)
        lids = tuple(loc for loc in kb.questions.locations["labels"] if loc != "other")
        m = kb.manifest
        sizes, durs, bands = tuple(m.size_bins), tuple(m.duration_bins), tuple(m.age_bands)
        prev = np.zeros((len(ids), len(bands)))
        sexf = np.ones((len(ids), 3))
        for i, c in enumerate(conds):
            for j, b in enumerate(bands):
                consult = c.prior.consult_bands.get(b, c.prior.consult).p
                prev[i, j] = c.prior.prevalence[b].p * consult
            fem = c.prior.sex["female"].p if "female" in c.prior.sex else 1.0
            mal = c.prior.sex["male"].p if "male" in c.prior.sex else 1.0
            sexf[i] = (fem, mal, (fem + mal) / 2)
        # not_listed: a fixed share of the prior at every age (see evidence.log_prior).
        tables = tuple(_tables(kb, conds, len(ids), fids, lids, sizes, durs, b) for b in bands)
        return Model(
            ids=ids,
            finding_ids=fids,
            location_ids=lids,
            size_bins=sizes,
            duration_bins=durs,
            onset_bins=tuple(m.onset_bins),
            tables=tables,
            prevalence=prev,
            sex_factor=sexf,
            band_ids=bands,
            band_edges=tuple(m.age_bands[b] for b in bands),
            red_flag_idx=tuple(i for i, f in enumerate(fids) if kb.findings.findings[f].red_flag),
            advice_only_idx=tuple(
                i for i, f in enumerate(fids) if kb.findings.findings[f].advice_only
            ),
            colour_seen=tuple(
                (f, np.array([categorical(spec.colour_seen_as[c], COLOURS) for c in COLOURS]))
                for f, spec in kb.findings.findings.items()
                if spec.colour_seen_as
            ),
            finding_seen=tuple(
                (f, tuple((fids.index(g), s.p) for g, s in spec.findings_seen.items()))
                for f, spec in kb.findings.findings.items()
                if spec.findings_seen
            ),
        )


def _tables(
    kb: KnowledgeBase,
    conds: list[Condition],
    rows: int,
    fids: tuple[str, ...],
    lids: tuple[str, ...],
    sizes: tuple[str, ...],
    durs: tuple[str, ...],
    band: str,
) -> Tables:
    """The likelihoods in one age band: each condition's own, with its variants for the band."""
    bg = np.array([kb.findings.findings[f].background.p for f in fids])
    merged = [_merged(c, band) for c in conds]
    n_prof = 1 + max((len(m.site_profiles) for m in merged), default=0)
    pf = np.tile(bg, (rows, 1))
    pl = np.full((rows, n_prof, len(lids)), NOT_LISTED_SITE)
    pw = np.zeros((rows, n_prof))
    pw[:, 0] = 1.0
    ppf = np.tile(bg, (rows, n_prof, 1))
    pc = np.full((rows, len(COLOURS)), 1 / len(COLOURS))
    pn = np.full((rows, len(COUNTS)), 1 / len(COUNTS))
    ps = np.full((rows, len(sizes)), 1 / len(sizes))
    pd = np.full((rows, len(durs)), 1 / len(durs))
    ppd = np.tile(pd[:, None, :], (1, n_prof, 1))
    onsets = tuple(kb.manifest.onset_bins) or ("any",)
    po = np.full((rows, len(onsets)), 1 / len(onsets))
    for i, lk in enumerate(merged):
        for f, s in lk.findings.items():
            pf[i, fids.index(f)] = s.p
        pl[i, :, :] = _sites(lk.locations, lids, NOT_LISTED_SITE)
        main_default = lk.locations.get("default")
        for k, prof in enumerate(lk.site_profiles, start=1):
            base = main_default.p if main_default else NOT_LISTED_SITE
            pl[i, k, :] = _sites(prof.locations, lids, base)
            pw[i, k] = prof.weight.p
        pw[i, 0] = 1.0 - float(pw[i, 1:].sum())
        ppf[i, :, :] = pf[i]
        for k, prof in enumerate(lk.site_profiles, start=1):
            for f, s in prof.findings.items():
                ppf[i, k, fids.index(f)] = s.p
        pf[i] = pw[i] @ ppf[i]  # the finding's chance, whatever the pattern
        pc[i] = categorical(lk.colour, COLOURS)
        pn[i] = categorical(lk.count, COUNTS)
        ps[i] = categorical(lk.size, sizes)
        ppd[i, :, :] = categorical(lk.duration, durs)
        for k, prof in enumerate(lk.site_profiles, start=1):
            if prof.duration:
                ppd[i, k, :] = categorical(prof.duration, durs)
        pd[i] = pw[i] @ ppd[i]  # how long, whatever the pattern
        po[i] = categorical(lk.onset, onsets)
    return Tables(
        p_finding=pf,
        p_location=pl,
        p_profile_finding=ppf,
        p_profile=pw,
        p_colour=pc,
        p_count=pn,
        p_size=ps,
        p_duration=pd,
        p_profile_duration=ppd,
        p_onset=po,
    )


def _merged(c: Condition, band: str) -> Likelihoods:
    """The condition's likelihoods in ``band``: its own, with that band's variants applied."""
    parts: list[Likelihoods] = [c.likelihoods]
    parts += [v for v in c.likelihood_variants if band in v.bands]
    out: dict[str, Any] = {"findings": {}, "locations": {}}
    for part in parts:
        out["findings"].update(part.findings)
        out["locations"].update(part.locations)
        for key in ("colour", "count", "size", "duration", "onset", "site_profiles"):
            value = getattr(part, key)
            if value:
                out[key] = value
    return Likelihoods(**out)


def _sites(given: dict[str, Sourced], lids: tuple[str, ...], fallback: float) -> Array:
    """P(site involved) for every site: the given ones, the rest the ``default`` (or fallback)."""
    default = given.get("default")
    out = np.full(len(lids), default.p if default else fallback)
    for loc, s in given.items():
        if loc != "default":
            out[lids.index(loc)] = s.p
    return out


def categorical(given: dict[str, Any], values: tuple[str, ...]) -> Array:
    """A distribution over ``values``: the given probabilities, the rest shared evenly.

    Unlisted values share what is left (at least 0.005 each, an estimate that nothing
    is impossible), then the whole is normalised to sum to one.
    """
    out = np.zeros(len(values))
    listed = 0.0
    for k, v in given.items():
        out[values.index(k)] = v.p
        listed += v.p
    missing = [i for i, k in enumerate(values) if k not in given]
    if missing:
        share = max((1.0 - listed) / len(missing), 0.005)
        for i in missing:
            out[i] = share
    total = float(out.sum())
    return out / total


def _read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def default_root() -> Path:
    return Path(str(resources.files("miliacheck") / "knowledge"))


def read_kb(root: str | Path | None = None) -> KnowledgeBase:
    """Read and shape-validate the knowledge files, without the semantic checks."""
    base = Path(root) if root is not None else default_root()
    errors: list[FieldError] = []

    def parse(model: Any, path: Path) -> Any:
        try:
            return model.model_validate(_read_yaml(path))
        except FileNotFoundError:
            errors.append({"field": path.name, "message": "file missing"})
        except (ValidationError, yaml.YAMLError) as exc:
            errors.append({"field": str(path.relative_to(base)), "message": _short(exc)})
        return None

    manifest = parse(Manifest, base / "manifest.yaml")
    findings = parse(FindingsFile, base / "findings.yaml")
    questions = parse(QuestionsFile, base / "questions.yaml")
    triage = parse(TriageFile, base / "triage.yaml")
    advice = parse(AdviceFile, base / "advice.yaml")
    conditions: dict[str, Condition] = {}
    for path in sorted((base / "conditions").glob("*.yaml")):
        cond = parse(Condition, path)
        if cond is not None:
            if cond.id != path.stem:
                errors.append({"field": path.name, "message": f"id {cond.id!r} != file name"})
            conditions[cond.id] = cond
    references: dict[str, Reference] = {}
    for path in sorted((base / "references").glob("*.yaml")):
        data = _read_yaml(path) or {}
        for rid, ref in data.items():
            if rid in references:
                errors.append({"field": f"references/{path.name}:{rid}", "message": "duplicate id"})
                continue
            try:
                references[rid] = Reference.model_validate(ref)
            except ValidationError as exc:
                errors.append({"field": f"references/{path.name}:{rid}", "message": _short(exc)})
    lexicon_path = base / "lexicon.yaml"
    lexicon: dict[str, Any] = _read_yaml(lexicon_path) if lexicon_path.exists() else {}
    articles: dict[str, Article] = {}
    for path in sorted((base / "articles").glob("*.md")):
        try:
            article = read_article(path)
        except (ValueError, ValidationError, yaml.YAMLError) as exc:
            errors.append({"field": f"articles/{path.name}", "message": _short(exc)})
            continue
        if article.slug != path.stem:
            errors.append({"field": f"articles/{path.name}", "message": "slug != file name"})
        articles[article.slug] = article
    texts = {
        str(p.relative_to(base)): p.read_text(encoding="utf-8")
        for p in sorted([*base.rglob("*.yaml"), *base.rglob("*.md")])
    }
    if errors:
        raise KnowledgeError(errors)
    return KnowledgeBase(
        root=str(base),
        manifest=manifest,
        conditions=conditions,
        findings=findings,
        questions=questions,
        triage=triage,
        advice=advice,
        references=references,
        articles=articles,
        lexicon=lexicon,
        texts=texts,
    )


def read_article(path: Path) -> Article:
    """An article file: YAML front matter between ``---`` lines, then Markdown."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise ValueError("an article starts with front matter between --- lines")
    head, sep, body = text[4:].partition("\n---\n")
    if not sep:
        raise ValueError("the front matter is not closed by a --- line")
    meta = yaml.safe_load(head) or {}
    if not isinstance(meta, dict):
        raise ValueError("the front matter must be a mapping")
    return Article.model_validate({**meta, "body": body.strip() + "\n"})


def load_kb(root: str | Path | None = None) -> KnowledgeBase:
    """Read, check and compile the knowledge base; raise KnowledgeError if it is invalid."""
    from miliacheck.kb.check import check

    kb = read_kb(root)
    problems = [p for p in check(kb) if p.severity == "error"]
    if problems:
        raise KnowledgeError([{"field": p.where, "message": p.message} for p in problems])
    _ = kb.model
    return kb


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            ".".join(str(x) for x in e["loc"]) + ": " + e["msg"] for e in exc.errors()[:5]
        )
    return str(exc).splitlines()[0]
