"""The shipped knowledge base passes its checks; a broken one is refused before serving."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from miliacheck.api import create_app
from miliacheck.config import Settings
from miliacheck.errors import KnowledgeError
from miliacheck.kb.check import FORMAT_CONDITIONS, Problem, check
from miliacheck.kb.load import KnowledgeBase, default_root, read_kb


def test_the_shipped_knowledge_base_has_no_errors(kb: KnowledgeBase) -> None:
    errors = [p for p in check(kb) if p.severity == "error"]
    assert errors == []


def test_every_format_condition_is_modelled(kb: KnowledgeBase) -> None:
    assert set(FORMAT_CONDITIONS) <= set(kb.conditions)


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    shutil.copytree(default_root(), root)
    return root


def _problems_with(tmp_path: Path, file: str, old: str, new: str) -> list[Problem]:
    """kb check's problems on a copy of the knowledge base with ``old`` in ``file`` replaced."""
    root = _copy(tmp_path)
    path = root / file
    text = path.read_text()
    assert old in text, (file, old)
    path.write_text(text.replace(old, new, 1))
    return check(read_kb(root))


def test_the_app_refuses_to_start_on_a_probability_out_of_range(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / "conditions" / "milia_primary.yaml"
    path.write_text(path.read_text().replace("firm: {p: 0.9,", "firm: {p: 1.4,"))
    with pytest.raises(KnowledgeError, match="milia_primary"):
        create_app(Settings(knowledge_dir=root, database_url=f"sqlite:///{tmp_path / 'x.db'}"))


def test_an_unknown_reference_is_an_error(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / "conditions" / "milia_primary.yaml"
    path.write_text(path.read_text().replace("src: gowda_2021", "src: nobody_2099", 1))
    problems = check(read_kb(root))
    assert any("nobody_2099" in p.message for p in problems)


def test_a_rule_naming_an_unknown_finding_is_an_error(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / "triage.yaml"
    path.write_text(
        path.read_text().replace(
            "any_findings_true: [growing]}", "any_findings_true: [glowing]}", 1
        )
    )
    problems = check(read_kb(root))
    assert any("glowing" in p.message for p in problems)


def test_a_rule_naming_an_unknown_site_to_leave_out_is_an_error(tmp_path: Path) -> None:
    problems = _problems_with(
        tmp_path, "triage.yaml", "not_only_locations: [forehead,", "not_only_locations: [foreheed,"
    )
    assert any("foreheed" in p.message for p in problems)


def test_a_floor_that_needs_a_long_duration_is_an_error(tmp_path: Path) -> None:
    # an unknown duration would lower it; a long duration raises only through escalations
    problems = _problems_with(
        tmp_path,
        "triage.yaml",
        "when: {age_lt: 0.25, any_findings_true: [fever, unwell]}",
        "when: {age_lt: 0.25, any_findings_true: [fever, unwell], duration_gte: 3}",
    )
    assert any("duration_gte" in p.message for p in problems)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("newborn: [0.0192, 0.0767]", "newborn: [0.02, 0.0767]", "not where the bin before"),
        ("newborn: [0.0192, 0.0767]", "newborn: [0.0192, 0.0192]", "is empty"),
    ],
)
def test_age_bands_with_a_gap_or_an_empty_band_are_an_error(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    problems = _problems_with(tmp_path, "manifest.yaml", old, new)
    assert any(p.where == "manifest.age_bands.newborn" and message in p.message for p in problems)


def test_a_knowledge_file_naming_a_vignette_id_is_an_error(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / "conditions" / "milia_primary.yaml"
    path.write_text(path.read_text() + "\n# tuned for P07\n")
    problems = check(read_kb(root), vignette_ids={"P07"})
    assert any("P07" in p.message for p in problems)


def test_a_missing_source_and_estimate_is_refused_on_read(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / "findings.yaml"
    path.write_text(
        path.read_text().replace(
            'background: {p: 0.3, est: "Roughly', 'background: {p: 0.3, note: "Roughly', 1
        )
    )
    with pytest.raises(KnowledgeError, match=r"findings\.yaml"):
        read_kb(root)


def test_every_condition_has_its_article_and_articles_cite_what_they_list(
    kb: KnowledgeBase,
) -> None:
    for c in kb.conditions.values():
        assert c.article.removeprefix("/library/") in kb.articles
    for a in kb.articles.values():
        assert a.references and "[@" in a.body


def test_a_broken_article_is_reported(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "articles" / "bad-one.md").write_text(
        "---\nslug: bad-one\ntitle: Bad\nsummary: s\nkind: treatment\nreviewed_on: 2020-01-01\n"
        "related: [nowhere]\nreferences: [nobody_2099]\n---\nA claim [@other_ref].\n"
    )
    problems = {p.message for p in check(read_kb(root), today=date(2026, 11, 22))}
    assert "unknown reference 'nobody_2099'" in problems
    assert "cites 'other_ref' without listing it in references" in problems
    assert "related article 'nowhere' does not exist" in problems
    assert "a treatment article needs its safety section" in problems
    assert any("over 12 months" in m for m in problems)


def test_a_vague_duration_that_is_not_a_number_of_days_is_an_error(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / "lexicon.yaml"
    path.write_text(path.read_text().replace("for years: 730,", "for years: ages,", 1))
    problems = check(read_kb(root))
    assert any(p.where == "lexicon.durations_vague.for years" for p in problems)


def test_a_site_profile_without_a_default_or_with_too_big_a_share_is_an_error(
    tmp_path: Path,
) -> None:
    root = _copy(tmp_path)
    path = root / "conditions" / "milia_neonatal.yaml"
    text = path.read_text()
    text = text.replace("      weight: {p: 0.35,", "      weight: {p: 1.2,", 1)
    text = text.replace(
        '        default: {p: 0.01, est: "A baby brought for mouth cysts alone',
        '        x_default: {p: 0.01, est: "A baby brought for mouth cysts alone',
        1,
    )
    path.write_text(text)
    messages = [(p.where, p.message) for p in check(read_kb(root))]
    assert any("site_profiles" in w and "default" in m for w, m in messages), messages
    assert any("site_profiles" in w and "shares sum" in m for w, m in messages), messages


def test_a_variant_that_keeps_a_high_site_of_the_condition_is_warned(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / "conditions" / "molluscum_contagiosum.yaml"
    text = path.read_text()
    # drop the adults' explicit low chest: the children's 0.3 would be kept
    line = next(x for x in text.splitlines() if x.startswith("      chest: {p: 0.05"))
    text = text.replace(line + "\n", "", 1)
    path.write_text(text)
    problems = check(read_kb(root))
    assert any(
        p.severity == "warning" and "likelihood_variants" in p.where and "'chest'" in p.message
        for p in problems
    )


def test_a_question_an_adult_may_be_asked_does_not_speak_of_the_baby(kb: KnowledgeBase) -> None:
    # Heat rash's question once read "Was the baby overheated ..." for everyone.
    texts = {
        f"findings.{fid}": [f.question, f.question_for.get("me", "")]
        for fid, f in kb.findings.findings.items()
    }
    texts |= {f"groups.{g.id}": [g.text, g.text_for.get("me", "")] for g in kb.questions.groups}
    for where, said in texts.items():
        for text in said:
            lowered = text.lower()
            assert "the baby" not in lowered and "your baby" not in lowered, (where, text)


def test_a_colour_seen_row_that_does_not_sum_to_one_is_an_error(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / "findings.yaml"
    text = path.read_text()
    assert "brown: {p: 0.95," in text
    path.write_text(text.replace("brown: {p: 0.95,", "brown: {p: 0.75,", 1))
    problems = check(read_kb(root))
    assert any("colour_seen_as.brown" in p.where and "sum to 0.8" in p.message for p in problems), (
        problems
    )


def test_a_finding_seen_less_must_enter_the_posterior_and_set_no_floor(tmp_path: Path) -> None:
    seen = "    findings_seen:\n"
    problems = _problems_with(
        tmp_path, "findings.yaml", seen, seen + "      fever: {p: 0.5, est: test}\n"
    )
    assert any(
        p.where == "findings.dark_skin.findings_seen.fever" and "red flag" in p.message
        for p in problems
    ), problems
