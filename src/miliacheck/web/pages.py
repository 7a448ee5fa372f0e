"""Server-rendered pages. Every flow works without JavaScript: every answer is a POST
followed by a redirect (POST-redirect-GET), and the interview resumes from its link.

Interview, result and clinic pages send ``X-Robots-Tag: noindex`` and
``Referrer-Policy: no-referrer``, and are never cached.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from miliacheck import interviews, service
from miliacheck.errors import CaseError, NotFoundError
from miliacheck.kb.load import KnowledgeBase
from miliacheck.store import Store
from miliacheck.web import render
from miliacheck.web.library import search

HERE = Path(__file__).resolve().parent
PRIVATE = {
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
WHOSE = {
    "me": {"label": "Me", "heading": "About your bumps"},
    "child": {"label": "My child", "heading": "About your child's bumps"},
    "other": {"label": "Someone else", "heading": "About their bumps"},
}
BODY_AREAS = [
    (
        "Face",
        [
            "eyelids",
            "under_eyes",
            "cheeks",
            "nose",
            "forehead",
            "chin",
            "lips",
            "inside_mouth",
            "ears",
        ],
    ),
    ("Head and neck", ["scalp", "neck"]),
    ("Body", ["chest", "back", "belly", "armpits"]),
    ("Arms and legs", ["arms", "hands", "legs", "feet"]),
    ("Private areas", ["genitals", "nappy_area"]),
    ("Elsewhere", ["other"]),
]


def mount_pages(app: FastAPI, kb: KnowledgeBase, store: Store) -> None:
    """Add the pages and the static files to ``app``."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.globals.update(
        levels=render.LEVELS,
        services=render.SERVICES,
        whose_options=WHOSE,
        clinic=app.state.settings,
    )
    env.filters["chance"] = render.chance_words
    env.filters["percent"] = render.percent
    env.filters["markdown"] = render.markdown
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    labels = kb.questions.locations["labels"]
    finding_labels = {f"findings.{k}": v.label for k, v in kb.findings.findings.items()}

    def describe(u: dict[str, Any]) -> str:
        """A reading in plain words: 'Not: itchy', 'Where: cheeks', 'Age (years): 0.03'."""
        field, value = u["field"], u["value"]
        if field.startswith("findings."):
            label = kb.findings.findings[field[9:]].label
            return label if value else "Not: " + label[0].lower() + label[1:]
        if field == "locations":
            return f"Where: {labels.get(value, value).lower()}"
        if field == "region" and value in kb.questions.regions:
            return f"Where: somewhere {kb.questions.regions[value].where}"
        names = {
            "age_years": "Age (years)",
            "duration_days": "How long (days)",
            "size_mm": "Size (mm)",
            "colour": "Colour",
            "count": "How many",
            "sex": "Sex",
            "whose": "Whose bumps",
        }
        shown = "since birth" if value == "since_birth" else value
        return f"{names.get(field, field)}: {shown}"

    env.globals["describe"] = describe

    def page(
        request: Request, name: str, status: int = 200, private: bool = False, **ctx: Any
    ) -> HTMLResponse:
        response = templates.TemplateResponse(
            request, name, {"kb_version": kb.version, **ctx}, status_code=status
        )
        if private:
            response.headers.update(PRIVATE)
        return response

    app.state.page = page

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> HTMLResponse:
        return page(request, "home.html", title="What are these white bumps?")

    @app.get("/check", response_class=HTMLResponse, include_in_schema=False)
    def start_form(request: Request) -> HTMLResponse:
        return page(
            request, "start.html", private=True, title="Start the check", form={}, errors=[]
        )

    @app.post("/check", response_class=HTMLResponse, include_in_schema=False)
    async def start(request: Request) -> Response:
        form = dict((await request.form()).items())
        errors, case = _start_case(form)
        if not errors:
            try:
                view = await run_in_threadpool(interviews.start, kb, store, {"case": case})
            except CaseError as exc:
                errors = [
                    {"field": (e["field"] or "age").removeprefix("case."), "message": e["message"]}
                    for e in exc.errors
                ]
        if errors:
            return page(
                request,
                "start.html",
                status=422,
                private=True,
                title="Start the check",
                form=form,
                errors=errors,
            )
        return see(f"/check/{view['id']}?whose={form.get('whose', 'me')}")

    @app.get("/check/{interview_id}", response_class=HTMLResponse, include_in_schema=False)
    def question_page(request: Request, interview_id: str, whose: str = "me") -> Response:
        view = interviews.read(store, interview_id)
        q = view["question"]
        if q is None:
            return see(f"/check/{interview_id}/result?whose={whose}")
        return page(
            request,
            "question.html",
            private=True,
            title=(q.get("text_for") or {}).get(whose, q["text"]),
            view=view,
            q=q,
            whose=WHOSE.get(whose, WHOSE["me"]),
            whose_key=whose if whose in WHOSE else "me",
            areas=[(name, [(loc, labels[loc]) for loc in locs]) for name, locs in BODY_AREAS],
            error=request.query_params.get("error"),
        )

    @app.post("/check/{interview_id}/answer", include_in_schema=False)
    async def answer(request: Request, interview_id: str) -> Response:
        form = await request.form()
        whose = str(form.get("whose", "me"))
        view = await run_in_threadpool(interviews.read, store, interview_id)
        q = view["question"]
        qid = str(form.get("question_id", ""))
        if q is None or q["id"] != qid:
            return see(f"/check/{interview_id}?whose={whose}")
        try:
            value = _answer_from_form(q, form)
        except ValueError as exc:
            return see(f"/check/{interview_id}?whose={whose}&error={exc}")
        try:
            await run_in_threadpool(
                interviews.answer, kb, store, interview_id, {"question_id": qid, "answer": value}
            )
        except CaseError as exc:
            return see(f"/check/{interview_id}?whose={whose}&error={exc.errors[0]['message']}")
        return see(f"/check/{interview_id}?whose={whose}")

    @app.post("/check/{interview_id}/correct", include_in_schema=False)
    async def correct(request: Request, interview_id: str) -> Response:
        form = await request.form()
        whose = str(form.get("whose", "me"))
        reading = str(form.get("reading", ""))[:100]
        if reading:
            await run_in_threadpool(interviews.correct, kb, store, interview_id, reading)
        return see(f"/check/{interview_id}?whose={whose}")

    @app.post("/check/{interview_id}/back", include_in_schema=False)
    async def back(request: Request, interview_id: str) -> Response:
        whose = str((await request.form()).get("whose", "me"))
        await run_in_threadpool(interviews.undo_last, kb, store, interview_id)
        return see(f"/check/{interview_id}?whose={whose}")

    @app.get("/check/{interview_id}/result", response_class=HTMLResponse, include_in_schema=False)
    def result_page(request: Request, interview_id: str, whose: str = "me") -> HTMLResponse:
        view = interviews.read(store, interview_id)
        result = view["result"]
        return page(
            request,
            "result.html",
            private=True,
            title="Your result",
            view=view,
            r=result,
            whose_key=whose if whose in WHOSE else "me",
            unscreened=[finding_labels.get(p, p) for p in result["triage"]["unscreened"]],
            could_be=[kb.conditions[c].name for c in result.get("could_be", [])],
            thanks=request.query_params.get("thanks"),
        )

    @app.post("/check/{interview_id}/erase", include_in_schema=False)
    def erase(interview_id: str) -> Response:
        interviews.erase(store, interview_id)
        return see("/?erased=1")

    @app.post("/feedback", include_in_schema=False)
    async def feedback(request: Request) -> Response:
        form = await request.form()
        back_to = str(form.get("next", "/"))
        if not back_to.startswith("/") or back_to.startswith("//"):
            back_to = "/"
        helpful = form.get("helpful")
        if helpful not in ("yes", "no"):
            return see(back_to)
        comment = str(form.get("comment", "")).strip()[: interviews.MAX_COMMENT] or None
        iid = form.get("interview_id")
        await run_in_threadpool(
            interviews.feedback,
            store,
            back_to,
            helpful == "yes",
            comment,
            str(iid) if iid else None,
        )
        sep = "&" if "?" in back_to else "?"
        return see(f"{back_to}{sep}thanks=1#feedback")

    @app.get("/ask", response_class=HTMLResponse, include_in_schema=False)
    def ask_form(request: Request) -> HTMLResponse:
        return page(
            request, "ask.html", title="Ask a question", question="", answer=None, error=None
        )

    @app.post("/ask", response_class=HTMLResponse, include_in_schema=False)
    async def ask(request: Request) -> HTMLResponse:
        question = str((await request.form()).get("question", "")).strip()
        if not question:
            return page(
                request,
                "ask.html",
                status=422,
                private=True,
                title="Ask a question",
                question="",
                answer=None,
                error="Please type a question.",
            )
        answer = await run_in_threadpool(service.ask_json, kb, {"question": question[:1000]})
        return page(
            request,
            "ask.html",
            private=True,
            title="Your answer",
            question=question,
            answer=answer,
            error=None,
        )

    @app.get("/library", response_class=HTMLResponse, include_in_schema=False)
    def library(request: Request, q: str = "") -> HTMLResponse:
        hits = search(kb, q) if q.strip() else []
        groups = {
            kind: sorted((a for a in kb.articles.values() if a.kind == kind), key=lambda a: a.title)
            for kind in ("topic", "treatment", "condition")
        }
        return page(
            request,
            "library.html",
            title="Doctor's Note: the library",
            q=q,
            hits=hits,
            groups=groups,
        )

    @app.get("/library/{slug}", response_class=HTMLResponse, include_in_schema=False)
    def article(request: Request, slug: str) -> HTMLResponse:
        art = kb.articles.get(slug)
        if art is None:
            raise NotFoundError([{"field": "slug", "message": f"no article {slug!r}"}])
        html, refs = render.article_html(kb, art)
        related = [kb.articles[s] for s in art.related if s in kb.articles]
        return page(
            request,
            "article.html",
            title=art.title,
            a=art,
            html=html,
            refs=refs,
            related=related,
            thanks=request.query_params.get("thanks"),
        )

    for slug, title in (
        ("about", "About miliacheck"),
        ("privacy", "Privacy"),
        ("safety", "Safety"),
    ):
        _static_page(app, page, slug, title)

    def html_error(request: Request, status: int, message: str) -> HTMLResponse:
        titles = {
            404: "Page not found",
            405: "Not allowed",
            409: "Already answered",
            422: "Please check your answer",
        }
        return page(
            request,
            "error.html",
            status=status,
            title=titles.get(status, "Something went wrong"),
            message=message,
        )

    app.state.html_error = html_error


