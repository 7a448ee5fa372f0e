"""The command line: ``miliacheck check | assess | serve | eval | kb check | kb report``.

Errors print as the case format's problem and exit with the error's code (2 for a bad
case, 3 for an invalid knowledge base).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from miliacheck import service
from miliacheck.engine.interview import apply_answer
from miliacheck.errors import MiliacheckError
from miliacheck.kb.load import KnowledgeBase, load_kb, read_kb

app = typer.Typer(
    help="miliacheck: information about white skin bumps. Not a diagnosis.", no_args_is_help=True
)
kb_app = typer.Typer(help="Check and report on the knowledge base.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
clinicians_app = typer.Typer(help="Clinicians' accounts.", no_args_is_help=True)
app.add_typer(clinicians_app, name="clinicians")
console = Console()
err_console = Console(stderr=True)

LEVEL_STYLE = {
    "self_care": "bold green",
    "routine": "bold cyan",
    "soon": "bold yellow",
    "urgent": "bold red",
    "emergency": "bold white on red",
}
LEVEL_TEXT = {
    "self_care": "Self-care: safe to look after at home",
    "routine": "Routine: book a GP or dermatologist appointment in the coming weeks",
    "soon": "Soon: see a doctor within days (at most two weeks)",
    "urgent": "Urgent: see a doctor today",
    "emergency": "Emergency: go to the emergency department or call emergency services now",
}
SERVICE_TEXT = {
    "home": "at home",
    "pharmacist": "a pharmacist",
    "gp": "a GP (family doctor)",
    "dermatologist": "a dermatologist",
    "sexual_health_clinic": "a sexual health clinic",
    "eye_casualty": "eye casualty",
    "emergency_department": "the emergency department",
}


def _kb() -> KnowledgeBase:
    return load_kb()


def _fail(exc: MiliacheckError) -> None:
    err_console.print_json(json.dumps(exc.problem()))
    raise typer.Exit(exc.exit_code)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        from miliacheck.errors import CaseError

        _fail(CaseError([{"field": None, "message": f"cannot read {path.name}: {exc}"}]))


@app.command()
def assess(
    case_file: Annotated[Path | None, typer.Argument(help="A CASE.json file")] = None,
    jsonl: Annotated[Path | None, typer.Option(help="Cases or vignettes, one a line")] = None,
) -> None:
    """Assess a case file, or every line of --jsonl (one result a line)."""
    kb = _kb()
    if jsonl is not None:
        code = 0
        for n, line in enumerate(jsonl.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                case = (
                    obj["case"]
                    if isinstance(obj, dict) and "case" in obj and "expected" in obj
                    else obj
                )
                result = service.assess_json(kb, case)
                if isinstance(obj, dict) and "id" in obj and "expected" in obj:
                    result = {"id": obj["id"], **result}
                sys.stdout.write(json.dumps(result) + "\n")
            except MiliacheckError as exc:
                sys.stdout.write(json.dumps({"line": n, **exc.problem()}) + "\n")
                code = 2
            except json.JSONDecodeError:
                sys.stdout.write(
                    json.dumps(
                        {
                            "line": n,
                            "title": "not JSON",
                            "status": 422,
                            "errors": [{"field": None, "message": "not valid JSON"}],
                        }
                    )
                    + "\n"
                )
                code = 2
        raise typer.Exit(code)
    if case_file is None:
        raise typer.BadParameter("give CASE.json or --jsonl FILE")
    try:
        result = service.assess_json(kb, _read_json(case_file))
    except MiliacheckError as exc:
        _fail(exc)
    sys.stdout.write(json.dumps(result, indent=2) + "\n")


def show_result(result: dict[str, Any]) -> None:
    """Care level first, in colour; then the conditions with bars, why, and next steps."""
    t = result["triage"]
    style = LEVEL_STYLE[t["level"]]
    console.rule()
    console.print(f"[{style}] {LEVEL_TEXT[t['level']]} [/]")
    console.print(f"Where to go: {SERVICE_TEXT[t['service']]}")
    for reason in t["reasons"]:
        console.print(f"  • {reason}")
    if t["provisional"]:
        console.print(
            "[yellow]Provisional: these warning signs were not answered:[/] "
            + ", ".join(t["unscreened"])
        )
    if result["unsure"]["value"]:
        console.print("[yellow]Unsure:[/] " + " ".join(result["unsure"]["reasons"]))
    if result.get("could_be"):
        console.print(
            "Could be " + " or ".join(result["could_be"]) + " (both harmless, same care)."
        )
    if result.get("understood"):
        read = [
            f"{u['field']}={u['value']} ({u['certainty']})"
            for u in result["understood"]
            if u["field"] != "whose"
        ]
        console.print("[bold]Understood from your words:[/] " + "; ".join(read))
    for c in result.get("conflicts", []):
        console.print(f"[yellow]Please confirm {c['field']}:[/] {c['resolution']}")
    table = Table(title="What it could be", show_lines=False)
    table.add_column("Condition")
    table.add_column("Chance", justify="right")
    table.add_column("")
    table.add_column("Why")
    for c in result["conditions"]:
        bar = "█" * max(1, round(c["probability"] * 20))
        why = "; ".join(e["text"] for e in c["evidence_for"][:3])
        against = "; ".join(e["text"] for e in c["evidence_against"][:2])
        if against:
            why += f" [dim](against: {against})[/]"
        table.add_row(c["name"], f"{c['probability']:.0%}", bar, why)
    console.print(table)
    adv = result["advice"]
    for title, key in (("Do", "do"), ("Avoid", "avoid"), ("See a doctor if", "see_a_doctor_if")):
        if adv[key]:
            console.print(f"[bold]{title}[/]")
            for item in adv[key]:
                console.print(f"  • {item}")
    console.print(f"[bold]Safety net:[/] {adv['safety_net']}")
    console.print(
        "[dim]Information only, not a diagnosis. "
        "In an emergency call your local emergency number.[/]"
    )


def _ask(question: dict[str, Any]) -> Any:
    """Ask one question at the terminal; returns the answer, None for don't know, or 'BACK'."""
    console.print(f"\n[bold]{question['text']}[/]")
    if question.get("help"):
        console.print(f"[dim]{question['help']}[/]")
    console.print("[dim](d = don't know, b = back, ? = why we ask)[/]")
    options = question["options"]
    if question["type"] in ("single", "multi"):
        for i, o in enumerate(options, 1):
            console.print(f"  {i}. {o['label']}")
        if question.get("none_option"):
            console.print(f"  0. {question['none_option']}")
    while True:
        raw = typer.prompt(">", default="", show_default=False).strip().lower()
        if raw in ("d", "dont know", "don't know"):
            return None
        if raw == "b":
            return "BACK"
        if raw == "?":
            console.print(question["why"])
            continue
        kind = question["type"]
        if kind == "yes_no" and raw in ("y", "yes", "n", "no"):
            return raw.startswith("y")
        if kind == "number":
            try:
                return float(raw)
            except ValueError:
                pass
        if kind == "single" and raw.isdigit() and 1 <= int(raw) <= len(options):
            return options[int(raw) - 1]["value"]
        if kind == "multi":
            if raw == "0" and question.get("none_option"):
                return []
            picks = [p for p in raw.replace(",", " ").split() if p.isdigit()]
            if picks and all(1 <= int(p) <= len(options) for p in picks):
                return [options[int(p) - 1]["value"] for p in picks]
        console.print("[red]Please answer as shown.[/]")


