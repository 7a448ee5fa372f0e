"""FHIR R4 export of a consultation request: pure functions from dicts to FHIR JSON.

Three builders and one check:

- :func:`questionnaire`: the interview as a FHIR ``Questionnaire``, one item per field
  a case holds, with the linkId equal to the case's field path (``age_years``,
  ``locations``, ``findings.itchy``);
- :func:`code_systems`: the project's own ``CodeSystem`` resources (locations, colours,
  counts, whose bumps, care levels, services, condition ids), so that every answer and
  outcome code has a published system;
- :func:`bundle`: one consultation record as a ``Bundle`` of Patient,
  QuestionnaireResponse, Condition (one per condition in the differential), RiskAssessment,
  ServiceRequest and Media (one per photo);
- :func:`validate`: fhirclient's R4 models in strict mode, then the project's own check of
  every code system, code, extension and reference; raises :class:`ValueError` naming the
  path of the first problem.

Nothing here reads a file, a clock or a database: the same record and base URL always
give the same JSON (the ``urn:uuid`` full URLs are name-based UUIDs of the record's id).

The record (what the store keeps for one consultation request)::

    {"id": str, "created_at": ISO-8601 with a timezone, "status": "new" | "contacted" |
     "booked" | "closed" | "declined" | "withdrawn",
     "contact": {"name", "email", "phone", "preferred_times": str | None} | None,
     "case": case/v1, "result": result/v1 (service.assess_json), "kb_version": str,
     "photos": [{"n": int, "content_type": str, "data": bytes, "width": int, "height": int}],
     "confirmed": {"condition": id | None, "level": care level | None} | None,
     "whose": "me" | "child" | "other"   # optional: whose bumps, when the person said}

Design choices:

- **Bundle type ``collection``**, not ``document``. A document bundle is an attested
  clinical document: its first entry must be a Composition with an author, and it carries
  the obligations of a signed record. This export is a hand-off of what a person and the
  checker said, to be read and judged by a clinician; nothing in it is attested by one.
  ``collection`` claims no more than that.
- **ServiceRequest intent ``proposal``**, not ``order``: an order is an authorisation by
  someone entitled to act on it; here the person asked, and the checker suggested a care
  level and a service. A clinician may turn the proposal into an order.
- **Priority** from the care level, see :data:`PRIORITY`.
- **Photos as Media.** R4 has ``Media`` for photographs (``content.contentType``, base64
  ``data``, ``width``, ``height``), fhirclient models it, and it keeps the pixel size in
  typed fields; ``DocumentReference`` would hide the size in free text. (R5 folds Media
  into DocumentReference; a future R5 export would move them.)
- **No invented birth date.** The person gave an age (``age_years``), not a date of birth;
  a birthDate computed from it would claim a precision nobody gave. The age is in the
  QuestionnaireResponse (item ``age_years``), where it was given; Patient carries only the
  contact details and the administrative gender the person gave.
- **Whose contact details.** The contact details are those of the person who asked. They
  become the Patient's own name and telecom only when the bumps are that person's own
  (``whose`` is ``me``, or unknown for an adult); for a child or someone else, or for a
  person under 16 when nobody said whose the bumps are, they are a ``Patient.contact``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import cache
from typing import Any

from fhirclient.models.bundle import Bundle  # type: ignore[import-untyped]
from fhirclient.models.codesystem import CodeSystem  # type: ignore[import-untyped]
from fhirclient.models.coding import Coding  # type: ignore[import-untyped]
from fhirclient.models.condition import Condition  # type: ignore[import-untyped]
from fhirclient.models.extension import Extension  # type: ignore[import-untyped]
from fhirclient.models.fhirabstractbase import (  # type: ignore[import-untyped]
    FHIRValidationError,
)
from fhirclient.models.fhirreference import FHIRReference  # type: ignore[import-untyped]
from fhirclient.models.media import Media  # type: ignore[import-untyped]
from fhirclient.models.patient import Patient  # type: ignore[import-untyped]
from fhirclient.models.questionnaire import Questionnaire  # type: ignore[import-untyped]
from fhirclient.models.questionnaireresponse import (  # type: ignore[import-untyped]
    QuestionnaireResponse,
)
from fhirclient.models.resource import Resource  # type: ignore[import-untyped]
from fhirclient.models.riskassessment import RiskAssessment  # type: ignore[import-untyped]
from fhirclient.models.servicerequest import ServiceRequest  # type: ignore[import-untyped]

from miliacheck.engine.case import MAX_AGE, MAX_NARRATIVE, MAX_SIZE_MM
from miliacheck.kb.load import NOT_LISTED, KnowledgeBase
from miliacheck.kb.schema import CARE_LEVELS, SERVICES

JSON = dict[str, Any]


def _codes(words: str) -> frozenset[str]:
    return frozenset(words.split())


# --- code systems -------------------------------------------------------------------

SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
VER_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
MEDIA_TYPE = "http://terminology.hl7.org/CodeSystem/media-type"
GENDER = "http://hl7.org/fhir/administrative-gender"
ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"

#: Extensions from the FHIR core specification that the export uses.
EXT_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
EXT_MIN = "http://hl7.org/fhir/StructureDefinition/minValue"
EXT_MAX = "http://hl7.org/fhir/StructureDefinition/maxValue"
EXT_UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
CORE_EXTENSIONS = frozenset({EXT_ABSENT, EXT_MIN, EXT_MAX, EXT_UNIT})
#: The project's own extensions, under ``{base_url}/fhir/StructureDefinition/``.
PROJECT_EXTENSIONS = frozenset({"care-level", "confirmed-care-level"})

#: Codes of the HL7 code systems the export uses (the whole system, or all of it that
#: the export can emit: for UCUM, the three units its questions use).
HL7_CODES: dict[str, frozenset[str]] = {
    VER_STATUS: _codes("unconfirmed provisional differential confirmed refuted entered-in-error"),
    CLINICAL: _codes("active recurrence relapse inactive remission resolved"),
    MEDIA_TYPE: frozenset({"image", "video", "audio"}),
    GENDER: frozenset({"male", "female", "other", "unknown"}),
    ABSENT: _codes(
        "unknown asked-unknown temp-unknown not-asked asked-declined masked not-applicable"
        " unsupported as-text error not-a-number negative-infinity positive-infinity"
        " not-performed not-permitted"
    ),
    UCUM: frozenset({"a", "d", "mm"}),
}
#: Code systems whose codes come from the knowledge base's condition codes.
CLASSIFICATIONS = (SNOMED, ICD10, ICD10CM)

_PUBLICATION = frozenset({"draft", "active", "retired", "unknown"})
#: Value sets bound (required) to the ``code`` elements the export writes, by resource
#: type and element path (list indexes left out).
CODE_BINDINGS: dict[tuple[str, str], frozenset[str]] = {
    ("Bundle", "type"): _codes(
        "document message transaction transaction-response batch batch-response history"
        " searchset collection"
    ),
    ("Patient", "gender"): HL7_CODES[GENDER],
    ("Patient", "telecom.system"): _codes("phone fax email pager url sms other"),
    ("Patient", "contact.telecom.system"): _codes("phone fax email pager url sms other"),
    ("Questionnaire", "status"): _PUBLICATION,
    ("Questionnaire", "item.type"): _codes(
        "group display boolean decimal integer date dateTime time string text url choice"
        " open-choice attachment reference quantity"
    ),
    ("QuestionnaireResponse", "status"): _codes(
        "in-progress completed amended entered-in-error stopped"
    ),
    ("RiskAssessment", "status"): _codes(
        "registered preliminary final amended corrected cancelled entered-in-error unknown"
    ),
    ("ServiceRequest", "status"): _codes(
        "draft active on-hold revoked completed entered-in-error unknown"
    ),
    ("ServiceRequest", "intent"): _codes(
        "proposal plan directive order original-order reflex-order filler-order"
        " instance-order option"
    ),
    ("ServiceRequest", "priority"): frozenset({"routine", "urgent", "asap", "stat"}),
    ("Media", "status"): _codes(
        "preparation in-progress not-done on-hold stopped completed entered-in-error unknown"
    ),
    ("Media", "content.contentType"): frozenset({"image/jpeg", "image/png", "image/webp"}),
    ("CodeSystem", "status"): _PUBLICATION,
    ("CodeSystem", "content"): _codes("not-present example fragment complete supplement"),
}

#: Care level -> ServiceRequest.priority (http://hl7.org/fhir/request-priority).
#: self_care and routine are ``routine`` (the person asked to be seen; nothing is
#: pressing); ``soon`` (within days, at most two weeks) is ``urgent``, "higher priority
#: than routine"; ``urgent`` (see a doctor today) is ``asap``, "higher than urgent";
#: ``emergency`` (emergency services now) is ``stat``, "immediately, e.g. an emergency".
PRIORITY: dict[str, str] = {
    "self_care": "routine",
    "routine": "routine",
    "soon": "urgent",
    "urgent": "asap",
    "emergency": "stat",
}
#: Consultation status -> ServiceRequest.status (http://hl7.org/fhir/request-status).
REQUEST_STATUS: dict[str, str] = {
    "new": "active",
    "contacted": "active",
    "booked": "active",
    "closed": "completed",
    "declined": "revoked",
    "withdrawn": "revoked",
}
#: Conditions at or above this probability become a Condition resource (the issue's 10 %).
CONDITION_MIN = 0.10

CARE_LEVEL_DISPLAY: dict[str, str] = {
    "self_care": "Self-care: safe to look after at home",
    "routine": "Routine: an appointment in the coming weeks",
    "soon": "Soon: see a doctor within days (at most two weeks)",
    "urgent": "Urgent: see a doctor today",
    "emergency": "Emergency: emergency department or services now",
}
SERVICE_DISPLAY: dict[str, str] = {
    "home": "Home (self-care)",
    "pharmacist": "Pharmacist",
    "gp": "General practitioner",
    "dermatologist": "Dermatologist",
    "sexual_health_clinic": "Sexual health clinic",
    "eye_casualty": "Eye casualty",
    "emergency_department": "Emergency department",
}
WHOSE_DISPLAY: dict[str, str] = {
    "me": "The person answering",
    "child": "The person's child",
    "other": "Someone else",
}
SEX_DISPLAY: dict[str, str] = {"female": "Female", "male": "Male", "other": "Other"}

QUESTIONNAIRE_PATH = "/api/v1/fhir/Questionnaire/miliacheck"


def code_system_url(base_url: str, name: str) -> str:
    """The canonical URL of one of the project's CodeSystems."""
    return f"{_base(base_url)}/fhir/CodeSystem/{name}"


