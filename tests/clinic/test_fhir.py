"""The FHIR R4 export: bundles of real results, checked by fhirclient (strict) and our own check."""

from __future__ import annotations

import base64
import copy
import struct
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from fhirclient.models.questionnaire import Questionnaire

from miliacheck.clinic import fhir
from miliacheck.kb.load import KnowledgeBase
from miliacheck.service import assess_json

BASE = "https://clinic.example.org"

ADULT_MILIA = {
    "age_years": 34,
    "sex": "female",
    "narrative": "Tiny hard white bumps under both eyes for months. Squeezing does nothing.",
    "locations": ["under_eyes", "cheeks"],
    "duration_days": 120,
    "count": "many",
    "size_mm": 1.5,
    "colour": "white",
    "findings": {"firm": True, "painful": False, "squeeze_nothing": True},
    "dont_know": ["findings.itchy"],
}
PEARLY_BLEEDING = {
    "age_years": 70,
    "sex": "male",
    "locations": ["nose"],
    "count": "one",
    "findings": {"pearly_shiny": True, "bleeding": True},
}
NEWBORN = {
    "age_years": 10 / 365,
    "locations": ["nose", "cheeks"],
    "colour": "white",
    "count": "many",
    "findings": {"fever": False, "unwell": False},
}
SWOLLEN_EYELID = {
    "age_years": 45,
    "locations": ["eyelids"],
    "findings": {"eye_swelling_or_vision_change": True, "fever": True, "red_around": True},
}
CASES = {
    "adult milia": ADULT_MILIA,
    "pearly bleeding bump at 70": PEARLY_BLEEDING,
    "newborn": NEWBORN,
    "swollen eyelid": SWOLLEN_EYELID,
}
CONTACT = {
    "name": "Ann Example",
    "email": "ann@example.org",
    "phone": "+44 7700 900123",
    "preferred_times": "weekday mornings",
}
NO_CONTACT = {"name": None, "email": None, "phone": None, "preferred_times": None}


