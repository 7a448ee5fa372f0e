"""The ask box: passages from the library only, emergencies, out of scope, the checker offer."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from miliacheck.api import create_app
from miliacheck.kb.load import KnowledgeBase
from miliacheck.store import Store
from miliacheck.text.ask import (
    Passage,
    _safety_notes,
    _stem,
    ask,
    cautionary,
    library_sentence,
    passages,
)


@pytest.fixture
def client(kb: KnowledgeBase, store: Store) -> TestClient:
    return TestClient(create_app(kb=kb, store=store), raise_server_exceptions=False)


def test_the_answer_has_the_issue_shape_and_every_passage_is_library_text(
    kb: KnowledgeBase,
) -> None:
    a = ask(kb, "can I pop milia with a needle?")
    assert set(a) == {
        "passages",
        "emergency",
        "emergency_advice",
        "out_of_scope",
        "offer_checker",
        "checker_case",
    }
    library = {p.text for p in passages(kb)}
    assert a["passages"] and all(p["text"] in library for p in a["passages"])
    assert any("needle" in p["text"].lower() for p in a["passages"])
    assert all(p["article"].startswith("/library/") and p["references"] for p in a["passages"])


def test_a_treatment_passage_comes_with_its_safety_note(kb: KnowledgeBase) -> None:
    a = ask(kb, "how does a chemical peel work on milia")
    peels = [p for p in a["passages"] if p["article"] == "/library/chemical-peels"]
    assert peels and any(
        "safety" in p["heading"].lower() or p["text"].lower().startswith("**safety") for p in peels
    )


@pytest.mark.parametrize(
    "question",
    [
        "my eye is swollen shut",
        "his eyelid is so swollen he can barely open his eye",
        "my 3 week old has a fever and white spots",
        "2 month old baby has a temperature of 38.5",
    ],
)
def test_an_emergency_is_recognised_with_what_to_do_now(kb: KnowledgeBase, question: str) -> None:
    a = ask(kb, question)
    assert a["emergency"] is True and a["emergency_advice"]


@pytest.mark.parametrize(
    "question",
    ["How do I file my self assessment tax return?", "Recipe for banana bread without eggs"],
)
def test_out_of_scope_questions_get_no_passage(kb: KnowledgeBase, question: str) -> None:
    a = ask(kb, question)
    assert a["out_of_scope"] is True and a["passages"] == []


def test_a_description_is_offered_the_checker_prefilled(kb: KnowledgeBase) -> None:
    a = ask(kb, "tiny hard white bumps under both eyes for months, squeezing does nothing")
    assert a["offer_checker"] is True
    assert a["checker_case"]["locations"] == ["under_eyes"]
    assert a["checker_case"]["findings"]["firm"] is True


def test_the_api_and_the_page(client: TestClient) -> None:
    r = client.post("/api/v1/ask", json={"question": "will my baby's white spots go away?"})
    assert r.status_code == 200 and r.json()["passages"]
    for bad, field in (
        ({}, "question"),
        ({"question": ""}, "question"),
        ({"question": 3}, "question"),
        ({"question": "x", "mood": 1}, "mood"),
    ):
        r = client.post("/api/v1/ask", json=bad)
        assert r.status_code == 422 and field in [e["field"] for e in r.json()["errors"]]
    assert client.get("/ask").status_code == 200
    form = {"question": "can I pop milia with a needle?"}
    token = client.cookies.get("mc_csrf")  # the page's form token, where pages use one
    page = client.post("/ask", data={**form, "csrf_token": token} if token else form)
    assert page.status_code == 200 and "/library/" in page.text
    assert page.headers["x-robots-tag"].startswith("noindex")


def test_the_question_set_figures_hold(kb: KnowledgeBase) -> None:
    from miliacheck.evaluation_text import read_jsonl, score_questions
    from tests.conftest import DATA

    q = score_questions(kb, read_jsonl(DATA / "text" / "questions.jsonl"))
    # The issue's bar: 90 % top-1 on the lexical path, every emergency flagged, every
    # safety question answered with its cautionary passage, every out-of-scope refused.
    assert q["top1_article"] >= 0.9
    assert q["emergencies_flagged"] == "12/12"
    assert q["out_of_scope_refused"] == "10/10"
    assert q["safety_cautions"] == "23/23"


# The questions below are the tests' own, written for these fixes; none is from the
# question set (tests/data/text/questions.jsonl).


def _lexical(kb: KnowledgeBase, question: str) -> dict[str, object]:
    return ask(kb, question, semantic=False)


def _first(answer: dict[str, object]) -> str | None:
    shown = answer["passages"]
    assert isinstance(shown, list)
    return str(shown[0]["article"]).removeprefix("/library/") if shown else None


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("popping", "pop"),
        ("popped", "pop"),
        ("pops", "pop"),
        ("babies", "baby"),
        ("squeezing", "squeez"),
        ("squeeze", "squeez"),
        ("scarring", "scar"),
        ("swelling", "swell"),
        ("milia", "milia"),
        ("psoriasis", "psoriasis"),
    ],
)
def test_words_are_reduced_to_one_form(word: str, stem: str) -> None:
    assert _stem(word) == stem


@pytest.mark.parametrize(
    ("question", "articles"),
    [
        ("do milia hurt", {"milia", "milia-faq"}),
        ("what is a milium made of", {"why-milia-wont-pop", "milia-causes", "milia", "milia-faq"}),
        ("how is de-roofing done", {"milia-extraction", "milia-treatments"}),
        ("can steroid creams cause milia", {"milia-causes", "secondary-milia", "milia-types"}),
        ("my son has molluscum, can he go swimming", {"molluscum-contagiosum"}),
        ("will a chalazion go away by itself", {"stye-chalazion"}),
        ("what helps prickly heat in a toddler", {"heat-rash"}),
        ("is erythema toxicum contagious", {"erythema-toxicum-neonatorum"}),
        ("can I get cold sores from my partner", {"cold-sores-herpes"}),
        ("how to stop getting milia on my face", {"milia-prevention-skincare"}),
        ("is freezing milia painful", {"cryotherapy"}),
        ("yellow bumps on eyelids cholesterol", {"xanthelasma"}),
        ("is it true that milia are caused by dirt", {"milia-myths", "milia-faq"}),
        ("why do some people get milia after a burn", {"secondary-milia", "milia-causes"}),
    ],
)
def test_the_first_passage_is_from_the_article_that_answers(
    kb: KnowledgeBase, question: str, articles: set[str]
) -> None:
    assert _first(_lexical(kb, question)) in articles


@pytest.mark.parametrize(
    "question",
    [
        "my son's eye has puffed up so much he can't open it",
        "seeing double since the stye got bigger",
        "it hurts when my daughter moves her eye and the lid is red",
        "my 6 week old is burning up, 38.2",
        "my baby is very sleepy and won't wake for feeds, and has white spots",
        "my 2 month old has a high pitched cry and spots",
        "my little girl has cold sores in her mouth and is really sleepy and not herself",
    ],
)
def test_emergencies_in_other_words_are_flagged(kb: KnowledgeBase, question: str) -> None:
    a = _lexical(kb, question)
    assert a["emergency"] is True and a["emergency_advice"]


@pytest.mark.parametrize(
    "question",
    [
        "do milia hurt",
        "my 30 year old sister has milia under her eyes",
        "how long do milk spots on a newborn last",
        "can I get cold sores from my partner",
    ],
)
def test_calm_questions_are_not_emergencies(kb: KnowledgeBase, question: str) -> None:
    assert _lexical(kb, question)["emergency"] is False


def test_an_emergency_the_library_states_shows_its_own_sentence_first(kb: KnowledgeBase) -> None:
    a = _lexical(kb, "my son has herpes sores in his mouth and is now very drowsy")
    advice = library_sentence(kb, "cold-sores-herpes", "becomes drowsy")
    assert a["emergency"] is True and advice and advice in str(a["emergency_advice"])
    assert advice in a["passages"][0]["text"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("question", "article"),
    [
        ("can I squeeze out a chalazion at home", "stye-chalazion"),
        ("can I use a needle to drain a cyst on my back", "epidermoid-cyst"),
        ("can I put tea tree oil on my newborn's milk spots", "milia-in-babies"),
        ("can I cut off the yellow patches on my eyelid myself", "xanthelasma"),
        ("is it safe to use retinol while pregnant", "retinoids"),
        ("is it safe to scrape milia off with a razor blade", None),
    ],
)
def test_a_do_it_yourself_question_gets_the_library_caution_first(
    kb: KnowledgeBase, question: str, article: str | None
) -> None:
    a = _lexical(kb, question)
    first = a["passages"][0]  # type: ignore[index]
    shown = [p for p in passages(kb) if p.text == first["text"]]
    assert shown and cautionary(kb, shown[0])
    if article:
        assert any(p["article"] == f"/library/{article}" for p in a["passages"])  # type: ignore[attr-defined]


def test_a_question_about_the_eye_area_gets_a_caution_about_it(kb: KnowledgeBase) -> None:
    a = _lexical(kb, "what can be done about milia along my lash line")
    texts = [str(p["text"]) for p in a["passages"]]  # type: ignore[attr-defined]
    cautions = [p for p in passages(kb) if p.text in texts and cautionary(kb, p)]
    assert any("eye" in p.text.lower() for p in cautions)


def test_a_treatment_named_in_the_overview_comes_with_its_safety_note(kb: KnowledgeBase) -> None:
    laser = next(
        p for p in passages(kb) if p.article == "milia-treatments" and "Laser" in p.heading
    )
    notes = _safety_notes(kb, laser)
    assert [n.article for n in notes] == ["laser-treatment"] and notes[0].safety


OUT = [
    "what is the best shampoo for an itchy scalp",
    "how do I lower my blood pressure",
    "what's a good diet for losing weight",
    "do I need a tetanus jab after a dog bite",
    "what causes ingrown toenails",
    "how can I treat a urinary tract infection",
    "why is my hair going grey",
    "how do I treat a bee sting",
    "itchy ring shaped rash on my arm, is it ringworm?",
]


@pytest.mark.parametrize("question", OUT)
def test_out_of_scope_without_the_list_of_uncovered_topics(
    kb: KnowledgeBase, question: str
) -> None:
    """Refused because the library lacks the subject, not because a list names it."""
    bare = replace(kb, lexicon={**kb.lexicon, "ask_not_covered": []})
    a = _lexical(bare, question)
    assert a["out_of_scope"] is True and a["passages"] == []


@pytest.mark.parametrize(
    "question",
    [
        "lil white things on my eyelids, wat r they",
        "my nan has tiny white bumps near her eyebrows",
        "how is de-roofing done",
        "are Epstein pearls harmful",
        "white coating on my baby's tongue that won't wipe off",
        "do I need to see a dermatologist for milia",
    ],
)
def test_in_scope_questions_are_not_refused(kb: KnowledgeBase, question: str) -> None:
    bare = replace(kb, lexicon={**kb.lexicon, "ask_not_covered": []})
    for base in (kb, bare):
        a = _lexical(base, question)
        assert a["out_of_scope"] is False and a["passages"]


def _shown(kb: KnowledgeBase, answer: dict[str, object]) -> list[Passage]:
    """The library passages an answer shows, in order."""
    library = {(f"/library/{p.article}", p.text): p for p in passages(kb)}
    return [library[(p["article"], p["text"])] for p in answer["passages"]]  # type: ignore[attr-defined]


EYE = re.compile(r"\beye(s|lids?)?\b", re.I)


@pytest.mark.parametrize(
    "question",
    [
        "can I use a pin on milia near my eye",
        "can I dig out the milia on my eyelids with a pin",
        "is it ok to scrape the white bumps under my eyes with tweezers",
    ],
)
def test_doing_something_near_the_eye_gets_the_eye_caution_of_more_than_one_article(
    kb: KnowledgeBase, question: str
) -> None:
    shown = _shown(kb, _lexical(kb, question))
    warned = {p.article for p in shown if cautionary(kb, p) and EYE.search(p.text)}
    assert len(warned) >= 2


def test_a_caution_about_another_treatment_near_the_eye_is_not_shown(kb: KnowledgeBase) -> None:
    """Laser's eyelid risks do not answer a question that names no laser."""
    for question in ("what can be done about milia along my lash line", "milia on my eyelid?"):
        articles = {p.article for p in _shown(kb, _lexical(kb, question))}
        assert "laser-treatment" not in articles


