"""The pages through the app's test client: the whole interview without JavaScript."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Route

from miliacheck.api import create_app
from miliacheck.kb.load import KnowledgeBase
from miliacheck.store import Store
from tests.conftest import FormClient

PRIVATE_PATHS = ("/check",)


@pytest.fixture
def client(kb: KnowledgeBase, store: Store) -> TestClient:
    return FormClient(create_app(kb=kb, store=store), raise_server_exceptions=False)


def start(client: TestClient, **form: str) -> str:
    data = {"whose": "me", "age": "34", "age_unit": "years", "sex": "female", **form}
    r = client.post("/check", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


def answer_all(client: TestClient, url: str, choose: Any) -> str:
    for _ in range(40):
        page = client.get(url, follow_redirects=False)
        if page.status_code == 303:
            return str(page.headers["location"])
        html = page.text
        qid = re.search(r'name="question_id" value="([^"]+)"', html)
        assert qid, html
        action = re.search(r'<form method="post" action="(/check/[^"]+/answer)"', html)
        assert action
        data = {"question_id": qid.group(1), "whose": "me", **choose(qid.group(1), html)}
        r = client.post(action.group(1), data=data, follow_redirects=False)
        assert r.status_code == 303
    raise AssertionError("the interview did not end")


def typical_milia(qid: str, html: str) -> dict[str, Any]:
    if qid.startswith("q_rf_") or qid == "q_before_result":
        return {"none": "1"}
    if qid == "q_locations":
        return {"answer": ["under_eyes", "cheeks"]}
    if qid == "q_colour":
        return {"answer": "white"}
    if qid == "q_count":
        return {"answer": "few"}
    if qid == "q_size":
        return {"answer": "1"}
    if qid == "q_duration":
        return {"answer": "6", "unit": "months"}
    if qid in ("q_firm", "q_dome_shaped", "q_squeeze_nothing"):
        return {"answer": "yes"}
    return {"dont_know": "1"}


def test_home_library_and_info_pages_render(client: TestClient) -> None:
    for path in (
        "/",
        "/library",
        "/library/milia",
        "/about",
        "/privacy",
        "/safety",
        "/check",
        "/ask",
    ):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("text/html")
        assert '<html lang="en">' in r.text and "<h1" in r.text
    assert "emergency" in client.get("/").text.lower()


def test_a_typical_interview_runs_to_a_self_care_result_without_javascript(
    client: TestClient,
) -> None:
    url = start(client)
    result_url = answer_all(client, url, typical_milia)
    r = client.get(result_url)
    assert r.status_code == 200
    assert "Self-care" in r.text
    assert 'href="/library/milia"' in r.text
    assert "Safety net" in r.text
    assert r.headers["x-robots-tag"].startswith("noindex")
    assert r.headers["referrer-policy"] == "no-referrer"


def test_back_undoes_the_last_answer_and_an_answer_can_be_changed(client: TestClient) -> None:
    url = start(client)
    iid = url.split("/")[2].split("?")[0]
    first = client.get(url).text
    qid = re.search(r'name="question_id" value="([^"]+)"', first).group(1)  # type: ignore[union-attr]
    client.post(f"/check/{iid}/answer", data={"question_id": qid, "none": "1"})
    assert "Where are the bumps" in client.get(url).text
    client.post(f"/check/{iid}/back", data={"whose": "me"})
    assert f'value="{qid}"' in client.get(url).text


def test_dont_know_and_a_missing_answer_are_handled(client: TestClient) -> None:
    url = start(client)
    iid = url.split("/")[2].split("?")[0]
    html = client.get(url).text
    qid = re.search(r'name="question_id" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    client.post(f"/check/{iid}/answer", data={"question_id": qid, "none": "1"})
    r = client.post(
        f"/check/{iid}/answer", data={"question_id": "q_locations"}, follow_redirects=True
    )
    assert "Tick at least one place" in r.text
    client.post(f"/check/{iid}/answer", data={"question_id": "q_locations", "dont_know": "1"})
    assert "q_locations" not in client.get(url).text


def test_the_start_form_names_the_field_in_error(client: TestClient) -> None:
    r = client.post("/check", data={"whose": "me", "age": "abc", "age_unit": "years"})
    assert r.status_code == 422
    assert 'href="#age"' in r.text and 'id="age"' in r.text
    r = client.post("/check", data={"whose": "me", "age": "12", "age_unit": "years"})
    assert r.status_code == 422 and "over 16" in r.text


def test_a_baby_gets_the_baby_screen_first_and_an_emergency_with_fever(client: TestClient) -> None:
    url = start(client, whose="child", age="5", age_unit="weeks")
    html = client.get(url).text
    assert "Does your baby have any of these?" in html
    iid = url.split("/")[2].split("?")[0]
    client.post(
        f"/check/{iid}/answer", data={"question_id": "q_rf_baby", "answer": ["findings.fever"]}
    )
    r = client.get(f"/check/{iid}/result")
    assert "Emergency" in r.text and "emergency department" in r.text.lower()


def test_feedback_is_kept_and_thanked(client: TestClient) -> None:
    r = client.post(
        "/feedback", data={"next": "/library/milia", "helpful": "yes", "comment": "clear"}
    )
    assert r.status_code == 200 and "Thank you" in r.text
    r = client.post(
        "/feedback", data={"next": "https://evil.example/", "helpful": "no"}, follow_redirects=False
    )
    assert r.headers["location"].startswith("/?")


def test_library_search_finds_articles(client: TestClient) -> None:
    r = client.get("/library", params={"q": "baby milia"})
    assert 'href="/library/milia-in-babies"' in r.text
    assert "No article matches" in client.get("/library", params={"q": "zzzzqqq"}).text


def test_an_article_shows_numbered_references(client: TestClient) -> None:
    html = client.get("/library/why-milia-wont-pop").text
    assert 'class="cite" href="#ref-1"' in html and 'id="ref-1"' in html


def test_unknown_pages_are_html_404s_and_api_404s_stay_problems(client: TestClient) -> None:
    r = client.get("/library/not-an-article")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    r = client.get("/check/not-an-interview")
    assert r.status_code == 404
    assert (
        client.get("/api/v1/conditions/nope")
        .headers["content-type"]
        .startswith("application/problem+json")
    )


def test_every_page_route_is_covered_by_these_tests(client: TestClient) -> None:
    routes = client.app.routes  # type: ignore[attr-defined]
    pages = {r.path for r in routes if isinstance(r, Route) and not r.path.startswith("/api/")}
    here = Path(__file__).resolve().parent
    source = "".join(
        p.read_text(encoding="utf-8")
        for p in [*here.glob("test_*.py"), *(here.parent / "clinic").glob("test_*.py")]
    )
    for path in pages - {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}:
        stem = path.split("{")[0].rstrip("/") or "/"
        assert f'"{stem}' in source, f"page {path} has no test"


def test_pages_are_small(client: TestClient) -> None:
    url = start(client)
    iid = url.split("/")[2].split("?")[0]
    for path in ("/", "/library", "/library/milia-faq", "/check", url, f"/check/{iid}/result"):
        assert len(client.get(path).content) <= 100_000, path


def test_the_wording_follows_whose_bumps_they_are(client: TestClient) -> None:
    case = {
        "age_years": 30,
        "locations": ["cheeks"],
        "colour": "white",
        "count": "few",
        "size_mm": 1,
        "duration_days": 200,
        "findings": {
            "bleeding": False,
            "open_sore": False,
            "crusting": False,
            "growing": False,
            "changing": False,
            "spreading_fast": False,
            "painful": False,
            "firm": True,
            "squeeze_nothing": True,
        },
    }
    iid = client.post("/api/v1/interviews", json={"case": case}).json()["id"]
    assert "does either of these apply to you?" in client.get(f"/check/{iid}?whose=me").text
    assert "apply to your child?" in client.get(f"/check/{iid}?whose=child").text
    other = client.get(f"/check/{iid}?whose=other").text
    assert "Before the result: does either of these apply?" in other


def test_the_words_are_shown_and_a_misreading_can_be_corrected(client: TestClient) -> None:
    url = start(client, narrative="tiny hard white bumps on my cheeks, not itchy")
    iid = url.split("/")[2].split("?")[0]
    html = client.get(url).text
    assert "What we understood from your words" in html and "Where: cheeks" in html
    before = client.get(f"/api/v1/interviews/{iid}").json()["result"]
    assert any(u["field"] == "locations" and u["used"] for u in before["understood"])
    client.post(f"/check/{iid}/correct", data={"reading": "findings.itchy", "whose": "me"})
    after = client.get(f"/api/v1/interviews/{iid}").json()
    assert "itchy" not in after["case"].get("findings", {})
    assert "findings.itchy" not in [u["field"] for u in after["result"]["understood"] if u["used"]]


def test_a_region_read_from_the_words_is_shown_and_can_be_corrected(client: TestClient) -> None:
    url = start(client, narrative="lots of tiny hard white bumps on my face")
    iid = url.split("/")[2].split("?")[0]
    html = client.get(url).text
    assert "Where: somewhere on the face" in html
    assert 'value="region:face"' in html
    before = client.get(f"/api/v1/interviews/{iid}").json()["result"]
    assert any(u["field"] == "region" and u["used"] for u in before["understood"])
    stored = client.get(f"/api/v1/interviews/{iid}").json()["case"]
    assert "locations" not in stored  # never written as sites: the interview still asks
    client.post(f"/check/{iid}/correct", data={"reading": "region:face", "whose": "me"})
    after = client.get(f"/api/v1/interviews/{iid}").json()["result"]
    assert not any(u["field"] == "region" and u["used"] for u in after["understood"])


def test_the_skin_tone_box_is_optional_and_unticked_is_unknown(client: TestClient) -> None:
    assert 'id="dark_skin"' in client.get("/check").text
    ticked = start(client, dark_skin="1").split("/")[2].split("?")[0]
    case = client.get(f"/api/v1/interviews/{ticked}").json()["case"]
    assert case["findings"] == {"dark_skin": True}
    plain = start(client).split("/")[2].split("?")[0]
    assert "dark_skin" not in client.get(f"/api/v1/interviews/{plain}").json()["case"].get(
        "findings", {}
    )
