"""The ask box: answer a question with passages from the library, and nothing else.

Passages are the library's sections (a ``##`` heading and its text). They are ranked
by BM25 over the words (headings and titles weigh more), with the lexicon's spelling
variants folded in. A passage about a treatment always comes with that treatment's
safety section. Emergencies are recognised by the triage floors applied to what the
words say; a description of symptoms is offered the checker, pre-filled. When nothing
in the library matches well enough, the answer says so: it never invents a sentence.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from miliacheck.engine.case import Case
from miliacheck.engine.rules import holds
from miliacheck.engine.triage import LEVEL_RANK
from miliacheck.kb.load import KnowledgeBase
from miliacheck.text.reader import CERTAIN, read

if TYPE_CHECKING:
    from miliacheck.text.semantic import Embedder

WORD = re.compile(r"[a-z0-9]+")
CITE = re.compile(r"\s*\[@[^\]]+\]")
LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")
HEADING_WEIGHT = 3  # a heading word counts as this many body words (estimate)
TITLE_WEIGHT = 1  # a title word, in every passage of the article (estimate)
SUBJECT_BOOST = 1.0  # saying an article's name multiplies its passages' scores (estimate)
COORD = 1.0  # a passage matching part of the question's weight keeps that share (estimate)
K1, B = 1.2, 0.75  # BM25's usual constants
SEMANTIC_DEPTH = 20  # the semantic ranking's passages that enter the fusion (estimate)
MIN_SCORE = 1.5  # BM25: below this nothing in the library answers the question (estimate)
PLACE_WEIGHT = 3.0  # a place word, against a question word, in ranking its cautions (estimate)
PLACE_CAUTIONS = 2  # cautions about a place the question names, each from an article (estimate)
CUE_BOOST = 1.5  # a paragraph that warns in so many words, against one in a warning (estimate)
BABY = re.compile(r"\b(baby|newborn|bub)\b", re.I)
QUESTION = re.compile(
    r"\?|^\s*(what|why|how|when|where|who|which|can|could|should|is|are|do|does|did|will|would|may|might)\b",
    re.I,
)


@dataclass(frozen=True)
class Passage:
    article: str
    title: str
    heading: str
    text: str  # as shown: Markdown without citation markers
    references: tuple[str, ...]
    safety: bool  # a safety section
    treatment: bool  # belongs to a treatment article


_INDEX: dict[int, tuple[KnowledgeBase, Any]] = {}


def passages(kb: KnowledgeBase) -> list[Passage]:
    out: list[Passage] = []
    for a in kb.articles.values():
        sections = re.split(r"^(#{2,3} .*)$", a.body, flags=re.M)
        heading, chunks = a.title, [sections[0]]
        blocks: list[tuple[str, str]] = []
        for part in sections[1:]:
            if re.match(r"^#{2,3} ", part):
                blocks.append((heading, "".join(chunks)))
                heading, chunks = part.lstrip("#").strip(), []
            else:
                chunks.append(part)
        blocks.append((heading, "".join(chunks)))
        for head, raw in blocks:
            if not raw.strip():
                continue
            refs = tuple(
                dict.fromkeys(
                    re.findall(r"@([A-Za-z0-9_]+)", " ".join(re.findall(r"\[@[^\]]+\]", raw)))
                )
            )
            text = LINK.sub(r"\1", CITE.sub("", raw)).strip()
            safety = "safety" in head.lower() or text.lower().startswith("**safety")
            out.append(Passage(a.slug, a.title, head, text, refs, safety, a.kind == "treatment"))
    return out


def _stem(w: str) -> str:
    """A light suffix stripper: 'popping', 'popped' and 'pops' -> 'pop'; 'babies' -> 'baby';
    'painful' -> 'pain'; 'squeeze' and 'squeezing' -> 'squeez'. Short words stay."""
    if len(w) < 4 or not w.isalpha():
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix, keep in (("ing", 3), ("ed", 4), ("ful", 3), ("ness", 3), ("ly", 4), ("ment", 4)):
        if w.endswith(suffix) and len(w) - len(suffix) >= keep:
            w = w[: -len(suffix)]
            if suffix in ("ing", "ed") and len(w) > 3 and w[-1] == w[-2] and w[-1] in "bdgmnprt":
                w = w[:-1]
            break
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


def _fold_phrases(text: str, fold: dict[str, str]) -> str:
    """Multi-word spellings ('sebaceous cyst') are folded before the text is split."""
    for phrase, to in _phrases(fold):
        text = phrase.sub(to, text)
    return text


_PHRASES: dict[int, tuple[dict[str, str], list[tuple[re.Pattern[str], str]]]] = {}


def _phrases(fold: dict[str, str]) -> list[tuple[re.Pattern[str], str]]:
    cached = _PHRASES.get(id(fold))
    if cached is not None and cached[0] is fold:
        return cached[1]
    out = [
        (re.compile(rf"\b{re.escape(k)}\b"), v)
        for k, v in sorted(fold.items(), key=lambda kv: -len(kv[0]))
        if " " in k or "-" in k or "'" in k
    ]
    _PHRASES[id(fold)] = (fold, out)
    return out


def _words(text: str, fold: dict[str, str]) -> list[str]:
    out = []
    for w in WORD.findall(_fold_phrases(text.lower().replace("\u2019", "'"), fold)):
        w = fold.get(w, w)
        for part in w.split():
            if part in _STOP:
                continue
            out.append(_stem(part))
    return out


_STOP = frozenset(
    [
        "a",
        "about",
        "along",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "could",
        "do",
        "does",
        "done",
        "for",
        "from",
        "get",
        "got",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "so",
        "that",
        "the",
        "their",
        "them",
        "they",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "im",
        "ive",
        "dont",
        "u",
        "ur",
        "pls",
        "please",
        "he",
        "she",
        "him",
        "his",
        "her",
        "hers",
        "we",
        "our",
        "us",
        "been",
        "really",
        "very",
        "just",
        "also",
        "doesn",
        "don",
        "isn",
        "aren",
        "won",
        "wasn",
        "didn",
        "cant",
        "s",
        "t",
        "d",
        "ll",
        "re",
        "ve",
        "m",
    ]
)


@dataclass
class _Index:
    passages: list[Passage]
    docs: list[Counter[str]]  # body, heading and title words, the last two weighted
    df: Counter[str]
    avg: float
    fold: dict[str, str]
    subjects: dict[str, set[str]]  # article -> the words of its name (slug)
    subject_idf: dict[str, float]
    by_passage: dict[Passage, Counter[str]]
    units: dict[Passage, list[tuple[str, Counter[str]]]]  # its paragraphs and list items
    unit_avg: float  # their average length in words
    names: dict[str, set[str]]  # article -> the words of its name that tell it apart
    focus: set[str]  # the words that say what a question is about


def _index(kb: KnowledgeBase) -> _Index:
    cached = _INDEX.get(id(kb))
    if cached is not None and cached[0] is kb:
        return cast(_Index, cached[1])
    fold = {
        str(k).lower(): str(v).lower() for k, v in (kb.lexicon.get("ask_spellings") or {}).items()
    }
    ps = passages(kb)
    docs = []
    for p in ps:
        d = Counter(_words(p.text, fold))
        for w in _words(p.heading, fold):
            d[w] += HEADING_WEIGHT
        for w in _words(p.title, fold):
            d[w] += TITLE_WEIGHT
        docs.append(d)
    df: Counter[str] = Counter()
    for d in docs:
        df.update(d.keys())
    avg = sum(sum(d.values()) for d in docs) / max(1, len(docs))
    subjects = {a.slug: _name(a.slug, a.title, fold) for a in kb.articles.values()}
    sdf: Counter[str] = Counter(w for ws in subjects.values() for w in ws)
    n = max(1, len(subjects))
    subject_idf = {w: math.log(1 + n / c) for w, c in sdf.items()}
    units = {p: [(u, Counter(_words(u, fold))) for u in _units(p.text)] for p in ps}
    lengths = [sum(c.values()) for us in units.values() for _, c in us]
    unit_avg = sum(lengths) / max(1, len(lengths))
    names = _distinct_names(kb, subjects)
    done = {
        w
        for ph in kb.lexicon.get("ask_caution") or []
        if len(str(ph).split()) == 1
        for w in _words(str(ph), fold)
    }
    index = _Index(
        ps,
        docs,
        df,
        avg,
        fold,
        subjects,
        subject_idf,
        dict(zip(ps, docs, strict=True)),
        units,
        unit_avg,
        names,
        done | {w for ws in names.values() for w in ws},
    )
    _INDEX[id(kb)] = (kb, index)
    return index


UNIT = re.compile(r"\n\s*\n|\n(?=\s*[-*] )")


def _units(text: str) -> list[str]:
    """A passage's paragraphs and list items: where a passage speaks of a place."""
    return [u.strip() for u in UNIT.split(text) if u.strip()]


