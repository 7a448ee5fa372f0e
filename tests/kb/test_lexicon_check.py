"""`miliacheck kb check` on the lexicon's ask box sections (ask_*): shapes, empty lists,
and the findings, articles and library words they name."""

from __future__ import annotations

import copy
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from miliacheck.errors import KnowledgeError
from miliacheck.kb.check import Problem, check
from miliacheck.kb.load import KnowledgeBase, default_root, load_kb


def _with(kb: KnowledgeBase, **sections: Any) -> list[Problem]:
    """The ask box's problems of ``kb`` with some lexicon sections replaced (None: removed)."""
    lexicon = copy.deepcopy(kb.lexicon)
    for key, value in sections.items():
        if value is None:
            lexicon.pop(key, None)
        else:
            lexicon[key] = value
    return [p for p in check(replace(kb, lexicon=lexicon), vignette_ids=[]) if "ask" in p.where]


def _errors(problems: list[Problem]) -> list[str]:
    return [f"{p.where}: {p.message}" for p in problems if p.severity == "error"]


def _emergency(kb: KnowledgeBase) -> dict[str, Any]:
    return copy.deepcopy(kb.lexicon["ask_emergency"])


def test_the_shipped_ask_sections_have_no_problem(kb: KnowledgeBase) -> None:
    assert _with(kb) == []


def test_an_emergency_rule_naming_an_unknown_article_is_an_error(kb: KnowledgeBase) -> None:
    spec = _emergency(kb)
    spec["library"][0]["article"] = "cold-sore-herpes"
    errors = _errors(_with(kb, ask_emergency=spec))
    assert any("unknown article 'cold-sore-herpes'" in e for e in errors)


def test_an_emergency_sentence_the_article_does_not_say_is_an_error(kb: KnowledgeBase) -> None:
    """Else the emergency the library states would never be flagged."""
    spec = _emergency(kb)
    spec["library"][0]["says"] = "becomes sleepy or behaves unusually"
    errors = _errors(_with(kb, ask_emergency=spec))
    assert any("library[0].says" in e and "never shown" in e for e in errors)


def test_an_emergency_rule_needs_all_article_and_says(kb: KnowledgeBase) -> None:
    spec = _emergency(kb)
    del spec["library"][0]["says"]
    assert any("library[0]" in e for e in _errors(_with(kb, ask_emergency=spec)))


def test_an_unknown_finding_is_an_error(kb: KnowledgeBase) -> None:
    spec = _emergency(kb)
    spec["findings"]["fevers"] = spec["findings"].pop("fever")
    errors = _errors(_with(kb, ask_emergency=spec))
    assert any("unknown finding 'fevers'" in e for e in errors)


def test_a_finding_no_urgent_floor_uses_is_a_warning(kb: KnowledgeBase) -> None:
    spec = _emergency(kb)
    spec["findings"]["itchy"] = [[["itchy"]]]
    problems = _with(kb, ask_emergency=spec)
    assert not _errors(problems)
    assert any(p.severity == "warning" and p.where.endswith("findings.itchy") for p in problems)


@pytest.mark.parametrize(
    ("ways", "why"),
    [
        ([[]], "no group matches every question"),
        ([[["eye"], []]], "an empty group matches nothing"),
        ([], "no way of saying it"),
        ([[["eye"], ["*"]]], "a wildcard alone is no phrase"),
        ([[["eye"], [38]]], "a number is not a phrase"),
    ],
)
def test_an_emergency_phrase_group_must_hold_phrases(
    kb: KnowledgeBase, ways: list[Any], why: str
) -> None:
    spec = _emergency(kb)
    spec["findings"]["eye_swelling_or_vision_change"] = ways
    assert _errors(_with(kb, ask_emergency=spec)), why


def test_an_unknown_emergency_key_is_an_error(kb: KnowledgeBase) -> None:
    spec = _emergency(kb)
    spec["librarry"] = spec.pop("library")
    assert any("librarry" in e for e in _errors(_with(kb, ask_emergency=spec)))


def test_a_place_needs_phrases_and_words_the_library_says(kb: KnowledgeBase) -> None:
    assert any(
        "ask_caution_places.eye" in e
        for e in _errors(_with(kb, ask_caution_places={"eye eyes": []}))
    )
    errors = _errors(_with(kb, ask_caution_places={"eyeball": ["near my eyeball"]}))
    assert any("never says" in e for e in errors)


def test_an_intent_needs_phrases_and_a_word_the_library_says(kb: KnowledgeBase) -> None:
    intents = copy.deepcopy(kb.lexicon["ask_intents"])
    intents["aetiology"] = intents.pop("cause")
    assert any("aetiology" in e for e in _errors(_with(kb, ask_intents=intents)))
    intents = copy.deepcopy(kb.lexicon["ask_intents"])
    intents["cause"] = "why do"
    assert any("ask_intents.cause" in e for e in _errors(_with(kb, ask_intents=intents)))


def test_a_list_section_must_be_a_list_of_phrases(kb: KnowledgeBase) -> None:
    assert _errors(_with(kb, ask_caution="pop, squeeze"))
    assert _errors(_with(kb, ask_domain=["skin", 7]))
    assert _errors(_with(kb, ask_caution_cues=["do not", "  "]))


def test_an_empty_list_section_is_a_warning_not_an_error(kb: KnowledgeBase) -> None:
    """The ask box runs without its list of uncovered topics (the tests do so)."""
    problems = _with(kb, ask_not_covered=[])
    assert not _errors(problems)
    assert [p.where for p in problems] == ["lexicon.ask_not_covered"]


def test_a_spelling_must_fold_into_a_word_of_the_library(kb: KnowledgeBase) -> None:
    spellings = {**kb.lexicon["ask_spellings"], "millia": "milai"}
    assert any("millia" in e for e in _errors(_with(kb, ask_spellings=spellings)))
    assert _errors(_with(kb, ask_spellings=["milla", "milia"]))
    assert _errors(_with(kb, ask_spellings={"milla": None}))


def test_a_misspelt_or_missing_section_is_reported(kb: KnowledgeBase) -> None:
    cues = kb.lexicon["ask_caution_cues"]
    problems = _with(kb, ask_caution_cues=None, ask_cautions_cues=cues)
    assert any("ask_cautions_cues" in e for e in _errors(problems))
    assert any(p.severity == "warning" and p.where == "lexicon.ask_caution_cues" for p in problems)


def test_the_app_refuses_a_lexicon_whose_emergency_names_no_article(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    shutil.copytree(default_root(), root)
    path = root / "lexicon.yaml"
    lexicon = yaml.safe_load(path.read_text(encoding="utf-8"))
    lexicon["ask_emergency"]["library"][0]["article"] = "no-such-article"
    path.write_text(yaml.safe_dump(lexicon, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeError, match="no-such-article"):
        load_kb(root)
