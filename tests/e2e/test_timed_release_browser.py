"""定时发布 in the browser: the general office's liaison sets a daily series up; its first round reaches the Health
Commission's release writer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from engine.workdays.calendar import SHANGHAI
from tests.e2e.conftest import sign_in


def _run_worker_pass(database: Path) -> None:
    """What ``pressflow worker`` does at a slot: start the due round (against the served database)."""
    from engine.worker.timed_releases import run_timed_releases
    from webapp import create_app
    from webapp.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "SECRET_KEY": "e2e-worker-not-for-prod"})
    with app.app_context():
        assert len(run_timed_releases(db.session, app.extensions["pressflow_runtime"])) == 1
        db.session.remove()
        db.engine.dispose()


def test_a_series_started_in_the_browser_puts_its_first_round_in_the_health_commissions_inbox(
    browser: Any, live_server: str, frozen_clock: Any, tmp_path: Path, artifacts: Path
) -> None:
    liaison = sign_in(browser, live_server, "gov_office")
    liaison.goto("/applications/new")
    liaison.locator("form.process-form", has=liaison.locator("input[value='timed_release_series']")) \
        .locator("button[type=submit]").click()
    liaison.wait_for_load_state("networkidle")
    assert "/tasks/" in liaison.url
    liaison.fill("#f-event", "呼吸道传染病疫情防控")
    liaison.select_option("#f-cadence", "daily")
    liaison.fill("#f-daily_time", "15:00")
    liaison.fill("#f-first_day", "2026-03-02")
    liaison.fill("#f-first_time", "15:00")
    liaison.click("main button[type=submit]:has-text('提交')")
    liaison.wait_for_load_state("networkidle")
    assert "表单填写有误" not in liaison.inner_text("main")

    frozen_clock.set(dt.datetime(2026, 3, 2, 11, 1, tzinfo=SHANGHAI))  # four hours before the first conference
    _run_worker_pass(tmp_path / "e2e.db")

    writer = sign_in(browser, live_server, "wjw_writer")
    writer.goto("/tasks")
    inbox = writer.inner_text("main")
    writer.screenshot(path=str(artifacts / "timed-release-first-round.png"), full_page=True)
    assert "撰写发布文稿" in inbox and "呼吸道传染病疫情防控 第 1 场定时发布会（2026-03-02 15:00）" in inbox
    assert "撰写发布文稿" not in sign_in(browser, live_server, "wjw_clerk").inner_text("main")