def _name(slug: str, title: str, fold: dict[str, str]) -> set[str]:
    """An article's name: its slug's words, the words of its title before a colon
    ('Stye and chalazion: ...'), and a one-word synonym in brackets ('(de-roofing)')."""
    extra: set[str] = set()
    if ":" in title:
        extra |= set(_words(re.sub(r"\([^)]*\)", " ", title.split(":")[0]), fold))
    for inner in re.findall(r"\(([^)\s]+)\)", title):
        extra |= set(_words(inner, fold))
    return set(_words(slug.replace("-", " "), fold)) | (extra - {_stem(g) for g in GENERIC})


def _terms(kb: KnowledgeBase, question: str) -> tuple[list[str], list[str]]:
    """The question's words in the library's spelling, and the words the library lacks.
    A misspelt word ('contageous') is read as the closest library word of the same start."""
    ix = _index(kb)
    terms: list[str] = []
    unknown: list[str] = []
    for t in _words(question, ix.fold) + _intents(kb, question):
        if t not in ix.df and len(t) >= 6:
            close = [
                c
                for c in difflib.get_close_matches(t, _vocabulary(kb), n=3, cutoff=0.85)
                if c[:2] == t[:2]
            ]
            t = close[0] if close else t
        (terms if t in ix.df else unknown).append(t)
    return terms, unknown


def _intents(kb: KnowledgeBase, question: str) -> list[str]:
    """The library's words for what a question asks ('why do...' asks for a cause, 'is it
    true that...' about a myth): the lexicon's ``ask_intents``."""
    ix = _index(kb)
    q = " ".join(WORD.findall(question.lower().replace("\u2019", "'").replace("'", "")))
    out: list[str] = []
    for target, phrases in (kb.lexicon.get("ask_intents") or {}).items():
        plain = [" ".join(WORD.findall(str(ph).lower().replace("'", ""))) for ph in phrases]
        if any(re.search(rf"\b{re.escape(ph)}\b", q) for ph in plain if ph):
            out.extend(_words(str(target), ix.fold))
    return out


_VOCAB: dict[int, tuple[KnowledgeBase, list[str]]] = {}


def _vocabulary(kb: KnowledgeBase) -> list[str]:
    cached = _VOCAB.get(id(kb))
    if cached is None or cached[0] is not kb:
        cached = (kb, sorted(_index(kb).df))
        _VOCAB[id(kb)] = cached
    return cached[1]


