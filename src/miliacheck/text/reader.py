"""Read a narrative into case fields, with offsets and certainty.

A blank English spaCy pipeline (no model to download) with an entity ruler built from
the knowledge base's lexicon (``knowledge/lexicon.yaml``), and three negspacy
components: negation, hedging ("maybe", "not sure") and past ("used to"). Ages,
durations and sizes with numbers are read by patterns. Nothing here is medicine: the
lexicon says which words mean which finding of the case format.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from itertools import pairwise
from typing import Any

import spacy
from negspacy.negation import Negex  # noqa: F401  (registers the "negex" factory)
from spacy.language import Language
from spacy.pipeline import Sentencizer
from spacy.tokens import Span

from miliacheck.kb.load import KnowledgeBase

CERTAIN, UNCERTAIN, PAST = "stated", "uncertain", "past"
UNITS_DAYS = {"day": 1.0, "week": 7.0, "fortnight": 14.0, "month": 30.4, "year": 365.25}
MAX_TEXT = 5000


@dataclass(frozen=True)
class Understood:
    """One thing read from the words: the case path, its value, where, and how sure."""

    field: str
    value: Any
    text: str
    start: int
    end: int
    certainty: str
    used: bool = False

    def json(self) -> dict[str, Any]:
        return asdict(self)


_PIPELINES: dict[int, tuple[KnowledgeBase, Language]] = {}


def _pipeline(kb: KnowledgeBase) -> Language:
    """The pipeline for this knowledge base, built once (the kb is kept alive beside it)."""
    cached = _PIPELINES.get(id(kb))
    if cached is not None and cached[0] is kb:
        return cached[1]
    nlp = _build(kb.lexicon)
    _PIPELINES[id(kb)] = (kb, nlp)
    return nlp


def _in_negated_list(doc: Any, ent: Any, lex: Any) -> bool:
    """A negation reaches past an earlier finding only along a list: "no itching, redness
    or pain" negates all three; in "no itching and has a fever since Monday" a new clause
    starts ("has") and the fever is not negated, nor is "painful" in "not itchy, painful
    though"; "or" carries it over a verb ("doesn't hurt or feel tender"). (The first
    finding after the cue is negated as negspacy says.)"""
    finds = [
        e
        for e in doc.ents
        if e.end <= ent.start and e.sent == ent.sent and e.label_ in ("FIND", "FIXED", "SIMILAR")
    ]
    if not finds:
        return True
    neg = lex["negations"]
    gap = doc[finds[-1].end : ent.start].text.lower()
    if any(re.search(rf"(?<![a-z']){re.escape(str(c))}(?![a-z'])", gap) for c in neg["preceding"]):
        return True  # its own cue: "does not hurt and is not itchy"
    words = set(re.findall(r"[a-z']+", gap))
    if words & {"or", "nor"} and words - {"or", "nor"} <= set(neg.get("or_verbs", [])):
        return True  # "doesn't hurt or feel tender": the negation governs both verbs
    if words & set(neg.get("list_breakers", [])):
        return False
    after = doc[ent.end : min(ent.end + 2, len(doc))].text.lower()
    return not set(re.findall(r"[a-z']+", after)) & set(neg.get("list_contrast", []))


def _place_negated(doc: Any, ent: Any, lex: Any) -> bool:
    """A negation reaches a place only when no negated finding takes it first: in "bumps
    that don't itch on her arms" it is the itch's ("no bumps on my face" negates the
    place)."""
    if not ent._.negex:
        return False
    finds = [
        e
        for e in doc.ents
        if e.end <= ent.start and e.sent == ent.sent and e.label_ in ("FIND", "FIXED")
    ]
    if not finds or not finds[-1]._.negex:
        return True
    gap = doc[finds[-1].end : ent.start].text.lower()
    cues = [str(c) for c in lex["negations"]["preceding"]]
    if any(re.search(rf"(?<![a-z']){re.escape(c)}(?![a-z'])", gap) for c in cues):
        return True
    return bool(BUMP_NOUNS.search(gap))


def _build(lexicon: Any) -> Language:
    nlp = spacy.blank("en")
    # An ellipsis ends a sentence as a full stop does ("no discomfort...\nI'm anxious"),
    # also a forum's two dots ("no idea what it is.. it hurts so badly").
    punct = [*Sentencizer.default_punct_chars, "..", "...", "....", "…"]
    nlp.add_pipe("sentencizer", config={"punct_chars": punct})
    ruler = nlp.add_pipe(
        "entity_ruler", config={"phrase_matcher_attr": "LOWER", "overwrite_ents": True}
    )
    patterns: list[dict[str, Any]] = []

    def add(label: str, key: str, phrases: list[Any]) -> None:
        for phrase in phrases:
            patterns.append({"label": label, "pattern": str(phrase), "id": key})

    for loc, phrases in lexicon["locations"].items():
        add("LOC", loc, phrases)
    for region, phrases in (lexicon.get("regions") or {}).items():
        add("REGION", region, phrases)
    for fid, phrases in lexicon["findings"].items():
        add("FIND", fid, phrases)
    for fid, spec in lexicon["fixed"].items():
        add("FIXED", f"{fid}={str(spec['value']).lower()}", spec["phrases"])
    add("IGNORE", "ignore", lexicon.get("ignore", []))
    add("SIMILAR", "similar", lexicon["similar"]["phrases"])
    for colour, phrases in lexicon["colours"].items():
        add("COLOUR", colour, phrases)
    for count, phrases in lexicon["counts"].items():
        add("COUNT", count, phrases)
    for mm, phrases in lexicon["sizes"].items():
        add("SIZE", str(mm), phrases)
    for sex, phrases in lexicon["sex"].items():
        add("SEX", sex, phrases)
    for word, age in lexicon["age_words"].items():
        add("AGEWORD", str(age), [word])
    ruler.add_patterns(patterns)  # type: ignore[attr-defined]
    neg = lexicon["negations"]
    for name, terms in (
        (
            "negex",
            {"preceding_negations": neg["preceding"], "following_negations": neg["following"]},
        ),
        (
            "hedged",
            {
                "preceding_negations": lexicon["hedges"]["preceding"],
                "following_negations": lexicon["hedges"]["following"],
            },
        ),
        (
            "past",
            {
                "preceding_negations": lexicon["past"]["preceding"],
                "following_negations": lexicon["past"]["following"],
            },
        ),
    ):
        termination = neg["termination"] if name == "negex" else neg["termination_other"]
        # a phrase that carries its own negation negates nothing after it: "won't pop,
        # like hard balls" is firm; "not feeding well, fever" is unwell AND feverish
        cues = {str(c) for c in neg["preceding"]}
        own = [p for spec in lexicon["fixed"].values() for p in spec["phrases"]]
        own += [p for phrases in lexicon["findings"].values() for p in phrases]
        pseudo = [str(p) for p in own if cues & set(str(p).split())]
        if name == "negex":
            # "no matter how often I drain it", "no idea why they itch": no negation
            pseudo += [str(p) for p in neg.get("pseudo", [])]
        if name == "hedged":
            # "bigger now, maybe 6 or 7 mm": a hedge before a quantity hedges the quantity
            # (read by pattern with its own hedge test), not the findings around it
            amounts = [str(n) for n in range(0, 101)]
            amounts += [str(w) for w in lexicon["numbers"] if str(w) not in ("a", "an")]
            single = [str(h) for h in lexicon["hedges"]["preceding"] if " " not in str(h)]
            pseudo = [f"{h} {n}" for h in single for n in amounts]
        if name == "past":
            # "changed shape in the last month" is recent, not over: not the past
            spans = ("week", "month", "year", "few days", "few weeks", "few months")
            pseudo = [
                f"{p} the {q} {u}"
                for p in ("in", "over", "for", "during")
                for q in ("last", "past")
                for u in spans
            ]
            # "a few months ago I noticed a pearly bump": the time the bump was first seen
            ago = [str(c) for c in lexicon["past"]["preceding"] if str(c).endswith(" ago")]
            seen = ("noticed", "found", "saw", "first noticed", "first saw", "spotted")
            pseudo += [
                f"{c}{comma} {who} {verb}"
                for c in ago
                for comma in ("", ",")
                for who in ("i", "we", "she", "he")
                for verb in seen
            ]
        termset = {
            "pseudo_negations": pseudo,
            "termination": termination,
            **terms,
        }
        nlp.add_pipe(
            "negex",
            name=f"negex_{name}",
            config={
                "ent_types": ["FIND", "FIXED", "LOC", "REGION", "SIMILAR"],
                "extension_name": name,
                "neg_termset": termset,
            },
        )
    return nlp


def _number(word: str, numbers: dict[str, float]) -> float | None:
    word = word.lower().strip()
    half = re.fullmatch(r"(.+?)(?:\s+and\s+a\s+half|\s+1/2|\s*½)", word)
    if half:  # "2 and a half years old", "two and a half weeks", "2 1/2 months old"
        whole = _number(half.group(1), numbers)
        return None if whole is None else whole + 0.5
    if re.fullmatch(r"\d+(\.\d+)?", word):
        return float(word)
    return numbers.get(word)


NUM = r"((?:\d+(?:\.\d+)?|a couple of|a couple|couple of|a few|few|several|an|a|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|half an?)(?:\s+and\s+a\s+half|\s+1/2|½)?)"
UNIT_WORDS = r"day|week|fortnight|month|year|yr|wk|mo"
UNIT = rf"({UNIT_WORDS})s?"
AGE_UNIT = rf"(?:{UNIT_WORDS})s?"  # the same, not captured: "6yr old son", "3 mos old"
# "3 month old", and "my 3 month baby", "3 mos baby": an age without "old" before a child
CHILD_AFTER = (
    r"[\s-]+(?:baby|babies|son|daughter|boy|girl|infant|newborn|little one|child|toddler|kid)\b"
)
AGE_OLD = re.compile(rf"\b{NUM}[\s-]*{UNIT}(?:[\s-]*old\b|(?={CHILD_AFTER}))", re.I)
# "6 months and 2 weeks old", "1 year and 3 months old": one age in two units
AGE_TWO_UNITS = re.compile(rf"\b{NUM}[\s-]*{UNIT}\s*(?:and|,)\s*{NUM}[\s-]*{UNIT}[\s-]*old\b", re.I)
AGE_SELF = re.compile(
    r"\b(?:i'?m|i am|im|aged|age)\s+(\d{1,3})\b(?!\s*(?:mm|cm|day|week|month|%|per\s*cent|percent))",
    re.I,
)
AGE_YO = re.compile(r"\b(\d{1,3})\s*(?:yo|y/o|y\.o\.|yrs? old|years? old|year-old)\b", re.I)
AGE_IS = re.compile(
    r"\b(son|daughter|dauter|baby|child|kid|boy|girl|toddler|youngest|eldest|he|she|husband|wife|partner|mum|mom|dad|brother|sister|nan|gran|grandma|grandad|friend|flatmate|boyfriend|girlfriend|uncle|aunt)(?:'s|’s|\s+is|\s+was|\s+turned|\s+just turned|\s*\()\s*"
    rf"{NUM}(?:\s*{UNIT})?\b(?![\s-]*(?:weeks?|months?)?\s*(?:pregnant|premature|preterm|prem|early))",
    re.I,
)
DURATION = re.compile(
    rf"\b(?:for|since|past|last|over|about|around|almost|nearly|roughly|only|just)?\s*(?:the\s+)?(?:last|past)?\s*{NUM}\s+{UNIT}\b(?![\s-]*old)(?!{CHILD_AFTER})",
    re.I,
)
SINCE_AGE = re.compile(
    rf"\bsince\s+(?:he|she|i|they|we)\s+(?:was|were)\s+(?:about\s+|around\s+|roughly\s+)?{NUM}(?:[\s-]+{UNIT})?(?:[\s-]+old)?\b",
    re.I,
)
SINCE_BIRTH = re.compile(
    r"\b(?:since|from)\s+(?:(?:just|shortly|right|soon)\s+after\s+)?"
    r"(?:birth|(?:she|he|they) (?:was|were) born|day one|delivery)\b|\bborn with\b",
    re.I,
)
# A whole eyelid or the skin around the eye "red and swollen" (or "swollen, red", "red,
# hot and swollen", "red and puffy") is spreading swelling of the skin, the sign of
# eyelid cellulitis; NHS stye advice asks for an urgent appointment when a stye is very
# swollen or the infection has spread to the eyelid. Read only with an eye word in the
# same sentence: an inflamed cyst elsewhere that is "red, swollen and sore" is not it.
RED_SWOLLEN = re.compile(
    r"\b(?:red|reddish|pink)(?:\s*,\s*(?:hot|warm|sore|tender))*\s*,?\s*(?:and\s+)?(?:swollen|puffy)\b"
    r"|\b(?:swollen|puffy|swelled up|swelled)\s*,?\s*(?:and\s+)?(?:(?:went|gone|turned|got)\s+)?(?:red|reddish|pink)\b",
    re.I,
)
EYE_WORD = re.compile(r"\b(?:eye ?lids?|lids?|eyes?)\b", re.I)
APOSTROPHES = str.maketrans({"`": "'", "\u2019": "'", "\u2018": "'", "\u00b4": "'"})
BROKEN_APOSTROPHE = re.compile(r"(?<=[a-z])(?:\?|í)(?=(?:t|s|re|ve|ll|d|m)\b)", re.I)
SPACED_APOSTROPHE = re.compile(
    r"\b((?:do|does|did|is|are|was|were|has|have|had|ca|could|would|should|wo|must|need)n) (t)\b",
    re.I,
)
MY_PLACE_AFTER = re.compile(
    r"\s*(?:[\w'-]+\s+){0,2}?(?:on|around|in|at|near|by) my\b"
    r"(?!\s+(?:[\w-]+'s|[\w-]+s'|baby|son|daughter|child|kid|boy|girl|little|toddler)\b)",
    re.I,
)
NOT_BEFORE = re.compile(
    r"\b(?:not|no|never|without|isn't|isnt|aren't|arent|wasn't|weren't)\b", re.I
)
SIZE_RANGE = re.compile(
    r"\b(\d+(?:\.\d+)?)\s*(?:-|to|or|–)\s*(\d+(?:\.\d+)?)\s*(mm|millimet(?:er|re)s?|cm|centimet(?:er|re)s?)\b",
    re.I,
)
# "5 mm", ".5 cm", "1/2 cm"
SIZE_ONE = re.compile(
    r"(?:(?<![\w.])|\b)(\d+/\d+|\d*\.\d+|\d+)\s*(mm|millimet(?:er|re)s?|cm|centimet(?:er|re)s?)\b",
    re.I,
)
COUNTED = re.compile(
    r"[^\w.;!?]*(?:them\b|(?:of\s+)?(?:[\w'-]+,?\s+){0,5}?(?:bumps?|spots?|dots?|lumps?|cysts?|pimples?|blisters?|things?|marks?|patches|papules|whiteheads|particles|growths|lesions|sores|ones|of them|on (?:my|her|his|their|the))\b)",
    re.I,
)
EVENT = re.compile(
    r"\b(laser|peel|tablets?|pills?|medicines?|medication|pregnant|transplant|burn(?:ed|t)?|scald|started|putting|using|course|farmer|worked|working|job|chemo|treatment|cream|surgery|operation|removed|steroids?|since she was|since he was)\b",
    re.I,
)
BUMPS = re.compile(
    r"\b(bumps?|spots?|dots?|lumps?|cysts?|pimples?|blisters?|sores?|ulcers?|growths?|nodules?|them|they|these|it|its|it's|rash|marks?|patches|ones|milia|swollen|swelling|swelled)\b",
    re.I,
)
COUNT_ONE = re.compile(
    r"\b(?:a|an|one|the|this|that|single)\s+(?:[\w'-]+,?\s+){0,3}?(?:bump|lump|spot|dot|cyst|pimple|dome|growth|papule|nodule|whitehead|blister|lesion|scab|stye|(?:cold|canker|open)\s+sore)\b(?!s)",
    re.I,
)
PLURAL = re.compile(
    # ("a few months ago" is a time, not several bumps)
    r"\b(?:bumps|lumps|spots|dots|cysts|pimples|domes|growths|papules|nodules|whiteheads|blisters|milia|ones|others|they|them|these|those|they're|theyre|several|few|couple|many|lots|loads|dozens|rash)\b"
    r"(?!\s+(?:of\s+)?(?:days?|weeks?|months?|years?|hours?|times?)\b)",
    re.I,
)
COUNT_NUM = re.compile(
    # not a time or a size ("born at 36 weeks and the spots came")
    r"\b(\d{1,3})(?:\s*(?:or|to|-)\s*(\d{1,3}))?\s+(?!(?:hours?|days?|weeks?|months?|years?|yrs?|mm|cm)\b)"
    r"(?:[^\W\d][\w-]*\s+){0,3}?(?:bumps?|spots?|dots?|lumps?|cysts?|of them|things)\b",
    re.I,
)
BUMP_NOUNS = re.compile(
    r"\b(?:bumps?|spots?|dots?|lumps?|cysts?|pimples?|blisters?|zits?|whiteheads?|milia|rash|marks|patches|ones|growths?|papules?)\b",
    re.I,
)
NOTICED = re.compile(r"\b(?:noticed|found|saw|spotted|discovered|got|developed)\b", re.I)
# the writer, but not as the one asked to be told or helped ("please tell me about lumps")
FIRST_PERSON = re.compile(
    r"\b(?:i|i'm|im|i've|ive|my|mine|(?<!tell )(?<!help )(?<!advise )(?<!explain to )me)\b", re.I
)
WRITER_SAW = re.compile(
    r"\b(?:i|we)\s+(?:just\s+|have\s+|'ve\s+|had\s+|first\s+)?"
    r"(?:noticed|found|saw|spotted|discovered|notice|see|felt)\b",
    re.I,
)
THIRD_PERSON = re.compile(r"\b(?:he|she|his|her|him|he's|she's|hes)\b", re.I)
BOTH_OF_US = re.compile(r"^\s*(?:and|&)\s+(?:i|me|myself)\b", re.I)
CLAUSE_END = re.compile(r"[.;!?\n,()]")


# Bumps on a patch or plaque ("sitting on a raised red patch", "only on that healing
# patch"): the patch is the place and the bumps are separate bumps, not patches or a coating.
PATCH_AS_SITE = re.compile(
    r"\b(?:on|over|across|within)\s+(?:(?:a|an|the|that|this|one|his|her|my|their|its)\s+)?"
    r"(?:[\w-]+\s+){0,3}?(?:patch|patches|plaque|plaques)\b",
    re.I,
)


def read(kb: KnowledgeBase, text: str) -> list[Understood]:
    """Everything the narrative states, in the order it appears (uncertain and past included)."""
    text = text[:MAX_TEXT].translate(APOSTROPHES)  # "don`t", "don’t": one length, one meaning
    # a curly apostrophe lost to a page's encoding ("won?t", "donít"): one length too
    text = BROKEN_APOSTROPHE.sub("'", text)
    # ... or lost to a space ("doesn t hurt", "don t itch"): one length too
    text = SPACED_APOSTROPHE.sub(r"\1'\2", text)
    lex = kb.lexicon
    numbers = {str(k): float(v) for k, v in lex["numbers"].items()}
    out: list[Understood] = []
    taken: list[tuple[int, int]] = []

    def item(field: str, value: Any, start: int, end: int, certainty: str = CERTAIN) -> None:
        out.append(Understood(field, value, text[start:end], start, end, certainty))
        taken.append((start, end))

    # Ages, each tagged with whom it is about; the one for whose bumps these are is kept.
    ages: list[tuple[str, Understood]] = []

    def age(who: str, years: float, m: re.Match[str]) -> None:
        ages.append(
            (
                who,
                Understood(
                    "age_years",
                    round(years, 4),
                    text[m.start() : m.end()],
                    m.start(),
                    m.end(),
                    CERTAIN,
                ),
            )
        )
        taken.append((m.start(), m.end()))

    for m in AGE_TWO_UNITS.finditer(text):
        first, second = _number(m.group(1), numbers), _number(m.group(3), numbers)
        if first is not None and second is not None:
            days = first * UNITS_DAYS[_unit(m.group(2))] + second * UNITS_DAYS[_unit(m.group(4))]
            age("child" if days < 18 * 365 else "any", days / 365.25, m)
    for m in AGE_OLD.finditer(text):
        n = _number(m.group(1), numbers)
        if n is not None and not _overlaps(taken, m.start(), m.end()):
            age(
                "child" if n * UNITS_DAYS[_unit(m.group(2))] < 18 * 365 else "any",
                n * UNITS_DAYS[_unit(m.group(2))] / 365.25,
                m,
            )
    for m in AGE_IS.finditer(text):
        n = _number(m.group(2), numbers)
        if n is not None and not _overlaps(taken, m.start(), m.end()):
            unit = _unit(m.group(3)) if m.group(3) else "year"
            age(_who(m.group(1), lex), n * UNITS_DAYS[unit] / 365.25, m)
    for m in AGE_YO.finditer(text):
        if not _overlaps(taken, m.start(), m.end()):
            age("any", float(m.group(1)), m)
    for m in AGE_SELF.finditer(text):
        if not _overlaps(taken, m.start(), m.end()):
            age("me", float(m.group(1)), m)
    whose_item = _whose(text, lex)
    whose = whose_item.value if whose_item else None
    if whose_item is not None:
        out.append(whose_item)
        noun = whose_item.text.lower().split()[-1].rstrip("'s’")
        for sex in ("female", "male"):
            if noun in SEXED[sex]:  # "our 12 day old daughter": her sex, not the writer's
                out.append(replace(whose_item, field="sex", value=sex))
                taken.append((whose_item.start, whose_item.end))
    order = {"child": ["child", "any"], "other": ["other", "any"]}.get(whose or "me", ["me", "any"])
    for who in [*order, "child", "other"]:
        chosen = [u for w, u in ages if w == who]
        if chosen:
            out.append(chosen[0])
            break
    for m in SINCE_BIRTH.finditer(text):
        item("duration_days", "since_birth", m.start(), m.end())
    for m in DURATION.finditer(text):
        n = _number(m.group(1), numbers)
        if n is not None and _a_treatments_course(text, m, lex):
            taken.append((m.start(), m.end()))  # not a count either ("two weeks of ...")
            continue
        if n is None or _overlaps(taken, m.start(), m.end()) or not _about_the_bumps(text, m, lex):
            continue
        if _writers_own(text, m, whose) or _not_a_time_span(text, m):
            taken.append((m.start(), m.end()))  # a time, not a count ("the first two weeks")
            continue
        certainty = UNCERTAIN if _hedged(text, m.start(), m.end(), lex) else CERTAIN
        item(
            "duration_days",
            round(n * UNITS_DAYS[_unit(m.group(2))], 1),
            m.start(),
            m.end(),
            certainty,
        )

    # "since she was about 2 weeks old", "since I was 13": the age they began at.
    age_now = next((u.value for u in out if u.field == "age_years"), None)
    for m in SINCE_AGE.finditer(text):
        n = _number(m.group(1), numbers)
        # its "2 weeks old" may be read as an age too, so no overlap test; the clause must
        # speak of the bumps ("he's had acne since he was 13" does not)
        if n is None or age_now is None or not BUMPS.search(_clause(text, m.start(), m.end())):
            continue
        began = n * UNITS_DAYS[_unit(m.group(2))] if m.group(2) else n * 365.25
        if 0 <= began < float(age_now) * 365.25:
            certainty = UNCERTAIN if _hedged(text, m.start(), m.end(), lex) else CERTAIN
            days = round(float(age_now) * 365.25 - began, 1)
            item("duration_days", days, m.start(), m.end(), certainty)
    # Durations without a number ("for years", "for months"): a typical day count each.
    vague = {str(k).lower(): float(v) for k, v in lex.get("durations_vague", {}).items()}
    if vague:
        keys = "|".join(re.escape(k) for k in sorted(vague, key=len, reverse=True))
        for m in re.finditer(rf"\b(?:{keys})\b", text, re.I):
            if _overlaps(taken, m.start(), m.end()) or not _about_the_bumps(text, m, lex):
                continue
            if _writers_own(text, m, whose):
                continue
            certainty = UNCERTAIN if _hedged(text, m.start(), m.end(), lex) else CERTAIN
            item("duration_days", vague[m.group(0).lower()], m.start(), m.end(), certainty)

    def sure(m: re.Match[str]) -> str:  # "maybe 5 mm", "maybe 8 or 9 of them"
        return UNCERTAIN if _hedged(text, m.start(), m.end(), lex) else CERTAIN

    for m in SIZE_RANGE.finditer(text):
        if _size_of_other(text, m.start(), lex):
            taken.append((m.start(), m.end()))
            continue
        lo, hi = float(m.group(1)), float(m.group(2))
        item("size_mm", round((lo + hi) / 2 * _mm(m.group(3)), 2), m.start(), m.end(), sure(m))
    for m in SIZE_ONE.finditer(text):
        if not _overlaps(taken, m.start(), m.end()) and not _size_of_other(text, m.start(), lex):
            mm = round(_size_number(m.group(1)) * _mm(m.group(2)), 2)
            item("size_mm", mm, m.start(), m.end(), sure(m))
    for m in COUNT_NUM.finditer(text):
        if not _overlaps(taken, m.start(), m.end()):
            # the number only ("3 tiny white bumps" has a colour too); of a range, the top
            n = int(m.group(2) or m.group(1))
            count = "one" if n == 1 else "few" if n <= 10 else "many"
            item("count", count, m.start(), m.end(1), sure(m))

    timeless = set(lex.get("timeless", []))
    spans = list(taken)  # what the patterns read: the entities below may not overlap it
    # a place may hold the person's words ("in my son's mouth")
    at = (whose_item.start, whose_item.end) if whose_item is not None else None
    places = [s for s in spans if s != at]
    doc = _pipeline(kb)(text)
    for ent in doc.ents:
        start, end = ent.start_char, ent.end_char
        if ent.label_ != "SEX" and _overlaps(places if ent.label_ == "LOC" else spans, start, end):
            continue
        if ent.label_ == "SEX" and (
            any(u.field == "sex" for u in out) or not _sex_of_whose(ent.text, whose)
        ):
            continue
        certainty = _certainty(ent)
        label, key = ent.label_, ent.ent_id_
        if certainty == PAST and key.split("=")[0] in timeless:
            certainty = CERTAIN  # "had a skin cancer removed" is history, still true
        if label == "FIND":
            if key == "patches" and PATCH_AS_SITE.search(text):
                continue  # bumps "on that healing patch": the patch is where they are
            if _writers_cold_sore(text, ent, key, whose, lex):
                # "I get blisters on my lip": the parent's cold sore, a close contact's
                item("findings.contact_with_similar", not ent._.negex, start, end, certainty)
                continue
            if _said_of_someone_else(text, ent, key, whose, out, lex):
                continue
            negated = ent._.negex and _in_negated_list(doc, ent, lex)
            if key == "fever" and _temperature_below_fever(text, end):
                negated = True  # "a temp of 37.8": measured, and below 38 °C
            item(f"findings.{key}", not negated, start, end, _unless_asked(ent, certainty))
            if key == "on_raised_patch" and not negated and RED_PATCH.search(ent.text):
                # bumps on a red patch or base: the skin around them is red too
                out.append(
                    Understood(
                        "findings.red_around",
                        True,
                        ent.text,
                        start,
                        end,
                        _unless_asked(ent, certainty),
                    )
                )
        elif label == "FIXED":
            fid, value = key.split("=")
            item(f"findings.{fid}", value == "true", start, end, _unless_asked(ent, certainty))
        elif label == "SIMILAR":
            similar = _similar(text, start, whose, lex)
            if similar is None:
                continue
            if certainty == PAST and (similar in timeless or similar == "recurring"):
                certainty = CERTAIN  # a relative's bumps, or the person's own before
            item(f"findings.{similar}", not ent._.negex, start, end, certainty)
        elif label == "LOC":
            # a place is where the bumps are, hedged or not
            if not _place_negated(doc, ent, lex) and _a_bump_site(text, ent, whose, lex):
                if key == "genitals" and _there_points_back(doc, ent):
                    continue
                if key == "nappy_area" and not _a_young_child(whose, out):
                    key = "other"  # an adult's bottom is not a nappy area
                item("locations", key, start, end)
                if _both_sides(text, ent) and not any(
                    u.field == "findings.symmetrical" for u in out
                ):
                    out.append(
                        Understood("findings.symmetrical", True, ent.text, start, end, CERTAIN)
                    )
        elif label == "REGION":
            # "on my face": somewhere on the face; not "face wash" nor "body lotion"
            after = re.findall(r"[a-z']+", text[end : end + 20].lower())[:1]
            thing = set(after) & set(lex.get("region_not_a_site", []))
            if (
                not _place_negated(doc, ent, lex)
                and not thing
                and _a_bump_site(text, ent, whose, lex)
            ):
                item("region", key, start, end)
        elif label == "COLOUR":
            if _bumps_colour(text, start, end, lex):
                certainty = UNCERTAIN if _just_before(text, start, _hedges(lex)) else CERTAIN
                item("colour", key, start, end, certainty)
        elif label == "COUNT":
            if COUNTED.match(text, end) and not _a_part(text, start, end, key, lex):
                certainty = UNCERTAIN if _hedged(text, start, end, lex) else CERTAIN
                item("count", key, start, end, certainty)
        elif label == "SIZE":
            item("size_mm", float(key), start, end)
        elif label == "SEX":
            item("sex", key, start, end)
        elif label == "AGEWORD":
            item("age_years", float(key), start, end, UNCERTAIN)
    out += _swollen_eyelid(text, out, lex)
    # "a hard white spot", "the lump on my scalp": one bump, when nothing in the words
    # speaks of several (no plural bump word, no "they" or "them", no other count).
    if not PLURAL.search(text) and not any(u.field == "count" for u in out):
        single = COUNT_ONE.search(text)
        if single:
            at = (single.start(), single.end())
            sure_one = UNCERTAIN if _hedged(text, *at, lex) else CERTAIN
            out.append(Understood("count", "one", single.group(0), *at, sure_one))
    if not PLURAL.search(text) and any(u.field == "count" and u.value == "one" for u in out):
        # one bump that came up "suddenly" or "overnight" is no crop of many
        out = [u for u in out if u.field != "findings.appeared_in_crops"]
    if whose is None and re.search(r"\b(i|i'm|im|my|me)\b", text, re.I):
        out.append(Understood("whose", "me", "", 0, 0, CERTAIN))
    return sorted(_one_value(out, "colour"), key=lambda u: (u.start, u.field))


# "on both my cheeks", "the backs of both hands": a pair of sites said with "both".
BOTH_BEFORE = re.compile(
    r"\b(?:both|either)\s+(?:(?:my|her|his|their|your|our|the|upper|lower|inner|outer)\s+)*$",
    re.I,
)
RED_PATCH = re.compile(r"\b(?:red|reddish|pink|blotch|blotchy)\b", re.I)


def _both_sides(text: str, ent: Span) -> bool:
    """A site said of both sides ("on both my cheeks", "around both eyes") is symmetrical.
    "both my nose and chin" is a list, not a pair: the site word must be plural."""
    words = ent.text.lower().split()
    if "both" in words:
        return True
    if not (words[-1].endswith("s") or words[-1] == "feet"):
        return False
    return bool(BOTH_BEFORE.search(text[max(0, ent.start_char - 40) : ent.start_char]))


def _swollen_eyelid(text: str, out: list[Understood], lex: Any) -> list[Understood]:
    """An eyelid, or the skin around the eye, said to be red and swollen: spreading swelling
    of the skin (a red flag), unless the words already read it. "Not red and swollen" is
    read as absent; a past or hedged mention stays unknown as everywhere else."""
    if any(u.field == "findings.warm_swollen_skin" for u in out):
        return []
    found: list[Understood] = []
    for sentence in re.finditer(r"[^.!?]+", text):
        part = sentence.group(0)
        m = RED_SWOLLEN.search(part)
        if m is None or not EYE_WORD.search(part):
            continue
        before = part[: m.start()].split()[-4:]
        start, end = sentence.start() + m.start(), sentence.start() + m.end()
        present = not NOT_BEFORE.search(" ".join(before))
        certainty = CERTAIN
        if re.search(r"\b(?:was|were|used to)\b", " ".join(before), re.I):
            certainty = PAST
        elif _hedged(text, start, end, lex) or _just_before(text, start, _hedges(lex), 4):
            certainty = UNCERTAIN
        found.append(
            Understood(
                "findings.warm_swollen_skin", present, text[start:end], start, end, certainty
            )
        )
        break
    return found


def _a_bump_site(text: str, ent: Span, whose: str | None, lex: Any) -> bool:
    """Whether a place read is where the bumps are: not the writer's own when the bumps
    are someone else's ("a few like that under my eyes"), not where redness is spreading,
    not one in the past ("I used to get blackheads on my nose"), nor in a sentence of
    the past that speaks of no bumps ("a cancer cut out of my back 8 years ago")."""
    own = re.sub(r"\bmy\s+[\w-]+['’]s\b", " ", ent.text.lower())  # "in my baby's mouth" is hers
    if whose in ("child", "other") and (
        "my" in own.split() or _just_before(text, ent.start_char, ["my"], 0)
    ):
        return False
    # a hand that does something is no site: "I can grasp it with my fingers", "using her
    # fingers", "squeezed it between my fingers"
    if ent.ent_id_ == "hands" and _just_before(
        text, ent.start_char, ["with", "using", "between"], 2
    ):
        return False
    sentence = _clause(text, ent.start_char, ent.end_char).lower()
    # the body part is no cue: "more on his back and armpits" is not "a few years back"
    # (the cue stays in "the temperature surged back up")
    sentence = re.sub(r"\b(?:my|his|her|their|your|our|upper|lower) back\b", " ", sentence)
    past = [str(w) for side in ("preceding", "following") for w in lex["past"][side]]
    before_now = [str(w) for w in lex["past"]["preceding"] if w != "once"]  # "all at once"
    # "6 months ago I found a lump on my forehead": a time ago that dates the bump's finding
    # (a bump word or a noticing verb between it and the place) dates its start, not a past
    lead = re.split(r"[.;!?\n]", text[max(0, ent.start_char - 80) : ent.start_char])[-1]
    since = re.search(r"\bago\b(.*)$", lead, re.I)
    if since and (BUMP_NOUNS.search(since.group(1)) or NOTICED.search(since.group(1))):
        before_now = [w for w in before_now if not w.endswith(" ago")]
    if any(re.search(rf"\b{re.escape(w)}\b", sentence) for w in [*past, "ago", "back"]) and (
        not BUMPS.search(sentence) or _just_before(text, ent.start_char, before_now, 6)
    ):
        return False
    before = re.split(r"[.;!?\n]", text[max(0, ent.start_char - 80) : ent.start_char])[-1].lower()
    spec = lex["spreading_onto"]
    what = "|".join(re.escape(w) for w in spec["what"])
    how = "|".join(re.escape(w) for w in spec["how"])
    return not re.search(rf"\b(?:{what})\b.*\b(?:{how})\b", before)


TEMPERATURE_AFTER = re.compile(
    r"\W{0,3}(?:[a-z]+\s+){0,3}?(\d{2,3}(?:[.,]\d+)?)\s*(?:°|degrees?)?\s*([cf])?\b",
    re.I,
)


def _temperature_below_fever(text: str, end: int) -> bool:
    """A temperature given as a number below a fever (38 °C, 100.4 °F): "a temp of 37.8"."""
    m = TEMPERATURE_AFTER.match(text, end)
    if m is None:
        return False
    value = float(m.group(1).replace(",", "."))
    unit = (m.group(2) or "").lower()
    if unit == "f" or (not unit and 90 <= value < 110):
        return 93 <= value < 100.4
    return 34 <= value < 38


def _writers_cold_sore(text: str, ent: Span, key: str, whose: str | None, lex: Any) -> bool:
    """Blisters or sores the writer says are on their own lip or mouth while the bumps are
    someone else's: a close contact's cold sore (what the contact question asks about)."""
    spec = lex["writers_cold_sore"]
    if whose not in ("child", "other") or key not in spec["findings"]:
        return False
    m = MY_PLACE_AFTER.match(text, ent.end_char)
    if m is None:
        return False
    after = re.findall(r"[a-z]+", text[m.end() : m.end() + 12].lower())[:1]
    return bool(set(after) & set(spec["places"]))


def _said_of_someone_else(
    text: str, ent: Span, key: str, whose: str | None, out: list[Understood], lex: Any
) -> bool:
    """A finding that is not about the bumps: the writer's breastfeeding when the bumps
    are a young child's, the writer's own ("I get blisters on my lip") when the bumps are
    someone else's, "on and off" said of using a cream, clear fluid squeezed out (no
    blister, and not the white or oily material)."""
    if key in lex["not_of_a_young_child"] and _a_young_child(whose, out):
        return True
    sentence = _clause(text, ent.start_char, ent.end_char).lower()
    if whose in ("child", "other") and MY_PLACE_AFTER.match(text, ent.end_char):
        return True

    def says(words: list[str]) -> bool:
        return any(re.search(rf"\b{re.escape(w)}\b", sentence) for w in words)

    if key == "recurring":
        return says(lex["treatment_use"])
    if key == "clear_blisters":
        return says(lex["squeezed_out"])
    if key == "squeeze_contents":
        return says(lex["squeezed_out_not_contents"])
    return False


def _a_part(text: str, start: int, end: int, count: str, lex: Any) -> bool:
    """Whether a count word counts only a part of the bumps (see ``count_of_a_part``)."""
    spec = lex["count_of_a_part"]
    before = re.findall(
        r"[\w']+", re.split(r"[.,;:!?()\n]", text[max(0, start - 40) : start])[-1].lower()
    )
    after = re.findall(r"[\w']+", text[end : end + 40].lower())
    of_them = after[:2] == ["of", "them"]
    if set(before[-3:]) & set(spec["before"]) or (
        of_them and set(before[-1:]) & set(spec["before_of_them"])
    ):
        return True
    if set(after[:1]) & set(spec["after"]):
        return True
    if count == "many" or BUMP_NOUNS.search(text[start:end]):  # "one lump on my ear"
        return False
    return bool(set(after[2:3] if of_them else after[:1]) & set(spec["then"]))


def _size_of_other(text: str, start: int, lex: Any) -> bool:
    """A size said of a mark or patch beside the bumps, not of the bumps ("a little grey
    mark about 2 by 3 mm next to it"): the nearest lesion word before it names the mark."""
    before = re.split(r"[.;!?\n]", text[max(0, start - 60) : start])[-1].lower()
    words = re.findall(r"[a-z']+", before)[-6:]
    others = set(lex.get("size_of_other", []))
    for word in reversed(words):
        if word in others:
            return True
        if BUMP_NOUNS.fullmatch(word):
            return False
    return False


def _a_young_child(whose: str | None, out: list[Understood]) -> bool:
    # Nappy age: most children are out of nappies by 4 (an estimate), so a 5-year-old's
    # bottom is "other", as an adult's is.
    ages = [u.value for u in out if u.field == "age_years" and u.certainty == CERTAIN]
    return whose == "child" and not (ages and ages[0] >= 4)


def _one_value(out: list[Understood], field: str) -> list[Understood]:
    """Two different values for a one-valued field ("white spots ... yellow marks",
    "skin coloured, maybe slightly yellow") leave it unknown: each becomes uncertain."""
    values = {u.value for u in out if u.field == field and u.certainty != PAST}
    if len(values) < 2:
        return out
    return [replace(u, certainty=UNCERTAIN) if u.field == field else u for u in out]


def _bumps_colour(text: str, start: int, end: int, lex: Any) -> bool:
    """Whether a colour word is the bumps' own: not negated ("not red"), not for a while
    ("it went red"), and not of a noun a few words on that is something else ("white
    cheesy stuff", "little red blood vessels")."""
    negations = [str(w) for w in lex["negations"]["preceding"]]
    if _just_before(text, start, negations) or _just_before(text, start, lex["colour_for_a_while"]):
        return False
    after = re.split(r"[.,;:!?()\n]", text[end : end + 60], maxsplit=1)[0].lower()
    words = re.findall(r"[a-z]+", after)[:3]
    # "a pea-sized lump with a little black dot in the middle": the centre's colour
    if re.match(
        r"\s*(?:dot|dots|point|spot|pore)\s+(?:(?:in|at)\s+the\s+(?:middle|centre|center|tip|top)"
        r"|on\s+(?:the\s+)?top)\b",
        after,
    ):
        return False
    other = [w in lex["colour_of_other"] for w in words]  # a blister's colour is its fluid's
    bumps = [bool(BUMP_NOUNS.fullmatch(w)) and not o for w, o in zip(words, other, strict=True)]
    return any(bumps) or not any(other)


def _just_before(text: str, start: int, cues: list[str], words: int = 2) -> bool:
    """Whether one of the cues ends at most ``words`` words before ``start``, in its clause."""
    before = re.split(r"[.,;:!?()\n]", text[max(0, start - 60) : start])[-1].lower()
    return any(
        re.search(rf"\b{re.escape(c.lower())}(?:\W+[\w']+){{0,{words}}}\W*$", before) for c in cues
    )


def _hedges(lex: Any) -> list[str]:
    return [str(w) for w in lex["hedges"]["preceding"]]


SEXED = {
    "female": {
        "daughter",
        "dauter",
        "girl",
        "wife",
        "girlfriend",
        "mum",
        "mom",
        "mother",
        "sister",
        "grandmother",
        "grandma",
        "nan",
        "gran",
        "aunt",
    },
    "male": {
        "son",
        "boy",
        "husband",
        "boyfriend",
        "dad",
        "father",
        "brother",
        "grandfather",
        "grandad",
        "granddad",
        "uncle",
        "hubby",
    },
}


def _similar(text: str, start: int, whose: str | None, lex: Any) -> str | None:
    """Someone else has the same bumps: a relative's is family history (a child's brother
    or sister is contact, as children pass them on), anyone else's is contact; with no
    one else named before it in the sentence, nothing."""
    before = text[max(text.rfind(c, 0, start) for c in ".;!?\n") + 1 : start].lower()
    words = set(re.findall(r"[a-z]+", before))
    spec = lex["similar"]
    relatives = words & set(spec["relatives"])
    people = {*spec["others"], *lex["whose"]["child"], *lex["whose"]["other"]}
    if not relatives and not words & people:
        # "I had the same thing a few months ago", "she had the same last summer": the
        # bumps' own person had them before, and they came back
        own = {"i"} if whose in (None, "me") else {"he", "she"}
        if words & own and re.match(r"had\b", text[start : start + 4], re.I):
            return "recurring"
        return None
    if relatives and not (whose == "child" and relatives <= set(spec["siblings"])):
        return "family_history"
    return "contact_with_similar"


def _sex_of_whose(cue: str, whose: str | None) -> bool:
    """Whether a sex cue can be about the person with the bumps: "my husband" is another
    person unless he is whose they are (read from the whose mention); when they are the
    writer's own, "she" and "his" are someone else too ("I'm a woman" is not)."""
    words = cue.lower().split()
    if words[0] in ("my", "our"):
        return False
    return not (whose in (None, "me") and len(words) == 1 and words[0] in PRONOUNS)


PRONOUNS = {"she", "her", "hers", "herself", "he", "him", "his", "himself"}


def _who(noun: str, lex: Any) -> str:
    noun = noun.lower()
    if noun in ("he", "she"):
        return "any"
    for who in ("child", "other"):
        if noun in lex["whose"][who]:
            return who
    return "any"


def _whose(text: str, lex: Any) -> Understood | None:
    """Whose bumps: "my 2 week old", "my son", "my husband", or the writer.

    The first clause that speaks of the bumps decides: one naming a child or another
    person ("our daughter has white dots"), or a pronoun for the person last named ("he
    got bumps on his forehead"), or the writer ("bumps on my chin"). A person named only
    beside the writer ("my wife and I are 30") or as having the same thing ("my sister
    has the same") is not whose the bumps are. With no such clause, the first person
    named decides.
    """
    nouns = {n: who for who in ("child", "other") for n in lex["whose"][who]}
    pattern = re.compile(
        r"\b(?:my|our|mine\s+is|mine's|(?:i|we)\s+(?:have|'ve\s+got|have\s+got)\s+an?)\s+(?:(?:little|adult|grown|grown-up|teenage|teen|older|younger|elderly)\s+|\d+(?:\.\d+)?\s*(?:yo|y/o|y\.o\.)\s+|\d+(?:\.\d+)?(?:\s+and\s+a\s+half|\s+1/2|½)?[\s-]*"
        + AGE_UNIT
        + r"(?:[\s-]*old)?\s*|\w+(?:\s+and\s+a\s+half)?[\s-]+"
        + AGE_UNIT
        + r"[\s-]*old\s*)?("
        + "|".join(sorted((re.escape(n) for n in nouns), key=len, reverse=True))
        + r")?(?:'s|’s)?\b",
        re.I,
    )
    same = re.compile(
        r"(?:\W+[\w']+){0,4}?\W+(?:"
        + "|".join(re.escape(p) for p in lex["similar"]["phrases"])
        + r")\b",
        re.I,
    )
    mentions: list[Understood] = []
    for m in pattern.finditer(text):
        noun = (m.group(1) or "").lower()
        if noun:
            who = nouns[noun]
        elif re.search(AGE_UNIT + r"[\s-]*old|\d\s*(?:yo|y/o|y\.o\.)", m.group(0), re.I):
            who = "child"
        else:
            continue
        if BOTH_OF_US.match(text, m.end()) or same.match(text, m.end()):
            continue
        mentions.append(Understood("whose", who, m.group(0), m.start(), m.end(), CERTAIN))
    bounds = [0, *(m.end() for m in CLAUSE_END.finditer(text)), len(text) + 1]
    for lo, hi in pairwise(bounds):
        clause = text[lo:hi]
        if not BUMP_NOUNS.search(clause):
            continue
        named = [u for u in mentions if lo <= u.start < hi]
        if named:
            return named[0]
        before = [u for u in mentions if u.start < lo]
        if THIRD_PERSON.search(clause) and before:
            return before[-1]
        # "my daughter is 6 weeks old, and I noticed a small lump": the writer only saw it
        own = WRITER_SAW.sub(" ", clause)
        if before and own != clause and not FIRST_PERSON.search(own):
            return before[-1]
        if FIRST_PERSON.search(clause):
            return None  # the writer's own bumps
    return mentions[0] if mentions else None


def _clause(text: str, start: int, end: int) -> str:
    """The clause around a span: from the last . ; ! ? or ", and" before it to the next."""
    left = max(text.rfind(c, 0, start) for c in ".;!?\n")
    rights = [i for i in (text.find(c, end) for c in ".;!?\n") if i != -1]
    return text[left + 1 : min(rights) if rights else len(text)]


QUESTION = re.compile(
    r"^\W*(?:are|is|do|does|did|could|can|will|would|should|might|may|has|have|was|were)\s+"
    r"(?:they|these|those|it|this|the|my|his|her|their|its|she|he)\b",
    re.I,
)
# Where a question begins inside a sentence the sentencizer did not split: after an
# answer in brackets ("(Yes.) Are the mother's nipples sore?") or a colon.
QUESTION_START = re.compile(r".*(?:[.!?]\)?|\)|:)\s+", re.S)


def _unless_asked(ent: Span, certainty: str) -> str:
    """A finding asked about is not said: "Are these spots painful and itchy?" (a parent
    asking about a baby) leaves both unknown."""
    sentence = ent.sent.text.strip()
    if sentence.endswith("?") and QUESTION.match(sentence):
        return UNCERTAIN
    # a question inside a longer run: "(Yes.) Are the mother's nipples sore? (No.)"
    text = ent.doc.text
    after = re.match(r"[^.!?]*\?", text[ent.end_char : ent.sent.end_char])
    if after is None:
        return certainty
    before = text[ent.sent.start_char : ent.start_char]
    start = QUESTION_START.match(before)
    asked = before[start.end() :] if start else before
    return UNCERTAIN if QUESTION.match(asked) else certainty


def _there_points_back(doc: Any, ent: Span) -> bool:
    """ "Down there" names the genitals, unless it points back to a place named just before
    ("the white speck under his gum line ... something hard down there"); in a list of
    places ("on my thighs and down there") it is a place of its own."""
    if ent.text.lower() != "down there":
        return False
    sents = list(doc.sents)
    at = next(i for i, sent in enumerate(sents) if sent.start <= ent.start < sent.end)
    start = sents[max(0, at - 1)].start
    named = [e for e in doc.ents if e.label_ == "LOC" and start <= e.start and e.end <= ent.start]
    return bool(named) and ent.start - named[-1].end > 3


def _writers_own(text: str, m: re.Match[str], whose: str | None) -> bool:
    """A time said of the writer's own bumps when they write for someone else ("I've got a
    few similar ones but mine have been there for years")."""
    if whose not in ("child", "other"):
        return False
    return bool(re.search(r"\b(?:mine|my own)\b", _clause(text, m.start(), m.end()), re.I))


def _not_a_time_span(text: str, m: re.Match[str]) -> bool:
    """A rate ("twice a day", "three times a week", "once a month"), a stretch of life
    ("during the first two weeks") or "one day" telling when ("One day I noticed...",
    without "for" or "ago") is no duration."""
    said = m.group(0).strip().lower()
    if re.search(
        r"\b(?:once|twice|times|every|per|first)\s*$",
        text[max(0, m.start() - 12) : m.start()],
        re.I,
    ):
        return True
    after = re.findall(r"[\w']+", text[m.end() : m.end() + 12].lower())[:1]
    return re.fullmatch(r"(?:just\s+)?(?:one|a)\s+day", said) is not None and after != ["ago"]


def _a_treatments_course(text: str, m: re.Match[str], lex: Any) -> bool:
    """ "a few days of it made no difference", "two weeks of antibiotics": how long a
    treatment was used, not how long the bumps have been there."""
    treated = "|".join(re.escape(str(w)) for w in lex.get("duration_of_a_treatment", []))
    return (
        bool(treated) and re.match(rf"\s+of\s+(?:{treated})\b", text[m.end() :], re.I) is not None
    )


def _about_the_bumps(text: str, m: re.Match[str], lex: Any) -> bool:
    """A duration counts when its clause speaks of the bumps and of no other event
    ("a laser 6 weeks ago", "20 weeks pregnant", "40 years as a farmer", "born early, at
    32 weeks", "8 weeks premature")."""
    clause = _clause(text, m.start(), m.end())
    if re.search(r"\b(?:pregnant|old)\b", text[m.end() : m.end() + 15], re.I):
        return False
    if re.match(r"[ -]*(?:early|premature|preterm|prem|gestation(?:al)?)\b", text[m.end() :], re.I):
        return False
    if re.search(
        r"\bborn\b[\w\s,]{0,12}\b(?:at|after)\s*$", text[max(0, m.start() - 30) : m.start()], re.I
    ):
        return False
    if re.search(r"\bas an?\b", text[m.end() : m.end() + 8], re.I):
        return False
    # "I've been with my husband for four years", "married for 10 years": a relationship's time
    if re.search(
        r"\b(?:married|dating|together|been with (?:my|her|his|our) [\w-]+)\s*$",
        text[max(0, m.start() - 40) : m.start()],
        re.I,
    ):
        return False
    after = re.findall(r"[\w']+", text[m.end() : m.end() + 20].lower())[:1]
    if set(after) & set(lex["duration_relative"]) or _just_before(
        text, m.start() + len(m.group(0)) - len(m.group(0).lstrip()), lex["duration_of_a_change"], 2
    ):
        return False
    # "A few days ago it went red": the time dates a change, not the bumps.
    if after == ["ago"]:
        at = clause.lower().find(m.group(0).lower())
        rest = clause[at + len(m.group(0)) :].lower()
        cues = [str(c).lower() for c in lex.get("change_after_ago", [])]
        began = [str(c).lower() for c in lex.get("appeared_before_ago", [])]
        began_first = any(re.search(rf"\b{re.escape(c)}\b", clause[:at].lower()) for c in began)
        if not began_first and any(re.search(rf"\b{re.escape(c)}\b", rest) for c in cues):
            return False
    return bool(BUMPS.search(clause)) and not EVENT.search(clause)


def _hedged(text: str, start: int, end: int, lex: Any) -> bool:
    before = text[max(0, start - 25) : start].lower()
    after = text[end : end + 12].lower()
    words = [str(w) for w in lex["hedges"]["preceding"]] + ["about?", "roughly?"]
    return "?" in after[:3] or any(re.search(rf"\b{re.escape(w)}\b\W*$", before) for w in words)


def _certainty(ent: Span) -> str:
    if getattr(ent._, "past", False):
        return PAST
    if getattr(ent._, "hedged", False):
        return UNCERTAIN
    return CERTAIN


def _unit(word: str) -> str:
    units = {"d": "day", "w": "week", "f": "fortnight", "m": "month", "y": "year"}
    return units.get(word[:1].lower(), "day")


def _size_number(said: str) -> float:
    """ "5", ".5", "1/2" as a number."""
    if "/" in said:
        top, bottom = said.split("/")
        return float(top) / float(bottom) if float(bottom) else 0.0
    return float(said)


def _mm(unit: str) -> float:
    return 10.0 if unit.lower().startswith("c") else 1.0


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)
