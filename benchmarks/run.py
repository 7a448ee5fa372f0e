"""The project's benchmarks: `make bench` writes benchmarks/results.json and the README table.

1. In-process: one assess with next-question selection (median, p99) over 500+ cases.
2. API: wrk pinned to one core against one uvicorn worker pinned to another, 500+
   distinct cases in rotation, no result cache (median, p99, requests/s).
3. The same posterior by pgmpy exact inference, as a time ratio.
4. Accuracy: the evaluation harness on the dev and project vignettes (both modes).
"""

from __future__ import annotations

import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from miliacheck.engine.assess import assess  # noqa: E402
from miliacheck.engine.case import parse_case  # noqa: E402
from miliacheck.evaluation import evaluate, read_vignettes  # noqa: E402
from miliacheck.kb.load import KnowledgeBase, load_kb  # noqa: E402

N_CASES = 600
VIGNETTE_SETS = {
    "dev": ROOT.parent / "shared" / "vignettes" / "dev.jsonl",
    "project": ROOT / "tests" / "data" / "vignettes" / "project.jsonl",
}


def make_cases(kb: KnowledgeBase, n: int = N_CASES, seed: int = 11) -> list[dict[str, Any]]:
    """Distinct, valid cases: the vignettes' cases, then seeded random ones."""
    rng = random.Random(seed)
    cases: list[dict[str, Any]] = []
    for path in VIGNETTE_SETS.values():
        if path.exists():
            cases += [
                {k: v for k, v in r["case"].items() if k != "narrative"}
                for r in read_vignettes(path)
            ]
    m = kb.model
    while len(cases) < n:
        age = rng.choice([0.05, 0.5, 4, 15, 28, 47, 72])
        case: dict[str, Any] = {"age_years": age, "sex": rng.choice(["female", "male"])}
        case["locations"] = rng.sample(list(m.location_ids), rng.randint(1, 3))
        if rng.random() < 0.7:
            case["colour"] = rng.choice(["white", "yellow", "skin", "pink", "red"])
        if rng.random() < 0.6:
            case["size_mm"] = rng.choice([0.8, 1.5, 3, 6])
        picks = rng.sample(list(m.finding_ids), rng.randint(2, 9))
        case["findings"] = {f: rng.random() < 0.4 for f in picks}
        cases.append(case)
    return cases[:n]


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def bench_in_process(kb: KnowledgeBase, cases: list[dict[str, Any]]) -> dict[str, Any]:
    parsed = [parse_case(kb, c) for c in cases]
    for c in parsed[:50]:
        assess(kb, c)
    times = []
    for _ in range(3):
        for c in parsed:
            t = time.perf_counter()
            assess(kb, c)
            times.append((time.perf_counter() - t) * 1000)
    return {
        "what": "assess() with next-question selection, in process",
        "cases": len(parsed),
        "calls": len(times),
        "median_ms": round(statistics.median(times), 4),
        "p99_ms": round(percentile(times, 0.99), 4),
    }


