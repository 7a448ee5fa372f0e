"""The whole interview, result and library in headless Chromium, with JavaScript on and
off, a screenshot of each page kept in tests/browser/artifacts/, and axe-core on every
page the app serves (the list comes from the app's routes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute

from miliacheck.api import create_app
from miliacheck.kb.load import KnowledgeBase
from miliacheck.store import Store
from tests.browser.conftest import ARTIFACTS, AXE

pytestmark = pytest.mark.browser


def new_page(browser: Any, js: bool) -> Any:
    context = browser.new_context(java_script_enabled=js, viewport={"width": 390, "height": 844})
    return context.new_page()


def snap(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def answer_current(page: Any) -> str:
    """Answer the question on screen as a person with typical milia would."""
    qid = page.locator('input[name="question_id"]').get_attribute("value")
    if qid.startswith("q_rf_"):
        page.get_by_role("button", name="None of these").click()
    elif qid == "q_locations":
        page.get_by_label("Under the eyes").check()
        page.get_by_label("Cheeks").check()
        page.get_by_role("button", name="Continue").click()
    elif qid == "q_colour":
        page.get_by_label("White, like a grain of rice").check()
        page.get_by_role("button", name="Continue").click()
    elif qid == "q_count":
        page.get_by_label("A few (2 to 10)").check()
        page.get_by_role("button", name="Continue").click()
    elif qid in ("q_size", "q_duration"):
        page.locator("#answer").fill("1" if qid == "q_size" else "200")
        page.get_by_role("button", name="Continue").click()
    elif qid in ("q_firm", "q_dome_shaped", "q_squeeze_nothing"):
        page.get_by_label("Yes").check()
        page.get_by_role("button", name="Continue").click()
    elif qid == "q_emotional_distress":
        page.get_by_label("No", exact=True).check()
        page.get_by_role("button", name="Continue").click()
    else:
        page.get_by_role("button", name="Don't know").click()
    return str(qid)


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_a_person_completes_the_interview_goes_back_and_reads_the_article(
    browser: Any, base_url: str, js: bool
) -> None:
    page = new_page(browser, js)
    tag = "js" if js else "nojs"
    page.goto(base_url + "/")
    snap(page, f"{tag}-01-home")
    page.get_by_role("link", name="Start the check").click()
    page.get_by_label("Age").fill("34")
    page.get_by_label("Female").check()
    snap(page, f"{tag}-02-start")
    page.get_by_role("button", name="Continue").click()
    asked: list[str] = []
    for n in range(30):
        if "/result" in page.url:
            break
        snap(page, f"{tag}-q{n:02d}")
        asked.append(answer_current(page))
        if len(asked) == 3:  # go back once and answer again
            page.get_by_role("button", name="Back (undo the last answer)").click()
            assert page.locator('input[name="question_id"]').get_attribute("value") == asked[-1]
            answer_current(page)
    assert "/result" in page.url
    snap(page, f"{tag}-result")
    assert page.get_by_role("heading", level=1).inner_text() == "Self-care"
    page.get_by_role("link", name="Milia", exact=True).click()
    assert page.url.endswith("/library/milia")
    snap(page, f"{tag}-article")
    assert page.locator("ol.refs li").count() >= 2


def page_urls(kb: KnowledgeBase, base_url: str, browser: Any) -> dict[str, list[str]]:
    """Every page route mapped to the URLs that exercise it, questions of every type included."""
    page = new_page(browser, False)
    page.goto(base_url + "/check")
    page.get_by_label("Age").fill("45")
    page.locator("#narrative").fill("tiny hard white bumps under my eyes for months, not itchy")
    page.get_by_role("button", name="Continue").click()
    question_urls: dict[str, str] = {}
    while "/result" not in page.url and len(question_urls) < 12:
        qid = page.locator('input[name="question_id"]').get_attribute("value")
        kind = (
            "locations"
            if qid == "q_locations"
            else page.locator(
                "form input[type=radio], form input[type=checkbox], form input[type=number]"
            ).first.get_attribute("type")
        )
        question_urls.setdefault(f"{kind}-{'rf' if qid.startswith('q_rf') else 'q'}", page.url)
        answer_current(page)
    interview = page.url.split("/check/")[1].split("/")[0].split("?")[0]
    articles = [f"/library/{slug}" for slug in sorted(kb.articles)]
    return {
        "/": ["/"],
        "/check": ["/check"],
        "/check/{interview_id}": [u.replace(base_url, "") for u in question_urls.values()],
        "/check/{interview_id}/result": [f"/check/{interview}/result"],
        "/library": ["/library", "/library?q=milia+baby"],
        "/library/{slug}": articles,
        "/about": ["/about"],
        "/ask": ["/ask"],
        "/privacy": ["/privacy"],
        "/safety": ["/safety"],
    }


def test_axe_finds_no_violations_on_any_page(
    browser: Any, base_url: str, kb: KnowledgeBase, tmp_path: Path
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    routes = {
        r.path
        for r in create_app(kb=kb, store=store).routes
        if isinstance(r, APIRoute) and r.methods == {"GET"} and not r.path.startswith("/api/")
    }
    store.dispose()
    urls = page_urls(kb, base_url, browser)
    assert routes <= set(urls), f"pages without an accessibility test: {sorted(routes - set(urls))}"
    axe = AXE.read_text(encoding="utf-8")
    page = new_page(browser, True)
    failures: dict[str, Any] = {}
    for path in [u for us in urls.values() for u in us] + ["/nowhere"]:
        page.goto(base_url + path)
        page.add_script_tag(content=axe)
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        bad = [
            {"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in result["violations"]
        ]
        if bad:
            failures[path] = bad
    assert not failures, json.dumps(failures, indent=1)[:4000]