def subject_weight(kb: KnowledgeBase, article: str, terms: set[str]) -> float:
    """How much of an article's name the question says, weighted by how telling each
    name word is: 'stye' names one article, 'milia' a dozen."""
    ix = _index(kb)
    name = ix.subjects.get(article, set())
    total = sum(ix.subject_idf[w] for w in name)
    said = sum(ix.subject_idf[w] for w in name & terms)
    return said * said / total if total else 0.0


def lexical_scores(kb: KnowledgeBase, question: str) -> list[tuple[float, Passage]]:
    """Every passage with a positive score: BM25 over body, heading and title words,
    multiplied by how much of the article's name the question says."""
    ix = _index(kb)
    terms = list(dict.fromkeys(_terms(kb, question)[0]))
    n = len(ix.docs)
    said = set(terms)
    boost = {a: 1 + SUBJECT_BOOST * subject_weight(kb, a, said) for a in ix.subjects}
    idf = {t: math.log(1 + (n - ix.df[t] + 0.5) / (ix.df[t] + 0.5)) for t in terms}
    mass = sum(idf.values()) or 1.0
    out = []
    for p, d in zip(ix.passages, ix.docs, strict=True):
        length = sum(d.values())
        score = matched = 0.0
        for t in terms:
            f = d.get(t, 0)
            if f:
                score += idf[t] * f * (K1 + 1) / (f + K1 * (1 - B + B * length / ix.avg))
                matched += idf[t]
        if score > 0:
            coord = (matched / mass) ** COORD
            out.append((score * coord * boost.get(p.article, 1.0), p))
    return sorted(out, key=lambda x: -x[0])


def best_per_article(
    ranked: list[tuple[float, Passage]], limit: int
) -> list[tuple[float, Passage]]:
    best: dict[str, tuple[float, Passage]] = {}
    for score, p in ranked:
        if p.article not in best:
            best[p.article] = (score, p)
    return sorted(best.values(), key=lambda x: -x[0])[:limit]


def search(kb: KnowledgeBase, question: str, limit: int = 3) -> list[tuple[float, Passage]]:
    """The best passage of each of the best ``limit`` articles, by BM25 with title boost."""
    return best_per_article(lexical_scores(kb, question), limit)


GENERIC = frozenset(
    [
        "rash",
        "skin",
        "spot",
        "spots",
        "bump",
        "bumps",
        "lump",
        "lumps",
        "what",
        "when",
        "why",
        "how",
        "doctor",
        "see",
        "treatment",
        "treatments",
        "type",
        "types",
        "cause",
        "causes",
        "look",
        "like",
        "baby",
        "babies",
        "newborn",
        "white",
        "tiny",
        "small",
        "red",
        "yellow",
        "one",
        "wont",
        "pop",
        "when",
        "see",
    ]
)


NAMING = re.compile(
    r"\b(?:is it|is this|is that|are they|are these|could it be|could this be|might it be|"
    r"do i have|have i got|has she got|has he got|does she have|does he have)\s+"
    r"(?:a |an |the |just |really |maybe |probably )?([a-z'-]+(?: [a-z'-]+)?)",
    re.I,
)


def _domain(kb: KnowledgeBase) -> tuple[set[str], set[str]]:
    """The words that put a question in the library's field: the articles' names (their
    slugs, less generic words) and the lexicon's ``ask_domain`` words (bump, spot, eyelid...)."""
    ix = _index(kb)
    generic = {_stem(g) for g in GENERIC} | GENERIC
    subjects = {w for ws in ix.subjects.values() for w in ws} - generic
    extra = {str(w) for w in (kb.lexicon.get("ask_domain") or [])}
    domain = {w for e in extra for w in _words(e, ix.fold)}
    return subjects, domain


def out_of_scope(kb: KnowledgeBase, question: str, hits: list[tuple[float, Passage]]) -> bool:
    """Nothing in the library answers it. A question naming something the library is about
    (milia, a condition, a treatment) is in scope. Otherwise it is out of scope when it
    names a topic the library does not cover (the lexicon's ``ask_not_covered``), has no
    word of the library's field (bumps, spots, eyelids...), asks 'is it X?' of an X the
    library never mentions, or matches nothing well enough."""
    terms, _ = _terms(kb, question)
    if not hits or not terms:
        return True
    subjects, domain = _domain(kb)
    said = set(terms)
    if said & subjects:
        return False
    topics = [str(t) for t in (kb.lexicon.get("ask_not_covered") or [])]
    if any(re.search(rf"\b{re.escape(t)}\b", question, re.I) for t in topics):
        return True
    if not said & domain:
        return True
    ix = _index(kb)
    for m in NAMING.finditer(question):
        named = _words(m.group(1), ix.fold)
        if named and all(w not in ix.df and len(w) >= 4 for w in named[:1]):
            return True
    return hits[0][0] < MIN_SCORE


CAUTION_HEADINGS = re.compile(
    r"\b(not to do|never|do not|safety|safe|risks?|avoid|danger|harm|should not|myth)\b", re.I
)


def _cues(kb: KnowledgeBase) -> re.Pattern[str]:
    cues = [str(c) for c in (kb.lexicon.get("ask_caution_cues") or [])] or ["do not", "never"]
    return re.compile("|".join(rf"\b{re.escape(c)}\b" for c in cues), re.I)