def questionnaire_url(base_url: str) -> str:
    """The canonical URL of the interview's Questionnaire."""
    return f"{_base(base_url)}{QUESTIONNAIRE_PATH}"


def _base(base_url: str) -> str:
    return base_url.rstrip("/")


# --- CodeSystems --------------------------------------------------------------------


def _concepts(kb: KnowledgeBase) -> dict[str, list[tuple[str, str]]]:
    """(code, display) of every project CodeSystem, from the knowledge base."""
    options = {q.fields[0]: q.options for q in kb.questions.questions if len(q.fields) == 1}
    return {
        "locations": list(kb.questions.locations["labels"].items()),
        "colours": [(o.value, o.label) for o in options["colour"]],
        "counts": [(o.value, o.label) for o in options["count"]],
        "whose": list(WHOSE_DISPLAY.items()),
        "care-levels": [(x, CARE_LEVEL_DISPLAY[x]) for x in CARE_LEVELS],
        "services": [(x, SERVICE_DISPLAY[x]) for x in SERVICES],
        "conditions": [(c.id, c.clinical_name) for c in kb.conditions.values()],
    }


_TITLES = {
    "locations": "Where the bumps are",
    "colours": "Colour of the bumps",
    "counts": "How many bumps",
    "whose": "Whose bumps",
    "care-levels": "Care levels (triage), least to most urgent",
    "services": "Where to go",
    "conditions": "Conditions the checker knows",
}


