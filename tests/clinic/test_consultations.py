"""The clinic hand-off end to end through the app: request, private link, clinicians,
status, outcome, summary, FHIR, email, export of outcomes, erase, restart."""

from __future__ import annotations

import base64
import email
import email.policy
import io
import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from miliacheck.api import create_app
from miliacheck.clinic import accounts, consultations, fhir
from miliacheck.config import Settings
from miliacheck.kb.load import KnowledgeBase
from miliacheck.store import Store
from miliacheck.store.tables import AuditRow, ConsultationRow, PhotoRow
from tests.conftest import FormClient, free_port

PASSWORD = "correct horse battery staple"
MILIA = {
    "age_years": 34,
    "sex": "female",
    "locations": ["under_eyes"],
    "duration_days": 120,
    "colour": "white",
    "findings": {"firm": True, "painful": False},
}
BCC = {
    "age_years": 72,
    "sex": "male",
    "locations": ["nose"],
    "duration_days": 200,
    "findings": {"pearly_shiny": True, "bleeding": True, "growing": True},
}


def jpeg(colour: str = "white", size: tuple[int, int] = (400, 300)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG")
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def settings() -> Settings:
    return Settings(clinic_hours="Mon-Sun 00:00-23:59", clinic_name="Test Clinic")


@pytest.fixture
def client(kb: KnowledgeBase, store: Store, settings: Settings) -> FormClient:
    return FormClient(create_app(settings, kb=kb, store=store), raise_server_exceptions=False)


@pytest.fixture
def doctor(store: Store) -> accounts.Clinician:
    return accounts.add_clinician(store, "doc@clinic.example", "Dr Doc", PASSWORD)


def login(client: FormClient, email: str = "doc@clinic.example", password: str = PASSWORD) -> Any:
    return client.post(
        "/clinic/login", data={"email": email, "password": password}, follow_redirects=False
    )


def interview(client: TestClient, case: dict[str, Any]) -> str:
    r = client.post("/api/v1/interviews", json={"case": case})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def request_via_api(client: TestClient, case: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body = {"case": case, "email": "person@example.org", "consent": True, **extra}
    r = client.post("/api/v1/consultations", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_the_whole_path_through_the_pages(
    client: FormClient, doctor: Any, kb: KnowledgeBase
) -> None:
    iid = interview(client, BCC)
    result = client.get(f"/check/{iid}/result")
    assert f'href="/consult/{iid}"' in result.text
    form = client.get(f"/consult/{iid}")
    assert form.status_code == 200 and 'type="file"' in form.text
    sent = client.post(
        f"/consult/{iid}",
        data={"name": "Ann Example", "email": "ann@example.org", "consent": "yes"},
        files=[("photos", ("nose.jpg", jpeg(), "image/jpeg"))],
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    link = sent.headers["location"].split("?")[0]
    confirmation = client.get(sent.headers["location"])
    assert "The clinic has your request" in confirmation.text
    assert "within 2 working days" in confirmation.text
    assert client.get(f"{link}/photos/1").headers["content-type"] == "image/jpeg"

    assert login(client).status_code == 303
    queue = client.get("/clinic")
    cid = re.search(r"/clinic/requests/([0-9a-f-]{36})", queue.text)
    assert cid is not None
    cid_s = cid.group(1)
    page = client.get(f"/clinic/requests/{cid_s}")
    assert "Ann Example" in page.text and "Basal cell carcinoma" in page.text
    assert kb.version in page.text and f"/clinic/requests/{cid_s}/photos/1" in page.text
    assert client.get(f"/clinic/requests/{cid_s}/photos/1?thumb=true").status_code == 200
    for status in ("contacted", "booked"):
        r = client.post(
            f"/clinic/requests/{cid_s}",
            data={"status": status, "note": f"now {status}"},
            follow_redirects=False,
        )
        assert r.status_code == 303
    closed = client.post(
        f"/clinic/requests/{cid_s}",
        data={
            "status": "closed",
            "confirmed_condition": "basal_cell_carcinoma",
            "confirmed_level": "soon",
        },
    )
    assert closed.status_code == 200 and "basal_cell_carcinoma" in closed.text
    summary = client.get(f"/clinic/requests/{cid_s}/summary")
    assert summary.status_code == 200 and "Differential" in summary.text
    pdf = client.get(f"/clinic/requests/{cid_s}/summary.pdf")
    assert pdf.content.startswith(b"%PDF-") and pdf.headers["content-type"] == "application/pdf"
    bundle = client.get(f"/api/v1/consultations/{cid_s}/fhir")
    assert bundle.headers["content-type"].startswith("application/fhir+json")
    fhir.validate(bundle.json())
    audit = client.get("/clinic/audit")
    for action in ("created", "viewed", "status", "note", "outcome", "exported_fhir"):
        assert action in audit.text, action
    person = client.get(link)
    assert "Closed" in person.text and "now booked" not in person.text  # notes stay in the clinic


def test_a_wrong_transition_names_the_field(client: FormClient, doctor: Any) -> None:
    made = request_via_api(client, MILIA)
    login(client)
    r = client.post(f"/clinic/requests/{made['id']}", data={"status": "closed"})
    assert r.status_code == 422 and "from new the next can be" in r.text
    r = client.post(f"/clinic/requests/{made['id']}", data={"confirmed_condition": "milia_primary"})
    assert r.status_code == 422 and "record the outcome when closing" in r.text


def test_the_queue_is_ordered_by_care_level_then_waiting_time(
    client: FormClient, doctor: Any, store: Store
) -> None:
    first_routine = request_via_api(client, MILIA)["id"]
    time.sleep(0.01)
    soon = request_via_api(client, BCC)["id"]
    time.sleep(0.01)
    second_routine = request_via_api(client, MILIA)["id"]
    urgent_case = {
        "age_years": 30,
        "locations": ["eyelids"],
        "findings": {"clear_blisters": True, "spreading_fast": True},
    }
    urgent = request_via_api(client, urgent_case)
    login(client)
    rows = client.get("/api/v1/consultations").json()
    order = [r["id"] for r in rows]
    levels = [r["level"] for r in rows]
    ranks = [consultations.LEVEL_RANK[lv] for lv in levels]
    assert ranks == sorted(ranks, reverse=True)
    assert order.index(first_routine) < order.index(second_routine)
    assert order[0] == urgent["id"] and soon in order


def test_an_emergency_offers_no_form_and_the_api_refuses_it(client: FormClient) -> None:
    baby = {"age_years": 0.05, "findings": {"fever": True, "unwell": True}}
    iid = interview(client, baby)
    page = client.get(f"/consult/{iid}")
    assert (
        "Emergency" in page.text and "<form" not in page.text.split("<main")[1].split("</main>")[0]
    )
    r = client.post(
        "/api/v1/consultations", json={"case": baby, "email": "a@b.org", "consent": True}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "case"


def test_an_urgent_result_shows_see_a_doctor_today_and_the_phone_before_the_form(
    client: FormClient,
) -> None:
    iid = interview(
        client,
        {
            "age_years": 30,
            "locations": ["eyelids"],
            "findings": {"clear_blisters": True, "spreading_fast": True},
        },
    )
    html = client.get(f"/consult/{iid}").text
    assert "See a doctor today" in html and "020 7946 0000" in html
    assert html.index("See a doctor today") < html.index('<form method="post" action="/consult/')


def test_closed_hours_say_so(kb: KnowledgeBase, store: Store) -> None:
    settings = Settings(clinic_hours="Mon 00:00-00:01", clinic_timezone="UTC")
    c = FormClient(create_app(settings, kb=kb, store=store))
    iid = interview(
        c,
        {
            "age_years": 30,
            "locations": ["eyelids"],
            "findings": {"clear_blisters": True, "spreading_fast": True},
        },
    )
    assert "The clinic is closed now" in c.get(f"/consult/{iid}").text


def test_bad_requests_name_the_field(client: TestClient) -> None:
    cases = [
        ({"case": MILIA, "email": "a@b.org"}, "consent"),
        ({"case": MILIA, "consent": True}, "email"),
        ({"case": MILIA, "consent": True, "email": "not-an-email"}, "email"),
        ({"case": MILIA, "consent": True, "phone": "call me"}, "phone"),
        ({"consent": True, "email": "a@b.org"}, "interview_id"),
        ({"case": {"age_years": -1}, "consent": True, "email": "a@b.org"}, "case.age_years"),
        ({"interview_id": "nope", "consent": True, "email": "a@b.org"}, "interview_id"),
        ({"case": MILIA, "consent": True, "email": "a@b.org", "colour": "x"}, "colour"),
        ({"case": MILIA, "consent": True, "email": "a@b.org", "photos": "x"}, "photos"),
        ({"case": MILIA, "consent": True, "email": "a@b.org", "photos": ["%%%"]}, "photos[0]"),
        (
            {"case": MILIA, "consent": True, "email": "a@b.org", "photos": [b64(b"GIF89a....")]},
            "photos[0]",
        ),
        (
            {"case": MILIA, "consent": True, "email": "a@b.org", "photos": [b64(jpeg())] * 4},
            "photos",
        ),
    ]
    for body, field in cases:
        r = client.post("/api/v1/consultations", json=body)
        assert r.status_code == 422, (body, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (field, r.json())


def test_no_photos_of_a_childs_genitals_or_nappy_area(client: FormClient) -> None:
    child = {"age_years": 1, "locations": ["nappy_area"]}
    r = client.post(
        "/api/v1/consultations",
        json={"case": child, "email": "a@b.org", "consent": True, "photos": [b64(jpeg())]},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "photos"
    assert request_via_api(client, child)["photos"] == 0  # the request itself is welcome
    iid = interview(client, child)
    html = client.get(f"/consult/{iid}").text
    assert 'type="file"' not in html and "cannot be sent" in html
    # A parent who typed their own age: the younger age in the words counts.
    words = {"age_years": 34, "narrative": "my 2 year old has white spots on his genitals"}
    r = client.post(
        "/api/v1/consultations",
        json={"case": words, "email": "a@b.org", "consent": True, "photos": [b64(jpeg())]},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "photos"
    adult = {"age_years": 25, "locations": ["genitals"]}
    assert request_via_api(client, adult, photos=[b64(jpeg())])["photos"] == 1


def test_photos_are_cleaned_before_they_are_kept(client: FormClient, doctor: Any) -> None:
    exif = Image.Exif()
    exif[0x010F] = "CanaryCameraMaker"
    buf = io.BytesIO()
    Image.new("RGB", (5000, 100), "red").save(buf, "JPEG", exif=exif.tobytes())
    made = request_via_api(client, MILIA, photos=[b64(buf.getvalue() + b"PK\x03\x04payload")])
    login(client)
    data = client.get(f"/clinic/requests/{made['id']}/photos/1").content
    assert b"CanaryCameraMaker" not in data and b"payload" not in data
    assert Image.open(io.BytesIO(data)).size[0] <= 2048


def test_the_person_can_view_withdraw_and_erase(client: FormClient, store: Store) -> None:
    made = request_via_api(client, MILIA, photos=[b64(jpeg())], name="Ann")
    mine = client.get(f"/api/v1/requests/{made['key']}").json()
    assert mine["status"] == "new" and mine["contact"]["name"] == "Ann" and "notes" not in mine
    assert client.post(f"/api/v1/requests/{made['key']}/withdraw").json()["status"] == "withdrawn"
    assert client.post(f"/api/v1/requests/{made['key']}/withdraw").status_code == 409
    page = client.post(f"/requests/{made['key']}/erase")
    assert page.status_code == 200 and "erased" in page.text
    assert client.get(f"/api/v1/requests/{made['key']}").status_code == 404
    with store.session() as s:
        assert s.get(ConsultationRow, made["id"]) is None
        assert s.scalar(select(func.count()).select_from(PhotoRow)) == 0
        actions = s.scalars(select(AuditRow.action).where(AuditRow.consultation_id == made["id"]))
        assert set(actions) == {"created", "withdrew", "erased"}
    other = request_via_api(client, MILIA)
    assert client.delete(f"/api/v1/requests/{other['key']}").status_code == 204
    assert client.get(f"/requests/{other['key']}").status_code == 404


def test_withdraw_through_the_page(client: FormClient) -> None:
    made = request_via_api(client, MILIA)
    r = client.post(f"/requests/{made['key']}/withdraw", follow_redirects=False)
    assert r.status_code == 303
    assert "You withdrew this request" in client.get(f"/requests/{made['key']}").text


def test_everything_survives_a_restart(kb: KnowledgeBase, store: Store, settings: Settings) -> None:
    c1 = FormClient(create_app(settings, kb=kb, store=store))
    accounts.add_clinician(store, "doc@clinic.example", "Dr Doc", PASSWORD)
    made = request_via_api(c1, BCC, photos=[b64(jpeg())], phone="+44 7700 900123")
    reborn = Store(store.url)
    c2 = FormClient(create_app(settings, kb=kb, store=reborn))
    assert c2.get(f"/api/v1/requests/{made['key']}").json()["contact"]["phone"] == "+44 7700 900123"
    login(c2)
    assert c2.get(f"/clinic/requests/{made['id']}/photos/1").status_code == 200
    reborn.dispose()


def test_the_measured_response_time_is_stated_once_there_are_enough(
    client: FormClient, doctor: Any, store: Store
) -> None:
    ids = [request_via_api(client, MILIA)["id"] for _ in range(5)]
    for cid in ids:
        consultations.update(client.app.state.kb, store, doctor, cid, {"status": "contacted"})  # type: ignore[attr-defined]
    assert consultations.response_time(store) is not None
    made = request_via_api(client, MILIA)
    assert "usually within" in client.get(f"/requests/{made['key']}?new=1").text


def test_export_cases_writes_deidentified_vignettes(
    client: FormClient, doctor: Any, store: Store, kb: KnowledgeBase
) -> None:
    words = dict(MILIA, narrative="Ann here, 12 Baker St: tiny hard white spots that do not itch")
    made = request_via_api(client, words, name="Ann", phone="0123456789")
    request_via_api(client, MILIA)  # still open: not exported
    for status in ("contacted", "closed"):
        consultations.update(kb, store, doctor, made["id"], {"status": status})
    consultations.update(
        kb,
        store,
        doctor,
        made["id"],
        {"confirmed_condition": "milia_primary", "confirmed_level": "self_care"},
    )
    out = consultations.export_cases(kb, store)
    assert len(out) == 1
    text = json.dumps(out)
    for secret in ("Ann", "Baker", "0123456789", "person@example.org", made["id"]):
        assert secret not in text
    vignette = out[0]
    assert vignette["expected"] == {
        "diagnosis": "milia_primary",
        "also_acceptable": [],
        "triage": "self_care",
    }
    assert vignette["case"]["findings"].get("itchy") is False  # what the words said is kept
    from miliacheck.evaluation import evaluate

    assert evaluate(kb, out, mode="full").summary()["cases"] == 1


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        self.arrived.set()
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_a_new_urgent_request_emails_the_clinic_a_link_and_nothing_else(
    kb: KnowledgeBase, store: Store, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        clinic_email="desk@clinic.example",
        public_url="https://clinic.example",
    )
    c = FormClient(create_app(settings, kb=kb, store=store))
    request_via_api(c, MILIA, name="Ann Canary")
    urgent_case = {
        "age_years": 30,
        "locations": ["arms"],
        "narrative": "blisters canaryword",
        "findings": {"clear_blisters": True, "spreading_fast": True},
    }
    made = request_via_api(c, urgent_case, name="Ann Canary", phone="0700 000 111")
    assert inbox.arrived.wait(10)
    time.sleep(0.2)
    assert len(inbox.messages) == 1  # the routine request sent nothing
    message = email.message_from_bytes(inbox.messages[0], policy=email.policy.default)
    mail = str(message) + message.get_body().get_content()  # type: ignore[union-attr]
    assert f"https://clinic.example/clinic/requests/{made['id']}" in mail
    for secret in (
        "Ann",
        "Canary",
        "canaryword",
        "0700",
        "person@example.org",
        "eyelid",
        "swelling",
        "fever",
    ):
        assert secret.lower() not in mail.lower(), secret