def cautionary(kb: KnowledgeBase, p: Passage) -> bool:
    """A passage that warns: a safety note, a 'What not to do' section, or text that says
    at least twice what not to do ('do not', 'never', 'only by a professional'...)."""
    if p.safety or CAUTION_HEADINGS.search(p.heading):
        return True
    return len(_cues(kb).findall(p.text)) >= 2


def _mentions(kb: KnowledgeBase, key: str, question: str) -> bool:
    return _mentions_any([str(w) for w in (kb.lexicon.get(key) or [])], question)


def _cautions(
    kb: KnowledgeBase, ranked: list[tuple[float, Passage]], hits: list[tuple[float, Passage]]
) -> list[Passage]:
    """The library's cautions for a question about doing something to the skin: the
    best-matching cautionary passage of each article that answers it, and the first
    article's own 'What not to do' or safety section; the best in the library when none
    of them warns."""
    warn = [(s, p) for s, p in ranked if cautionary(kb, p)]
    out: list[Passage] = []
    for _, hit in hits:
        mine = [p for _, p in warn if p.article == hit.article]
        if mine:
            out.append(mine[0])
        if mine and len(out) == 1:
            own = next((p for p in mine if CAUTION_HEADINGS.search(p.heading)), None)
            if own is not None and own not in out:
                out.append(own)
    if not out and warn:
        out.append(warn[0][1])
    return out


def _place_cautions(
    kb: KnowledgeBase,
    question: str,
    hits: list[tuple[float, Passage]],
    shown: list[Passage],
) -> list[Passage]:
    """For a question about a place where the library always cautions (the lexicon's
    ``ask_caution_places``: library words -> the ways people say the place), the library's
    cautions about that place, the most relevant first (``place_ranking``). A candidate is
    a cautionary passage of an article that answers the question, that the question names
    (a treatment by its own name), or that is about no condition or treatment in particular
    ('when to see a doctor'): a caution about laser near the eye does not answer a question
    about a needle near the eye. At most ``PLACE_CAUTIONS`` per place, each from another
    article, and none whose words the answer already shows."""
    ix = _index(kb)
    terms = set(_terms(kb, question)[0])
    eligible = {p.article for _, p in hits} | {
        a for a, name in ix.names.items() if not name or name & terms
    }
    out: list[Passage] = []
    for words, phrases in (kb.lexicon.get("ask_caution_places") or {}).items():
        if not _mentions_any([str(p) for p in phrases], question):
            continue
        place = {w for w in _words(str(words), ix.fold) if w in ix.df}
        chosen: list[Passage] = []
        for _, text, p in place_ranking(kb, terms, place, eligible):
            if len(chosen) >= PLACE_CAUTIONS:
                break
            if any(q.article == p.article for q in chosen) or p in shown or p in out:
                continue
            if any(text in q.text for q in [*shown, *out, *chosen]):
                continue  # the same words in another article ('What not to do' repeated)
            chosen.append(p)
        out.extend(chosen)
    return out


def place_ranking(
    kb: KnowledgeBase, terms: set[str], place: set[str], articles: set[str]
) -> list[tuple[float, str, Passage]]:
    """The cautionary passages of ``articles`` that speak of a place and of what the question
    is about, best first, each with its score and the paragraph or list item it is scored
    by: the one that best matches the place and the rest of the question (what the person
    wants to do there, to what), by BM25 over paragraphs and list items, a word of the
    place weighing ``PLACE_WEIGHT`` times a word of the question, and ``CUE_BOOST`` times
    more when the paragraph itself warns ('do not', 'only by a professional': the lexicon's
    ``ask_caution_cues``). What a question is about: the single words of the lexicon's
    ``ask_caution`` (needle, squeeze, kit; its phrases carry words such as 'should') and
    the words that tell an article's name apart (milia, retinoid, laser, stye)."""
    ix = _index(kb)
    n = len(ix.docs)
    cues = _cues(kb)
    focus = (terms - place) & ix.focus  # what is done (needle, kit...), to or with what
    weight = {t: 1.0 for t in terms if t in ix.df} | dict.fromkeys(place, PLACE_WEIGHT)
    idf = {t: math.log(1 + (n - ix.df[t] + 0.5) / (ix.df[t] + 0.5)) for t in weight}
    scored: list[tuple[float, str, Passage]] = []
    for p in ix.passages:
        if p.article not in articles or not cautionary(kb, p):
            continue
        best: tuple[float, str] | None = None
        for text, c in ix.units[p]:
            if not place & c.keys() or not c.keys() & focus:
                continue  # silent on the place, or on what the question is about
            norm = K1 * (1 - B + B * sum(c.values()) / ix.unit_avg)
            score = sum(
                weight[t] * idf[t] * c[t] * (K1 + 1) / (c[t] + norm) for t in weight if c[t]
            )
            if cues.search(text):
                score *= CUE_BOOST  # it says itself what not to do there
            if best is None or score > best[0]:
                best = (score, text)
        if best is not None:
            scored.append((best[0], best[1], p))
    return sorted(scored, key=lambda x: -x[0])


def _distinct_names(kb: KnowledgeBase, subjects: dict[str, set[str]]) -> dict[str, set[str]]:
    """The words of each article's name that tell it apart: less generic words ('when to
    see a doctor' keeps none), and for a treatment, less the words of the conditions' and
    topics' names ('milia extraction' is named by 'extraction' or 'de-roofing', not 'milia')."""
    generic = {_stem(g) for g in GENERIC} | GENERIC
    kinds = {a.slug: a.kind for a in kb.articles.values()}
    shared = {w for a, ws in subjects.items() if kinds.get(a) != "treatment" for w in ws}
    return {
        a: ws - generic - (shared if kinds.get(a) == "treatment" else set())
        for a, ws in subjects.items()
    }