def bench_pgmpy_ratio(kb: KnowledgeBase, cases: list[dict[str, Any]]) -> dict[str, Any] | None:
    try:
        sys.path.insert(0, str(ROOT / "tests"))
        from engine.test_posterior import _pgmpy_posterior  # type: ignore[import-not-found]
    except ImportError:
        return None
    from miliacheck.engine.evidence import posterior

    parsed = [parse_case(kb, c) for c in cases[:60]]
    t = time.perf_counter()
    for c in parsed:
        _pgmpy_posterior(kb, c)
    slow = (time.perf_counter() - t) / len(parsed) * 1000
    t = time.perf_counter()
    for _ in range(20):
        for c in parsed:
            posterior(kb, c)
    fast = (time.perf_counter() - t) / (20 * len(parsed)) * 1000
    return {
        "what": "posterior: pgmpy VariableElimination vs miliacheck",
        "pgmpy_ms": round(slow, 3),
        "miliacheck_ms": round(fast, 4),
        "ratio": round(slow / fast, 1),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


WRK_LUA = """
local bodies = {}
local i = 0
for line in io.lines("%s") do bodies[#bodies + 1] = line end
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", "/api/v1/assess", {["Content-Type"] = "application/json"}, bodies[i])
end
"""


def bench_api(
    cases: list[dict[str, Any]], seconds: int = 20, connections: int = 8
) -> dict[str, Any] | None:
    if shutil.which("wrk") is None:
        return None
    tmp = Path(tempfile.mkdtemp())
    bodies = tmp / "bodies.txt"
    bodies.write_text("\n".join(json.dumps(c) for c in cases))
    script = tmp / "rotate.lua"
    script.write_text(WRK_LUA % bodies)
    port = free_port()
    server = subprocess.Popen(
        [
            "taskset",
            "-c",
            "0",
            sys.executable,
            "-m",
            "uvicorn",
            "miliacheck.api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        url = f"http://127.0.0.1:{port}"
        subprocess.run(
            ["taskset", "-c", "1", "wrk", "-t1", "-c4", "-d3s", "-s", str(script), url],
            capture_output=True,
            check=True,
        )
        out = subprocess.run(
            [
                "taskset",
                "-c",
                "1",
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        server.terminate()
        server.wait(10)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def ms(label: str) -> float:
        m = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out)
        assert m is not None, out
        value, unit = float(m.group(1)), m.group(2)
        return round(value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, 3)

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "what": "POST /api/v1/assess, one uvicorn worker on one core, wrk on another",
        "distinct_cases": len(cases),
        "connections": connections,
        "seconds": seconds,
        "requests_per_s": rps,
        "median_ms": ms("50%"),
        "p99_ms": ms("99%"),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def bench_interview_steps(kb: KnowledgeBase, url: str, label: str, n: int = 300) -> dict[str, Any]:
    """A stored interview step (answer, rebuild, assess, save) through the service, in process."""
    from miliacheck import interviews
    from miliacheck.store import Store

    store = Store(url)
    store.migrate()
    times: list[float] = []
    steps = 0
    while steps < n:
        view = interviews.start(kb, store, {"case": {"age_years": 34, "sex": "female"}})
        while view["question"] is not None and steps < n:
            q = view["question"]
            answer: Any = None
            if q["type"] == "multi":
                answer = ["under_eyes"] if q["fields"] == ["locations"] else []
            t = time.perf_counter()
            view = interviews.answer(
                kb, store, view["id"], {"question_id": q["id"], "answer": answer}
            )
            times.append((time.perf_counter() - t) * 1000)
            steps += 1
    store.dispose()
    return {
        "what": f"stored interview step on {label}, in process",
        "steps": len(times),
        "median_ms": round(statistics.median(times), 3),
        "p99_ms": round(percentile(times, 0.99), 3),
    }


def bench_accuracy(kb: KnowledgeBase) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, path in VIGNETTE_SETS.items():
        if not path.exists():
            continue
        rows = read_vignettes(path)
        full = evaluate(kb, rows, "full").summary()
        full["top3_perturbed"] = evaluate(kb, rows, "full", perturbed=True).summary()["top3"]
        out[name] = {"full": full, "interview": evaluate(kb, rows, "interview").summary()}
    return out


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def readme_table(results: dict[str, Any]) -> str:
    rows = ["| measure | value |", "|---|---|"]
    ip = results["in_process"]
    rows.append(
        f"| assess + next question, in process | median {ip['median_ms']} ms, p99 {ip['p99_ms']} ms |"
    )
    api = results.get("api")
    if api:
        rows.append(
            f"| API assess, 1 core, {api['distinct_cases']} cases in rotation | {api['requests_per_s']:.0f} "
            f"req/s, median {api['median_ms']} ms, p99 {api['p99_ms']} ms |"
        )
    pg = results.get("pgmpy")
    if pg:
        rows.append(
            f"| posterior vs pgmpy exact inference | {pg['ratio']}x faster ({pg['miliacheck_ms']} ms vs "
            f"{pg['pgmpy_ms']} ms) |"
        )
    for key in ("interview_sqlite", "interview_postgresql"):
        step = results.get(key)
        if step:
            rows.append(
                f"| {step['what']} | median {step['median_ms']} ms, p99 {step['p99_ms']} ms |"
            )
    for name, acc in results["accuracy"].items():
        f, i = acc["full"], acc["interview"]
        rows.append(
            f"| {name} vignettes ({f['cases']}), full | top-1 {f['top1']:.0%}, top-3 {f['top3']:.0%} "
            f"(perturbed {f['top3_perturbed']:.0%}), triage exact {f['triage_exact']:.0%}, "
            f"under-triage of soon+ {f['under_triage_serious']}, Brier {f['brier']} |"
        )
        rows.append(
            f"| {name} vignettes, interview | top-3 {i['top3']:.0%}, triage exact {i['triage_exact']:.0%}, "
            f"under-triage of soon+ {i['under_triage_serious']}, questions median {i['median_questions']}"
            f", max {i['max_questions']} |"
        )
    return "\n".join(rows)


def _postgres_steps(kb: KnowledgeBase) -> dict[str, Any] | None:
    try:
        url = subprocess.run(
            ["bash", str(ROOT / "scripts" / "postgres.sh")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return bench_interview_steps(kb, url, "PostgreSQL")


def main() -> None:
    kb = load_kb()
    cases = make_cases(kb)
    results: dict[str, Any] = {
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "processor": platform.processor(),
        },
        "commit": commit(),
        "command": "make bench",
        "date": time.strftime("%Y-%m-%d"),
        "kb_version": kb.version,
        "in_process": bench_in_process(kb, cases),
        "pgmpy": bench_pgmpy_ratio(kb, cases),
        "api": bench_api(cases),
        "interview_sqlite": bench_interview_steps(
            kb, f"sqlite:///{tempfile.mkdtemp()}/bench.db", "SQLite"
        ),
        "interview_postgresql": _postgres_steps(kb),
        "accuracy": bench_accuracy(kb),
    }
    (ROOT / "benchmarks" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    readme = ROOT / "README.md"
    table = readme_table(results)
    text = readme.read_text(encoding="utf-8")
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        meta = f"\nFrom `make bench` on {results['date']}, commit {results['commit']}, {results['machine']['cpus']} cores.\n\n"
        readme.write_text(head + start + meta + table + "\n" + end + tail, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
