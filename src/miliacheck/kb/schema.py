"""Frozen pydantic models of the knowledge files (``knowledge/``).

The shapes mirror the YAML one to one, so a typo in a knowledge file is a validation
error with its path, before anything is served. Semantic checks (ids resolve,
probabilities in range, sources exist) live in :mod:`miliacheck.kb.check`.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CARE_LEVELS: tuple[str, ...] = ("self_care", "routine", "soon", "urgent", "emergency")
SERVICES: tuple[str, ...] = (
    "home",
    "pharmacist",
    "gp",
    "dermatologist",
    "sexual_health_clinic",
    "eye_casualty",
    "emergency_department",
)
COLOURS: tuple[str, ...] = ("white", "yellow", "skin", "pink", "red", "brown", "translucent")
COUNTS: tuple[str, ...] = ("one", "few", "many")
SEXES: tuple[str, ...] = ("female", "male", "other")

CareLevel = Literal["self_care", "routine", "soon", "urgent", "emergency"]
Service = Literal[
    "home",
    "pharmacist",
    "gp",
    "dermatologist",
    "sexual_health_clinic",
    "eye_casualty",
    "emergency_department",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Provenanced(_Frozen):
    """Something that must say where it comes from: a reference id or an estimate's reason."""

    src: str | None = None
    est: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_provenance(self) -> _Provenanced:
        if (self.src is None) == (self.est is None):
            raise ValueError("give exactly one of `src` (a reference id) or `est` (a reason)")
        return self


class Sourced(_Provenanced):
    """A number with its provenance: a reference id (``src``) or an estimate's reason."""

    p: float


class Cited(_Provenanced):
    """A piece of text with its provenance."""

    text: str


class When(_Frozen):
    """A condition on the case. Every key given must hold; an empty ``When`` always holds.

    Only true findings are ever tested, so a rule can only fire when more is known.
    """

    findings_true: tuple[str, ...] = ()
    any_findings_true: tuple[str, ...] = ()
    locations_any: tuple[str, ...] = ()
    age_lt: float | None = None
    age_gte: float | None = None
    count_in: tuple[str, ...] = ()
    sex: Literal["female", "male"] | None = None
    # The bumps began on this day of life or later (age minus duration), or may have: a baby
    # at least this old whose duration is unknown counts, toward safety.
    began_from_day: float | None = Field(default=None, ge=0)
    # Not only at these sites: holds unless the places are known and all among them (an
    # unknown place counts as possibly elsewhere).
    not_only_locations: tuple[str, ...] = ()
    # The bumps have been there at least this many days (holds only when the duration is
    # known: "not better within a few weeks").
    duration_gte: float | None = Field(default=None, gt=0)


class Rule(_Provenanced):
    """A rule that raises the care level when ``when`` holds."""

    id: str | None = None
    when: When = When()
    level: CareLevel
    service: Service
    reason: str
    instruction: str | None = None
    format_floor: bool = False
    # the condition this warning sign points to: listed in the result when the rule holds,
    # however unlikely the rest of the case makes it ("can be newborn herpes")
    points_to: str | None = None


class CareEntry(_Provenanced):
    """A condition's usual care level; the first entry whose ``when`` holds applies."""

    when: When | None = None
    level: CareLevel
    service: Service


class Code(_Frozen):
    system: str
    code: str
    display: str
    src: str | None = None
    est: str | None = None
    note: str | None = None


class Prior(_Frozen):
    prevalence: dict[str, Sourced]
    consult: Sourced
    consult_bands: dict[str, Sourced] = Field(default_factory=dict)  # per-band overrides
    sex: dict[str, Sourced] = Field(default_factory=dict)


class SiteProfile(_Frozen):
    """Another way the condition presents, with its own sites (newborn cysts in the mouth only).

    P(sites | condition) is a mixture: each profile's independent-site likelihood, weighted
    by its share of presentations; the condition's own ``locations`` are the main profile
    and take the share the profiles leave. A site not listed here takes this profile's
    ``default`` (required).
    """

    name: str
    weight: Sourced
    locations: dict[str, Sourced]
    # P(finding | condition, this profile) for a finding whose chance differs by pattern
    # (weak immunity in adults' facial molluscum); the others as the condition's own.
    findings: dict[str, Sourced] = Field(default_factory=dict)
    # P(duration bin | condition, this profile) when the pattern lasts differently (a stye
    # days, a chalazion months); empty: the condition's own duration table.
    duration: dict[str, Sourced] = Field(default_factory=dict)


class Likelihoods(_Frozen):
    findings: dict[str, Sourced] = Field(default_factory=dict)
    locations: dict[str, Sourced] = Field(default_factory=dict)
    site_profiles: tuple[SiteProfile, ...] = ()
    colour: dict[str, Sourced] = Field(default_factory=dict)
    count: dict[str, Sourced] = Field(default_factory=dict)
    size: dict[str, Sourced] = Field(default_factory=dict)
    duration: dict[str, Sourced] = Field(default_factory=dict)
    onset: dict[str, Sourced] = Field(default_factory=dict)  # age at onset, babies only


class LikelihoodVariant(Likelihoods):
    """Likelihoods that replace the condition's own in some age bands (e.g. newborn herpes).

    Findings and sites given here replace those entries; a categorical part given here
    (colour, count, size, duration) or ``site_profiles`` replaces the whole of it.
    """

    bands: tuple[str, ...]


class Treatment(_Frozen):
    name: str
    text: str
    safety: str | None = None
    src: str | None = None
    est: str | None = None
    note: str | None = None


class Advice(_Frozen):
    do: tuple[Cited, ...] = ()
    avoid: tuple[Cited, ...] = ()
    see_a_doctor_if: tuple[Cited, ...] = ()