def _mentions_any(words: list[str], question: str) -> bool:
    q = question.replace("\u2019", "'")
    return any(re.search(rf"\b{re.escape(w)}\b", q, re.I) for w in words)


def _safety_notes(kb: KnowledgeBase, p: Passage) -> list[Passage]:
    """The safety note of every treatment a passage is about: its own article's when it
    belongs to a treatment article, and that of each treatment its heading names
    ('4. Laser treatment' in the overview comes with the laser article's safety note)."""
    ix = _index(kb)
    if p.safety:
        return []
    heading = set(_words(p.heading, ix.fold))
    generic = set(_words("milia treatment for", ix.fold))
    notes = []
    for q in ix.passages:
        if not q.safety or not q.treatment:
            continue
        named = ix.subjects.get(q.article, set()) - generic
        if q.article == p.article or (named and named <= heading):
            notes.append(q)
    return notes


def _phrase(ph: str) -> re.Pattern[str]:
    """A phrase of the lexicon as a pattern: whole words, any case, curly or straight
    apostrophes, '*' for up to three words ('hurts when * moves')."""
    cached = _PATTERNS.get(ph)
    if cached is None:
        parts = [
            r"\s+".join(re.escape(w) for w in part.split())
            for part in ph.lower().replace("\u2019", "'").split("*")
        ]
        body = r"(?:\s+\S+){0,3}\s+".join(p for p in parts if p)
        head = r"\b" if ph[:1].isalnum() else ""
        tail = r"\b" if ph[-1:].isalnum() else ""
        cached = _PATTERNS[ph] = re.compile(head + body + tail, re.I)
    return cached


_PATTERNS: dict[str, re.Pattern[str]] = {}

# Where a clause ends, for whose words these are and for how far a 'no' reaches.
CLAUSE = re.compile(
    r"[.,;:!?()]|\b(?:and|but|if|because|when|whenever|while|so|since|though|although|"
    r"whereas|however|yet|who|which|until|unless)\b",
    re.I,
)
NEGATION_REACH = 3  # words before a phrase that a 'no' or 'not' still negates (estimate)
# People other than the one described: the writer, the reader, anyone.
PEOPLE = re.compile(
    r"\b(?:i|i'm|im|i've|ive|i'd|me|myself|you|you're|someone|somebody|anyone|anybody|"
    r"everyone|everybody|people|visitor|visitors)\b",
    re.I,
)
# A person named as where something came from ('caught it from my husband'), not its owner.
SOURCE = re.compile(r"\b(?:from|by)\s+(?:(?:my|our|a|an|the|his|her|their|your)\s+)?$", re.I)
# A clause about catching or being kept from something, not about having it.
EXPOSURE = re.compile(
    r"\b(?:can|could|will|would|might|may|do|does)\b(?:\s+\S+){0,3}?\s+get\s+(?:a\s+|any\s+)?"
    r"(?:cold\s+sores?|herpes|blisters?|sores?|it|them)\b"
    r"|\b(?:catch|catching|protect|protecting|prevent|preventing|avoid|avoiding|kiss|kissed|"
    r"kisses|kissing|exposed|exposure|risk|risks|chance)\b",
    re.I,
)
FLOOR = "floor:"  # in a library rule, a phrase 'floor:<id>' holds when that triage floor does
BABY_AGE = 1.0  # below this age (years), whose words are whose decides the baby's floors
# Findings about someone else by what they mean: never the person's own words.
ABOUT_OTHERS = frozenset({"contact_with_similar", "family_history"})


def _negated(kb: KnowledgeBase, q: str, m: re.Match[str], ph: str) -> bool:
    """A phrase said after 'no', 'not', 'without'... (the reader's negation words) in the
    same clause and within ``NEGATION_REACH`` words, or with one in the words its '*' stood
    for ('eyelid isn't swollen'). The phrase's own words never negate it ('can't open')."""
    cues = _negation_cues(kb)
    before = CLAUSE.split(q[: m.start()])[-1]
    window = " ".join(re.findall(r"[\w']+", before)[-NEGATION_REACH:])
    if cues.search(window):
        return True
    own = set(re.findall(r"[\w']+", ph.lower()))
    gaps = [w for w in re.findall(r"[\w']+", m.group(0).lower()) if w not in own]
    return bool(gaps) and bool(cues.search(" ".join(gaps)))


_CUES: dict[int, tuple[KnowledgeBase, re.Pattern[str]]] = {}


def _negation_cues(kb: KnowledgeBase) -> re.Pattern[str]:
    cached = _CUES.get(id(kb))
    if cached is None or cached[0] is not kb:
        words = [str(w).lower() for w in (kb.lexicon.get("negations") or {}).get("preceding", [])]
        words = words or ["no", "not", "never", "without"]
        body = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        cached = _CUES[id(kb)] = (kb, re.compile(rf"(?<![\w'])(?:{body})(?![\w'])", re.I))
    return cached[1]


def _said(kb: KnowledgeBase, group: list[str], q: str) -> list[tuple[int, int]]:
    """Where the question says a phrase of the group, not negated."""
    return [
        m.span()
        for ph in group
        if not str(ph).startswith(FLOOR)
        for m in _phrase(str(ph)).finditer(q)
        if not _negated(kb, q, m, str(ph))
    ]


@dataclass(frozen=True)
class _Ref:
    start: int
    end: int
    theirs: bool  # the person described (the baby), or someone else