def code_systems(kb: KnowledgeBase, base_url: str) -> list[JSON]:
    """The project's CodeSystem resources, complete, versioned with the knowledge base."""
    out: list[JSON] = []
    for name, concepts in _concepts(kb).items():
        concept: list[JSON] = [{"code": c, "display": d} for c, d in concepts]
        if name == "conditions":
            for entry, cond in zip(concept, kb.conditions.values(), strict=True):
                entry["definition"] = cond.name
        out.append(
            {
                "resourceType": "CodeSystem",
                "id": name,
                "url": code_system_url(base_url, name),
                "version": kb.version,
                "name": "Miliacheck" + "".join(p.title() for p in name.split("-")),
                "title": _TITLES[name],
                "status": "active",
                "experimental": False,
                "publisher": "miliacheck",
                "caseSensitive": True,
                "content": "complete",
                "count": len(concept),
                "concept": concept,
            }
        )
    return out


def _coding(kb: KnowledgeBase, base_url: str, system: str, code: str) -> JSON:
    display = dict(_concepts(kb)[system])[code]
    return {"system": code_system_url(base_url, system), "code": code, "display": display}


# --- Questionnaire ------------------------------------------------------------------

_AGE_TEXT = "How old is the person with the bumps, in years? (A baby: days / 365.)"
_SEX_TEXT = "Sex of the person with the bumps"
_WHOSE_TEXT = "Whose bumps are these?"
_NARRATIVE_TEXT = "Describe the bumps in your own words."


def questionnaire(kb: KnowledgeBase, base_url: str) -> JSON:
    """The interview as a FHIR R4 Questionnaire: one item per field of a case.

    linkIds are the case's field paths. Choices are codings from the project's
    CodeSystems (:func:`code_systems`), except sex, which uses FHIR's administrative
    gender (its codes are the case's). Findings are yes/no items with the knowledge
    base's lay question.
    """
    specs = {q.fields[0]: q for q in kb.questions.questions if len(q.fields) == 1}

    def text(path: str, default: str) -> str:
        spec = specs.get(path)
        return spec.text if spec is not None else default

    def options(system: str) -> list[JSON]:
        return [
            {"valueCoding": _coding(kb, base_url, system, code)}
            for code, _ in _concepts(kb)[system]
        ]

    def bounds(unit: str, lo: float | None, hi: float | None) -> list[JSON]:
        """The unit and the case format's bounds (wider than the interview's)."""
        ext: list[JSON] = [{"url": EXT_UNIT, "valueCoding": {"system": UCUM, "code": unit}}]
        if lo is not None:
            ext.append({"url": EXT_MIN, "valueDecimal": float(lo)})
        if hi is not None:
            ext.append({"url": EXT_MAX, "valueDecimal": float(hi)})
        return ext

    items: list[JSON] = [
        {
            "linkId": "age_years",
            "text": _AGE_TEXT,
            "type": "decimal",
            "required": True,
            "extension": bounds("a", 0.0, MAX_AGE),
        },
        {
            "linkId": "sex",
            "text": _SEX_TEXT,
            "type": "choice",
            "answerOption": [
                {"valueCoding": {"system": GENDER, "code": c, "display": d}}
                for c, d in SEX_DISPLAY.items()
            ],
        },
        {
            "linkId": "whose",
            "text": _WHOSE_TEXT,
            "type": "choice",
            "answerOption": options("whose"),
        },
        {
            "linkId": "locations",
            "text": text("locations", "Where are the bumps?"),
            "type": "choice",
            "repeats": True,
            "answerOption": options("locations"),
        },
        {
            "linkId": "duration_days",
            "text": text("duration_days", "How long have the bumps been there, in days?"),
            "type": "decimal",
            "extension": bounds("d", 0.0, None),
        },
        {
            "linkId": "count",
            "text": text("count", "How many bumps are there?"),
            "type": "choice",
            "answerOption": options("counts"),
        },
        {
            "linkId": "size_mm",
            "text": text("size_mm", "About how big is a typical bump, in millimetres?"),
            "type": "decimal",
            "extension": bounds("mm", None, MAX_SIZE_MM),
        },
        {
            "linkId": "colour",
            "text": text("colour", "What colour are the bumps?"),
            "type": "choice",
            "answerOption": options("colours"),
        },
        {
            "linkId": "narrative",
            "text": _NARRATIVE_TEXT,
            "type": "text",
            "maxLength": MAX_NARRATIVE,
        },
    ]
    items += [
        {"linkId": f"findings.{fid}", "text": f.question, "type": "boolean"}
        for fid, f in kb.findings.findings.items()
    ]
    return {
        "resourceType": "Questionnaire",
        "id": "miliacheck",
        "url": questionnaire_url(base_url),
        "version": kb.version,
        "name": "MiliacheckInterview",
        "title": "miliacheck: questions about small white bumps on the skin",
        "status": "active",
        "experimental": False,
        "subjectType": ["Patient"],
        "publisher": "miliacheck",
        "item": items,
    }