def see(url: str) -> RedirectResponse:
    """POST-redirect-GET to a private page."""
    return RedirectResponse(url, status_code=303, headers=PRIVATE)


def _static_page(app: FastAPI, page: Any, slug: str, title: str) -> None:
    @app.get(f"/{slug}", response_class=HTMLResponse, include_in_schema=False, name=f"page_{slug}")
    def _page(request: Request) -> HTMLResponse:
        return page(request, f"{slug}.html", title=title)


def _number(raw: object, name: str) -> float:
    try:
        value = float(str(raw))
    except ValueError:
        raise ValueError(f"{name} must be a number") from None
    if value != value or value < 0:
        raise ValueError(f"{name} must be a number, 0 or more")
    return value


def _start_case(form: dict[str, Any]) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """The case from the start form, or the errors naming each field."""
    errors: list[dict[str, str]] = []
    whose = form.get("whose")
    if whose not in WHOSE:
        errors.append({"field": "whose", "message": "Choose whose bumps these are."})
    unit = form.get("age_unit", "years")
    try:
        age = render.age_years(
            _number(form.get("age", ""), "Age"), unit if unit in render.AGE_UNITS else "years"
        )
    except ValueError:
        errors.append(
            {
                "field": "age",
                "message": "Enter the age as a number, for example 34, or 3 with 'weeks'.",
            }
        )
        age = -1.0
    if age > 120:
        errors.append({"field": "age", "message": "Enter an age of 120 years or less."})
    if whose == "me" and 0 <= age < 16:
        errors.append(
            {
                "field": "age",
                "message": (
                    "This checker is for people over 16 and for parents: "
                    "please ask a parent or carer to use it with you."
                ),
            }
        )
    case: dict[str, Any] = {"age_years": age}
    sex = form.get("sex")
    if sex in ("female", "male", "other"):
        case["sex"] = sex
    if form.get("dark_skin"):
        case["findings"] = {"dark_skin": True}  # unticked: unknown, not "no"
    narrative = str(form.get("narrative", "")).strip()
    if len(narrative) > 5000:
        errors.append(
            {"field": "narrative", "message": "Please keep the description under 5,000 characters."}
        )
    elif narrative:
        case["narrative"] = narrative
    return errors, case


def _answer_from_form(q: dict[str, Any], form: Any) -> Any:
    """The answer value of the case format from a question's form."""
    if form.get("dont_know"):
        return None
    kind = q["type"]
    if kind == "multi":
        if form.get("none"):
            return []
        ticked = [str(v) for v in form.getlist("answer")]
        if q["fields"] == ["locations"] and not ticked:
            raise ValueError("Tick at least one place, or choose Don't know.")
        return ticked
    raw = form.get("answer")
    if raw is None or raw == "":
        raise ValueError("Please choose an answer, or choose Don't know.")
    if kind == "yes_no":
        return raw == "yes"
    if kind == "number":
        value = _number(raw, "The answer")
        if q["fields"] == ["duration_days"]:
            unit = str(form.get("unit", "days"))
            return render.days(value, unit if unit in render.DURATION_UNITS else "days")
        return value
    return str(raw)
