"""The clinic's API: consultation requests (public), the person's private link, and the
clinicians' read-only views and FHIR export (session cookie from the clinic login).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from miliacheck.api.openapi import (
    OBJECTS,
    consultation_made_schema,
    json_body,
    request_schema,
    responses,
)
from miliacheck.clinic import accounts, consultations, fhir, mail
from miliacheck.config import Settings
from miliacheck.errors import MiliacheckError
from miliacheck.kb.load import KnowledgeBase
from miliacheck.store import Store

SESSION_COOKIE = "mc_session"
FHIR_JSON = "application/fhir+json"


class FhirJSON(JSONResponse):
    """Documents a route's answer as FHIR JSON (the routes build their own responses)."""

    media_type = FHIR_JSON


class Unauthorised(MiliacheckError):
    title = "Clinician login needed"
    status = 401
    exit_code = 2


def clinician(request: Request, store: Store) -> accounts.Clinician | None:
    return accounts.current(store, request.cookies.get(SESSION_COOKIE))


def mount_clinic_api(
    app: FastAPI,
    kb: KnowledgeBase,
    store: Store,
    settings: Settings,
    body_json: Callable[[Request], Awaitable[object]],
) -> None:
    notify = mail.notifier(settings)

    def json(content: Any, status: int = 200, media_type: str = "application/json") -> Response:
        return Response(
            orjson.dumps(content, default=str),
            status_code=status,
            media_type=media_type,
            headers={"Cache-Control": "no-store"},
        )

    def need_clinician(request: Request) -> accounts.Clinician:
        who = clinician(request, store)
        if who is None:
            raise Unauthorised([{"field": None, "message": "log in at /clinic/login first"}])
        return who

    @app.post(
        "/api/v1/consultations",
        status_code=201,
        summary="Ask the clinic for a consultation from a result (interview_id or case)",
        responses=responses(413, 422, ok=consultation_made_schema(), status=201),
        openapi_extra=json_body(consultation_schema()),
    )
    async def create(request: Request) -> Response:
        body = await body_json(request)
        made = await run_in_threadpool(consultations.create, kb, store, body, (), notify)
        return json(made, 201)

    @app.get(
        "/api/v1/consultations",
        summary="The clinicians' queue: most urgent first",
        responses=responses(401, 422, ok=OBJECTS),
    )
    def queue(request: Request, everything: bool = False) -> Response:
        return json(consultations.queue(store, need_clinician(request), everything))

    @app.get(
        "/api/v1/consultations/{consultation_id}",
        summary="One request (clinicians)",
        responses=responses(401, 404, ok={"type": "object"}),
    )
    def read(request: Request, consultation_id: str) -> Response:
        return json(consultations.for_clinician(store, need_clinician(request), consultation_id))

    @app.get(
        "/api/v1/consultations/{consultation_id}/fhir",
        summary="The request as an HL7 FHIR R4 Bundle (clinicians)",
        response_class=FhirJSON,
        responses=responses(401, 404),
    )
    def export(request: Request, consultation_id: str) -> Response:
        who = need_clinician(request)
        record = consultations.record(store, consultation_id)
        consultations.audit_export(store, who, consultation_id, "fhir")
        return json(fhir.bundle(kb, record, settings.public_url), media_type=FHIR_JSON)

    @app.get(
        "/api/v1/requests/{key}",
        summary="Your request, through its private link",
        responses=responses(404, ok=request_schema()),
    )
    def mine(key: str) -> Response:
        return json(consultations.for_person(store, key))

    @app.post(
        "/api/v1/requests/{key}/withdraw",
        summary="Withdraw your request",
        responses=responses(404, 409, ok=request_schema()),
    )
    def withdraw(key: str) -> Response:
        return json(consultations.withdraw(store, key))

    @app.delete(
        "/api/v1/requests/{key}",
        status_code=204,
        summary="Erase your request",
        responses=responses(404),
    )
    def erase(key: str) -> Response:
        consultations.erase(store, key)
        return Response(status_code=204)

    @app.get(
        "/api/v1/fhir/Questionnaire/miliacheck",
        summary="The interview as a FHIR R4 Questionnaire",
        response_class=FhirJSON,
    )
    def questionnaire() -> Response:
        return json(fhir.questionnaire(kb, settings.public_url), media_type=FHIR_JSON)

    @app.get(
        "/api/v1/fhir/CodeSystem",
        summary="The project's FHIR CodeSystems",
        response_class=FhirJSON,
    )
    def code_systems() -> Response:
        return json(fhir.code_systems(kb, settings.public_url), media_type=FHIR_JSON)


def consultation_schema() -> dict[str, Any]:
    text = {"type": "string", "maxLength": 200}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["consent"],
        "properties": {
            "interview_id": {"type": "string", "maxLength": 64},
            "case": {"type": "object"},
            "name": text,
            "email": {"type": "string", "maxLength": 254},
            "phone": {"type": "string", "maxLength": 40},
            "preferred_times": {"type": "string", "maxLength": 500},
            "consent": {"type": "boolean", "const": True},
            "photos": {
                "type": "array",
                "maxItems": 3,
                "items": {"type": "string", "description": "a base64 JPEG, PNG or WebP"},
            },
        },
    }