# --- Bundle -------------------------------------------------------------------------


def bundle(kb: KnowledgeBase, record: Mapping[str, Any], base_url: str) -> JSON:
    """One consultation record as a FHIR R4 ``collection`` Bundle (see the module docstring).

    Entries, in order: Patient, QuestionnaireResponse, one Condition per condition at or
    above 10 % or must-not-miss (and the confirmed one), RiskAssessment, ServiceRequest,
    one Media per photo. Raises ValueError for a record that does not fit the shape
    (a ``created_at`` without a timezone, an unknown status, care level or condition).
    """
    base = _base(base_url)
    rid = str(record["id"])
    created = _datetime(str(record["created_at"]))
    case: Mapping[str, Any] = record["case"]
    result: Mapping[str, Any] = record["result"]
    kb_version = str(record.get("kb_version") or result.get("kb_version") or kb.version)
    confirmed: Mapping[str, Any] = record.get("confirmed") or {}
    status = str(record["status"])
    if status not in REQUEST_STATUS:
        raise ValueError(f"status: unknown consultation status {status!r}")

    def full_url(key: str) -> str:
        return "urn:uuid:" + str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"{base}/consultations/{rid}#{key}")
        )

    def ref(key: str, display: str | None = None) -> JSON:
        out: JSON = {"reference": full_url(key)}
        if display:
            out["display"] = display
        return out

    identifier = {"system": f"{base}/consultations", "value": rid}
    patient = ref("patient")
    qr_ref = ref("questionnaire-response", "Answers to the checker's questions")
    entries: list[tuple[str, JSON]] = [
        ("patient", _patient(record, case, result)),
        ("questionnaire-response", _response(kb, base, record, case, created, patient)),
    ]

    # Conditions: the differential at or above 10 %, the must-not-miss, the confirmed one.
    confirmed_id = confirmed.get("condition")
    if confirmed_id is not None and confirmed_id not in kb.conditions:
        raise ValueError(f"confirmed.condition: unknown condition {confirmed_id!r}")
    probs = {str(c["id"]): float(c["probability"]) for c in result["conditions"]}
    chosen = [
        c
        for c in result["conditions"]
        if float(c["probability"]) >= CONDITION_MIN
        or c.get("must_not_miss")
        or c["id"] == confirmed_id
    ]
    chosen_ids = [str(c["id"]) for c in chosen]
    if confirmed_id is not None and confirmed_id not in chosen_ids:
        chosen_ids.append(confirmed_id)
    evidence = {str(c["id"]): c for c in result["conditions"]}
    for cid in chosen_ids:
        if cid not in kb.conditions:
            raise ValueError(f"result.conditions: unknown condition {cid!r}")
        entries.append(
            (
                f"condition/{cid}",
                _condition(
                    kb,
                    base,
                    cid,
                    probs.get(cid),
                    evidence.get(cid, {}),
                    confirmed=cid == confirmed_id,
                    kb_version=kb_version,
                    case=case,
                    created=created,
                    patient=patient,
                    basis=qr_ref,
                ),
            )
        )
    entries.append(
        ("risk-assessment", _risk(kb, base, result, kb_version, created, patient, qr_ref))
    )

    photos = sorted(record.get("photos") or [], key=lambda p: int(p["n"]))
    media = [(f"photo/{int(p['n'])}", _media(p, patient)) for p in photos]
    request = _service_request(
        kb,
        base,
        record,
        result,
        confirmed,
        status=status,
        created=created,
        identifier=identifier,
        patient=patient,
        reasons=[ref(f"condition/{cid}", kb.conditions[cid].clinical_name) for cid in chosen_ids],
        support=[
            qr_ref,
            ref("risk-assessment", "The checker's probabilities"),
            *[ref(key, f"Photo {key.split('/')[1]}") for key, _ in media],
        ],
    )
    entries.append(("service-request", request))
    entries += media
    out: JSON = {
        "resourceType": "Bundle",
        "identifier": identifier,
        "type": "collection",
        "timestamp": created,
        "entry": [{"fullUrl": full_url(key), "resource": res} for key, res in entries],
    }
    fresh: JSON = _unshared(out)
    return fresh