def _people(kb: KnowledgeBase, q: str, ages: list[tuple[int, int, float]]) -> list[_Ref]:
    """Who the words name: the baby described (a child noun, 'baby', an age under a year)
    or someone else (an adult or a brother or sister, the writer, 'someone', an older
    child's age, the writer's own lip)."""
    lex = kb.lexicon
    whose = lex.get("whose") or {}
    similar = lex.get("similar") or {}
    older = {str(w) for w, age in (lex.get("age_words") or {}).items() if float(age) >= BABY_AGE}
    refs: list[_Ref] = []

    def find(words: list[str], theirs: bool) -> None:
        for w in words:
            for m in _phrase(w).finditer(q):
                refs.append(_Ref(m.start(), m.end(), theirs))

    find([str(w) for w in whose.get("child") or [] if str(w) not in older], False)
    find(["baby", "newborn", "bub", "infant"], False)
    find([*(str(w) for w in whose.get("other") or []), *older], True)
    find([str(w) for w in similar.get("relatives") or []], True)
    refs += [_Ref(m.start(), m.end(), True) for m in PEOPLE.finditer(q)]
    places = [str(p) for ps in (lex.get("locations") or {}).values() for p in ps]
    for p in places:  # the writer's own body: 'a cold sore on my lip'
        refs += [_Ref(m.start(), m.end(), True) for m in _phrase(f"my {p}").finditer(q)]
    refs += [_Ref(s, e, age >= BABY_AGE) for s, e, age in ages]
    # The longest reading of each place wins ('my 2 week old' over 'old'...).
    refs.sort(key=lambda r: (r.start, -(r.end - r.start)))
    out: list[_Ref] = []
    for r in refs:
        if out and r.start < out[-1].end:
            continue
        if SOURCE.search(q[: r.start]):
            continue  # 'from my husband': where it came from
        out.append(r)
    return out


def _owner(q: str, span: tuple[int, int], refs: list[_Ref]) -> bool | None:
    """Whose the words at ``span`` are: the person described (False), someone else (True),
    or nobody's (None: the clause asks about catching it or keeping it away). The nearest
    person named in the same clause owns them, the one before on a tie; with none named,
    the person described."""
    start, end = span
    cuts = [m.end() for m in CLAUSE.finditer(q, 0, start)]
    left = max(cuts, default=0)
    after = CLAUSE.search(q, end)
    right = after.start() if after else len(q)
    if EXPOSURE.search(q[left:right]):
        return None
    best: tuple[int, int, bool] | None = None
    for r in refs:
        if r.start < left or r.end > right or (r.start < end and r.end > start):
            continue
        if r.end <= start:
            gap, side = len(WORD.findall(q[r.end : start].lower())), 0
        else:
            gap, side = len(WORD.findall(q[end : r.start].lower())), 1
        if best is None or (gap, side) < best[:2]:
            best = (gap, side, r.theirs)
    return best[2] if best else False


@dataclass
class _Reading:
    """What the words say for the emergency check: the person's findings, those of someone
    else named beside them, and where the ask box's own reading set the reader's aside."""

    mine: set[str]
    theirs: set[str]
    aside: list[tuple[int, int]]


def _ways(kb: KnowledgeBase, q: str, refs: list[_Ref] | None, describes: bool) -> _Reading:
    """The findings the lexicon's ``ask_emergency.findings`` recognise (each way is phrase
    groups, one phrase of each said and not negated). Said of a baby, each belongs to whom
    the nearest person named beside its last group's words is (``refs``; None: to the person
    described). In a question that describes nobody ('what causes a swollen eyelid?') they
    are what is asked about, not signs."""
    spec = kb.lexicon.get("ask_emergency") or {}
    out = _Reading(set(), set(), [])
    if not describes:
        return out
    for fid, ways in (spec.get("findings") or {}).items():
        for groups in ways:
            spans = [_said(kb, [str(p) for p in g], q) for g in groups]
            if not all(spans):
                continue
            for span in spans[-1]:
                out.aside.append(span)
                owner = _owner(q, span, refs) if refs is not None else False
                if owner is False:
                    out.mine.add(str(fid))
                elif owner:
                    out.theirs.add(str(fid))
    return out


@dataclass
class Emergency:
    """The ask box's emergency: the floors of urgent or above that hold, and the library's
    own sentences, each with its level; the advice is what the highest level says to do."""

    floors: list[Any]
    stated: list[tuple[str, str]]  # (article, sentence), the highest level first
    advice: str | None

    @property
    def flagged(self) -> bool:
        return bool(self.floors or self.stated)


def _library(
    kb: KnowledgeBase, q: str, fired: set[str], describes: bool
) -> list[tuple[str, str, str, set[str]]]:
    """The emergencies the library states itself (``ask_emergency.library``), each as
    (level, article, sentence, the floors it stands for). A rule holds when each of its
    groups does: one of its phrases said (not negated) in words that describe someone, or
    for a phrase 'floor:<id>', that floor holding (``fired``). Its level is that of the
    floors it names, else emergency."""
    spec = kb.lexicon.get("ask_emergency") or {}
    level_of = {str(r.id): str(r.level) for r in kb.triage.floors}
    out: list[tuple[str, str, str, set[str]]] = []
    for rule in spec.get("library") or []:
        groups = [[str(p) for p in g] for g in rule["all"]]
        named = {p[len(FLOOR) :] for g in groups for p in g if p.startswith(FLOOR)}

        def holds_group(group: list[str]) -> bool:
            if any(p.startswith(FLOOR) and p[len(FLOOR) :] in fired for p in group):
                return True
            return describes and bool(_said(kb, group, q))

        if not all(holds_group(g) for g in groups):
            continue
        levels = [level_of[f] for f in named & fired]
        level = max(levels, key=LEVEL_RANK.__getitem__) if levels else "emergency"
        sentence = library_sentence(kb, rule["article"], rule["says"])
        if sentence:
            out.append((level, str(rule["article"]), sentence, named & fired))
    return out