class Condition(_Frozen):
    id: str
    name: str
    clinical_name: str
    lay_names: tuple[str, ...] = ()
    codes: tuple[Code, ...]
    must_not_miss: bool | When = False
    act_threshold: Sourced | None = None
    article: str
    prior: Prior
    care: tuple[CareEntry, ...]
    escalate: tuple[Rule, ...] = ()
    likelihoods: Likelihoods
    likelihood_variants: tuple[LikelihoodVariant, ...] = ()
    description: str
    treatments: tuple[Treatment, ...] = ()
    advice: Advice


class Finding(_Frozen):
    label: str
    question: str
    question_for: dict[Literal["me", "child"], str] = Field(default_factory=dict)
    help: str = ""
    why: str
    red_flag: bool = False
    advice_only: bool = False
    background: Sourced
    answerable: Sourced | None = None  # P(a person can answer); absent: always
    # When this finding is present, a bump's true colour (outer key) is seen and reported as
    # each colour (inner keys) this often: on brown or black skin redness looks purple or
    # brown. Each row sums to 1; kb check verifies it.
    colour_seen_as: dict[str, dict[str, Sourced]] = Field(default_factory=dict)
    # When this finding is present, each named finding, when it is truly there, is seen and
    # reported this often (redness is hard to see on brown or black skin): the reported
    # finding's chance is this share times its chance under each condition.
    findings_seen: dict[str, Sourced] = Field(default_factory=dict)


class Reference(_Frozen):
    model_config = ConfigDict(frozen=True, extra="allow")

    title: str
    authors: str | None = None
    journal: str | None = None
    year: int | None = None
    pmid: str | None = None
    doi: str | None = None
    url: str | None = None
    publisher: str | None = None


class Option(_Frozen):
    value: str
    label: str


class QuestionSpec(_Frozen):
    id: str
    type: Literal["yes_no", "single", "multi", "number"]
    fields: tuple[str, ...]
    text: str
    help: str = ""
    why: str
    options: tuple[Option, ...] = ()
    options_from: Literal["locations"] | None = None
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    bins: Literal["size_bins", "duration_bins"] | None = None
    answerable: Sourced | None = None  # P(a person can answer); absent: always


class GroupMember(_Frozen):
    finding: str
    label: str | None = None  # the option's words; the finding's own label when absent
    when: When = When()  # the member is offered only when this holds (e.g. an age)


class QuestionGroup(_Frozen):
    """Findings a person knows about together (their history, their health), asked as one
    ``multi`` question: each ticked finding becomes true, each unticked one false."""

    id: str
    text: str
    text_for: dict[Literal["me", "child"], str] = Field(default_factory=dict)
    help: str = ""
    why: str
    members: tuple[GroupMember, ...]
    answerable: Sourced | None = None  # P(a person can answer); absent: always
    # Asked once before the interview stops, never for information (its findings are
    # advice-only: they change the care level, not the diagnosis).
    ask_last: bool = False


class Region(_Frozen):
    """A part of the body a person names without the site ("on my face"): the bumps are
    on at least one of its sites, which ones is not known."""

    label: str
    sites: tuple[str, ...]
    where: str  # said after "the bumps are": "on the face", "around the eyes"


class QuestionsFile(_Frozen):
    locations: dict[str, dict[str, str]]
    questions: tuple[QuestionSpec, ...]
    groups: tuple[QuestionGroup, ...] = ()
    regions: dict[str, Region] = Field(default_factory=dict)


class ScreenGroup(_Frozen):
    id: str
    when: When = When()
    text: str
    help: str = ""
    why: str
    fields: tuple[str, ...]


class TriageFile(_Frozen):
    floors: tuple[Rule, ...]
    screen: tuple[ScreenGroup, ...]


class AdviceRule(_Frozen):
    id: str
    when: When = When()
    do: tuple[Cited, ...] = ()
    avoid: tuple[Cited, ...] = ()


class SafetyNet(_Frozen):
    when: When = When()
    text: str
    src: str | None = None
    est: str | None = None


class AdviceFile(_Frozen):
    always: Advice = Advice()
    rules: tuple[AdviceRule, ...] = ()
    safety_net: tuple[SafetyNet, ...]


class Thresholds(_Frozen):
    differential: Sourced
    not_listed_unsure: Sourced
    mass_for_unsure: Sourced
    confident_stop: Sourced
    min_information_gain: Sourced
    separating_gain: Sourced
    must_not_miss_act: Sourced
    must_not_miss_rule_out: Sourced
    # A condition needing more care than the leading one is still separated before the
    # interview stops while it holds at least this much (and less than `differential`).
    care_change_floor: Sourced | None = None
    # stop asking when no question has this chance of changing the top three or the level
    decision_change: Sourced | None = None


class NotListed(_Frozen):
    prior: Sourced


class Limits(_Frozen):
    max_questions: int
    max_red_flag_groups: int


class Manifest(_Frozen):
    kb_version: str
    age_bands: dict[str, tuple[float, float]]
    size_bins: dict[str, tuple[float, float]]
    duration_bins: dict[str, tuple[float, float]]
    # Age at onset in days of life (age minus duration), evidence for babies only.
    onset_bins: dict[str, tuple[float, float]] = Field(default_factory=dict)
    onset_under_years: float = 0.25
    thresholds: Thresholds
    not_listed: NotListed
    limits: Limits


class FindingsFile(_Frozen):
    findings: dict[str, Finding]


class Article(_Frozen):
    """A library article: front matter plus its Markdown body."""

    slug: str
    title: str
    summary: str
    kind: Literal["condition", "topic", "treatment"]
    condition: str | None = None
    reviewed_on: date
    reviewed_by: str | None = None
    related: tuple[str, ...] = ()
    references: tuple[str, ...]
    body: str