def _unshared(value: Any) -> Any:
    """A copy in which no dict or list appears twice (the references are built once)."""
    if isinstance(value, dict):
        return {k: _unshared(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unshared(v) for v in value]
    return value


def _datetime(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"created_at: not an ISO-8601 date and time: {value!r}") from None
    if moment.tzinfo is None:
        raise ValueError("created_at: a timezone is required")
    return moment.isoformat(timespec="seconds")


def _whose(record: Mapping[str, Any], case: Mapping[str, Any], result: Mapping[str, Any]) -> str:
    """Whose bumps: as the person said, else as the narrative stated, else by age."""
    given = record.get("whose")
    if given in WHOSE_DISPLAY:
        return str(given)
    for u in result.get("understood") or []:
        if u.get("field") == "whose" and u.get("certainty") == "stated":
            return str(u["value"])
    return "me" if float(case["age_years"]) >= 16 else "child"


def _patient(record: Mapping[str, Any], case: Mapping[str, Any], result: Mapping[str, Any]) -> JSON:
    """Only what was given: name as text, email and phone, administrative gender."""
    contact: Mapping[str, Any] = record.get("contact") or {}
    telecom = [
        {"system": system, "value": str(contact[key])}
        for key, system in (("phone", "phone"), ("email", "email"))
        if contact.get(key)
    ]
    out: JSON = {"resourceType": "Patient"}
    if _whose(record, case, result) == "me":
        if contact.get("name"):
            out["name"] = [{"text": str(contact["name"])}]
        if telecom:
            out["telecom"] = telecom
    elif contact.get("name") or telecom:
        who: JSON = {}
        if contact.get("name"):
            who["name"] = {"text": str(contact["name"])}
        if telecom:
            who["telecom"] = telecom
        out["contact"] = [who]
    if case.get("sex") in SEX_DISPLAY:
        out["gender"] = case["sex"]
    return out


def _response(
    kb: KnowledgeBase,
    base: str,
    record: Mapping[str, Any],
    case: Mapping[str, Any],
    created: str,
    patient: JSON,
) -> JSON:
    """The case's values as answers, in the Questionnaire's order; don't-knows as absent."""
    answers: dict[str, list[JSON]] = {}
    for key in ("age_years", "duration_days", "size_mm"):
        if case.get(key) is not None:
            answers[key] = [{"valueDecimal": float(case[key])}]
    if case.get("sex") in SEX_DISPLAY:
        sex = str(case["sex"])
        answers["sex"] = [
            {"valueCoding": {"system": GENDER, "code": sex, "display": SEX_DISPLAY[sex]}}
        ]
    if record.get("whose") in WHOSE_DISPLAY:
        answers["whose"] = [{"valueCoding": _coding(kb, base, "whose", str(record["whose"]))}]
    if case.get("locations"):
        answers["locations"] = [
            {"valueCoding": _coding(kb, base, "locations", str(loc))} for loc in case["locations"]
        ]
    for key, system in (("count", "counts"), ("colour", "colours")):
        if case.get(key) is not None:
            answers[key] = [{"valueCoding": _coding(kb, base, system, str(case[key]))}]
    if case.get("narrative"):
        answers["narrative"] = [{"valueString": str(case["narrative"])}]
    for fid, value in (case.get("findings") or {}).items():
        answers[f"findings.{fid}"] = [{"valueBoolean": bool(value)}]
    dont_know = {str(p) for p in case.get("dont_know") or []}

    order = [item["linkId"] for item in questionnaire(kb, base)["item"]]
    extra = sorted((set(answers) | dont_know) - set(order))
    items: list[JSON] = []
    for link in [*order, *extra]:
        if link in answers:
            items.append({"linkId": link, "answer": answers[link]})
        elif link in dont_know:
            items.append(
                {
                    "linkId": link,
                    "extension": [{"url": EXT_ABSENT, "valueCode": "asked-unknown"}],
                }
            )
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{questionnaire_url(base)}|{record.get('kb_version') or kb.version}",
        "status": "completed",
        "subject": patient,
        "authored": created,
        "item": items,
    }


def _percent(p: float) -> str:
    return "less than 1 %" if p < 0.01 else f"{round(p * 100)} %"


def _codeable(kb: KnowledgeBase, base: str, cid: str) -> JSON:
    """A condition's codings: every code the knowledge base lists, then the project's id."""
    cond = kb.conditions[cid]
    coding = [{"system": c.system, "code": c.code, "display": c.display} for c in cond.codes]
    coding.append(_coding(kb, base, "conditions", cid))
    return {"coding": coding, "text": cond.clinical_name}


def _evidence_text(entry: Mapping[str, Any]) -> str:
    parts = []
    for key, label in (("evidence_for", "For"), ("evidence_against", "Against")):
        texts = [str(e["text"]) for e in entry.get(key) or [] if e.get("text")]
        if texts:
            parts.append(f"{label}: " + "; ".join(texts) + ".")
    return " ".join(parts)


