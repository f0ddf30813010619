"""A supervisor finds an overdue application on the dashboard, sees it red on the diagram and urges its holder."""

from __future__ import annotations

import datetime as dt

from engine.workdays.calendar import SHANGHAI
from tests.conftest import DEMO_PASSWORD
from tests.e2e.conftest import sign_in
from tests.integration.chain import PDF, application


def _submit_application(playwright_request, base_url: str) -> int:
    """Start and submit a yuzhong application through the JSON API of the live server."""
    token = playwright_request.post(f"{base_url}/api/v1/auth/token",
                                    data={"username": "yz_clerk", "password": DEMO_PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    instance = playwright_request.post(f"{base_url}/api/v1/instances", headers=headers,
                                       data={"process": "press_conference"}).json()
    for kind, name in (("work_plan", "工作方案.pdf"), ("release_text", "发布文稿.pdf")):
        response = playwright_request.post(
            f"{base_url}/api/v1/instances/{instance['id']}/attachments", headers=headers,
            multipart={"kind": kind, "file": {"name": name, "mimeType": "application/pdf", "buffer": PDF}})
        assert response.status == 201, response.text()
    task = instance["tasks"][0]
    response = playwright_request.post(f"{base_url}/api/v1/tasks/{task['id']}/complete", headers=headers,
                                       data={"data": application()})
    assert response.status == 200, response.text()
    return instance["id"]


def test_supervisor_filters_overdue_sees_the_red_step_and_urges_the_leader(
    browser, live_server, artifacts, frozen_clock
):
    api = browser.new_context()
    instance_id = _submit_application(api.request, live_server)
    api.close()
    # The leader's review is due within 3 working days; a week later it is overdue.
    frozen_clock.set(dt.datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI))

    supervisor = sign_in(browser, live_server, "supervisor")
    supervisor.goto("/supervise/")
    supervisor.click(".tile-overdue a")
    supervisor.wait_for_load_state("networkidle")
    supervisor.get_by_role("link", name=application()["title"]).first.click()
    supervisor.wait_for_load_state("networkidle")
    assert f"/{instance_id}" in supervisor.url
    overdue_step = supervisor.locator('g.djs-element[data-element-id="leader_review"].sv-overdue')
    overdue_step.wait_for(timeout=15000)
    assert "逾期" in supervisor.inner_text("main")
    supervisor.screenshot(path=str(artifacts / "supervisor-instance.png"), full_page=True)

    supervisor.fill("#urge-reason", "已逾期，请今天内完成审核")
    supervisor.click("form.sv-action:has(#urge-reason) button[type=submit]")
    supervisor.wait_for_load_state("networkidle")

    leader = sign_in(browser, live_server, "yz_leader")
    leader.goto("/notifications")
    assert "已逾期，请今天内完成审核" in leader.inner_text("main")
