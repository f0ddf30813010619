"""A process owner edits press_conference in the browser: PressFlow properties, draft, validate, deploy."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.conftest import DEMO_PASSWORD
from tests.e2e.conftest import sign_in

EDITOR = "/models/press_conference/edit"


def _start_application(browser: Any, base_url: str) -> tuple[int, dict[str, str]]:
    """yz_clerk starts an application through the JSON API; returns its id and the clerk's auth header."""
    api = browser.new_context(base_url=base_url).request
    token = api.post("/api/v1/auth/token", data={"username": "yz_clerk", "password": DEMO_PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    created = api.post("/api/v1/instances", data={"process": "press_conference"}, headers=headers)
    assert created.status == 201, created.text()
    return created.json()["id"], headers


def _version_of(page: Any, instance_id: int, headers: dict[str, str]) -> int:
    response = page.request.get(f"/api/v1/instances/{instance_id}", headers=headers)
    assert response.status == 200, response.text()
    return response.json()["version"]


#: The PressFlow group of the bpmn-js properties panel and two of its fields.
GROUP = "[data-group-id='group-pressflow']"
FORM_KEY = f"{GROUP} select[id$='pressflow-formKey']"
DUE = f"{GROUP} input[id$='pressflow-dueInWorkdays']"


def _select_in_diagram(page: Any, element_id: str) -> None:
    """Find an element with the modeler's search (Ctrl+F), as a person would in a large diagram."""
    page.click("#modeler-canvas", position={"x": 600, "y": 40})
    page.keyboard.press("Control+f")
    page.keyboard.type(element_id)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#modeler-properties {GROUP}")


def test_owner_changes_a_due_date_in_the_pressflow_panel_validates_and_deploys_a_new_version(
    browser, live_server, artifacts
):
    before, clerk_headers = _start_application(browser, live_server)
    owner = sign_in(browser, live_server, "owner")
    owner.goto(EDITOR)
    owner.wait_for_selector("#modeler[data-ready='1']")

    assert owner.get_attribute(".djs-palette [data-action='create.start-event']", "aria-label") == "创建开始事件"
    _select_in_diagram(owner, "leader_review")
    assert "主要负责人审核" in owner.inner_text("#modeler-properties .bio-properties-panel-header")
    assert "用户任务" in owner.inner_text("#modeler-properties .bio-properties-panel-header")
    assert "PressFlow 属性" in owner.inner_text(GROUP)
    assert owner.input_value(FORM_KEY) == "leader_review"
    assert owner.is_checked(f"{GROUP} input[id$='pressflow-role-unit_leader']")
    assert owner.input_value(DUE) == "2"
    owner.fill(DUE, "5")
    owner.press(DUE, "Tab")

    owner.click("[data-action='save-draft']")
    expect(owner.locator("#modeler-status")).to_contain_text("草稿已保存", timeout=30_000)
    owner.click("[data-action='validate']")
    expect(owner.locator("#modeler")).to_have_attribute("data-problems", "0", timeout=30_000)
    assert "校验通过" in owner.inner_text("#problems-summary")
    owner.screenshot(path=str(artifacts / "modeler-editor.png"), full_page=True)

    owner.fill("#deploy-note", "主要负责人审核期限由 2 个工作日改为 5 个工作日")
    owner.click("#deploy-form button[type=submit]")
    expect(owner.locator("#deploy-result")).to_contain_text("v2", timeout=30_000)
    assert "press_conference v2" in owner.inner_text("#deploy-result")

    owner.get_by_role("link", name="查看版本列表").click()
    owner.wait_for_load_state("networkidle")
    newest = owner.inner_text("tr[data-version='2']")
    assert "主要负责人审核期限由 2 个工作日改为 5 个工作日" in newest
    assert "流程管理员 冯博" in newest
    owner.click("tr[data-version='2'] details summary")
    assert re.search(r"办理期限（工作日）：\s*2\s*→\s*5", owner.inner_text("tr[data-version='2'] .changes"))
    owner.screenshot(path=str(artifacts / "modeler-versions.png"), full_page=True)
    deployed = owner.request.get("/models/press_conference/v2.bpmn").text()
    leader = deployed[deployed.index('id="leader_review"'):deployed.index("</bpmn:userTask>",
                                                                         deployed.index('id="leader_review"'))]
    assert '<spiffworkflow:property name="dueInWorkdays" value="5" />' in leader

    assert _version_of(owner, before, clerk_headers) == 1
    after, _ = _start_application(browser, live_server)
    assert _version_of(owner, after, clerk_headers) == 2


def test_owner_opens_the_host_speaker_decision_table_and_validates_it(browser, live_server, artifacts):
    owner = sign_in(browser, live_server, "owner")
    owner.goto("/models/decisions/host_speaker.dmn/edit")
    owner.wait_for_selector("#modeler[data-ready='1']")

    table = owner.inner_text("#modeler-canvas")
    assert "municipal_government" in table and "spokesperson_assistant" in table
    assert "命中策略" in table and "注释" in table  # dmn-js's own texts, in the page's language
    owner.click("[data-action='validate']")
    expect(owner.locator("#modeler")).to_have_attribute("data-problems", "0", timeout=30_000)
    owner.screenshot(path=str(artifacts / "modeler-decision.png"), full_page=True)