def test_the_eye_cautions_come_right_after_the_answer(kb: KnowledgeBase) -> None:
    shown = _shown(kb, _lexical(kb, "can I use a pin on milia near my eye"))
    assert shown[0].article == "milia-myths"  # the answer
    assert all(cautionary(kb, p) and EYE.search(p.text) for p in shown[1:3])


def test_the_eye_caution_about_the_same_action_ranks_first(kb: KnowledgeBase) -> None:
    """Ranked by the paragraph that speaks of the eye and of what is done there."""
    from miliacheck.text.ask import _terms, place_ranking

    eye = {"eye", "eyelid"}
    everywhere = {p.article for p in passages(kb)}
    for question, said in (
        ("a needle near the eye", "needle"),
        ("acid near the eyes", "acid"),
        ("laser near the eye", "laser"),
    ):
        terms = set(_terms(kb, question)[0])
        _, paragraph, _ = place_ranking(kb, terms, eye, everywhere)[0]
        assert said in paragraph.lower() and EYE.search(paragraph)


def test_an_emergency_near_the_eye_is_not_diluted_with_routine_cautions(kb: KnowledgeBase) -> None:
    a = _lexical(
        kb, "I picked at a milium on my eyelid and now it is red hot and swollen and I feel unwell"
    )
    assert a["emergency"] is True
    text = " ".join(str(p["text"]) for p in a["passages"]).lower()  # type: ignore[attr-defined]
    assert "contact the clinic" not in text and "book an appointment" not in text