def _condition(
    kb: KnowledgeBase,
    base: str,
    cid: str,
    probability: float | None,
    entry: Mapping[str, Any],
    *,
    confirmed: bool,
    kb_version: str,
    case: Mapping[str, Any],
    created: str,
    patient: JSON,
    basis: JSON,
) -> JSON:
    status = "confirmed" if confirmed else "differential"
    notes = []
    if probability is not None:
        notes.append(
            f"Probability from the checker (knowledge base {kb_version}): {_percent(probability)}."
        )
    else:
        notes.append("Not in the checker's list (below 1 %).")
    if confirmed:
        notes.append("Confirmed by a clinician.")
    why = _evidence_text(entry)
    if why:
        notes.append(why)
    labels = kb.questions.locations["labels"]
    out: JSON = {
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active", "display": "Active"}]},
        "verificationStatus": {
            "coding": [{"system": VER_STATUS, "code": status, "display": status.title()}]
        },
        "code": _codeable(kb, base, cid),
        "subject": patient,
        "recordedDate": created,
        "evidence": [{"detail": [basis]}],
        "note": [{"text": n} for n in notes],
    }
    if case.get("locations"):
        out["bodySite"] = [{"text": labels.get(str(loc), str(loc))} for loc in case["locations"]]
    return out


def _risk(
    kb: KnowledgeBase,
    base: str,
    result: Mapping[str, Any],
    kb_version: str,
    created: str,
    patient: JSON,
    basis: JSON,
) -> JSON:
    """The whole distribution: every listed condition, the rest, and none of them."""
    predictions: list[JSON] = []
    for entry in result["conditions"]:
        pred: JSON = {
            "outcome": _codeable(kb, base, str(entry["id"])),
            "probabilityDecimal": float(entry["probability"]),
        }
        why = _evidence_text(entry)
        if why:
            pred["rationale"] = why
        predictions.append(pred)
    predictions.append(
        {
            "outcome": {"text": "Another of the checker's conditions, each below 1 %"},
            "probabilityDecimal": float(result.get("other_probability") or 0.0),
        }
    )
    predictions.append(
        {
            "outcome": {"text": f"None of the checker's conditions ({NOT_LISTED})"},
            "probabilityDecimal": float(result.get("not_listed_probability") or 0.0),
        }
    )
    return {
        "resourceType": "RiskAssessment",
        "status": "final",
        "subject": patient,
        "occurrenceDateTime": created,
        "method": {"text": f"miliacheck symptom checker, knowledge base {kb_version}"},
        "basis": [basis],
        "prediction": predictions,
    }


def _service_request(
    kb: KnowledgeBase,
    base: str,
    record: Mapping[str, Any],
    result: Mapping[str, Any],
    confirmed: Mapping[str, Any],
    *,
    status: str,
    created: str,
    identifier: JSON,
    patient: JSON,
    reasons: list[JSON],
    support: list[JSON],
) -> JSON:
    triage: Mapping[str, Any] = result["triage"]
    level = str(triage["level"])
    service = str(triage["service"])
    final = str(confirmed.get("level") or level)
    for path, value in (("result.triage.level", level), ("confirmed.level", final)):
        if value not in PRIORITY:
            raise ValueError(f"{path}: unknown care level {value!r}")
    if service not in SERVICE_DISPLAY:
        raise ValueError(f"result.triage.service: unknown service {service!r}")

    def ext(name: str, code: str) -> JSON:
        return {
            "url": f"{base}/fhir/StructureDefinition/{name}",
            "valueCoding": _coding(kb, base, "care-levels", code),
        }

    extension = [ext("care-level", level)]
    head = f"Care level from the checker: {CARE_LEVEL_DISPLAY[level]}; go to: "
    notes = [head + SERVICE_DISPLAY[service] + "."]
    if confirmed.get("level"):
        extension.append(ext("confirmed-care-level", final))
        notes.append(f"Care level confirmed by a clinician: {CARE_LEVEL_DISPLAY[final]}.")
    notes += [str(r) for r in triage.get("reasons") or []]
    if triage.get("provisional"):
        labels = {f"findings.{k}": v.label for k, v in kb.findings.findings.items()}
        unscreened = [labels.get(str(p), str(p)) for p in triage.get("unscreened") or []]
        notes.append(
            "Provisional: these warning signs were not asked about: " + "; ".join(unscreened) + "."
        )
    contact: Mapping[str, Any] = record.get("contact") or {}
    if contact.get("preferred_times"):
        notes.append(f"Preferred times for contact: {contact['preferred_times']}")
    out: JSON = {
        "resourceType": "ServiceRequest",
        "extension": extension,
        "identifier": [identifier],
        "status": REQUEST_STATUS[status],
        "intent": "proposal",
        "priority": PRIORITY[final],
        "code": {
            "coding": [_coding(kb, base, "services", service)],
            "text": f"A consultation (the checker suggests: {SERVICE_DISPLAY[service]})",
        },
        "subject": patient,
        "authoredOn": created,
        "supportingInfo": support,
        "note": [{"text": n} for n in notes],
    }
    if reasons:
        out["reasonReference"] = reasons
    return out


def _media(photo: Mapping[str, Any], patient: JSON) -> JSON:
    data = bytes(photo["data"])
    return {
        "resourceType": "Media",
        "status": "completed",
        "type": {"coding": [{"system": MEDIA_TYPE, "code": "image", "display": "Image"}]},
        "subject": patient,
        "width": int(photo["width"]),
        "height": int(photo["height"]),
        "content": {
            "contentType": str(photo["content_type"]),
            "data": base64.b64encode(data).decode("ascii"),
            "size": len(data),
            "hash": base64.b64encode(hashlib.sha1(data).digest()).decode("ascii"),
            "title": f"Photo {int(photo['n'])}",
        },
    }


# --- validation ---------------------------------------------------------------------

