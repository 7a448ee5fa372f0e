"""A real server and Debian's Chromium driven by Playwright (nothing downloaded)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from miliacheck.api import create_app
from miliacheck.kb.load import KnowledgeBase
from miliacheck.store import Store
from tests.conftest import serving

HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = HERE / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


CLINICIAN = ("doc@clinic.example", "correct horse battery staple")


@pytest.fixture(scope="session")
def live_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The live server's database, with one clinician account."""
    from miliacheck.clinic import accounts
    from tests.conftest import TEST_DATABASE_URL

    store = Store(TEST_DATABASE_URL or f"sqlite:///{tmp_path_factory.mktemp('browser') / 'b.db'}")
    store.migrate()
    accounts.add_clinician(store, CLINICIAN[0], "Dr Doc", CLINICIAN[1])
    yield store
    store.dispose()


@pytest.fixture(scope="session")
def base_url(kb: KnowledgeBase, live_store: Store) -> Iterator[str]:
    with serving(create_app(kb=kb, store=live_store), log_level="warning") as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make test installs it when root)")
    if not AXE.exists():
        pytest.skip("axe-core is not installed (make test runs npm ci in tests/browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session", autouse=True)
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