@pytest.mark.parametrize(
    ("question", "article"),
    [
        ("is periorbital cellulitis dangerous", "periorbital-cellulitis"),
        ("what causes periorbital cellulitis", "periorbital-cellulitis"),
        ("how is cellulitis treated", "periorbital-cellulitis"),
        ("how long does periorbital cellulitis last?", "periorbital-cellulitis"),
    ],
)
def test_a_question_about_a_condition_by_name_is_answered_not_flagged(
    kb: KnowledgeBase, question: str, article: str
) -> None:
    a = _lexical(kb, question)
    assert a["emergency"] is False and _first(a) == article


@pytest.mark.parametrize(
    "question",
    [
        "my eye is swollen shut",
        "my baby's eyelid is red and swollen and she has a fever",
        "my son has cellulitis round his eye",
        "toddler with cellulitis and fever",
        "is periorbital cellulitis dangerous for a baby",  # perhaps theirs: the cautious side
        "cellulitis",  # no question: perhaps a description
    ],
)
def test_the_same_words_said_of_someone_are_still_flagged(kb: KnowledgeBase, question: str) -> None:
    a = _lexical(kb, question)
    assert a["emergency"] is True and a["emergency_advice"]


# Blisters, sores or cold sores on a baby under 6 weeks, and a red or swollen eyelid,
# said of someone: flagged, with what the library says to do (not the floor's wording).
NEWBORN_HERPES = "especially one under 6 weeks old"
EYELID_TODAY = "any red, swollen, tender eyelid should be seen the same day"


