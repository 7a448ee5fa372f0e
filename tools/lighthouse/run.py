"""`make lighthouse`: Lighthouse's four scores for home, a question, a result and the library.

Starts the app on a throwaway SQLite database, makes an interview for the question and
result pages, and runs Lighthouse (npm, Node 20) against Debian's chromium. Prints a
table and writes tools/lighthouse/scores.json.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FLAGS = " ".join(
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
)
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def main() -> int:
    chromium = shutil.which("chromium")
    if chromium is None:
        print("lighthouse: Debian's chromium is needed (apt-get install chromium)")
        return 2
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = Path(tempfile.mkdtemp()) / "lh.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}"}
    server = subprocess.Popen(
        [sys.executable, "-m", "miliacheck.cli", "serve", "--port", str(port)], cwd=ROOT, env=env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/api/v1/health")
                break
            except OSError:
                time.sleep(0.1)
        body = json.dumps({"case": {"age_years": 34, "sex": "female"}}).encode()
        req = urllib.request.Request(
            base + "/api/v1/interviews", body, {"content-type": "application/json"}
        )
        iid = json.load(urllib.request.urlopen(req))["id"]
        pages = {
            "home": "/",
            "question": f"/check/{iid}",
            "result": f"/check/{iid}/result",
            "library": "/library",
        }
        scores: dict[str, dict[str, int]] = {}
        for name, path in pages.items():
            out = subprocess.run(
                [
                    str(HERE / "node_modules" / ".bin" / "lighthouse"),
                    base + path,
                    "--output=json",
                    "--quiet",
                    f"--chrome-flags={FLAGS}",
                    "--form-factor=mobile",
                ],
                capture_output=True,
                text=True,
                env={**os.environ, "CHROME_PATH": chromium},
                check=True,
            ).stdout
            report = json.loads(out)
            scores[name] = {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}
    finally:
        server.terminate()
        server.wait(10)
    (HERE / "scores.json").write_text(json.dumps(scores, indent=2) + "\n")
    print("| page | " + " | ".join(CATEGORIES) + " |")
    print("|---|" + "---|" * len(CATEGORIES))
    for name, s in scores.items():
        print(f"| {name} | " + " | ".join(str(s[c]) for c in CATEGORIES) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
