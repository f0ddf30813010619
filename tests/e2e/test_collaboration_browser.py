"""Reviewers working together in the browser: 加签 (and, from colleagues, 抄送 and batch approval)."""

from __future__ import annotations

from typing import Any

from tests.conftest import DEMO_PASSWORD
from tests.e2e.conftest import sign_in
from tests.integration.chain import PDF, application


def _submitted_application(browser: Any, base_url: str) -> int:
    """Start and submit an application through the JSON API, as the 渝中区 clerk."""
    api = browser.new_context(base_url=base_url).request
    token = api.post("/api/v1/auth/token", data={"username": "yz_clerk", "password": DEMO_PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    instance_id = api.post("/api/v1/instances", data={"process": "press_conference"}, headers=headers).json()["id"]
    for kind in ("work_plan", "release_text"):
        upload = api.post(f"/api/v1/instances/{instance_id}/attachments", headers=headers, multipart={
            "kind": kind, "file": {"name": f"{kind}.pdf", "mimeType": "application/pdf", "buffer": PDF}})
        assert upload.status == 201, upload.text()
    tasks = api.get("/api/v1/tasks", headers=headers).json()
    task_id = next(t["id"] for t in tasks if t["instance_id"] == instance_id)
    done = api.post(f"/api/v1/tasks/{task_id}/complete", data={"data": application()}, headers=headers)
    assert done.status == 200, done.text()
    return instance_id


def _open_task(page: Any, title: str) -> None:
    page.goto("/tasks")
    page.locator("table.tasks tr", has_text=title).first.locator("td a").first.click()
    page.wait_for_load_state("networkidle")


def test_leader_adds_the_spokesperson_before_him_who_approves_and_the_step_comes_back_to_the_leader(
    browser, live_server, artifacts
):
    _submitted_application(browser, live_server)
    title = application()["title"]

    leader = sign_in(browser, live_server, "yz_leader")
    _open_task(leader, title)
    task_url = leader.url
    leader.check("#add-sign input[name=mode][value=before]")
    leader.check("#add-sign input[name=rule][value=all]")
    leader.get_by_label("渝中区新闻发言人 陈静").check()
    leader.fill("#sign-comment", "请把关发布口径")
    leader.click("#add-sign button[type=submit]")
    leader.wait_for_load_state("networkidle")
    assert "等待加签人审批" in leader.inner_text("main")
    assert leader.locator("#complete").count() == 0
    leader.wait_for_selector(".pf-signers")
    assert "陈静" in leader.inner_text(".pf-signers")
    leader.screenshot(path=str(artifacts / "add-sign-waiting.png"), full_page=True)

    spokes = sign_in(browser, live_server, "yz_spokes")
    _open_task(spokes, title)
    assert "请您对本环节前加签（会签）" in spokes.inner_text("main")
    assert spokes.locator("#return").count() == 0
    spokes.fill("#f-comment", "口径准确，同意")
    spokes.click(".decisions button:has-text('同意')")
    spokes.wait_for_load_state("networkidle")

    leader.goto(task_url)
    leader.wait_for_load_state("networkidle")
    main = leader.inner_text("main")
    assert "等待加签人审批" not in main
    assert "加签意见：同意" in main and "口径准确，同意" in main
    leader.click("#complete .decisions button:has-text('同意')")
    leader.wait_for_load_state("networkidle")
    leader.goto("/tasks")
    assert title not in leader.inner_text("main")
