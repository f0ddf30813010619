"""抄送 in the browser: the Office copies the monitor, who finds it under 抄送我 and opens it; the Office sees 已阅.

And the process owner sets a step's 抄送 in the properties panel's PressFlow group.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.conftest import DEMO_PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.test_modeler_browser import GROUP, _select_in_diagram
from tests.integration.chain import application

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
TITLE = application()["title"]


def _api(browser: Any, base_url: str, username: str) -> tuple[Any, dict[str, str]]:
    api = browser.new_context(base_url=base_url).request
    token = api.post("/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD}).json()["token"]
    return api, {"Authorization": f"Bearer {token}"}


def _complete(browser: Any, base_url: str, username: str, instance_id: int, bpmn_id: str, data: dict) -> None:
    api, headers = _api(browser, base_url, username)
    task = next(t for t in api.get("/api/v1/tasks", headers=headers).json()
                if t["instance_id"] == instance_id and t["bpmn_id"] == bpmn_id)
    done = api.post(f"/api/v1/tasks/{task['id']}/complete", data={"data": data}, headers=headers)
    assert done.status == 200, done.text()


def _at_office_review(browser: Any, base_url: str) -> int:
    """A 渝中区 application submitted and passed by its unit, through the JSON API."""
    api, headers = _api(browser, base_url, "yz_clerk")
    instance_id = api.post("/api/v1/instances", data={"process": "press_conference"}, headers=headers).json()["id"]
    for kind, name in (("work_plan", "工作方案.pdf"), ("release_text", "发布文稿.pdf")):
        uploaded = api.post(f"/api/v1/instances/{instance_id}/attachments", headers=headers, multipart={
            "kind": kind, "file": {"name": name, "mimeType": "application/pdf", "buffer": PDF}})
        assert uploaded.status == 201, uploaded.text()
    _complete(browser, base_url, "yz_clerk", instance_id, "topic_application", application())
    _complete(browser, base_url, "yz_leader", instance_id, "leader_review", {"decision": "approve", "comment": "同意"})
    _complete(browser, base_url, "yz_secrecy", instance_id, "secrecy_review", {"decision": "pass", "comment": ""})
    return instance_id


def test_the_office_copies_the_monitor_who_reads_it_under_cc_and_the_office_then_sees_it_read(
    browser, live_server, artifacts
):
    instance_id = _at_office_review(browser, live_server)
    office = sign_in(browser, live_server, "office_reviewer")
    office.goto("/tasks")
    office.locator("table.tasks tr", has_text="新闻办选题审核").first.locator("td a").first.click()
    office.wait_for_load_state("networkidle")
    task_url = office.url
    assert "后续审批环节预览" in office.inner_text("#chain-preview")
    office.select_option("#cc-users", ["monitor"])
    office.fill("#cc-note", "请提前关注此发布会的舆情")
    office.click("form.cc-form button[type=submit]")
    office.wait_for_load_state("networkidle")
    assert "已抄送给 舆情监测 谢婷" in office.inner_text("main")
    assert "未阅" in office.inner_text("tr[data-recipient='monitor']")

    monitor = sign_in(browser, live_server, "monitor")
    monitor.get_by_label("待办、已办与抄送").get_by_role("link", name="抄送我").click()
    monitor.wait_for_load_state("networkidle")
    row = monitor.locator(f"tr[data-instance='{instance_id}']")
    assert "未阅" in row.inner_text() and "请提前关注此发布会的舆情" in row.inner_text()
    monitor.screenshot(path=str(artifacts / "cc-inbox.png"), full_page=True)
    row.get_by_role("link", name=TITLE).click()
    monitor.wait_for_load_state("networkidle")
    assert "将此申请抄送给您知悉" in monitor.inner_text(".cc-notice")
    monitor.goto("/tasks/cc")
    assert "已阅" in monitor.inner_text(f"tr[data-instance='{instance_id}']")

    office.goto(task_url)
    receipt = office.inner_text("tr[data-recipient='monitor']")
    assert "已阅" in receipt and "未阅" not in receipt
    office.screenshot(path=str(artifacts / "cc-receipts.png"), full_page=True)


CC_ROLES = f"{GROUP} input[id$='pressflow-ccRoles']"


def test_the_owner_sets_a_steps_cc_roles_in_the_pressflow_panel_and_a_bad_one_is_flagged(browser, live_server):
    owner = sign_in(browser, live_server, "owner")
    owner.goto("/models/press_conference/edit")
    owner.wait_for_selector("#modeler[data-ready='1']")
    _select_in_diagram(owner, "leader_review")
    owner.wait_for_selector(CC_ROLES)
    assert "办理后抄送角色" in owner.inner_text(GROUP)
    owner.fill(CC_ROLES, "chief@office")
    owner.wait_for_selector(f"{GROUP} .bio-properties-panel-error")
    assert "chief@office" in owner.inner_text(f"{GROUP} .bio-properties-panel-error")
    owner.fill(CC_ROLES, "opinion_monitor@office  unit_spokesperson")
    owner.press(CC_ROLES, "Tab")
    owner.click("[data-action='validate']")
    expect(owner.locator("#modeler")).to_have_attribute("data-problems", "0", timeout=30_000)
    owner.click("[data-action='save-draft']")
    expect(owner.locator("#modeler-status")).to_contain_text("草稿已保存", timeout=30_000)
    draft = owner.request.get("/models/press_conference/draft").text()
    leader = draft[draft.index('id="leader_review"'):draft.index("</bpmn:userTask>", draft.index('id="leader_review"'))]
    assert '<spiffworkflow:property name="ccRoles" value="opinion_monitor@office unit_spokesperson" />' in leader