#: The fhirclient R4 model of each resource type the export writes.
MODELS: dict[str, type[Any]] = {
    m.resource_type: m
    for m in (
        Bundle,
        Patient,
        QuestionnaireResponse,
        Questionnaire,
        Condition,
        RiskAssessment,
        ServiceRequest,
        Media,
        CodeSystem,
    )
}

_PROJECT = re.compile(
    r"^(?P<base>https?://\S+?)/fhir/(?P<kind>CodeSystem|StructureDefinition)/(?P<name>[a-z-]+)$"
)
_SNOMED_ID = re.compile(r"^[1-9][0-9]{5,17}$")
_ICD10 = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,2})?$")
_ICD10CM = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


@cache
def _shipped_kb() -> KnowledgeBase:
    from miliacheck.kb.load import load_kb

    return load_kb()


def validate(
    resource: Mapping[str, Any], kb: KnowledgeBase | None = None, base_url: str | None = None
) -> None:
    """Check a Bundle (or one resource) of this export; raise ValueError naming the path.

    First fhirclient's R4 models in strict mode (unknown elements, wrong types, missing
    required elements), the Bundle as a whole and each entry's resource through its own
    model class; then the project's own check: every coding's system is declared
    (SNOMED CT, ICD-10, ICD-10-CM, the HL7 systems in :data:`HL7_CODES`, the project's
    CodeSystems); every code is known in its system (the project's from the knowledge
    base ``kb``, the shipped one by default; SNOMED CT and ICD codes must be codes the
    knowledge base lists, with a valid check digit or form); every ``code`` element the
    export writes is in its required value set (:data:`CODE_BINDINGS`); every extension
    is declared; every ``urn:uuid`` reference resolves to an entry; all project URLs
    share one base (``base_url`` when given).
    """
    kb = kb if kb is not None else _shipped_kb()
    if not isinstance(resource, Mapping):
        raise ValueError("(root): not a JSON object")
    rtype = resource.get("resourceType")
    model = MODELS.get(str(rtype))
    if model is None:
        raise ValueError(f"{rtype or '(root)'}.resourceType: not a resource this export writes")
    full_urls: set[str] = set()
    if rtype == "Bundle":
        entries = resource.get("entry") or []
        if not isinstance(entries, list):
            raise ValueError("Bundle.entry: not a list")
        for i, entry in enumerate(entries):
            path = f"Bundle.entry[{i}]"
            res = entry.get("resource") if isinstance(entry, Mapping) else None
            if not isinstance(res, Mapping):
                raise ValueError(f"{path}.resource: missing or not a JSON object")
            sub = MODELS.get(str(res.get("resourceType")))
            if sub is None or sub is MODELS["Bundle"]:
                raise ValueError(
                    f"{path}.resource.resourceType: {res.get('resourceType')!r} is not a"
                    " resource this export writes"
                )
            _parse(sub, dict(res), f"{path}.resource")
            url = str(entry.get("fullUrl") or "")
            if not re.fullmatch(r"urn:uuid:[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", url):
                raise ValueError(f"{path}.fullUrl: not a urn:uuid ({url!r})")
            if url in full_urls:
                raise ValueError(f"{path}.fullUrl: the same fullUrl twice ({url!r})")
            full_urls.add(url)
    parsed = _parse(model, dict(resource), str(rtype))
    checker = _Checker(kb, _base(base_url) if base_url else None, full_urls)
    for path, rtype_here, rel, value in _walk(parsed, str(rtype), str(rtype), ""):
        checker.check(path, rtype_here, rel, value)


def _parse(model: type[Any], data: dict[str, Any], path: str) -> Any:
    try:
        return model(data, strict=True)
    except FHIRValidationError as exc:
        where, message = _first_error(exc)
        raise ValueError(f"{_join(path, where)}: {message}") from None
    except Exception as exc:  # fhirclient raises a bare Exception for a wrong resourceType
        raise ValueError(f"{path}: {exc}") from None


def _first_error(exc: BaseException) -> tuple[str, str]:
    """The path (``a.0.b``) and a message for the first leaf of a FHIRValidationError."""
    parts: list[str] = []
    while isinstance(exc, FHIRValidationError):
        if exc.path:
            parts.append(str(exc.path))
        if not exc.errors:
            break
        exc = exc.errors[0]
    text = str(exc).strip().strip("'")
    # fhirclient's messages name the element in quotes, then the model object (with its
    # memory address): keep the element, drop the object.
    named = re.search(r'"(\w+)"', text)
    if isinstance(exc, AttributeError) and named:
        return ".".join([*parts, named.group(1)]), "not an element of this resource or type"
    if isinstance(exc, KeyError) and named:
        return ".".join([*parts, named.group(1)]), "required, but missing"
    if isinstance(exc, TypeError) and named:
        types = re.findall(r"<class '(?:[\w.]+\.)?(\w+)'>", text)
        if len(types) >= 2:
            return ".".join(parts), f"wrong type {types[0]}, expecting {types[-1]}"
    return ".".join(parts), re.sub(r" at 0x[0-9a-f]+", "", text)


def _join(path: str, dotted: str) -> str:
    out = path
    for part in (p for p in dotted.split(".") if p):
        out += f"[{part}]" if part.isdigit() else f".{part}"
    return out


