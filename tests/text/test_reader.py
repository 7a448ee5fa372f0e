"""Reading the person's own words, and merging them into the case by the format's rules."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from miliacheck.engine.case import parse_case
from miliacheck.kb.load import KnowledgeBase, load_kb
from miliacheck.service import assess_json
from miliacheck.text import read, with_narrative

KB = load_kb()


def stated(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for u in read(KB, text):
        if u.certainty == "stated":
            out.setdefault(u.field, []).append(u.value)
    return out


def test_the_issue_example_is_read_field_by_field() -> None:
    got = stated(
        "tiny hard white spots under both eyes for months, squeezing does nothing, not itchy"
    )
    assert got["locations"] == ["under_eyes"]
    assert got["findings.firm"] == [True]
    assert got["findings.squeeze_nothing"] == [True]
    assert got["findings.itchy"] == [False]
    assert got["colour"] == ["white"]


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("doesn't hurt at all", "findings.painful"),
        ("no itching", "findings.itchy"),
        ("it hasn't bled", "findings.bleeding"),
        ("they aren't growing", "findings.growing"),
        ("no fever, no temperature", "findings.fever"),
        ("nobody in the family has them", "findings.family_history"),
    ],
)
def test_a_negated_finding_is_read_as_absent(text: str, path: str) -> None:
    values = stated(text)[path]
    assert values and not any(values)


@pytest.mark.parametrize(
    ("text", "path", "certainty"),
    [
        ("maybe a bit itchy", "findings.itchy", "uncertain"),
        ("not sure if it's growing", "findings.growing", "uncertain"),
        ("it used to itch", "findings.itchy", "past"),
        ("it bled once last year", "findings.bleeding", "past"),
    ],
)
def test_hedged_and_past_mentions_stay_unknown(text: str, path: str, certainty: str) -> None:
    items = [u for u in read(KB, text) if u.field == path]
    assert items and all(u.certainty == certainty for u in items)
    case = with_narrative(KB, parse_case(KB, {"age_years": 30, "narrative": text}))[0]
    assert not case.known(path)


def test_history_told_in_the_past_is_still_history() -> None:
    assert stated("I had a basal cell cancer removed three years ago")[
        "findings.skin_cancer_history"
    ] == [True]


def test_ages_whose_and_durations() -> None:
    got = stated("I'm 32 and my 10 day old daughter has white spots on her nose since birth")
    assert got["whose"] == ["child"]
    assert got["age_years"] == [pytest.approx(10 / 365.25, abs=1e-3)]
    assert got["sex"][0] == "female"
    assert got["duration_days"] == ["since_birth"]
    shortly = stated("Since just after he was born he's had tiny white dots on his cheeks")
    assert shortly["duration_days"] == ["since_birth"]
    assert stated("I'm 45 and have had them for 3 months")["age_years"] == [45.0]
    assert stated("my son is 9, bumps for a couple of weeks")["duration_days"] == [14.0]
    assert stated("about 1-2mm across")["size_mm"] == [1.5]


def test_durations_without_a_number_and_times_that_date_something_else() -> None:
    assert stated("tiny white spots under my eyes for months")["duration_days"] == [90.0]
    # a time that dates a change is not how long the bump has been there
    got = stated(
        "I've had a small bump on my shoulder for years that never changed. "
        "A few days ago it went red and tender."
    )
    assert got["duration_days"] == [730.0]
    # writing for someone else, the writer's own bumps are not theirs
    other = stated(
        "My boyfriend has tiny white bumps on his forehead. "
        "I've got similar ones but mine have been there for years."
    )
    assert "duration_days" not in other
    # ... but a time when the bumps appeared still dates them, whatever they did since
    grew = stated("two lumps on his scalp that appeared about eight months ago and got bigger")
    assert grew["duration_days"] == [pytest.approx(243.5, abs=0.5)]
    # a sore is a lesion too: its time and place count ("months ago" is not a past sore)
    sore = stated("About six months ago I noticed a small sore on the tip of my nose")
    assert sore["duration_days"] == [pytest.approx(182.6, abs=0.5)]
    assert sore["locations"] == ["nose"] and "findings.painful" not in sore
    # a swelling is the problem too ("swollen for two days", the eyelid's own time)
    assert stated("My right eyelid has been swollen for two days.")["duration_days"] == [2.0]
    assert "duration_days" not in stated("My eyelid is sore. I've had a cough for six weeks.")


def test_one_bump_said_with_a_or_the_and_many_said_as_loads_of_them() -> None:
    # adjectives with commas, a sore or a stye, and "a few months ago" is no plural
    assert stated("She has a small, soft growth under her eye")["count"] == ["one"]
    assert stated("I have a cold sore on my lip")["count"] == ["one"]
    assert stated("What do you do for a stye on your eye?")["count"] == ["one"]
    assert stated("a few months ago I noticed a small pearly bump")["count"] == ["one"]
    assert stated("a lot of small, red and flesh colored bumps on my arms")["count"] == ["many"]
    assert stated("The roof of my baby's mouth is covered with small white bumps")["count"] == [
        "many"
    ]
    assert stated("My boyfriend's got a hard white spot on his eyelid")["count"] == ["one"]
    assert stated("The lump on his scalp has changed shape")["count"] == ["one"]
    assert stated("little white spots on his nose since birth, loads of them")["count"] == ["many"]
    assert stated("about 20 pearly dome-shaped bumps in his armpits")["count"] == ["many"]
    # a singular that is one of several is not one bump
    assert "count" not in stated("a white spot on his eyelid and others like it on his cheeks")
    assert "one" not in stated("a millimetre or two. I've never squeezed them").get("count", [])


def test_words_from_the_seventh_batch_of_real_questions() -> None:
    # pimples name the bumps, not a history of acne; breaking out easily is one
    assert "findings.acne" not in stated("My 5-month-old gets lots of little pimples")
    assert stated("I break out easily on my chin")["findings.acne"] == [True]
    # a relationship's time, a rate and 'one day' telling when are no durations
    husband = stated("I've been with my husband for four years and he just found three bumps")
    assert "duration_days" not in husband
    assert "duration_days" not in stated("I wash my face twice a day and the bumps stay")
    assert "duration_days" not in stated("One day I noticed bumps on my arm.")
    assert stated("I've had bumps for a day")["duration_days"] == [1.0]
    # a time ago that dates the finding of a bump does not make its place a past one
    got = stated("6 months ago I found a lump on my forehead.")
    assert got["locations"] == ["forehead"] and got["duration_days"] == [182.4]
    assert "locations" not in stated("Years ago I used to get blackheads on my nose.")
    # an area's radius is not the bumps' size; the corners of the mouth are the lips
    corners = stated("more spots at the corners of my mouth, with a radius of about 0.5 cm")
    assert corners["locations"] == ["lips"] and "size_mm" not in corners
    # a back that is a body part is no 'a few years back' (R180); an adverb is no back
    more = stated("My son has a bump on his arm. We noticed more on his back and armpits.")
    assert more["locations"] == ["arms", "back", "armpits"]
    assert "locations" not in stated("The temperature surged back up to over 38 degrees.")
    assert stated("a small growth at the medial canthus of my left eye")["locations"] == ["eyelids"]


def test_a_percentage_is_not_an_age() -> None:
    assert "age_years" not in stated("I'm 99% sure that the bumps on my cheeks are syringomas")
    assert stated("I'm 29 and have white bumps")["age_years"] == [29.0]


def test_and_a_half_in_ages_and_durations() -> None:
    assert stated("He's only 2 1/2 months old.")["age_years"] == [
        pytest.approx(2.5 * 30.44 / 365.25, abs=0.003)
    ]
    got = stated("My son is 2 and a half years old.")
    assert got["age_years"] == [2.5] and got["whose"] == ["child"]
    baby = stated("my two and a half week old baby has spots")
    assert baby["whose"] == ["child"]
    assert baby["age_years"] == [pytest.approx(2.5 * 7 / 365.25, abs=0.002)]
    assert stated("I've had them for 3 and a half months")["duration_days"] == [
        pytest.approx(3.5 * 30.44, abs=0.5)
    ]


def test_durations_from_the_age_they_began_at_and_from_words() -> None:
    got = stated("My 7 week old has had a tiny white spot on her eyelid since she was 2 weeks old")
    assert got["duration_days"] == [35.0]
    assert stated("I'm 17 and have had white spots on my face since I was about 13")[
        "duration_days"
    ] == [pytest.approx(4 * 365.25)]
    assert stated("White bumps on my chin, about a fortnight now")["duration_days"] == [14.0]
    assert stated("For the last year I have noticed yellow marks on my eyelids")[
        "duration_days"
    ] == [365.0]


def test_a_hedged_quantity_or_a_recent_time_does_not_hedge_the_findings() -> None:
    got = stated("it's definitely bigger now, maybe 6 or 7 mm, and it scabs and bleeds a bit")
    assert got["findings.growing"] == [True]
    assert got["findings.crusting"] == [True] and got["findings.bleeding"] == [True]
    assert "findings.itchy" not in stated("it's maybe a bit itchy")  # still hedged
    assert stated("the lump has changed shape in the last month")["findings.changing"] == [True]
    assert "findings.itchy" not in stated("it was itchy last week but not now")  # still past


def test_a_product_or_someone_elses_guess_is_not_a_finding() -> None:
    assert "findings.acne" not in stated("Adapalene acne gel didn't help the bumps on my face")
    assert "findings.acne" not in stated("Acne stuff from the chemist hasn't helped")
    guess = [u for u in read(KB, "My GP thought it was eczema but the cream did nothing")]
    assert all(u.certainty != "stated" for u in guess if u.field == "findings.eczema")
    assert stated("I have eczema and now these white spots")["findings.eczema"] == [True]


def test_the_writers_own_spots_are_not_the_childs() -> None:
    text = "Our son is 2 days old and has pus spots. I get blisters on my lip from time to time."
    got = stated(text)
    assert "findings.clear_blisters" not in got
    # a parent's lip blisters are a close contact's cold sore, which the contact question asks
    assert got["findings.contact_with_similar"] == [True]
    assert stated("I get blisters on my lip")["findings.clear_blisters"] == [True]
    # the child's own blisters stay, whatever the writer adds about themselves
    got = stated("my son has blisters and I noticed some on my arm too")
    assert got["findings.clear_blisters"] == [True]
    assert stated("tiny itchy bumps on my baby's neck")["findings.itchy"] == [True]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("he had a temp of 37.8 last night", False),
        ("His temp has decreased to 36.8", False),
        ("a temperature of 99F", False),
        ("temperature of 38.5 since yesterday", True),
        ("she had a high temperature for 2 days", True),
    ],
)
def test_a_measured_temperature_below_38_is_no_fever(text: str, value: bool) -> None:
    assert stated(text)["findings.fever"] == [value]


def test_words_from_real_questions(kb: KnowledgeBase) -> None:
    got = stated("They don`t look like they are irritated at all")  # a backtick apostrophe
    assert got["findings.red_around"] == [False]
    assert set(stated("he has fought at feeds and seems off colour")["findings.unwell"]) == {True}
    assert stated("I started feeling like shit, then blisters")["findings.unwell"] == [True]
    droop = stated("the swelling is bigger, with the upper eyelid starting to droop")
    assert droop["findings.eye_swelling_or_vision_change"] == [True]
    assert "locations" not in stated("a hard bump with a black head in the center")
    assert "findings.fever" not in stated("I had a fever blister on my lip last month")
    assert "findings.bleeding" not in stated("one has a blood blister type of thing")
    assert stated("I have a 2-year-old child with a red eyelid")["whose"] == ["child"]
    assert stated("my 6yr old son has white bumps")["whose"] == ["child"]
    # an age without "old" before the child is the child's age, not how long
    baby = stated("my 5 week baby has a fever")
    assert baby["age_years"] == [pytest.approx(5 * 7 / 365.25, abs=0.002)]
    assert baby["whose"] == ["child"] and "duration_days" not in baby
    assert stated("my baby has had them for 3 months")["duration_days"] == [
        pytest.approx(91.3, abs=0.2)
    ]
    # "comes back" is not the back; "red threads" are vessels, not the colour; "looks
    # like a little sore" is a sore, not pain
    got = stated("It always comes back. It looks like a little sore, with fine red threads.")
    assert "locations" not in got and "colour" not in got and "findings.painful" not in got


def test_a_negation_in_an_earlier_clause_does_not_reach_a_fever() -> None:
    """A published orbital cellulitis: 'doesn't move properly, and the temperature is 38.9'
    was read as no fever; the eye that 'is pushed forward' is the orbital red flag."""
    got = stated(
        "Now that eye is pushed forward and doesn't move properly, and the temperature is 38.9."
    )
    assert got["findings.fever"] == [True]
    assert set(got["findings.eye_swelling_or_vision_change"]) == {True}
    assert stated("no fever and no rash")["findings.fever"] == [False]


def test_hay_fever_is_not_a_fever() -> None:
    assert "findings.fever" not in stated("My eye feels sore. I get hay fever every year.")
    assert stated("she has a temperature and hay fever")["findings.fever"] == [True]


def test_structured_answers_win_but_a_stated_red_flag_counts_and_is_listed() -> None:
    body = {
        "age_years": 40,
        "narrative": "it bleeds when I wash and it is not itchy",
        "findings": {"bleeding": False, "itchy": True},
    }
    r = assess_json(KB, body)
    assert r["conflicts"] and r["conflicts"][0]["field"] == "findings.bleeding"
    assert r["triage"]["level"] in ("soon", "urgent", "emergency")
    used = {u["field"]: u["used"] for u in r["understood"]}
    assert used["findings.bleeding"] is True and used["findings.itchy"] is False


def test_the_words_fill_what_is_unknown_or_dont_know() -> None:
    body = {
        "age_years": 30,
        "narrative": "hard white bumps under my eyes",
        "dont_know": ["locations"],
    }
    case, understood, _ = with_narrative(KB, parse_case(KB, body))
    assert case.locations == ("under_eyes",)
    assert "locations" not in case.dont_know
    assert any(u["field"] == "locations" and u["used"] for u in understood)
    assert understood[0]["start"] < understood[0]["end"] <= len(body["narrative"])


def test_a_younger_age_in_the_words_drives_triage_and_is_shown() -> None:
    body = {"age_years": 32, "narrative": "my 3 week old has a fever and white spots on his nose"}
    r = assess_json(KB, body)
    assert any(c["field"] == "age_years" for c in r["conflicts"])
    assert r["triage"]["level"] == "emergency"


def test_no_narrative_reads_nothing() -> None:
    r = assess_json(KB, {"age_years": 30})
    assert r["understood"] == [] and r["conflicts"] == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_any_text_reads_without_error_and_within_its_bounds(text: str) -> None:
    for u in read(KB, text):
        assert 0 <= u.start <= u.end <= len(text)
        assert u.certainty in ("stated", "uncertain", "past")
    assess_json(KB, {"age_years": 30, "narrative": text})


def test_the_labelled_narratives_never_read_a_negated_finding_as_present(kb: KnowledgeBase) -> None:
    from miliacheck.evaluation_text import read_jsonl, score_narratives
    from tests.conftest import DATA

    s = score_narratives(kb, read_jsonl(DATA / "text" / "narratives.jsonl"))
    assert s["negated_read_as_present"] == []
    # The issue's bars: precision 0.95, recall 0.85.
    assert s["precision"] >= 0.95, s["precision"]
    assert s["recall"] >= 0.85, s["recall"]


def test_the_words_never_give_a_lower_level_than_the_labels_where_those_say_soon_or_more(
    kb: KnowledgeBase,
) -> None:
    """Each labelled narrative assessed from its labels and from its words alone: reading
    may miss a routine reason, never one that makes the case 'soon' or more urgent."""
    from miliacheck.evaluation_text import care_levels_from_words, read_jsonl
    from tests.conftest import DATA

    got = care_levels_from_words(kb, read_jsonl(DATA / "text" / "narratives.jsonl"))
    serious = [x for x in got["lower"] if x.split(":")[1].split("->")[0] not in ("routine",)]
    assert serious == [], got["lower"]


def test_real_questions_from_the_web_never_read_a_negated_finding_as_present(
    kb: KnowledgeBase,
) -> None:
    """354 questions people wrote online, labelled by helpers who never saw the reader.
    Their own spelling and slang ("don`t", "feeling like shit", "a temp of 37.8") found
    gaps the project's own narratives did not; precision and recall are printed by
    `miliacheck eval-text --narratives tests/data/text/forum.jsonl`, not held to the bars
    of the labelled set they were not written for."""
    from miliacheck.evaluation_text import read_jsonl, score_narratives
    from tests.conftest import DATA

    # Safety-side readings kept on purpose: a red flag said present anywhere counts as
    # present, so an illness "last week" (R96, since recovered), a sore eyelid "three
    # weeks ago" and no pain "anymore" (R99), and a lid that "droops a little" from a bump
    # (R99) are read as present where the labeller read a (hedged) denial of now.
    # R202: "It doesn't hurt" beside "the skin connecting hurts" when the lump is pulled.
    # R208: a baby's temperature "was very high for 2 days" before the rash, now normal;
    # R212: a pimple that "felt painful to touch" months ago and "doesn't hurt at all" now.
    # R278: "It doesn't hurt (although gets sore if I mess with it)": sore when touched.
    # R305: "I had a sore left eye a month ago" before "It does not pain" (the lump).
    # R318: "doesn't hurt at all, tho was tender a few days ago".
    # R346: "no sensation on the lump itself, though the area around it did hurt".
    safety_side = {
        "R346:painful",
        "R305:painful",
        "R318:painful",
        "R96:unwell",
        "R99:painful",
        "R99:eye_swelling_or_vision_change",
        "R202:painful",
        "R208:fever",
        "R212:painful",
        "R278:painful",
    }
    s = score_narratives(kb, read_jsonl(DATA / "text" / "forum.jsonl"))
    assert set(s["negated_read_as_present"]) <= safety_side, s["negated_read_as_present"]


def test_no_red_flag_read_from_the_dev_narratives_contradicts_their_fields(
    kb: KnowledgeBase,
) -> None:
    from miliacheck.evaluation_text import contradictions, read_jsonl
    from tests.conftest import (
        DEV_VIGNETTES,
        HELDOUT_VIGNETTES,
        LITERATURE_VIGNETTES,
        PROJECT_VIGNETTES,
    )

    for path in (DEV_VIGNETTES, PROJECT_VIGNETTES, HELDOUT_VIGNETTES, LITERATURE_VIGNETTES):
        if path.exists():
            red = [c for c in contradictions(kb, read_jsonl(path)) if c["red_flag"]]
            assert red == [], (path.name, red)


@pytest.mark.parametrize(
    ("text", "whose", "sex"),
    [
        (
            "Me and my fiance are both 41. Our little girl has pale spots on her chin.",
            "child",
            "female",
        ),
        (
            "I'm 29 and my wife is 31, our 3 week old son has white dots on his nose.",
            "child",
            "male",
        ),
        ("Small white bumps on my eyelids. My mum has exactly the same ones.", "me", None),
        ("I've got hard spots on my neck, my brother gave me a scrub for them.", "me", None),
        ("My uncle is 70. He has a shiny lump on his temple.", "other", "male"),
        ("My 6 yo son has tiny white bumps on his back.", "child", "male"),
        (
            "Has anyone's baby had this? Mine is 2 months old and he has a white bump",
            "child",
            "male",
        ),
    ],
)
def test_whose_and_sex_follow_who_has_the_bumps_not_who_is_named(
    text: str, whose: str, sex: str | None
) -> None:
    got = stated(text)
    assert got.get("whose", ["me"])[0] == whose
    assert got.get("sex", [None])[0] == sex


@pytest.mark.parametrize(
    ("text", "path", "value"),
    [
        (
            "Tiny bumps on my cheeks and my grandma had similar ones",
            "findings.family_history",
            True,
        ),
        (
            "My son has pearly spots. Two children in his class have the same.",
            "findings.contact_with_similar",
            True,
        ),
        (
            "My daughter has pearly spots and her sister has them too",
            "findings.contact_with_similar",
            True,
        ),
        ("Nobody in my family has anything like this", "findings.family_history", False),
    ],
)
def test_someone_else_with_the_same_bumps_is_family_or_contact(
    text: str, path: str, value: bool
) -> None:
    got = stated(text)
    assert got[path] == [value]
    other = {"findings.family_history", "findings.contact_with_similar"} - {path}
    assert not other & set(got)


def test_the_person_themselves_never_having_had_it_is_not_contact() -> None:
    got = stated("My husband has white bumps on his nose. He's never had anything like it.")
    assert "findings.contact_with_similar" not in got and "findings.family_history" not in got


@pytest.mark.parametrize(
    ("text", "colour"),
    [
        ("When I press it some yellow greasy stuff comes out. The bump is skin colour.", "skin"),
        ("Fine red blood vessels run over the pink bump", "pink"),
        ("The spots aren't red, they're pearly white", "white"),
        ("It went red after I picked at it but normally it's a white dot", "white"),
        ("2 small yellowish bumps on my eyelid", "yellow"),
        ("Some of the spots are white and others look yellow", None),
        ("Brown flat bumps, or maybe more pink, hard to say", None),
    ],
)
def test_the_colour_is_the_bumps_own_and_one(text: str, colour: str | None) -> None:
    assert stated(text).get("colour", [None])[0] == colour


def test_red_round_the_edges_is_redness_around_not_the_colour() -> None:
    got = stated("tiny white spots, red round the edges")
    assert got["colour"] == ["white"]
    assert got["findings.red_around"] == [True]


def test_a_finding_asked_about_is_not_said() -> None:
    asked = stated("My 6 week old has white spots on her face. Are these spots painful and itchy?")
    assert "findings.painful" not in asked and "findings.itchy" not in asked
    said = stated("Do they hurt? She has a fever and they are itchy.")
    assert said["findings.fever"] == [True] and said["findings.itchy"] == [True]
    assert "findings.painful" not in said


def test_a_question_about_skin_cancer_or_normal_cholesterol_is_no_history_of_them() -> None:
    got = stated("My cholesterol levels are normal. Are there forms of skin cancer like this?")
    assert got["findings.high_cholesterol"] == [False]
    assert "findings.skin_cancer_history" not in got
    hedged = stated("when I touch it I am tempted to say it is sore, but not quite")
    assert "findings.painful" not in hedged


def test_a_runny_nose_and_a_cough_on_and_off_are_not_the_bumps() -> None:
    got = stated("A cough and runny nose on and off for six weeks; spots on her cheek")
    assert got["locations"] == ["cheeks"] and "findings.recurring" not in got


def test_a_hair_colour_is_not_the_bumps_and_picky_eating_is_not_unwell() -> None:
    got = stated("I'm fair with red hair; he won't eat his vegetables. White bumps on my nose")
    assert got["colour"] == ["white"] and "findings.unwell" not in got


def test_half_a_centimetre_is_a_size() -> None:
    assert stated("a lump on his gum, about half a centimetre across")["size_mm"] == [5.0]


def test_a_few_millimetres_is_a_size() -> None:
    assert stated("shiny bumps on her lower lip, a few millimetres across")["size_mm"] == [3.0]


def test_a_size_of_a_mark_or_patch_beside_the_bumps_is_not_theirs() -> None:
    got = stated("one small white bump with a little grey mark about 2 by 3 mm next to it")
    assert "size_mm" not in got
    assert "size_mm" not in stated("a red patch about 3 cm across covered in tiny white dots")
    assert stated("a red raised lump, about 3 cm long")["size_mm"] == [30.0]


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("White bumps on my temples. I had a mole cut off my arm 10 years ago.", ["forehead"]),
        ("I used to get blackheads on my chin, now it's hard white dots on my cheeks", ["cheeks"]),
        ("The spots on my nose went a few months back but now they're back", ["nose"]),
        ("Bumps on his eyelid, and the swelling is spreading to his cheek", ["eyelids"]),
        ("My dad has white bumps on his neck; I have some on my chest too", ["neck"]),
        ("Since her breast cancer treatment she has bumps on her scalp", ["scalp"]),
        ("a hard white spot on my bum", ["other"]),
        ("our 4 month old has red spots in the nappy area", ["nappy_area"]),
        ("small lumps on my outer vaginal lips for two years", ["genitals"]),
        ("bumps on the labia minora, not on my mouth", ["genitals"]),
        ("a red patch at the inner corner of her left eye", ["eyelids"]),
        ("white dots at the corner of my eye", ["eyelids"]),
        ("flat bumps on his chin; he's always licking his lips", ["chin"]),
        ("white spots on the inside of his right cheek", ["inside_mouth"]),
        ("white patches at the back of my throat", ["inside_mouth"]),
        ("little white dots underneth my eye", ["under_eyes"]),
        ("white bumps on my baby's gingiva", ["inside_mouth"]),
        ("a lump on the top of my auricle", ["ears"]),
        ("yellowish patches of skin above my eyes", ["eyelids"]),
        ("a bump on my bottom lip", ["lips"]),
        ("my five-year-old son has boils on his legs and on his bottom", ["legs", "other"]),
        ("lumps on my newborn's gums, top and bottom", ["inside_mouth"]),
        ("a spot on my bottom lip", ["lips"]),
        ("I looked at his bottom gums and there's a white thing", ["inside_mouth"]),
        ("two of these just near my eyes", ["under_eyes"]),
        ("it was mostly on the left hand side of her cheek", ["cheeks"]),
        ("while I was changing his diaper I saw something white on his gum", ["inside_mouth"]),
        ("white spots on the inside of her lips", ["inside_mouth"]),
        ("white spots on her tounge", ["inside_mouth"]),
        ("my baby has a spot on his lip and always has his hands in his mouth", ["lips"]),
        ("He is breast fed and has spots on his forehead", ["forehead"]),
        ("What do you do for a stye? It's swelled almost shut.", ["eyelids"]),
        ("tiny bumps on her skull under the skin", ["scalp"]),
        ("bumps along my lips; I feel them when I run my tongue over them", ["lips"]),
        ("tiny blisters on her chest and around her belly button", ["chest", "belly"]),
        ("small bumps down there, is it herpes?", ["genitals"]),
        ("bumps on my thighs and down there", ["legs", "genitals"]),
        ("a speck under his gum line. I can feel something hard down there.", ["inside_mouth"]),
        # "both cheeks" says the place as well as the pattern (it once said only the pattern)
        ("tiny bumps on both cheeks", ["cheeks"]),
    ],
)
def test_places_are_where_the_bumps_are_now(text: str, places: list[str]) -> None:
    assert stated(text)["locations"] == places


def _assert_findings(text: str, present: dict[str, bool], absent: list[str]) -> None:
    """The words state each ``present`` finding with its value, and none of ``absent``."""
    got = stated(text)
    for fid, value in present.items():
        assert set(got.get(f"findings.{fid}", [])) == {value}, fid
    for fid in absent:
        assert f"findings.{fid}" not in got, fid


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        # an apostrophe lost to a space (R255)
        ("It used to hurt, but now it doesn t hurt", {"painful": False}, []),
        # a doctor's questions with the answers in brackets (R238): asked, not said
        (
            "She asked: How many spots? (A few.) Are the mother's nipples sore? (No.) Has the "
            "baby recently been on antibiotics? (No.)",
            {},
            ["painful", "new_medicine"],
        ),
        # coming back, said as how often (R241, R247, R251)
        ("My son gets styes on his eyes frequently.", {"recurring": True}, []),
        ("I have this regularly now, and now it is back.", {"recurring": True}, []),
        ("white patches in his mouth. He cries more frequently than usual.", {}, ["recurring"]),
        # bumps that keep getting more or bigger are growing, not coming back (P32's words)
        (
            "For 2 or 3 months I've had bumps on my face that keep getting more numerous and "
            "bigger.",
            {"growing": True},
            ["recurring"],
        ),
        ("They keep getting bigger.", {"growing": True}, ["recurring"]),
        ("The bumps keep getting worse.", {}, ["recurring"]),
        ("I keep getting these white bumps on my nose.", {"recurring": True}, []),
        # one bump that came up overnight is no crop (R256); many that did are
        (
            "I have this weird bump in between my eyebrows that happened overnight",
            {},
            ["appeared_in_crops"],
        ),
        (
            "Lots of tiny white bumps came up overnight on his chest",
            {"appeared_in_crops": True},
            [],
        ),
    ],
)
def test_the_ninth_batch_of_real_questions(
    text: str, present: dict[str, bool], absent: list[str]
) -> None:
    _assert_findings(text, present, absent)


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        # a negation ends where a quantity starts a new clause (S03)
        (
            "They don't itch or bother him, the skin around them isn't red, and a few have "
            "little pus spots.",
            {"itchy": False, "pus": True},
            [],
        ),
        ("No itching and some redness around them.", {"itchy": False, "red_around": True}, []),
        ("no pain, redness or swelling", {"painful": False, "red_around": False}, []),
        # "hadn't" negates as "had not" does (T23)
        ("I hadn't used any creams there before it started.", {"heavy_creams": False}, []),
        # normal blood fat tests are no high cholesterol and no bleeding (N12)
        (
            "My cholesterol and other blood fat tests were normal.",
            {"high_cholesterol": False},
            ["bleeding"],
        ),
        # "that" before a noun does not end a negation (M16, D16)
        (
            "I never hurt that spot or put any creams on it.",
            {"recent_skin_injury": False, "heavy_creams": False},
            ["painful"],
        ),
        ("I've never had that ear pierced or injured.", {"recent_skin_injury": False}, []),
        ("I have no bumps that hurt.", {"painful": False}, []),
        # creams tried as a treatment are not thick creams used on the skin (U11, V19, W11)
        ("the creams I've been given haven't cleared them", {"treatment_not_helped": True}, []),
        ("Various creams haven't cleared them.", {}, ["heavy_creams"]),
        ("I use lots of creams around my eyes every night", {"heavy_creams": True}, []),
        ("I haven't used any new soaps or creams.", {"heavy_creams": False}, []),
        # "and they've" starts what is true now, after a time long ago (N12)
        (
            "About three years ago yellowish patches came up on both my upper eyelids and "
            "they've slowly got bigger since.",
            {"growing": True},
            [],
        ),
        # a forum's two dots end a sentence, and the negation in it (R260)
        (
            "i have no idea what it is.. whenever i chew on that side of my mouth & it touches "
            "the sore, it hurts so badly.",
            {"painful": True},
            [],
        ),
        # moving the eye without pain is about the eye, not the bump's pain (W13, D48, T04)
        (
            "He can move his eye without pain and isn't seeing double.",
            {"eye_swelling_or_vision_change": False},
            ["painful"],
        ),
        (
            "The skin around that eye is swollen, red, warm and painful to touch. It moves "
            "normally without pain.",
            {"painful": True, "eye_swelling_or_vision_change": False},
            [],
        ),
        ("There is pain when he moves his eye.", {"eye_swelling_or_vision_change": True}, []),
    ],
)
def test_published_cases_words_read_as_their_authors_meant(
    text: str, present: dict[str, bool], absent: list[str]
) -> None:
    _assert_findings(text, present, absent)


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        # a skin check, a worry or a guess is no history of skin cancer (R275, R280, R288)
        (
            "Being fair skinned, I have a standing annual appointment for a full body check "
            "for skin cancer every December.",
            {"dark_skin": False},
            ["skin_cancer_history"],
        ),
        ("dark irregular patches that might be melanoma", {}, ["skin_cancer_history"]),
        ("I've heard skin cancer can develop on ears, so I'm worried", {}, ["skin_cancer_history"]),
        # hair growing back is no bump on the back; a bump that grew back is coming back
        ("Now my hair is starting to grow back, but I have small white bumps", {}, ["recurring"]),
        ("She scratched part of it off but it grew back even bigger", {"recurring": True}, []),
        # red at first, then black, is a change of colour (R266)
        (
            "small lumps like pimples. Initially red, but eventually turned black.",
            {"changing": True},
            [],
        ),
        # tenderness is pain (R277); feeling harder is firm (R293)
        ("A little tenderness. A faint pulse.", {"painful": True}, []),
        ("They are starting to feel harder than usual too.", {"firm": True}, []),
        # staying up late 'frequently' is a cause, not bumps coming back (R285)
        ("Due to frequently staying up late, I tried to squeeze it", {}, ["recurring"]),
        # a stye that never really went away is not fading (R265)
        ("It helped but the stye never really went away.", {"getting_better": False}, []),
        # suntan lotion is no thick cream; skin that started to peel had no peel (R292)
        (
            "I thought I had reapplied suntan lotion. My skin recently started to peel.",
            {},
            ["heavy_creams", "recent_skin_procedure"],
        ),
    ],
)
def test_the_tenth_batch_of_real_questions(
    text: str, present: dict[str, bool], absent: list[str]
) -> None:
    _assert_findings(text, present, absent)


@pytest.mark.parametrize(
    ("text", "not_place"),
    [
        ("a very painful, hard, red bump on his right butt cheek", "cheeks"),
        ("Now my hair is starting to grow back, but I have small white bumps", "back"),
        ("My baby has been putting his fingers in the mouth and drinks less", "hands"),
    ],
)
def test_words_that_name_a_body_part_but_not_the_place(text: str, not_place: str) -> None:
    assert not_place not in stated(text).get("locations", [])


def test_between_the_eyebrows_is_the_forehead() -> None:
    assert stated("a weird bump in between my eyebrows")["locations"] == ["forehead"]


@pytest.mark.parametrize(
    ("text", "symmetrical"),
    [
        ("tiny bumps on both cheeks", True),
        ("blackheads and little plugs on both my cheeks", True),
        ("white spots on the backs of both hands", True),
        ("yellow patches at the inner corners of both upper eyelids", True),
        ("small yellowish bumps around both eyes", True),
        # a list of two places, not a pair
        ("bumps on both my nose and chin", None),
        ("bumps on my cheeks", None),
    ],
)
def test_a_pair_of_sites_said_with_both_is_symmetrical(text: str, symmetrical: bool | None) -> None:
    got = stated(text)
    assert got["locations"]
    assert got.get("findings.symmetrical") == ([True] if symmetrical else None)


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        ("Can't squeeze them, like tiny hard beads", {"firm": True}, []),
        ("Squeezed one (I know, don't) and cheesy stuff came out", {"squeeze_contents": True}, []),
        ("little white cysts where the blisters have healed", {}, ["clear_blisters"]),
        ("I'm breastfeeding my 3 week old son, he has white spots on his nose", {}, ["pregnant"]),
        ("A few more popped up on my arm", {}, ["appeared_in_crops"]),
        ("spots with yellow heads that come and go", {"pus": True}, ["recurring"]),
        ("I use a steroid cream on and off for eczema", {}, ["recurring"]),
        ("they are not on a raised red patch", {"on_raised_patch": False}, ["dome_shaped"]),
        ("they went for a month and now they're back again", {"recurring": True}, []),
        # raised is not round: flat warts are 'slightly raised' and flat on top
        ("small, slightly raised white spots on my face", {}, ["dome_shaped"]),
        ("flat, slightly raised brown spots", {"flat_topped": True}, ["dome_shaped"]),
        ("little round domes on his tummy", {"dome_shaped": True}, []),
        ("Nothing happened to my skin before they appeared", {"recent_skin_injury": False}, []),
        ("We keep our flat cool and she has white spots", {}, ["flat_topped"]),
        ("I've changed my soap but the bumps are the same", {}, ["changing"]),
        ("there's a sore in the centre that won't heal", {"open_sore": True}, ["painful"]),
        ("white curd-like patches on her tongue", {"patches": True}, []),
        ("I'm a Black man and the bumps are purplish-brown", {"dark_skin": True}, []),
        ("tiny bumps a bit darker than my skin", {}, ["dark_skin"]),
        ("he's eating and playing less since the spots came", {"unwell": True}, []),
        ("she's not off her food", {"unwell": False}, []),
        ("he's feeding and doing well", {"unwell": False}, []),
        ("patches of tiny rough bumps on his arms", {}, ["patches"]),
        ("a red patch with white dots on it", {"on_raised_patch": True}, ["patches"]),
        ("a little oily fluid comes from my nipples", {}, ["clear_blisters"]),
        ("my eyes are watery and the lids are sore", {}, ["clear_blisters"]),
        ("tiny bumps with clear fluid in them, like dew", {"clear_blisters": True}, []),
        ("he was stung by a bee on his eyelid yesterday", {"recent_skin_injury": True}, []),
        ("something bit me near my left eye", {"recent_skin_injury": True}, []),
        ("She's feeding well and growing", {"unwell": False}, ["growing"]),
        (
            "He's otherwise himself and he can see fine",
            {"unwell": False, "eye_swelling_or_vision_change": False},
            [],
        ),
        # words from real questions (the forum set's second batch)
        ("it does slightly obstruct my vision", {"eye_swelling_or_vision_change": True}, []),
        ("there is no pus, and there is no redness", {"pus": False, "red_around": False}, []),
        (
            "It feels hard, but nothing can be squeezed out of it",
            {"squeeze_nothing": True},
            ["squeeze_contents"],
        ),
        (
            "it grew a little, it's also hard. squeezed it nothing happened",
            {"growing": True, "firm": True, "squeeze_nothing": True},
            [],
        ),
        ("it started off small, but it has gotten a bit larger!", {"growing": True}, []),
        ("the growth has nearly doubled in size", {"growing": True}, []),
        (
            "a lump that feels hard and is painless; recently hair is growing on it",
            {"painful": False},
            ["growing"],
        ),
        (
            "Bit my lip really hard and there is a lump there now",
            {"recent_skin_injury": True},
            ["firm"],
        ),
        ("They started on the center of my forehead", {}, ["new_medicine"]),
        ("I was started on a new tablet in May", {"new_medicine": True}, []),
        ("small lumps like pimples on his eyelids", {}, ["acne"]),
        ("Could it be a cyst or skin cancer?", {}, ["skin_cancer_history"]),
        ("I know its not a cold sore", {}, ["contact_with_similar"]),
        (
            "my son has been not well for 2 weeks and has a sore tummy",
            {"unwell": True},
            ["painful"],
        ),
        ("they're showing no signs of going", {"getting_better": False}, []),
        ("they get better and worse but never go away", {"recurring": True}, []),
        ("It's only one eye", {"symmetrical": False}, []),
        ("the village doctor could cut it out later", {}, ["recent_skin_injury"]),
        # words the project's and literature vignettes' narratives said and the reader missed
        ("two tiny firm round bumps with a little dip in the top", {"central_dip": True}, []),
        ("the rim is shiny with fine red threads", {"visible_vessels": True}, []),
        ("I started a strong steroid ointment twice a day", {"steroid_cream_long_term": True}, []),
        ("rough red scaly spots on my face from the sun", {"sun_damage": True}, []),
        ("the bump has some discharge coming out of it", {"pus": True}, []),
        ("My eyesight is fine", {"eye_swelling_or_vision_change": False}, []),
        (
            "Nothing bit her and she didn't knock it. She's behaving normally",
            {"recent_skin_injury": False, "unwell": False},
            [],
        ),
        # the forum set's third batch
        ("It's swelled almost shut", {"eye_swelling_or_vision_change": True}, []),
        (
            "He is totally well, and says he's fine if I ask him if he's poorly",
            {"unwell": False},
            [],
        ),
        (
            "a bump on my eyelid that is painless and itchless",
            {"painful": False, "itchy": False},
            [],
        ),
        ("it has remained the same", {"changing": False}, []),
        ("if I leave them, they never go away", {"getting_better": False}, []),
        (
            "it has gotten more red and hurts when something rubs against it hard",
            {"changing": True, "painful": True},
            ["firm"],
        ),
        ("an unhealing wound on my forehead", {"open_sore": True}, ["recent_skin_injury"]),
        ("I get this cold sore every year", {"recurring": True}, []),
        ("his tongue is covered by a white layer", {"patches": True}, []),
        ("bumps I self-diagnosed as cholesterol deposits", {}, ["high_cholesterol"]),
        (
            "it stings when I scratch it; google says it's a sign of skin cancer",
            {},
            ["recent_skin_injury", "skin_cancer_history"],
        ),
        ("Family members have suggested it might be the lotion", {}, ["family_history"]),
        # a time a bump was first noticed is not the past
        ("a few months ago I noticed a small pearly bump on my nose", {"pearly_shiny": True}, []),
        # the forum set's fourth batch
        ("it just looked painful, though she didn't seem bothered", {}, ["painful"]),
        ("I asked her if they hurt; she said they were not painful", {"painful": False}, []),
        (
            "the inflammation made it nearly impossible to open my eye",
            {"eye_swelling_or_vision_change": True},
            [],
        ),
        ("I worry it may start affecting his vision", {}, ["eye_swelling_or_vision_change"]),
        ("It never comes to a head", {"pus": False}, []),
        ("I can't notice any improvement", {"getting_better": False}, []),
        ("they have not subsided since", {"getting_better": False}, []),
        ("over the last 3 weeks it has tripled in size", {"growing": True}, []),
        ("I get white spots on my upper lip periodically", {"recurring": True}, []),
        ("my immune system is very clearly suppressed", {"weakened_immunity": True}, []),
        ("I genuinely believe it's eczema", {}, ["eczema"]),
        ("she was on antibiotics for the last 6 days", {"new_medicine": True}, []),
        ("it showed up within an hour yesterday", {"appeared_in_crops": True}, []),
        # a new predicate ends a past or hedged scope
        ("It started off skin-colored and has gotten more red", {"changing": True}, []),
        (
            "This seems to come out every month and is sore and hard",
            {"painful": True, "firm": True},
            [],
        ),
        (
            "now it's healed there are little white cysts where the blister was",
            {},
            ["clear_blisters"],
        ),
        ("after two days it has become very reddish in color", {"changing": True}, []),
        # another illness's pain or swelling is not the bumps'
        (
            "patches on my eyelids; for two weeks I've had tummy pain and swollen legs",
            {},
            ["painful"],
        ),
        # the forum set's fifth batch
        ("I have some milia under my eye that won?t go away", {"getting_better": False}, []),
        ("they just won't leave", {"getting_better": False}, []),
        ("Some of them are bigger than others", {}, ["growing"]),
        (
            "I had a poorly done eyelid surgery; the stitches came out on day 8",
            {},
            ["unwell", "squeeze_contents"],
        ),
        (
            "Every time I get a new tattoo, tiny white bumps form around it",
            {"recurring": True, "recent_skin_injury": True},
            [],
        ),
        ("a second round of Fraxel for my acne scars", {"recent_skin_procedure": True}, []),
        ("They're unsightly and people do stare at them", {"emotional_distress": True}, []),
        # bumps on a red patch or base: the skin around them is red as well
        (
            "clusters of white spots on a red base behind his ear",
            {"on_raised_patch": True, "red_around": True},
            [],
        ),
        (
            "tiny yellowish spots, each sitting on a blotchy red patch",
            {"on_raised_patch": True, "red_around": True},
            [],
        ),
        ("blisters and pus spots on red skin", {"red_around": True}, []),
        ("there's no red patch around them", {"on_raised_patch": False}, ["red_around"]),
        # a treatment that has not helped: the phrase carries its own "not"
        ("Over-the-counter benzoyl peroxide hasn't helped.", {"treatment_not_helped": True}, []),
        (
            "the creams I've been given haven't cleared them",
            {"treatment_not_helped": True},
            [],
        ),
        (
            "Acne washes and scrubs haven't shifted them",
            {"treatment_not_helped": True},
            ["acne"],
        ),
        (
            "tried several acne products without any improvement",
            {"treatment_not_helped": True},
            [],
        ),
        (
            "They haven't changed, and the cream helped",
            {"changing": False},
            ["treatment_not_helped"],
        ),
        (
            "I popped it and drew out a lump of semi-solid white stuff",
            {"squeeze_contents": True},
            [],
        ),
        ("under eye gel in the morning and almond oil at night", {"heavy_creams": True}, []),
        ("it looks like they are reducing", {"getting_better": True}, []),
        # spreading: said with its speed, or of the redness
        ("they've spread loads over the past few weeks", {"spreading_fast": True}, []),
        ("I've had them for years and they have spread across my cheeks", {}, ["spreading_fast"]),
        ("the redness has spread to his cheek", {"warm_swollen_skin": True}, ["spreading_fast"]),
        # an ellipsis ends the sentence, and its negation with it
        (
            "I don't feel any discomfort or dryness...\nI'm very anxious",
            {"emotional_distress": True},
            [],
        ),
        (
            "when squeezed a little clear fluid comes out",
            {},
            ["clear_blisters", "squeeze_contents"],
        ),
        ("a white dot last month, and now the spot is already big and hard", {"growing": True}, []),
        ("after squeezing one, new spots appear the next day", {"spreading_fast": True}, []),
        (
            "a few bumps on his face in May, now they're all over his body",
            {"spreading_fast": True},
            [],
        ),
        ("white bumps all over my face for years", {}, ["spreading_fast"]),
        ("I keep getting big blisters on my hands", {}, ["growing"]),
        ("bumps came on my cheek and quickly spread to my neck", {"spreading_fast": True}, []),
    ],
)
def test_findings_read_from_what_the_words_are_about(
    text: str, present: dict[str, bool], absent: list[str]
) -> None:
    got = stated(text)
    for fid, value in present.items():
        assert set(got[f"findings.{fid}"]) == {value}
    for fid in absent:
        assert f"findings.{fid}" not in got


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("a bump on my eyelid, maybe 4 mm", "size_mm"),
        ("spots on her chin, perhaps 2 or 3 mm across", "size_mm"),
        ("maybe 25 of them on my back", "count"),
        ("maybe 8 or 9 of them on my nose", "count"),
    ],
)
def test_a_hedged_number_is_uncertain(text: str, field: str) -> None:
    items = [u for u in read(KB, text) if u.field == field]
    assert items and all(u.certainty == "uncertain" for u in items)


@pytest.mark.parametrize(
    "text",
    [
        "white bumps all over her forehead and a few on her nose",
        "there's some crusting on a couple of them",
        "loads of spots, a couple of them went yellow",
        "my husband has milia on his cheeks, I've also got a few spots on my neck",
        "white bumps on his back and a few similar ones on his arm",
    ],
)
def test_a_count_of_a_part_is_not_the_count(text: str) -> None:
    assert "few" not in stated(text).get("count", [])


def test_a_count_with_its_noun_is_still_the_count() -> None:
    assert stated("One bump on my ear")["count"] == ["one"]
    assert stated("a few white spots on her nose")["count"] == ["few"]
    # an age before the number does not swallow it; of a range, the top
    assert stated("my son is 3 and has 5 spots")["count"] == ["few"]
    assert stated("10-12 bumps on my arm")["count"] == ["many"]


def test_a_dip_like_a_belly_button_is_a_dip_and_her_belly_button_a_place() -> None:
    dip = stated("each bump has a little dip like a belly button")
    assert set(dip["findings.central_dip"]) == {True} and "locations" not in dip
    place = stated("spots around his belly button")
    assert place["locations"] == ["belly"] and "findings.central_dip" not in place


@pytest.mark.parametrize(
    "text",
    [
        "Our daughter was born early, at 32 weeks, and had blisters right after birth",
        "He was born at 36 weeks and has white spots on his nose",
        "she was 6 weeks premature and has little white spots on her nose",
    ],
)
def test_a_babys_weeks_of_gestation_are_neither_age_nor_duration_nor_count(text: str) -> None:
    read_ = stated(text)
    assert not {"duration_days", "age_years", "count"} & set(read_), read_


def test_early_in_the_next_clause_does_not_unmake_a_duration() -> None:
    assert stated("for the past 2 weeks, early in the morning they itch")["duration_days"] == [14]


@pytest.mark.parametrize(
    "text",
    [
        "the lump on my cheek has been growing for about three months",
        "white spots on his arms, they've spread a lot over the last two weeks",
        "tiny bumps on my face, they all came up within a few days",
        "I started new pills and a few weeks after that the bumps came",
        "the bump on her lid has got bigger over the past month",
    ],
)
def test_how_long_a_change_took_is_not_how_long_they_have_been_there(text: str) -> None:
    assert "duration_days" not in stated(text)


def test_how_long_they_have_been_there_is_still_read() -> None:
    assert stated("white bumps on my nose for about three months")["duration_days"] == [91.2]


@pytest.mark.parametrize(
    "text",
    [
        "The pharmacist suggested an ointment, but a few days of it made no difference to the bump",
        "after two weeks of antibiotics the lump is still there",
        "six weeks of the cream and the spots are no better",
    ],
)
def test_how_long_a_treatment_was_used_is_neither_duration_nor_count(text: str) -> None:
    got = stated(text)
    assert "duration_days" not in got
    assert got.get("count", ["one"]) == ["one"]  # "two weeks of ..." is no count of two


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a phrase with its own negation negates nothing after it
        ("my son is not feeding well, fever since last night", {"unwell": True, "fever": True}),
        ("he won't feed, temperature since yesterday", {"unwell": True, "fever": True}),
        # a negation reaches along a list, not into a new clause
        ("no itching, redness or pain", {"itchy": False, "painful": False}),
        ("no itching and has had a fever since Monday", {"itchy": False, "fever": True}),
        ("not itchy, painful though", {"itchy": False, "painful": True}),
        ("does not hurt and is not itchy", {"painful": False, "itchy": False}),
        # "or" carries the negation over a verb
        ("it doesn't hurt or feel tender", {"painful": False}),
        ("it does not itch or feel sore", {"itchy": False, "painful": False}),
        ("no itching and feels sore", {"itchy": False, "painful": True}),
    ],
)
def test_negation_scope_follows_lists_and_stops_at_new_clauses(
    text: str, expected: dict[str, bool]
) -> None:
    got = stated(text)
    for fid, value in expected.items():
        assert set(got.get(f"findings.{fid}", [])) == {value}, (text, fid, got)


def test_a_denied_warning_sign_is_shown_but_still_asked() -> None:
    case = parse_case(KB, {"age_years": 0.1, "narrative": "white spots on his nose, no fever"})
    merged, understood, _ = with_narrative(KB, case)
    assert "fever" not in merged.findings
    assert any(u["field"] == "findings.fever" and u["used"] is False for u in understood)
    result = assess_json(KB, {"age_years": 0.1, "narrative": "white spots on his nose, no fever"})
    assert "findings.fever" in result["triage"]["unscreened"]


def test_my_newborn_makes_a_parent_typed_age_younger_and_triage_safer() -> None:
    words = "my newborn has white spots on his nose and a temperature of 38.5"
    result = assess_json(KB, {"age_years": 34, "narrative": words})
    assert result["triage"]["level"] == "emergency"
    assert result["conflicts"][0]["field"] == "age_years"
    # an unsure age never makes the case older
    older = assess_json(KB, {"age_years": 0.02, "narrative": "my toddler has white spots"})
    assert not older["conflicts"]


def test_blisters_over_eczema_are_seen_the_same_day() -> None:
    words = "my son has eczema and now little blisters round his mouth, some crusted"
    result = assess_json(KB, {"age_years": 6, "narrative": words})
    assert result["triage"]["level"] == "urgent"
    assert any("eczema herpeticum" in r for r in result["triage"]["reasons"])
    plain = assess_json(KB, {"age_years": 6, "narrative": "little blisters round his mouth"})
    assert not any("eczema" in r for r in plain["triage"]["reasons"])


def test_eczema_herpeticum_in_a_feverish_very_unwell_child_is_an_emergency() -> None:
    words = (
        "my 3 year old has eczema and since yesterday crusty blisters round his mouth, "
        "a high fever and he is floppy and not drinking"
    )
    result = assess_json(KB, {"age_years": 3, "narrative": words})
    assert result["triage"]["level"] == "emergency"
    without_eczema = words.replace("has eczema and ", "has had ")
    other = assess_json(KB, {"age_years": 3, "narrative": without_eczema})
    # eczema is not read from these words: it is still to be asked, and until then the
    # emergency stands on it as one unasked piece, saying so
    assert "findings.eczema" in other["triage"]["unscreened"]
    eczema = [r for r in other["triage"]["reasons"] if "eczema" in r]
    assert eczema and all(r.startswith("Not asked yet: has eczema") for r in eczema)


@pytest.mark.parametrize(
    ("text", "path", "value"),
    [
        # "hurt my skin" is an injury, not pain: "I haven't hurt my skin" says no injury
        ("I haven't hurt my skin", "findings.recent_skin_injury", False),
        ("a whole bunch of tiny white spots", "count", "many"),
        ("a little white growth under my right eye", "locations", "under_eyes"),
        ("bumps in the middle of both my areolas", "locations", "chest"),
        ("I worked outdoors for decades", "findings.sun_damage", True),
        ("a few months after I started the anti-rejection drugs", "findings.new_medicine", True),
        ("A dog scratched my daughter four days ago", "findings.recent_skin_injury", True),
        ("I've had a number of firm little lumps on my scalp", "count", "few"),
        ("numerous tiny white bumps on his cheeks", "count", "many"),
        ("it flares up now and then, but it always comes back", "findings.recurring", True),
        ("My 11-month-old son hasn't been eating well for a month", "findings.unwell", True),
        # session 8, from published cases' words that were triaged lower than their fields
        (
            "it's been so swollen I can't open that eye",
            "findings.eye_swelling_or_vision_change",
            True,
        ),
        (
            "He can't open that eye now and there's yellow goo",
            "findings.eye_swelling_or_vision_change",
            True,
        ),
        ("he is very cranky and today he won't eat or drink", "findings.unwell", True),
        (
            "I thought I had scratched it, but the scratch has never healed up",
            "findings.open_sore",
            True,
        ),
        (
            "I've had skin cancers cut off my face twice before",
            "findings.skin_cancer_history",
            True,
        ),
        ("I had lots of bad blistering sunburns when I was young", "findings.sun_damage", True),
        ("he won't eat his vegetables, and has spots on his arm", "locations", "arms"),
        ("the skin around her left eye is swollen and red", "region", "around_eyes"),
        ("my eyelid swelled up and went red", "findings.warm_swollen_skin", True),
        (
            "the redness and swelling have spread up onto my forehead",
            "findings.warm_swollen_skin",
            True,
        ),
        ("the middle of the bump has broken down into a sore", "findings.open_sore", True),
        ("a big lump on the eyelid with two little dents on top", "findings.central_dip", True),
        (
            "the inside of my mouth and throat is covered in white patches",
            "locations",
            "inside_mouth",
        ),
        ("white deposits on the inside of his upper and lower lips", "locations", "inside_mouth"),
        ("my toddler has tiny white spots all over the throat", "locations", "inside_mouth"),
        ("a red rash on my throat", "locations", "neck"),
        ("my temperature went higher and my blood pressure dropped", "findings.unwell", True),
    ],
)
def test_phrases_from_published_cases_are_read(text: str, path: str, value: Any) -> None:
    got = stated(text)
    assert got.get(path) == [value], got
    assert "findings.painful" not in got


@pytest.mark.parametrize(
    "text",
    [
        "Her eyelid is very swollen and she can barely open her eye.",
        "I can hardly open my eye, the lid is so swollen",
        "his eye won't open this morning",
    ],
)
def test_an_eye_swelling_closed_is_the_orbital_red_flag(text: str) -> None:
    assert stated(text).get("findings.eye_swelling_or_vision_change") == [True]


def test_a_mouth_hard_to_open_is_not_an_eye_sign() -> None:
    assert "findings.eye_swelling_or_vision_change" not in stated("I can barely open my mouth")


@pytest.mark.parametrize(
    ("text", "value", "certainty"),
    [
        (
            "the skin around his left eye is red and swollen and his eyelids are puffy",
            True,
            "stated",
        ),
        ("both her eyelids are swollen, red and painful", True, "stated"),
        ("his right eyelid has become red, hot and swollen", True, "stated"),
        ("the eyelid isn't red and swollen, just a white bump", False, "stated"),
        ("her eyelids were red and swollen last week but they're fine now", True, "past"),
        ("maybe his eyelid is red and swollen, hard to tell", True, "uncertain"),
        ("the skin around his eye is puffy and pink", True, "stated"),
        # not the whole lid: a stye's lump, or an inflamed cyst away from the eye
        ("my lower eyelid is swollen and sore, with a tender red spot near the lashes", None, None),
        ("a lump on my back got bigger, red, swollen and sore", None, None),
    ],
)
def test_a_red_swollen_eyelid_is_spreading_swelling_of_the_skin(
    text: str, value: bool | None, certainty: str | None
) -> None:
    got = [u for u in read(KB, text) if u.field == "findings.warm_swollen_skin"]
    if value is None:
        assert got == []
    else:
        assert [(u.value, u.certainty) for u in got] == [(value, certainty)]


@pytest.mark.parametrize(
    ("text", "patches"),
    [
        # bumps on a patch: the patch is where they are (a healing leprosy plaque, W01)
        (
            "As one of his skin patches has been settling down, lots of tiny bumps have "
            "come up, but only on that healing patch.",
            None,
        ),
        ("Dozens of tiny white bumps sitting on a raised red patches of skin.", None),
        ("Little white bumps over a yellow plaque on her eyelid.", None),
        # the bumps themselves are patches or a coating
        ("My baby has white patches on her tongue.", True),
        ("She has flat yellow patches on both upper eyelids.", True),
    ],
)
def test_a_patch_the_bumps_sit_on_is_their_place_not_their_form(
    text: str, patches: bool | None
) -> None:
    got = [u.value for u in read(KB, text) if u.field == "findings.patches"]
    assert got == ([] if patches is None else [patches])


@pytest.mark.parametrize(
    ("text", "path", "want"),
    [
        # one age in two units (R208): not the weeks alone
        ("My baby (6 month and 2 weeks old) is currently teething.", "age_years", [0.5377]),
        ("my son is 1 year and 3 months old and has spots", "age_years", [1.2497]),
        # a hand that holds or squeezes is no site (R212, R213); a hand with bumps is
        ("I can grasp the lump on my temple with my fingers.", "locations", ["forehead"]),
        (
            "I have a spot on my cheek. My mum wants to pop it using her fingers.",
            "locations",
            ["cheeks"],
        ),
        ("I have bumps on my fingers", "locations", ["hands"]),
        # a pin's head is a size, not the scalp (R218); the penis's head is the genitals
        ("Little yellow dots on my lip, about the size of a head of a pin.", "locations", ["lips"]),
        ("a bump on the head of my penis", "locations", ["genitals"]),
        # the inside of the cheeks is the mouth (R219)
        ("lumps in the mucosa (inside cheeks)", "locations", ["inside_mouth"]),
        # whose: "tell me" is the asker, "my adult son" is a child of the writer (R219)
        (
            "Please tell me about lumps inside cheeks. My adult son has suffered from them.",
            "whose",
            ["child"],
        ),
        ("my teenage daughter has spots on her nose", "whose", ["child"]),
        # the person's own bumps before, and "coming back" (R234, R225)
        (
            "I wasn't worried, because I had the same thing a few months ago.",
            "findings.recurring",
            [True],
        ),
        (
            "My daughter has a bump on her lip. She had the same thing last summer.",
            "findings.recurring",
            [True],
        ),
        ("The spots on my chin keep coming back.", "findings.recurring", [True]),
    ],
)
def test_phrases_from_the_eighth_batch_of_real_questions_are_read(
    text: str, path: str, want: list[Any]
) -> None:
    got = stated(text)
    assert got.get(path) == want, got


def test_a_relatives_bumps_are_still_family_history_not_recurring() -> None:
    got = stated("My mum had the same thing on her cheeks.")
    assert got.get("findings.family_history") == [True]
    assert "findings.recurring" not in got


def test_a_stretch_of_life_is_no_duration_and_no_count() -> None:
    got = stated("he would get during the first two weeks the occasional red bumps on his cheeks")
    assert "duration_days" not in got and "count" not in got
    assert stated("for the last two weeks I have had bumps")["duration_days"] == [14.0]


def test_what_came_out_gives_no_colour_to_the_bump() -> None:
    got = stated("I tried to squeeze it, but only a small white substance came out")
    assert "colour" not in got and got["findings.squeeze_contents"] == [True]


@pytest.mark.parametrize(
    ("text", "path", "value"),
    [
        # the eleventh blind batch (R295-R324)
        ("I noticed white particles in my baby's mouth", "locations", "inside_mouth"),
        ("white spots in my son's mouth", "locations", "inside_mouth"),
        ("tiny bumps on the inside of my infant's mouth", "locations", "inside_mouth"),
        ("rough, dry bumps that don't itch on her upper arms", "locations", "arms"),
        ("bumps that don't hurt on my chin", "locations", "chin"),
        ("hard lumps that cannot be squeezed out like acne", "findings.squeeze_nothing", True),
        (
            "small white bumps on my eyelids that drive me crazy",
            "findings.emotional_distress",
            True,
        ),
        ("he has scaly spots on his forehead", "findings.rough_texture", True),
        ("they always reappear in the same spots", "findings.recurring", True),
        ("it drained, but it has since recurred", "findings.recurring", True),
        ("my son has a white patch on the chin", "findings.patches", True),
        ("a lump that has become noticeably larger", "findings.growing", True),
        ("it has not diminished in size at all", "findings.getting_better", False),
        (
            "a lump under my cheek with a small red mark around the area",
            "findings.red_around",
            True,
        ),
        ("a white pimple right below my waterline of the left eye", "locations", "eyelids"),
        ("drooling and a refusal to eat", "findings.unwell", True),
        # the twelfth blind batch (R325-R354)
        ("no matter how many times I drain it, it keeps coming back", "findings.recurring", True),
        ("I have no idea why they itch so much", "findings.itchy", True),
        ("I never saw that before my pregnancy", "findings.pregnant", True),
        ("I'm done crusting and peeling", "findings.crusting", False),
        ("red color small pimples below his lips", "locations", "chin"),
        ("a rash under my arm after radiation", "locations", "armpits"),
        ("a lump over her right eyebrow", "locations", "other"),
        ("I'm feeling very scared", "findings.emotional_distress", True),
        ("the edges are red and it itches", "findings.red_around", True),
        ("a hard lump on my back but nothing to squeeze out", "findings.squeeze_nothing", True),
        ("I've had it a year and it's not got any smaller", "findings.getting_better", False),
        ("a small hard bump (1/2 cm in diameter) under the skin", "size_mm", 5.0),
        ("It is about .5 cm and pinkish", "size_mm", 5.0),
        ("it grew back and was a bit larger than before", "findings.growing", True),
        (
            "My daughter is 6 weeks old, and I noticed a small lump on her eyebrow",
            "whose",
            "child",
        ),
    ],
)
def test_phrases_from_the_blind_forum_batches_are_read(text: str, path: str, value: Any) -> None:
    assert stated(text).get(path) == [value], stated(text)


@pytest.mark.parametrize(
    "text",
    [
        "no bumps on my face, only on my back",  # the negation is the place's
        "a small lump on my eyelid towards the corner away from nose",
        "a red lump on my earlobe; it hurts to lie on that side of my face",
        "my son has spots like the ones in my mouth",  # the writer's own mouth
    ],
)
def test_places_that_are_not_where_the_bumps_are_stay_unread(text: str) -> None:
    got = stated(text).get("locations", [])
    assert not {"cheeks", "nose", "inside_mouth", "face"} & set(got), got


def test_black_is_the_darkest_brown_but_not_a_black_centre_or_a_black_eye() -> None:
    # the case format has no black: a black bump is pigmented, brown
    assert stated("a small black bump on my cheek for six months")["colour"] == ["brown"]
    assert "colour" not in stated("a lump on my back with a little black dot in the middle")
    assert "colour" not in stated("two styes, it feels like I have two black eyes")


def test_a_person_named_later_is_not_whose_the_bumps_are_when_the_writer_only_worries() -> None:
    words = "My 7 year old son has pink spots on his arm. I'm worried my sister will catch them."
    assert stated(words)["whose"] == ["child"]
    assert stated("I noticed a small white bump on my cheek")["whose"] == ["me"]
