"""Docs change with the code: routes, settings, commands and knowledge fields are documented."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from fastapi.routing import APIRoute

from miliacheck.api import create_app
from miliacheck.cli import app as cli_app
from miliacheck.config import HELP, Settings
from miliacheck.kb.load import KnowledgeBase
from miliacheck.kb.schema import Condition, When
from miliacheck.store import Store

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_api_route_is_in_the_readme(kb: KnowledgeBase, store: Store) -> None:
    app = create_app(kb=kb, store=store)
    for route in app.routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            assert route.path in README, route.path


def test_every_setting_has_help_and_is_documented() -> None:
    doc = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    for field in dataclasses.fields(Settings):
        assert field.name in HELP, field.name
        assert f"`{field.name}`" in doc and f"MILIACHECK_{field.name.upper()}" in doc


def test_every_cli_command_is_in_the_readme() -> None:
    names = [c.name or c.callback.__name__ for c in cli_app.registered_commands if c.callback]
    names += [
        f"{g.name} {c.name}"
        for g in cli_app.registered_groups
        for c in g.typer_instance.registered_commands
    ]
    for name in names:
        assert f"miliacheck {name.rstrip('_')}" in README, name


def test_every_condition_field_and_rule_key_is_documented() -> None:
    doc = (ROOT / "docs" / "knowledge.md").read_text(encoding="utf-8")
    for name in [*Condition.model_fields, *When.model_fields]:
        assert f"`{name}`" in doc, name


def test_the_home_page_shows_the_intended_use_statement_of_the_hazard_log(
    kb: KnowledgeBase, store: Store
) -> None:
    import html
    import re

    from fastapi.testclient import TestClient

    doc = (ROOT / "docs" / "safety.md").read_text(encoding="utf-8")
    marked = re.search(r"<!-- intended-use:start -->(.*?)<!-- intended-use:end -->", doc, re.S)
    assert marked, "docs/safety.md marks its intended-use statement"
    statement = " ".join(marked.group(1).split())
    assert statement.startswith("miliacheck is for people over 16"), statement
    page = TestClient(create_app(kb=kb, store=store)).get("/")
    assert page.status_code == 200
    shown = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())
    assert statement in shown, "the home page and docs/safety.md must say the same"
