"""Browser tests: the app served on a free port, driven by Playwright through Debian's Chromium.

Without /usr/bin/chromium these tests skip with a loud reason; with REQUIRE_BROWSER=1 (CI) a missing browser is a
failure, so a skip can never hide there.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from engine.models import Base
from engine.org.units import seed_demo
from engine.workflow.deploy import deploy_directory
from tests.conftest import DEMO_PASSWORD, DEMO_PASSWORD_HASH, PROCESSES, ROOT

CHROMIUM = Path(os.environ.get("PRESSFLOW_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "test-artifacts"
# Chromium as root in a container, on a machine whose network is closed (see the machine notes).
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


def _browser_or_skip() -> None:
    if CHROMIUM.exists():
        return
    reason = (f"BROWSER TESTS SKIPPED: {CHROMIUM} not found. Install Debian's chromium "
              "(apt-get install -y chromium) to run them.")
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def live_server(tmp_path: Path, frozen_clock: Any) -> Iterator[str]:
    """Serve a fresh app (SQLite file, processes deployed, demo organisation) and yield its base URL."""
    _browser_or_skip()
    from sqlalchemy import create_engine

    from webapp import create_app
    from webapp.extensions import db

    url = f"sqlite:///{tmp_path / 'e2e.db'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "e2e-secret-key-not-for-production"})
    with app.app_context():
        deploy_directory(db.session, app.extensions["pressflow_runtime"], PROCESSES, "tests")
        seed_demo(db.session, DEMO_PASSWORD, password_hash=DEMO_PASSWORD_HASH)
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def browser() -> Iterator[Any]:
    """One headless Chromium for the test."""
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (kept by CI as test artifacts)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def sign_in(browser: Any, base_url: str, username: str) -> Any:
    """A new browser context signed in as ``username``; returns its page."""
    context = browser.new_context(base_url=base_url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page
