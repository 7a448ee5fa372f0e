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
from tests.browser.conftest import ARTIFACTS, AXE, CLINICIAN

pytestmark = pytest.mark.browser


def new_page(browser: Any, js: bool, axe: bool = False) -> Any:
    """A phone-sized page. ``axe``: the page may run axe-core, which Playwright injects as an
    inline script that the app's Content-Security-Policy (rightly) blocks, so CSP is bypassed
    for that test context only."""
    context = browser.new_context(
        java_script_enabled=js, viewport={"width": 390, "height": 844}, bypass_csp=axe
    )
    return context.new_page()


def log_in(page: Any, base_url: str) -> None:
    page.goto(base_url + "/clinic/login")
    page.get_by_label("Email").fill(CLINICIAN[0])
    page.get_by_label("Password").fill(CLINICIAN[1])
    page.get_by_role("button", name="Log in").click()
    assert page.url.rstrip("/").endswith("/clinic"), page.url


def jpeg_file(tmp_path: Path) -> Path:
    from PIL import Image

    path = tmp_path / "bump.jpg"
    Image.new("RGB", (800, 600), (235, 220, 210)).save(path, "JPEG")
    return path


def interview_to_result(page: Any, base_url: str, age: str, narrative: str) -> str:
    page.goto(base_url + "/check")
    page.get_by_label("Age").fill(age)
    page.locator("#narrative").fill(narrative)
    page.get_by_role("button", name="Continue").click()
    for _ in range(30):
        if "/result" in page.url:
            break
        answer_current(page)
    assert "/result" in page.url
    return str(page.url.split("/check/")[1].split("/")[0])


def snap(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def answer_current(page: Any) -> str:
    """Answer the question on screen as a person with typical milia would."""
    qid = page.locator('input[name="question_id"]').get_attribute("value")
    if qid.startswith("q_rf_") or qid == "q_before_result":
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
    page.goto(f"{base_url}/consult/{interview}")
    page.get_by_label("Email").fill("axe@example.org")
    page.get_by_label("I agree", exact=False).check()
    page.get_by_role("button", name="Send the request").click()
    key = page.url.split("/requests/")[1].split("?")[0]
    cid = requests_in_queue(browser, base_url)[0]
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
        "/consult/{interview_id}": [f"/consult/{interview}"],
        "/requests/{key}": [f"/requests/{key}?new=1", f"/requests/{key}"],
        "/clinic/login": ["/clinic/login"],
        "/clinic": ["/clinic", "/clinic?everything=true"],
        "/clinic/requests/{cid}": [f"/clinic/requests/{cid}"],
        "/clinic/requests/{cid}/summary": [f"/clinic/requests/{cid}/summary"],
        "/clinic/audit": ["/clinic/audit"],
    }


#: GET routes that are not HTML pages (pictures, a PDF, Prometheus text) or not ours
#: (the API's Swagger UI).
NOT_PAGES = {
    "/docs",
    "/metrics",
    "/requests/{key}/photos/{n}",
    "/clinic/requests/{cid}/photos/{n}",
    "/clinic/requests/{cid}/summary.pdf",
}


def requests_in_queue(browser: Any, base_url: str) -> list[str]:
    page = new_page(browser, False)
    log_in(page, base_url)
    links = page.locator("table.queue a").evaluate_all("els => els.map(e => e.href)")
    page.context.close()
    return [str(h).rsplit("/", 1)[1] for h in links]


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
    missing = sorted(routes - NOT_PAGES - set(urls))
    assert not missing, f"pages without an accessibility test: {missing}"
    axe = AXE.read_text(encoding="utf-8")
    page = new_page(browser, True, axe=True)
    log_in(page, base_url)  # the clinic's pages too
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


def test_the_clinic_path_from_a_result_to_a_fhir_export(
    browser: Any, base_url: str, tmp_path: Path
) -> None:
    """Result -> request with a photo -> confirmation -> clinician login -> queue -> request
    page -> status change -> FHIR export, in headless Chromium with JavaScript on."""
    from miliacheck.clinic import fhir

    person = new_page(browser, True)
    words = "a shiny pearly bump on my nose that bleeds and has grown for 6 months"
    interview = interview_to_result(person, base_url, "71", words)
    snap(person, "clinic-01-result")
    person.get_by_role("link", name="Ask the clinic for a consultation").click()
    assert person.url.endswith(f"/consult/{interview}")
    person.get_by_label("Your name (optional)").fill("Pat Example")
    person.get_by_label("Email").fill("pat@example.org")
    person.get_by_label("When is it best to reach you? (optional)").fill("weekday mornings")
    person.locator("#photos").set_input_files(str(jpeg_file(tmp_path)))
    person.get_by_label("I agree", exact=False).check()
    snap(person, "clinic-02-form")
    person.get_by_role("button", name="Send the request").click()
    assert "/requests/" in person.url
    assert person.get_by_role("heading", name="The clinic has your request").is_visible()
    assert person.locator("ul.thumbs img").count() == 1
    snap(person, "clinic-03-confirmation")

    doctor = new_page(browser, True)
    log_in(doctor, base_url)
    snap(doctor, "clinic-04-queue")
    row = doctor.locator("table.queue tr", has_text="Pat Example").first
    row.get_by_role("link").click()
    assert doctor.get_by_text("pat@example.org").first.is_visible()
    assert doctor.get_by_text("Basal cell carcinoma").first.is_visible()
    assert doctor.locator("ul.thumbs img").count() == 1
    snap(doctor, "clinic-05-request")
    doctor.get_by_label("New status").select_option("contacted")
    doctor.get_by_role("textbox", name="Note").fill("Left a voicemail")
    doctor.get_by_role("button", name="Save").click()
    assert doctor.get_by_text("Status contacted").is_visible()
    assert doctor.get_by_text("Left a voicemail").is_visible()
    cid = doctor.url.rsplit("/", 1)[1]
    with doctor.expect_download() as download:
        doctor.get_by_role("link", name="FHIR R4 export").click()
    bundle = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    fhir.validate(bundle)
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "QuestionnaireResponse", "Condition", "RiskAssessment"} <= kinds
    assert {"ServiceRequest", "Media"} <= kinds
    assert cid in json.dumps(bundle)
    # The person's link shows the new status; the clinic's note stays in the clinic.
    person.reload()
    assert person.get_by_text("The clinic has contacted you").is_visible()
    assert "voicemail" not in person.content()
