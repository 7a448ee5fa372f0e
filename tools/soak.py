"""Soak: a long steady run of interviews and consultation requests, then every record checked.

Concurrent users (``tools/load.py``) at a sustainable rate (8 users, each pausing a
random 0.25 s on average between requests: about 30 requests a second, a quarter of the
135 a second that 8 users without pauses get from one server on this busy 2-core machine)
drive one uvicorn server for ``SOAK_SECONDS`` (600). The server's resident memory (VmRSS)
is sampled every 5 s. It passes when no request failed, memory at the end is less than
10 % above its steady state in the first minute (the median from 30 s to 60 s against
the median of the last 30 s), and every acknowledged write is in the database, whole,
and reads back through the API. The summary is printed and kept in
``benchmarks/soak.json`` (one entry per database)::

    .venv/bin/python tools/soak.py [--seconds 600] [--users 8] [--think 0.25] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import ROOT, Journal, Load, Server, fresh_database, run_for, verify

from miliacheck.kb.load import KnowledgeBase, load_kb

MAX_GROWTH = 0.10
OUT = ROOT / "benchmarks" / "soak.json"


def memory_growth(samples: list[tuple[float, int]], seconds: float) -> dict[str, Any]:
    """Steady state in the first minute (30-60 s; scaled down for short runs) vs the end."""
    start, stop = min(30.0, seconds / 10), min(60.0, seconds / 5)
    tail = min(30.0, seconds / 10)
    early = [kb for t, kb in samples if start <= t <= stop] or [samples[0][1]]
    late = [kb for t, kb in samples if t >= seconds - tail] or [samples[-1][1]]
    base, end = statistics.median(early), statistics.median(late)
    return {
        "baseline_window_s": [round(start), round(stop)],
        "end_window_s": [round(seconds - tail), round(seconds)],
        "baseline_mib": round(base / 1024, 1),
        "end_mib": round(end / 1024, 1),
        "max_mib": round(max(kb for _, kb in samples) / 1024, 1),
        "growth": round((end - base) / base, 4),
    }


def soak(
    kb: KnowledgeBase,
    folder: Path,
    postgres_url: str | None,
    seconds: float,
    users: int,
    think: float,
    every: float = 5.0,
) -> dict[str, Any]:
    name = "postgresql" if postgres_url else "sqlite"
    samples: list[tuple[float, int]] = []
    progress: list[tuple[float, int]] = []
    with fresh_database(postgres_url, folder) as url:
        server = Server(url, folder / f"server-{name}.log")
        journal = Journal(folder / f"journal-{name}.jsonl")
        server.start()
        last = [-every]

        def sample(elapsed: float, load: Load) -> None:
            if elapsed - last[0] < every:
                return
            last[0] = elapsed
            rss = server.rss_kb()
            if rss is not None:
                samples.append((round(elapsed, 1), rss))
            progress.append((elapsed, sum(load.stats.ok.values())))
            if len(samples) % 12 == 1 and rss is not None:
                print(
                    f"{name} {elapsed:5.0f} s: RSS {rss / 1024:.1f} MiB, "
                    f"{progress[-1][1] if progress else 0} requests ok",
                    flush=True,
                )

        try:
            began = time.monotonic()
            load = run_for(kb, server, journal, seconds, users, think, every=1.0, sample=sample)
            elapsed = time.monotonic() - began
            end_rss = server.rss_kb()
            if end_rss is not None:
                samples.append((round(elapsed, 1), end_rss))
            stats = load.stats.summary()
            check = verify(kb, url, journal.path, server.base_url)
        finally:
            journal.close()
            server.stop()
    memory = memory_growth(samples, elapsed)
    minute = min(60.0, elapsed / 5)
    ok = stats["errors"] == 0 and check["problems"] == 0 and memory["growth"] < MAX_GROWTH
    return {
        "database": name,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "commit": _commit(),
        "seconds": round(elapsed),
        "users": users,
        "think_s": think,
        "requests_per_s": round(stats["requests_ok"] / elapsed, 1),
        "requests_per_s_first_minute": _rate(progress, 0, minute),
        "requests_per_s_last_minute": _rate(progress, elapsed - minute, elapsed),
        **stats,
        "memory": memory,
        "rss_samples_mib": [[t, round(kb / 1024, 1)] for t, kb in samples],
        "check": check,
        "ok": ok,
    }


def _rate(progress: list[tuple[float, int]], start: float, stop: float) -> float | None:
    """Requests acknowledged per second between two moments (from the samples)."""
    inside = [(t, n) for t, n in progress if start <= t <= stop]
    if len(inside) < 2 or inside[-1][0] == inside[0][0]:
        return None
    return round((inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0]), 1)


def _commit() -> str:
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 600)))
    parser.add_argument("--users", type=int, default=int(os.environ.get("SOAK_USERS", 8)))
    parser.add_argument("--think", type=float, default=float(os.environ.get("SOAK_THINK", 0.25)))
    parser.add_argument("--postgres", metavar="URL", help="run on this PostgreSQL, not SQLite")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    kb = load_kb()
    with tempfile.TemporaryDirectory() as tmp:
        run = soak(kb, Path(tmp), args.postgres, args.seconds, args.users, args.think)
    kept: dict[str, Any] = {}
    if args.out.exists():
        kept = json.loads(args.out.read_text())
    kept.setdefault("runs", {})[run["database"]] = run
    kept["machine"] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    args.out.write_text(json.dumps(kept, indent=2) + "\n")
    shown = {k: v for k, v in run.items() if k != "rss_samples_mib"}
    print(json.dumps(shown, indent=2))
    m = run["memory"]
    print(
        f"soak on {run['database']}: {run['seconds']} s, {run['users']} users, "
        f"{run['requests_per_s']} requests/s, {run['errors']} errors; memory "
        f"{m['baseline_mib']} -> {m['end_mib']} MiB ({m['growth']:+.1%}); "
        f"{run['check']['interviews_acknowledged']} interviews, "
        f"{run['check']['consultations_acknowledged']} requests checked, "
        f"{run['check']['problems']} problems: {'PASS' if run['ok'] else 'FAIL'}"
    )
    return 0 if run["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