def _walk(obj: Any, path: str, rtype: str, rel: str) -> Iterator[tuple[str, str, str, Any]]:
    """Every element under a parsed fhirclient object: (path, resource type, rel path, value).

    ``rel`` is the element's path within its resource, without list indexes.
    """
    for name, jsname, _typ, is_list, _of_many, _required in obj.elementProperties():
        value = getattr(obj, name, None)
        if value is None:
            continue
        values = value if is_list else [value]
        for i, v in enumerate(values):
            here = f"{path}.{jsname}[{i}]" if is_list else f"{path}.{jsname}"
            sub_rel = f"{rel}.{jsname}" if rel else jsname
            if isinstance(v, Resource):
                yield here, v.resource_type, "", v
                yield from _walk(v, here, v.resource_type, "")
                continue
            yield here, rtype, sub_rel, v
            if hasattr(v, "elementProperties"):
                yield from _walk(v, here, rtype, sub_rel)


def _verhoeff(digits: str) -> bool:
    d = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ]
    p = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ]
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = d[c][p[i % 8][int(ch)]]
    return c == 0


class _Checker:
    """The project's own terminology check, element by element."""

    def __init__(self, kb: KnowledgeBase, base: str | None, full_urls: set[str]) -> None:
        self.kb = kb
        self.base = base
        self.full_urls = full_urls
        self.project = {name: dict(c) for name, c in _concepts(kb).items()}
        self.classified: dict[tuple[str, str], str] = {
            (c.system, c.code): c.display for cond in kb.conditions.values() for c in cond.codes
        }

    def _project(self, path: str, url: str, kind: str) -> str | None:
        """The name of a project CodeSystem or extension at ``url``, else None."""
        m = _PROJECT.match(url)
        if m is None or m.group("kind") != kind:
            return None
        if self.base is None:
            self.base = m.group("base")
        elif m.group("base") != self.base:
            raise ValueError(f"{path}: {url!r} is not under the project's base {self.base!r}")
        return m.group("name")

    def check(self, path: str, rtype: str, rel: str, value: Any) -> None:
        if isinstance(value, Coding):
            self.coding(path, value)
        elif isinstance(value, Extension):
            self.extension(path, value)
        elif isinstance(value, FHIRReference):
            target = value.reference
            if target is not None and target.startswith("urn:uuid:"):
                if target not in self.full_urls:
                    raise ValueError(f"{path}.reference: {target!r} is not an entry of the bundle")
            elif target is not None:
                raise ValueError(f"{path}.reference: only urn:uuid references, not {target!r}")
        elif rtype == "RiskAssessment" and rel == "prediction.probabilityDecimal":
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{path}: {value!r} is not a probability between 0 and 1")
        elif (rtype, rel) in CODE_BINDINGS and value not in CODE_BINDINGS[(rtype, rel)]:
            raise ValueError(f"{path}: {value!r} is not a code of {rtype}.{rel}")
        elif rtype == "QuestionnaireResponse" and rel == "questionnaire":
            url = str(value).split("|")[0]
            if not url.endswith(QUESTIONNAIRE_PATH):
                raise ValueError(f"{path}: not the checker's Questionnaire ({value!r})")
            if self.base is not None and url != f"{self.base}{QUESTIONNAIRE_PATH}":
                raise ValueError(f"{path}: {value!r} is not under the project's base {self.base!r}")

    def coding(self, path: str, coding: Any) -> None:
        system, code = coding.system, coding.code
        if not system:
            raise ValueError(f"{path}.system: a coding needs a system")
        if not code:
            raise ValueError(f"{path}.code: a coding needs a code")
        if system in HL7_CODES:
            if code not in HL7_CODES[system]:
                raise ValueError(f"{path}.code: {code!r} is not a code of {system}")
            return
        if system in CLASSIFICATIONS:
            form = {SNOMED: _SNOMED_ID, ICD10: _ICD10, ICD10CM: _ICD10CM}[system]
            if not form.match(code) or (
                system == SNOMED and not (_verhoeff(code) and code[-3:-1] in ("00", "10"))
            ):
                raise ValueError(f"{path}.code: {code!r} is not a well-formed code of {system}")
            if (system, code) not in self.classified:
                raise ValueError(f"{path}.code: {code!r} of {system} is not in the knowledge base")
            known = self.classified[(system, code)]
            if coding.display is not None and coding.display != known:
                raise ValueError(f"{path}.display: {coding.display!r} is not {known!r}")
            return
        name = self._project(f"{path}.system", system, "CodeSystem")
        if name is None or name not in self.project:
            raise ValueError(f"{path}.system: {system!r} is not a code system this export declares")
        if code not in self.project[name]:
            raise ValueError(f"{path}.code: {code!r} is not a code of {system}")
        known = self.project[name][code]
        if coding.display is not None and coding.display != known:
            raise ValueError(f"{path}.display: {coding.display!r} is not {known!r}")

    def extension(self, path: str, ext: Any) -> None:
        url = ext.url
        if url in CORE_EXTENSIONS:
            if url == EXT_ABSENT and ext.valueCode not in HL7_CODES[ABSENT]:
                raise ValueError(f"{path}.valueCode: {ext.valueCode!r} is not a code of {ABSENT}")
            return
        name = self._project(f"{path}.url", url, "StructureDefinition")
        if name not in PROJECT_EXTENSIONS:
            raise ValueError(f"{path}.url: {url!r} is not an extension this export declares")
        if ext.valueCoding is None:
            raise ValueError(f"{path}.valueCoding: the care level is a coding")