def emergency(kb: KnowledgeBase, question: str) -> Emergency:
    """Whether the words describe an emergency, and what to do now (``_emergency``)."""
    q = question[:1000].replace("\u2019", "'")
    described, extra = _case_from(kb, q)
    return _emergency(kb, q, described, extra)


def _emergency(
    kb: KnowledgeBase, q: str, described: dict[str, Any], extra: dict[str, Any]
) -> Emergency:
    """Whether the words describe an emergency, and what to do now. The triage floors of
    urgent or above decide with the age (a baby with no age said is checked as a young
    baby), on what the reader reads and the lexicon's ways of saying a red flag. When the
    age is a baby's, words said of someone else named beside them ('I have a cold sore')
    are checked as theirs (an adult's), and words about catching something ('can my
    newborn catch cold sores?') as nobody's. A library rule naming a floor stands instead
    of that floor's instruction; the advice is what the highest level says."""
    understood: list[Any] = extra["understood"]
    age = extra["age_years"]
    if age is None:
        # "my baby ..." with no age: check it as a young baby, the cautious reading.
        age = 0.1 if BABY.search(q) else 30.0
    baby = float(age) < BABY_AGE
    ages = [(u.start, u.end, float(u.value)) for u in understood if u.field == "age_years"]
    refs = _people(kb, q, ages) if baby else None
    found = _ways(kb, q, refs, extra["describes"])
    mine, theirs = set(found.mine), set(found.theirs)
    first: dict[str, bool] = {}
    for u in understood:
        if u.certainty == CERTAIN and u.field.startswith("findings."):
            first.setdefault(u.field[9:], bool(u.value))
    for u in understood:
        fid = u.field[9:]
        if u.certainty != CERTAIN or not u.field.startswith("findings.") or not first[fid]:
            continue
        if not u.value or fid in extra["asked_about"]:
            continue
        if any(u.start < e and s < u.end for s, e in found.aside):
            continue  # the lexicon's way reads these words (said of whom it finds)
        owner = False if refs is None or fid in ABOUT_OTHERS else _owner(q, (u.start, u.end), refs)
        if owner is False:
            mine.add(fid)
        elif owner:
            theirs.add(fid)
    probes = [
        Case(
            age_years=float(age),
            locations=tuple(described.get("locations", [])) or None,
            findings=dict.fromkeys(mine, True),
        )
    ]
    if theirs:
        probes.append(Case(age_years=30.0, findings=dict.fromkeys(theirs, True)))
    floors = [
        r
        for r in kb.triage.floors
        if LEVEL_RANK[r.level] >= LEVEL_RANK["urgent"] and any(holds(r.when, p) for p in probes)
    ]
    stated = _library(kb, q, {str(r.id) for r in floors}, extra["describes"])
    replaced = {f for *_, named in stated for f in named}
    said: list[tuple[str, str]] = [
        (r.level, r.instruction or r.reason) for r in floors if str(r.id) not in replaced
    ]
    said += [(level, s) for level, _, s, _ in stated]
    top = max((LEVEL_RANK[level] for level, _ in said), default=None)
    advice = " ".join(dict.fromkeys(s for level, s in said if LEVEL_RANK[level] == top)) or None
    stated.sort(key=lambda x: -LEVEL_RANK[x[0]])
    return Emergency(floors, [(a, s) for _, a, s, _ in stated], advice)


def library_sentence(kb: KnowledgeBase, slug: str, fragment: str) -> str | None:
    """The line of an article (a bullet or a paragraph) that contains ``fragment``, as
    shown: without citation markers, links, list marks or bold marks."""
    article = kb.articles.get(slug)
    if article is None:
        return None
    for line in article.body.splitlines():
        shown = LINK.sub(r"\1", CITE.sub("", line)).replace("**", "").strip().lstrip("-* ")
        if fragment.lower() in shown.lower():
            return shown.strip()
    return None