@pytest.mark.parametrize(
    "question",
    [
        "newborn with cold sores",
        "cold sores on a 2 week old",
        "herpes on a newborn",
        "3 week old baby with a cold sore",
        "my 10 day old has blisters",
        "tiny blisters on my newborn's chest",
        "my daughter is 3 weeks old. she has blisters on her lip",
        "my 3 week old has sores in her mouth",
        "I think my newborn has a cold sore",
        "is it safe to put cream on my newborn's cold sore",
    ],
)
def test_a_baby_under_6_weeks_with_blisters_or_sores_gets_the_library_emergency(
    kb: KnowledgeBase, question: str
) -> None:
    a = _lexical(kb, question)
    advice = str(a["emergency_advice"])
    assert a["emergency"] is True and NEWBORN_HERPES in advice
    assert "see a doctor today" not in advice  # the library's A&E, not the floor's 'today'
    assert "**" not in advice  # shown as text, without the article's bold marks
    assert NEWBORN_HERPES in a["passages"][0]["text"]  # type: ignore[index]


@pytest.mark.parametrize(
    "question",
    [
        "I think my son has periorbital cellulitis, his eyelid is red and swollen",
        "why is my eyelid red and swollen?",
        "my daughter's eyelids are swollen",
        "swollen red eyelid since this morning",
    ],
)
def test_a_red_or_swollen_eyelid_said_of_someone_is_seen_the_same_day(
    kb: KnowledgeBase, question: str
) -> None:
    a = _lexical(kb, question)
    assert a["emergency"] is True and EYELID_TODAY in str(a["emergency_advice"])
    assert _first(a) == "periorbital-cellulitis"