@app.command()
def check() -> None:
    """Run the interview in the terminal, then show the result."""
    kb = _kb()
    console.print("[bold]miliacheck[/]: information about white skin bumps, not a diagnosis.")
    console.print(
        "If an eye is swelling shut, or a baby under 3 months has a fever or seems unwell, "
        "get emergency help now."
    )
    age = typer.prompt("Age in years (for a baby, months / 12, e.g. 0.1)", type=float)
    sex = (
        typer.prompt("Sex (female, male, other; Enter to skip)", default="", show_default=False)
        .strip()
        .lower()
    )
    skin = (
        typer.prompt(
            "Is the skin brown or black? Redness can look purple or brown on it "
            "(y for yes; Enter to skip)",
            default="",
            show_default=False,
        )
        .strip()
        .lower()
    )
    words = typer.prompt(
        "Describe the bumps in your own words (optional; Enter to skip)",
        default="",
        show_default=False,
    ).strip()
    case: dict[str, Any] = {"age_years": age}
    if sex:
        case["sex"] = sex
    if skin in ("y", "yes"):
        case["findings"] = {"dark_skin": True}  # skipped or "no": unknown, changes nothing
    if words:
        case["narrative"] = words[:5000]
    history: list[dict[str, Any]] = []
    while True:
        try:
            result = service.assess_json(kb, case)
        except MiliacheckError as exc:
            _fail(exc)
        q = result["next_question"]
        if q is None:
            break
        answer = _ask(q)
        if answer == "BACK":
            if history:
                case = history.pop()
            continue
        history.append(case)
        try:
            case = apply_answer(case, q, answer)
        except MiliacheckError as exc:
            console.print(f"[red]{exc.errors[0]['message']}[/]")
            history.pop()
    show_result(result)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Serve the web app and the API (OpenAPI at /docs and /openapi.json)."""
    import uvicorn

    try:
        _kb()  # refuse to start on an invalid knowledge base
    except MiliacheckError as exc:
        _fail(exc)
    from miliacheck.logs import config

    uvicorn.run(
        "miliacheck.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
        log_config=config("warning"),
        proxy_headers=True,
    )


@app.command("eval")
def eval_(
    file: Annotated[Path, typer.Argument(help="Vignettes, one a line")],
    mode: Annotated[
        str,
        typer.Option(
            help="full (the whole case, words included), structured (words left out), "
            "interview, narrative or narrative-interview"
        ),
    ] = "full",
    perturb: Annotated[
        bool, typer.Option(help="Also run with 30 % of known fields dropped")
    ] = False,
    failures: Annotated[bool, typer.Option(help="List the cases that missed")] = False,
) -> None:
    """Score the checker on vignettes: top-1/3, triage, must-not-miss, unsure, Brier, questions."""
    from miliacheck.evaluation import MODES, evaluate, read_vignettes

    if mode not in MODES:
        raise typer.BadParameter("mode is one of " + ", ".join(MODES))
    kb = _kb()
    vignettes = read_vignettes(file)
    report = evaluate(kb, vignettes, mode)
    summary = report.summary()
    if perturb:
        summary["top3_perturbed"] = evaluate(kb, vignettes, mode, perturbed=True).summary()["top3"]
    table = Table(title=f"{file.name} ({mode})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for k, v in summary.items():
        table.add_row(
            k,
            f"{v:.1%}"
            if isinstance(v, float) and k not in ("brier", "median_questions")
            else str(v),
        )
    console.print(table)
    if failures:
        for f in report.failures():
            console.print(f)


@app.command()
def purge(
    days: Annotated[int | None, typer.Option(help="Override the retention setting (days)")] = None,
) -> None:
    """Erase anonymous interviews older than the retention setting."""
    from miliacheck import interviews

    settings, store = _store()
    keep = days if days is not None else settings.retention_days
    erased = interviews.purge(store, keep)
    console.print(f"Erased {erased} interviews older than {keep} days.")


def _store() -> Any:
    from miliacheck.config import Settings
    from miliacheck.store import Store

    settings = Settings.from_env()
    store = Store(settings.database_url)
    store.migrate()
    return settings, store


@clinicians_app.command("add")
def clinicians_add(
    email: Annotated[str, typer.Argument(help="The clinician's email (their login)")],
    name: Annotated[str, typer.Option(help="Their name, as shown in notes")] = "",
) -> None:
    """Create a clinician account (or reset its password); asks for the password twice."""
    from miliacheck.clinic import accounts

    _, store = _store()
    password = typer.prompt(
        "Password (12 characters or more)", hide_input=True, confirmation_prompt=True
    )
    try:
        who = accounts.add_clinician(store, email, name or email.split("@")[0], password)
    except MiliacheckError as exc:
        _fail(exc)
    console.print(f"Clinician {who.email} can log in at /clinic/login.")


@app.command("export-cases")
def export_cases(
    out: Annotated[Path | None, typer.Option(help="Write here (default: standard output)")] = None,
) -> None:
    """Closed, consented requests with a confirmed diagnosis, de-identified, as vignettes."""
    from miliacheck.clinic import consultations

    _, store = _store()
    cases = consultations.export_cases(_kb(), store)
    lines = "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases)
    if out is None:
        sys.stdout.write(lines)
    else:
        out.write_text(lines, encoding="utf-8")
        console.print(f"Wrote {len(cases)} vignettes to {out}: try `miliacheck eval {out}`.")


@app.command("export-fhir")
def export_fhir(
    consultation_id: Annotated[str, typer.Argument(help="The request's id (from the queue)")],
) -> None:
    """Print a request as an HL7 FHIR R4 Bundle (JSON)."""
    from miliacheck.clinic import consultations, fhir

    settings, store = _store()
    try:
        record = consultations.record(store, consultation_id)
    except MiliacheckError as exc:
        _fail(exc)
    sys.stdout.write(json.dumps(fhir.bundle(_kb(), record, settings.public_url), indent=2) + "\n")


@app.command()
def ask(question: Annotated[str, typer.Argument(help="Your question, in quotes")]) -> None:
    """Answer a question from the library, with the passage, its article and references."""
    kb = _kb()
    try:
        answer = service.ask_json(kb, {"question": question})
    except MiliacheckError as exc:
        _fail(exc)
    if answer["emergency"]:
        console.print(f"[bold white on red] Get help now [/] {answer['emergency_advice']}")
    if answer["out_of_scope"]:
        console.print(
            "The library has no answer to that question. For worries about your skin, see a doctor."
        )
    for p in answer["passages"]:
        console.rule(f"{p['title']}: {p['heading']}")
        console.print(p["text"])
        refs = "; ".join(r["title"] for r in p["references"])
        console.print(f"[dim]From {p['article']}. References: {refs}[/]")
    if answer["offer_checker"]:
        console.print(
            "This sounds like a description of your bumps: try [bold]miliacheck check[/]."
        )


@app.command("eval-text")
def eval_text(
    narratives: Annotated[Path, typer.Option(help="Labelled narratives")] = Path(
        "tests/data/text/narratives.jsonl"
    ),
    questions: Annotated[Path, typer.Option(help="The ask box's question set")] = Path(
        "tests/data/text/questions.jsonl"
    ),
    vignettes: Annotated[Path, typer.Option(help="Vignettes whose words are checked")] = Path(
        "../shared/vignettes/dev.jsonl"
    ),
    errors: Annotated[bool, typer.Option(help="List every error")] = False,
) -> None:
    """Extraction precision and recall per field, and contradictions with the vignettes."""
    from miliacheck.evaluation_text import (
        care_levels_from_words,
        contradictions,
        read_jsonl,
        score_narratives,
        score_questions,
    )

    kb = _kb()
    s = score_narratives(kb, read_jsonl(narratives))
    table = Table(title=f"Reading {s['narratives']} labelled narratives")
    for col in ("field", "precision", "recall", "tp", "fp", "fn"):
        table.add_column(col, justify="right" if col != "field" else "left")
    for f, m in s["per_field"].items():
        table.add_row(
            f,
            f"{m['precision']:.1%}",
            f"{m['recall']:.1%}",
            str(m["tp"]),
            str(m["fp"]),
            str(m["fn"]),
        )
    table.add_row("all fields", f"{s['precision']:.1%}", f"{s['recall']:.1%}", "", "", "")
    console.print(table)
    console.print(
        f"Negated or hedged findings read as present: {len(s['negated_read_as_present'])} "
        f"{s['negated_read_as_present']}"
    )
    levels = care_levels_from_words(kb, read_jsonl(narratives))
    console.print(
        f"Care level from the words lower than from the labels: {len(levels['lower'])} of "
        f"{levels['texts']} {levels['lower']}; higher: {levels['higher']}"
    )
    if errors:
        for e in s["errors"]:
            console.print(e)
    if questions.exists():
        from miliacheck.text.semantic import available

        for semantic in (False, True) if available() else (False,):
            q = score_questions(kb, read_jsonl(questions), semantic=semantic)
            console.print(f"Ask box on {q['questions']} questions ({q['search']}):")
            console.print(f"  top-1 article {q['top1_article']:.1%}")
            console.print(f"  emergencies flagged {q['emergencies_flagged']}")
            console.print(f"  safety cautions {q['safety_cautions']}")
            console.print(f"  out of scope refused {q['out_of_scope_refused']}")
            console.print(f"  checker offered {q['checker_offered']}")
            if errors:
                for m in q["misses"]:
                    console.print(m)
        if not available():
            console.print("  (semantic search not installed: pip install -e '.[semantic]')")
    if vignettes.exists():
        found = contradictions(kb, read_jsonl(vignettes))
        red = [c for c in found if c["red_flag"]]
        console.print(
            f"Contradictions with {vignettes.name}: {len(found)} ({len(red)} on red flags)"
        )
        for c in found:
            console.print(c)


@kb_app.command("check")
def kb_check() -> None:
    """Validate the knowledge base; exit 3 if anything is wrong."""
    from miliacheck.kb.check import check as run_check

    try:
        kb = read_kb()
    except MiliacheckError as exc:
        _fail(exc)
    problems = run_check(kb)
    for p in problems:
        colour = "red" if p.severity == "error" else "yellow"
        console.print(f"[{colour}]{p.severity}[/] {p.where}: {p.message}")
    errors = sum(p.severity == "error" for p in problems)
    console.print(
        f"{len(kb.conditions)} conditions, {len(kb.references)} references: "
        f"{errors} errors, {len(problems) - errors} warnings"
    )
    if errors:
        raise typer.Exit(3)


@kb_app.command("report")
def kb_report() -> None:
    """Cited versus estimated numbers, and each condition's most decisive numbers."""
    from miliacheck.kb.check import decisive_numbers, sourced_numbers

    kb = _kb()
    numbers = list(sourced_numbers(kb))
    cited = sum(s.src is not None for _, s in numbers)
    console.print(
        f"{len(numbers)} numbers: {cited} cited, {len(numbers) - cited} estimated "
        f"({cited / len(numbers):.0%} cited)"
    )
    for cond in kb.conditions.values():
        table = Table(title=f"{cond.id}: most decisive numbers")
        table.add_column("number")
        table.add_column("p", justify="right")
        table.add_column("|log LR|", justify="right")
        table.add_column("source")
        for d in decisive_numbers(kb, cond)[:5]:
            ref = kb.references.get(d.value.src or "")
            source = f"{d.value.src}: {ref.title}" if ref else f"estimate: {d.value.est}"
            table.add_row(d.field, f"{d.value.p:g}", f"{d.weight:.2f}", source)
        console.print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