def tiny_png() -> bytes:
    """A valid 1 x 1 white PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PHOTO = {"n": 1, "content_type": "image/png", "data": tiny_png(), "width": 1, "height": 1}


def record(
    kb: KnowledgeBase,
    case: dict[str, Any],
    *,
    contact: dict[str, Any] | None = None,
    photos: list[dict[str, Any]] | None = None,
    confirmed: dict[str, Any] | None = None,
    status: str = "new",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": "c-7Hq2",
        "created_at": "2026-05-04T09:30:12.345678+01:00",
        "status": status,
        "contact": contact if contact is not None else NO_CONTACT,
        "case": case,
        "result": assess_json(kb, case),
        "kb_version": kb.version,
        "photos": photos or [],
        "confirmed": confirmed,
        **extra,
    }


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def one(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    (res,) = resources(bundle, kind)
    return res


def by_url(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["fullUrl"]: e["resource"] for e in bundle["entry"]}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("given", ["nothing", "contact and a photo"])
def test_a_bundle_of_each_typical_case_validates(kb: KnowledgeBase, name: str, given: str) -> None:
    extra = {"contact": CONTACT, "photos": [PHOTO]} if given != "nothing" else {}
    out = fhir.bundle(kb, record(kb, CASES[name], **extra), BASE)
    fhir.validate(out, kb, base_url=BASE)
    assert out["type"] == "collection"
    assert [e["resource"]["resourceType"] for e in out["entry"]][:2] == [
        "Patient",
        "QuestionnaireResponse",
    ]
    assert all(e["fullUrl"].startswith("urn:uuid:") for e in out["entry"])


def test_the_export_is_the_same_for_the_same_record(kb: KnowledgeBase) -> None:
    rec = record(kb, ADULT_MILIA, contact=CONTACT, photos=[PHOTO])
    assert fhir.bundle(kb, rec, BASE) == fhir.bundle(kb, rec, BASE + "/")


def test_the_patient_holds_nothing_that_was_not_given(kb: KnowledgeBase) -> None:
    case = {k: v for k, v in ADULT_MILIA.items() if k != "sex"}
    patient = one(fhir.bundle(kb, record(kb, case), BASE), "Patient")
    assert patient == {"resourceType": "Patient"}


def test_the_patient_holds_the_given_name_telecom_and_sex_and_no_birth_date(
    kb: KnowledgeBase,
) -> None:
    patient = one(fhir.bundle(kb, record(kb, ADULT_MILIA, contact=CONTACT), BASE), "Patient")
    assert patient == {
        "resourceType": "Patient",
        "name": [{"text": "Ann Example"}],
        "telecom": [
            {"system": "phone", "value": "+44 7700 900123"},
            {"system": "email", "value": "ann@example.org"},
        ],
        "gender": "female",
    }


def test_only_the_given_contact_fields_are_kept(kb: KnowledgeBase) -> None:
    contact = {**NO_CONTACT, "email": "ann@example.org"}
    patient = one(fhir.bundle(kb, record(kb, PEARLY_BLEEDING, contact=contact), BASE), "Patient")
    assert patient == {
        "resourceType": "Patient",
        "telecom": [{"system": "email", "value": "ann@example.org"}],
        "gender": "male",
    }


@pytest.mark.parametrize(
    ("case", "whose"),
    [(NEWBORN, None), (ADULT_MILIA, "child"), (ADULT_MILIA, "other")],
)
def test_someone_else_s_contact_details_are_a_contact_of_the_patient(
    kb: KnowledgeBase, case: dict[str, Any], whose: str | None
) -> None:
    extra = {"whose": whose} if whose else {}
    out = fhir.bundle(kb, record(kb, case, contact=CONTACT, **extra), BASE)
    fhir.validate(out, kb)
    patient = one(out, "Patient")
    assert "name" not in patient and "telecom" not in patient
    assert patient["contact"][0]["name"] == {"text": "Ann Example"}
    assert len(patient["contact"][0]["telecom"]) == 2


@pytest.mark.parametrize("name", CASES)
def test_every_condition_from_10_percent_or_must_not_miss_is_a_coded_differential(
    kb: KnowledgeBase, name: str
) -> None:
    rec = record(kb, CASES[name])
    out = fhir.bundle(kb, rec, BASE)
    conditions = {c["code"]["coding"][-1]["code"]: c for c in resources(out, "Condition")}
    expected = [
        c["id"]
        for c in rec["result"]["conditions"]
        if c["probability"] >= 0.10 or c["must_not_miss"]
    ]
    assert expected and sorted(conditions) == sorted(expected)
    for cid, cond in conditions.items():
        assert cond["verificationStatus"]["coding"] == [
            {"system": fhir.VER_STATUS, "code": "differential", "display": "Differential"}
        ]
        codings = {(c["system"], c["code"], c["display"]) for c in cond["code"]["coding"]}
        listed = {(c.system, c.code, c.display) for c in kb.conditions[cid].codes}
        assert listed <= codings
        assert {fhir.ICD10} <= {c["system"] for c in cond["code"]["coding"]}
        if any(c.system == fhir.SNOMED for c in kb.conditions[cid].codes):
            assert fhir.SNOMED in {c["system"] for c in cond["code"]["coding"]}
        assert cond["subject"] == one(out, "QuestionnaireResponse")["subject"]
        assert "%" in cond["note"][0]["text"]


def test_the_must_not_miss_cases_carry_snomed_and_icd_10(kb: KnowledgeBase) -> None:
    out = fhir.bundle(kb, record(kb, PEARLY_BLEEDING), BASE)
    bcc = next(
        c
        for c in resources(out, "Condition")
        if c["code"]["coding"][-1]["code"] == "basal_cell_carcinoma"
    )
    systems = {c["system"]: c["code"] for c in bcc["code"]["coding"]}
    assert systems[fhir.SNOMED] == "254701007"
    assert systems[fhir.ICD10] == "C44.9"
    assert systems[fhir.ICD10CM] == "C44.91"


def test_a_confirmed_diagnosis_is_confirmed_even_below_10_percent(kb: KnowledgeBase) -> None:
    rec = record(
        kb,
        NEWBORN,
        confirmed={"condition": "erythema_toxicum_neonatorum", "level": "routine"},
        status="closed",
    )
    out = fhir.bundle(kb, rec, BASE)
    fhir.validate(out, kb)
    status = {
        c["code"]["coding"][-1]["code"]: c["verificationStatus"]["coding"][0]["code"]
        for c in resources(out, "Condition")
    }
    assert status.pop("erythema_toxicum_neonatorum") == "confirmed"
    assert status and set(status.values()) == {"differential"}
    request = one(out, "ServiceRequest")
    assert request["status"] == "completed"
    assert request["priority"] == "routine"
    assert request["extension"][-1]["valueCoding"]["code"] == "routine"


def test_the_risk_assessment_is_the_whole_distribution(kb: KnowledgeBase) -> None:
    rec = record(kb, SWOLLEN_EYELID)
    risk = one(fhir.bundle(kb, rec, BASE), "RiskAssessment")
    predictions = risk["prediction"]
    assert sum(p["probabilityDecimal"] for p in predictions) == pytest.approx(1.0, abs=0.01)
    coded = [p["outcome"]["coding"][-1]["code"] for p in predictions if "coding" in p["outcome"]]
    assert coded == [c["id"] for c in rec["result"]["conditions"]]
    assert "not_listed" in predictions[-1]["outcome"]["text"]
    assert predictions[-1]["probabilityDecimal"] == rec["result"]["not_listed_probability"]


@pytest.mark.parametrize(
    ("name", "priority"),
    [
        ("adult milia", "routine"),
        ("pearly bleeding bump at 70", "urgent"),
        ("swollen eyelid", "stat"),
    ],
)
def test_the_referral_is_a_proposal_prioritised_by_the_care_level(
    kb: KnowledgeBase, name: str, priority: str
) -> None:
    rec = record(kb, CASES[name], contact=CONTACT, photos=[PHOTO, {**PHOTO, "n": 2}])
    out = fhir.bundle(kb, rec, BASE)
    request = one(out, "ServiceRequest")
    assert fhir.PRIORITY[rec["result"]["triage"]["level"]] == priority
    assert (request["intent"], request["priority"], request["status"]) == (
        "proposal",
        priority,
        "active",
    )
    entries = by_url(out)
    reasons = [entries[r["reference"]]["resourceType"] for r in request["reasonReference"]]
    assert reasons == ["Condition"] * len(resources(out, "Condition"))
    support = [entries[r["reference"]]["resourceType"] for r in request["supportingInfo"]]
    assert support == ["QuestionnaireResponse", "RiskAssessment", "Media", "Media"]
    notes = " ".join(n["text"] for n in request["note"])
    assert all(reason in notes for reason in rec["result"]["triage"]["reasons"])
    assert "weekday mornings" in notes


def test_photos_are_media_with_their_bytes_and_size(kb: KnowledgeBase) -> None:
    media = one(fhir.bundle(kb, record(kb, ADULT_MILIA, photos=[PHOTO]), BASE), "Media")
    assert media["status"] == "completed"
    assert (media["width"], media["height"]) == (1, 1)
    assert media["content"]["contentType"] == "image/png"
    assert base64.b64decode(media["content"]["data"]) == PHOTO["data"]
    assert media["content"]["size"] == len(PHOTO["data"])


def test_the_answers_are_the_case_and_don_t_know_is_an_absent_answer(kb: KnowledgeBase) -> None:
    out = fhir.bundle(kb, record(kb, ADULT_MILIA, whose="me"), BASE)
    response = one(out, "QuestionnaireResponse")
    assert response["status"] == "completed"
    assert response["questionnaire"] == f"{BASE}/api/v1/fhir/Questionnaire/miliacheck|{kb.version}"
    items = {i["linkId"]: i for i in response["item"]}
    assert items["age_years"]["answer"] == [{"valueDecimal": 34.0}]
    assert [a["valueCoding"]["code"] for a in items["locations"]["answer"]] == [
        "under_eyes",
        "cheeks",
    ]
    assert items["whose"]["answer"][0]["valueCoding"]["code"] == "me"
    assert items["findings.painful"]["answer"] == [{"valueBoolean": False}]
    assert items["narrative"]["answer"][0]["valueString"] == ADULT_MILIA["narrative"]
    assert "answer" not in items["findings.itchy"]
    assert items["findings.itchy"]["extension"][0]["valueCode"] == "asked-unknown"


def test_the_questionnaire_is_strict_r4_and_holds_every_answer(kb: KnowledgeBase) -> None:
    q = fhir.questionnaire(kb, BASE)
    Questionnaire(q, strict=True)
    fhir.validate(q, kb, base_url=BASE)
    assert q["url"] == f"{BASE}/api/v1/fhir/Questionnaire/miliacheck"
    assert q["version"] == kb.version and q["status"] == "active"
    links = {i["linkId"]: i for i in q["item"]}
    assert {f"findings.{f}" for f in kb.findings.findings} <= set(links)
    assert links["findings.firm"]["text"] == kb.findings.findings["firm"].question
    assert links["locations"]["repeats"] is True
    locations = [o["valueCoding"]["code"] for o in links["locations"]["answerOption"]]
    assert locations == list(kb.questions.locations["labels"])
    for case in CASES.values():
        response = one(fhir.bundle(kb, record(kb, case, whose="me"), BASE), "QuestionnaireResponse")
        for item in response["item"]:
            assert item["linkId"] in links
            for answer in item.get("answer", []):
                coding = answer.get("valueCoding")
                if coding:
                    assert {"valueCoding": coding} in links[item["linkId"]]["answerOption"]


def test_the_code_systems_validate_and_hold_every_code_the_export_uses(kb: KnowledgeBase) -> None:
    systems = {cs["url"]: cs for cs in fhir.code_systems(kb, BASE)}
    for cs in systems.values():
        fhir.validate(cs, kb, base_url=BASE)
        assert cs["version"] == kb.version and cs["content"] == "complete"
    assert {u.rsplit("/", 1)[1] for u in systems} == {
        "locations",
        "colours",
        "counts",
        "whose",
        "care-levels",
        "services",
        "conditions",
    }
    concepts = {u: {c["code"]: c["display"] for c in cs["concept"]} for u, cs in systems.items()}
    out = fhir.bundle(kb, record(kb, SWOLLEN_EYELID, whose="me"), BASE)
    used = list(_codings(out)) + list(_codings(fhir.questionnaire(kb, BASE)))
    project = [c for c in used if c["system"].startswith(BASE)]
    assert project
    for c in project:
        assert concepts[c["system"]][c["code"]] == c["display"]


def _codings(node: Any) -> Any:
    if isinstance(node, dict):
        if "system" in node and "code" in node:
            yield node
        for v in node.values():
            yield from _codings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _codings(v)


def _entry(kind: str, change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def apply(bundle: dict[str, Any]) -> None:
        change(
            next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind)
        )

    return apply


def _coding_of(res: dict[str, Any]) -> dict[str, Any]:
    coding: dict[str, Any] = res["code"]["coding"][0]
    return coding


BAD = {
    "unknown code system": (
        _entry("Condition", lambda r: _coding_of(r).update(system="http://example.org/codes")),
        r"^Bundle\.entry\[2\]\.resource\.code\.coding\[0\]\.system: ",
    ),
    "SNOMED CT code with a bad check digit": (
        _entry("Condition", lambda r: _coding_of(r).update(code="254701008")),
        r"^Bundle\.entry\[2\]\.resource\.code\.coding\[0\]\.code: ",
    ),
    "ICD-10 code the knowledge base does not list": (
        _entry("Condition", lambda r: r["code"]["coding"][1].update(code="C43.9")),
        r"^Bundle\.entry\[2\]\.resource\.code\.coding\[1\]\.code: ",
    ),
    "wrong display": (
        _entry("Condition", lambda r: _coding_of(r).update(display="Mole")),
        r"^Bundle\.entry\[2\]\.resource\.code\.coding\[0\]\.display: ",
    ),
    "unknown verification status": (
        _entry(
            "Condition",
            lambda r: r["verificationStatus"]["coding"][0].update(code="likely"),
        ),
        r"^Bundle\.entry\[2\]\.resource\.verificationStatus\.coding\[0\]\.code: ",
    ),
    "unknown project code": (
        _entry(
            "QuestionnaireResponse",
            lambda r: r["item"][2]["answer"][0]["valueCoding"].update(code="elbow"),
        ),
        r"^Bundle\.entry\[1\]\.resource\.item\[2\]\.answer\[0\]\.valueCoding\.code: ",
    ),
    "unknown priority": (
        _entry("ServiceRequest", lambda r: r.update(priority="whenever")),
        r"^Bundle\.entry\[4\]\.resource\.priority: ",
    ),
    "unknown bundle type": (lambda b: b.update(type="pile"), r"^Bundle\.type: "),
    "wrong type": (
        _entry(
            "RiskAssessment",
            lambda r: r["prediction"][0].update(probabilityDecimal="0.97"),
        ),
        r"^Bundle\.entry\[3\]\.resource\.prediction\[0\]\.probabilityDecimal: wrong type str",
    ),
    "not a probability": (
        _entry("RiskAssessment", lambda r: r["prediction"][0].update(probabilityDecimal=97.0)),
        r"^Bundle\.entry\[3\]\.resource\.prediction\[0\]\.probabilityDecimal: ",
    ),
    "unknown element": (
        _entry("Patient", lambda r: r.update(birthDate="1956-01-01", age=70)),
        r"^Bundle\.entry\[0\]\.resource\.age: not an element",
    ),
    "missing required element": (
        _entry("Condition", lambda r: r.pop("subject")),
        r"^Bundle\.entry\[2\]\.resource\.subject: required",
    ),
    "unknown resource type": (
        _entry("Patient", lambda r: r.update(resourceType="Pationt")),
        r"^Bundle\.entry\[0\]\.resource\.resourceType: ",
    ),
    "dangling reference": (
        _entry(
            "Condition",
            lambda r: r["subject"].update(
                reference="urn:uuid:00000000-0000-0000-0000-000000000000"
            ),
        ),
        r"^Bundle\.entry\[2\]\.resource\.subject\.reference: ",
    ),
    "undeclared extension": (
        _entry(
            "ServiceRequest",
            lambda r: r["extension"][0].update(url="http://example.org/level"),
        ),
        r"^Bundle\.entry\[4\]\.resource\.extension\[0\]\.url: ",
    ),
    "project code system under another base": (
        _entry(
            "ServiceRequest",
            lambda r: r["code"]["coding"][0].update(
                system="https://elsewhere.example/fhir/CodeSystem/services"
            ),
        ),
        r"^Bundle\.entry\[4\]\.resource\.code\.coding\[0\]\.system: ",
    ),
    "unknown content type": (
        _entry("Media", lambda r: r["content"].update(contentType="image/gif")),
        r"^Bundle\.entry\[5\]\.resource\.content\.contentType: ",
    ),
}


@pytest.mark.parametrize("problem", BAD)
def test_a_bad_bundle_is_refused_naming_the_path(kb: KnowledgeBase, problem: str) -> None:
    good = fhir.bundle(kb, record(kb, PEARLY_BLEEDING, contact=CONTACT, photos=[PHOTO]), BASE)
    assert [e["resource"]["resourceType"] for e in good["entry"]] == [
        "Patient",
        "QuestionnaireResponse",
        "Condition",
        "RiskAssessment",
        "ServiceRequest",
        "Media",
    ]
    fhir.validate(good, kb, base_url=BASE)
    bad = copy.deepcopy(good)
    change, path = BAD[problem]
    change(bad)
    with pytest.raises(ValueError, match=path):
        fhir.validate(bad, kb, base_url=BASE)


def test_validate_uses_the_shipped_knowledge_base_by_default(kb: KnowledgeBase) -> None:
    fhir.validate(fhir.bundle(kb, record(kb, ADULT_MILIA), BASE))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"created_at": "2026-05-04T09:30:12"}, "created_at: a timezone"),
        ({"status": "lost"}, "status: unknown"),
        ({"confirmed": {"condition": "acne", "level": None}}, "confirmed.condition: unknown"),
        ({"confirmed": {"condition": None, "level": "whenever"}}, "confirmed.level: unknown"),
    ],
)
def test_a_record_that_does_not_fit_is_refused(
    kb: KnowledgeBase, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        fhir.bundle(kb, {**record(kb, ADULT_MILIA), **change}, BASE)


def test_every_care_level_and_record_status_has_a_fhir_code() -> None:
    assert set(fhir.PRIORITY) == set(fhir.CARE_LEVELS)
    assert set(fhir.PRIORITY.values()) <= fhir.CODE_BINDINGS[("ServiceRequest", "priority")]
    assert set(fhir.REQUEST_STATUS.values()) <= fhir.CODE_BINDINGS[("ServiceRequest", "status")]
    levels = list(fhir.PRIORITY.values())
    order = ["routine", "urgent", "asap", "stat"]
    assert levels == sorted(levels, key=order.index)
