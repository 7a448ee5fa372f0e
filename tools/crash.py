"""kill -9 the server while it writes under load, restart it, and check nothing was lost.

Each round drives the server with concurrent users (``tools/load.py``) for a random
while, waits until a write is in flight, sends SIGKILL (no shutdown, no rollback, no
flush), restarts the server on the same database and checks every write acknowledged so
far against the database and the API: an acknowledged interview with at least its
acknowledged answers, an acknowledged request under its key with its photos, and no
stored row half-written. The database server itself is not killed: on PostgreSQL the
application dies mid-transaction; on SQLite (WAL) the application is the database.

``make crash`` runs 10 kills on a fresh SQLite file, then on a fresh schema of the
PostgreSQL that scripts/postgres.sh gives, and exits 1 on any loss, any half-written row or
any error answered before a kill::

    .venv/bin/python tools/crash.py [--kills 10] [--users 8] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import Journal, Load, Server, fresh_database, verify

from miliacheck.kb.load import KnowledgeBase, load_kb

WRITES = ("interviews", "answers", "consultations")


def crash_run(
    kb: KnowledgeBase,
    folder: Path,
    postgres_url: str | None = None,
    kills: int = 10,
    users: int = 8,
    load_seconds: tuple[float, float] = (1.0, 4.0),
    seed: int | None = None,
    echo: bool = False,
) -> dict[str, Any]:
    """``kills`` rounds of load, kill -9 mid-write, restart and check; a summary."""
    seed = random.randrange(10**6) if seed is None else seed
    rng = random.Random(seed)
    name = "postgresql" if postgres_url else "sqlite"
    rounds: list[dict[str, Any]] = []
    with fresh_database(postgres_url, folder) as url:
        server = Server(url, folder / f"server-{name}.log")
        journal = Journal(folder / f"journal-{name}.jsonl")
        try:
            first_start = server.start()
            for k in range(kills):
                load = Load(kb, server.base_url, journal, users=users, seed=seed + k)
                load.start()
                time.sleep(rng.uniform(*load_seconds))
                deadline = time.monotonic() + 5
                while load.stats.in_flight_writes == 0 and time.monotonic() < deadline:
                    time.sleep(0.0005)
                in_flight = load.stats.in_flight_writes
                killed_at = time.monotonic()
                server.kill()
                load.finish()
                before = sum(t < killed_at for t in load.stats.error_times)
                restart = server.start()
                check = verify(kb, url, journal.path, server.base_url)
                done = {
                    "kill": k + 1,
                    "writes_in_flight_at_kill": in_flight,
                    "requests_ok": load.stats.summary()["requests_ok"],
                    "errors_before_kill": before,
                    "errors_before_kill_by_status": dict(load.stats.errors) if before else {},
                    "restart_s": round(restart, 1),
                    **{k: v for k, v in check.items() if k != "problem_list"},
                    "problem_list": check["problem_list"],
                }
                rounds.append(done)
                if echo:
                    print(
                        f"{name} kill {k + 1}/{kills}: {in_flight} writes in flight, "
                        f"{done['requests_ok']} ok, {before} errors before the kill; "
                        f"after restart {check['interviews_acknowledged']} interviews and "
                        f"{check['consultations_acknowledged']} requests acknowledged so far, "
                        f"{sum(check[f'{w}_unacknowledged'] for w in WRITES)} committed "
                        "but never acknowledged, "
                        f"{check['lost']} lost, {check['problems']} problems",
                        flush=True,
                    )
                    for p in check["problem_list"]:
                        print(f"  {p}", flush=True)
        finally:
            journal.close()
            server.stop()
    last = rounds[-1] if rounds else {}
    return {
        "database": name,
        "seed": seed,
        "kills": len(rounds),
        "first_start_s": round(first_start, 1),
        "requests_ok": sum(r["requests_ok"] for r in rounds),
        "writes_in_flight_at_kills": [r["writes_in_flight_at_kill"] for r in rounds],
        "errors_before_kills": sum(r["errors_before_kill"] for r in rounds),
        "interviews_acknowledged": last.get("interviews_acknowledged", 0),
        "answers_acknowledged": last.get("answers_acknowledged", 0),
        "consultations_acknowledged": last.get("consultations_acknowledged", 0),
        "photos_acknowledged": last.get("photos_acknowledged", 0),
        "committed_unacknowledged": sum(last.get(f"{w}_unacknowledged", 0) for w in WRITES),
        "lost": sum(r["lost"] for r in rounds),
        "problems": sum(r["problems"] for r in rounds),
        "problem_list": [p for r in rounds for p in r["problem_list"]][:50],
        "ok": bool(rounds)
        and all(r["problems"] == 0 and r["errors_before_kill"] == 0 for r in rounds),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--postgres", metavar="URL", help="run on this PostgreSQL, not SQLite")
    args = parser.parse_args()
    kb = load_kb()
    with tempfile.TemporaryDirectory() as tmp:
        summary = crash_run(
            kb, Path(tmp), args.postgres, args.kills, args.users, seed=args.seed, echo=True
        )
    print(json.dumps(summary, indent=2))
    verdict = "no loss, nothing half-written" if summary["ok"] else "FAILED"
    print(f"crash on {summary['database']}: {summary['kills']} kills, {verdict}")
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