def test_the_advice_is_what_the_highest_level_says(kb: KnowledgeBase) -> None:
    """A red, swollen eyelid with a fever is the library's emergency; the same-day
    advice for the eyelid alone is not added to it, nor to an eye swollen shut."""
    a = _lexical(kb, "my eyelid is red and swollen and I have a fever")
    advice = str(a["emergency_advice"])
    assert a["emergency"] is True and "spreading skin with a fever" in advice
    assert EYELID_TODAY not in advice
    shut = str(_lexical(kb, "my son's eye is swollen shut")["emergency_advice"])
    assert "emergency department now" in shut and EYELID_TODAY not in shut


@pytest.mark.parametrize(
    "question",
    [
        # plain questions, about milia, cold sores or a condition by name
        "what are milia",
        "can I pop milia",
        "do milia go away",
        "what is a cold sore",
        "are cold sores dangerous for babies?",
        "is periorbital cellulitis dangerous",
        "what causes a swollen eyelid?",
        # babies with nothing that needs care now
        "will my baby's milk spots go away",
        "white spots on my newborn's nose",
        "my 2 week old has white bumps on her gums",
        "my 2 week old has white spots but no blisters or sores",
        # someone else's cold sore, or a question about catching one
        "I have a cold sore, can I kiss my 2 week old?",
        "my partner has a cold sore, can she hold our 3 week old?",
        "cold sore on my lip, is it ok to feed my newborn?",
        "can my newborn catch cold sores?",
        "how do I protect my newborn from cold sores",
        # the writer's own blisters or fever beside a baby's age
        "I have blisters on my nipples from feeding my 3 week old",
        "I have a fever and my 2 week old has spots",
        # an eyelid that is not red or swollen
        "my eyelid isn't red or swollen, just a white bump",
        "white bumps on my eyelids",
    ],
)
def test_these_are_not_emergencies(kb: KnowledgeBase, question: str) -> None:
    a = _lexical(kb, question)
    assert a["emergency"] is False and a["emergency_advice"] is None


def test_a_question_about_cold_sores_and_babies_gets_the_library_emergency_unflagged(
    kb: KnowledgeBase,
) -> None:
    """Nobody is described: no flag, but the answer holds what the library says to do."""
    for semantic in (False, True):
        a = ask(kb, "are cold sores dangerous for babies?", semantic=semantic)
        texts = " ".join(str(p["text"]) for p in a["passages"])  # type: ignore[attr-defined]
        assert a["emergency"] is False and NEWBORN_HERPES in texts


def test_the_lash_line_is_the_eyelid(kb: KnowledgeBase) -> None:
    for question in (
        "what can be done about milia along my lash line",
        "milia along her lash line",
    ):
        a = _lexical(kb, question)
        assert _first(a) != "cold-sores-herpes"
        assert "eyelid" in str(a["passages"][0]["text"]).lower()  # type: ignore[index]


def test_every_floor_a_library_rule_names_is_an_urgent_floor(kb: KnowledgeBase) -> None:
    """'floor:<id>' in the lexicon's ask_emergency.library: a floor that exists and is of
    urgent or above (else the rule never holds)."""
    from miliacheck.engine.triage import LEVEL_RANK
    from miliacheck.text.ask import FLOOR

    floors = {r.id: r.level for r in kb.triage.floors}
    named = [
        str(p)[len(FLOOR) :]
        for rule in kb.lexicon["ask_emergency"]["library"]
        for group in rule["all"]
        for p in group
        if str(p).startswith(FLOOR)
    ]
    assert named
    for fid in named:
        assert fid in floors and LEVEL_RANK[floors[fid]] >= LEVEL_RANK["urgent"], fid
