"""The shipped knowledge base passes its checks; a broken one is refused before serving."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from miliacheck.api import create_app
from miliacheck.config import Settings
from miliacheck.errors import KnowledgeError
from miliacheck.kb.check import FORMAT_CONDITIONS, check
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


def test_the_app_refuses_to_start_on_a_probability_out_of_range(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / "conditions" / "milia_primary.yaml"
    path.write_text(path.read_text().replace("firm: {p: 0.9,", "firm: {p: 1.4,"))
    with pytest.raises(KnowledgeError, match="milia_primary"):
        create_app(Settings(knowledge_dir=root))


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