def _case_from(kb: KnowledgeBase, question: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The case the words describe (stated readings) and what an emergency check may use:
    uncertain ages too ("my newborn has a fever" is about a newborn), and not the findings
    read only from the name of a condition in a question that describes nobody ('is
    periorbital cellulitis dangerous' asks about cellulitis; 'my son has cellulitis',
    'toddler with cellulitis and fever' and a bare 'cellulitis' may be about someone)."""
    case: dict[str, Any] = {}
    findings: dict[str, bool] = {}
    age_any: float | None = None
    understood = read(kb, question)
    someone = any(u.field == "whose" for u in understood)
    named: set[str] = set()  # findings read from a condition's name
    described: set[str] = set()  # ... and from other words
    for u in understood:
        if u.field == "age_years" and age_any is None:
            age_any = float(u.value)
        if u.certainty != CERTAIN:
            continue
        if u.field.startswith("findings."):
            (named if _names_an_article(kb, u.text) else described).add(u.field[9:])
        if u.field.startswith("findings.") and u.field[9:] not in findings:
            findings[u.field[9:]] = bool(u.value)
        elif u.field == "locations":
            case.setdefault("locations", [])
            if u.value not in case["locations"]:
                case["locations"].append(u.value)
        elif u.field in ("age_years", "sex", "colour", "count", "size_mm") and u.field not in case:
            case[u.field] = u.value
        elif u.field == "duration_days" and isinstance(u.value, float):
            case.setdefault("duration_days", u.value)
    if findings:
        case["findings"] = findings
    # A question that names a condition and says nothing of a person (whose bumps, an age,
    # a baby, another finding) asks about the condition; anything else may describe someone.
    someone = someone or age_any is not None or bool(BABY.search(question)) or bool(described)
    about = bool(QUESTION.search(question)) and not someone
    asked_about = named if about else set()
    return case, {
        "age_years": case.get("age_years", age_any),
        "asked_about": asked_about,
        "describes": not about,
        "understood": understood,
    }


def _names_an_article(kb: KnowledgeBase, text: str) -> bool:
    """Words that are all words of an article's name ('cellulitis', 'cold sores'), that is
    of a condition, treatment or topic the library has a page on."""
    ix = _index(kb)
    words = set(_words(text, ix.fold))
    return bool(words) and any(words <= name for name in ix.names.values() if name)


def ranking(
    kb: KnowledgeBase, question: str, embedder: Embedder | None
) -> tuple[list[tuple[float, Passage]], list[tuple[float, Passage]]]:
    """The lexical ranking, and the ranking to show: the same without an embedder, else
    the lexical and semantic rankings fused (reciprocal rank fusion)."""
    lexical = lexical_scores(kb, question)
    if embedder is None:
        return lexical, lexical
    from miliacheck.text.semantic import fuse, passage_vectors, similarities

    ix = _index(kb)
    vectors = passage_vectors(embedder, [embedding_text(p) for p in ix.passages])
    sims = similarities(embedder, question, vectors)
    order = sorted(range(len(ix.passages)), key=lambda i: -sims[i])[:SEMANTIC_DEPTH]
    semantic = [ix.passages[i] for i in order]
    return lexical, fuse([[p for _, p in lexical], semantic])


def embedding_text(p: Passage) -> str:
    """What a passage's embedding is computed from: its article's title, its heading and
    its text (the model reads the first 256 word pieces)."""
    return f"{p.title}. {p.heading}. {p.text}"


def ask(
    kb: KnowledgeBase,
    question: str,
    *,
    semantic: bool = True,
    embedder: Embedder | None = None,
) -> dict[str, Any]:
    """The answer of the issue's shape: passages, emergency, out of scope, checker offer.
    Semantic search joins the lexical one when the extra is installed (or an ``embedder``
    is given), unless ``semantic`` is false."""
    if semantic and embedder is None:
        from miliacheck.text.semantic import default_embedder

        embedder = default_embedder()
    question = question[:1000].replace("\u2019", "'")
    described, extra = _case_from(kb, question)
    age = extra["age_years"]
    if age is None:
        # "my baby ..." with no age: check it as a young baby, the cautious reading.
        age = 0.1 if BABY.search(question) else 30.0
    now = _emergency(kb, question, described, extra)
    emergency, advice, stated = now.flagged, now.advice, now.stated
    lexical, ranked = ranking(kb, question, embedder if semantic else None)
    lexical_hits = best_per_article(lexical, 3)
    hits = best_per_article(ranked, 3)
    nothing = out_of_scope(kb, question, lexical_hits)
    shown: list[Passage] = []
    if hits and (not nothing or emergency):  # in an emergency, show what the library says too
        diy = _mentions(kb, "ask_caution", question)
        if diy and not nothing:
            # A question about doing something to the skin gets the library's caution first.
            # The ranking (semantic too) picks the articles; within each, the caution whose
            # words match the question best ('squeeze' -> 'What happens when you squeeze').
            worded = {p for _, p in lexical}
            shown.extend(
                _cautions(kb, [*lexical, *(x for x in ranked if x[1] not in worded)], hits)
            )
        best = lexical_hits[0][0] if lexical_hits else 0.0
        lexical_score = {p: score for score, p in lexical}
        for i, (_, p) in enumerate(hits):
            if i == 0 or lexical_score.get(p, 0.0) >= max(MIN_SCORE, 0.5 * best):
                shown.append(p)
        places = [] if nothing or emergency else _place_cautions(kb, question, hits, shown)
        for i, c in enumerate(places):
            # Near the eye, the library's cautions for that place come right after the answer
            # (not in an emergency: then what to do now comes first and stands alone).
            shown.insert(1 + i, c)
    for slug, sentence in reversed(stated):  # the library's own word on the emergency first
        said = next(
            (
                p
                for p in _index(kb).passages
                if p.article == slug and sentence in p.text.replace("**", "")
            ),
            None,
        )
        if said is not None:
            shown = [said, *(p for p in shown if p != said)]
    out: list[Passage] = []
    for p in shown:  # a passage about a treatment always comes with its safety note
        for q in [p, *_safety_notes(kb, p)]:
            if q not in out:
                out.append(q)
    shown = out
    fields = sum(1 for k in described if k != "age_years") + len(described.get("findings", {}))
    offer = not emergency and fields >= 2 and not QUESTION.search(question)
    if described.get("locations") and not QUESTION.search(question.split(".")[0]):
        offer = offer or (not emergency and fields >= 2)
    checker_case = None
    if offer:
        checker_case = {
            "age_years": float(age),
            **{k: v for k, v in described.items() if k != "age_years"},
        }
        checker_case["narrative"] = question
    return {
        "passages": [
            {
                "text": p.text,
                "article": f"/library/{p.article}",
                "title": p.title,
                "heading": p.heading,
                "references": [
                    {"id": rid, **kb.references[rid].model_dump(mode="json", exclude_none=True)}
                    for rid in p.references
                    if rid in kb.references
                ],
            }
            for p in shown
        ],
        "emergency": emergency,
        "emergency_advice": advice,
        "out_of_scope": nothing and not emergency,
        "offer_checker": offer,
        "checker_case": checker_case,
    }
