"""The command line: assess, --jsonl, eval and kb, with the format's errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from miliacheck.cli import app
from tests.conftest import PROJECT_VIGNETTES

runner = CliRunner()


def test_assess_prints_a_result(tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"age_years": 30, "locations": ["under_eyes"], "colour": "white"}))
    result = runner.invoke(app, ["assess", str(case)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["conditions"][0]["id"] == "milia_primary"


def test_a_bad_case_prints_the_problem_and_exits_2(tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"age_years": 30, "findings": {"itchy": "yes"}}))
    result = runner.invoke(app, ["assess", str(case)])
    assert result.exit_code == 2
    assert "findings.itchy" in result.output


def test_assess_jsonl_prints_one_result_a_line(tmp_path: Path) -> None:
    lines = tmp_path / "cases.jsonl"
    lines.write_text(json.dumps({"age_years": 30}) + "\n" + json.dumps({"age_years": -1}) + "\n")
    result = runner.invoke(app, ["assess", "--jsonl", str(lines)])
    assert result.exit_code == 2
    out = [json.loads(x) for x in result.output.splitlines()]
    assert "conditions" in out[0]
    assert out[1]["errors"][0]["field"] == "age_years"


def test_eval_prints_the_measures() -> None:
    result = runner.invoke(app, ["eval", str(PROJECT_VIGNETTES), "--mode", "full"])
    assert result.exit_code == 0, result.output
    for measure in ("top1", "top3", "triage_exact", "under_triage_serious", "brier", "unsure_rate"):
        assert measure in result.output


def test_kb_check_and_report() -> None:
    check = runner.invoke(app, ["kb", "check"])
    assert check.exit_code == 0 and "0 errors" in check.output
    report = runner.invoke(app, ["kb", "report"])
    assert report.exit_code == 0 and "cited" in report.output


def test_the_interview_runs_in_the_terminal_to_a_result() -> None:
    # age, sex, skin (skipped), words (none), then "don't know" to every question.
    result = runner.invoke(app, ["check"], input="34\nfemale\n\n\n" + "d\n" * 30)
    assert result.exit_code == 0, result.output
    assert "Safety net" in result.output


def test_purge_reports_what_it_erased(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.db'}")
    result = runner.invoke(app, ["purge", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "Erased 0 interviews older than 30 days" in result.output


def test_the_terminal_interview_reads_the_persons_words() -> None:
    words = "hard white bumps under my eyes for months, not itchy"
    result = runner.invoke(app, ["check"], input=f"34\nfemale\ny\n{words}\n" + "d\n" * 30)
    assert result.exit_code == 0, result.output
    assert "Understood from your words" in result.output and "under_eyes" in result.output
