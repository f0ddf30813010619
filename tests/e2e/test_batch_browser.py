"""批量审批 in the browser, with a task taken by a colleague meanwhile; the inbox as cards on a phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from engine.org.units import create_user, grant, unit_by_code
from tests.conftest import DEMO_PASSWORD
from tests.e2e.conftest import sign_in
from tests.integration import chain

TITLES = ("2026年渝中区甲项新闻发布会", "2026年渝中区乙项新闻发布会", "2026年渝中区丙项新闻发布会")


class Api:
    """One user on the live server's JSON API, through Playwright's request context."""

    def __init__(self, browser: Any, base_url: str, username: str) -> None:
        self.request = browser.new_context(base_url=base_url).request
        token = self.request.post("/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD})
        assert token.ok, token.text()
        self.headers = {"Authorization": f"Bearer {token.json()['token']}"}

    def post(self, path: str, **kwargs: Any) -> Any:
        response = self.request.post(f"/api/v1{path}", headers=self.headers, **kwargs)
        assert response.ok, response.text()
        return response.json()

    def get(self, path: str) -> Any:
        response = self.request.get(f"/api/v1{path}", headers=self.headers)
        assert response.ok, response.text()
        return response.json()


def _apply(clerk: Api, title: str) -> int:
    instance_id = clerk.post("/instances", data={"process": "press_conference"})["id"]
    for kind, name in (("work_plan", "工作方案.pdf"), ("release_text", "发布文稿.pdf")):
        clerk.post(f"/instances/{instance_id}/attachments", multipart={
            "kind": kind, "file": {"name": name, "mimeType": "application/pdf", "buffer": chain.PDF}})
    task = next(t for t in clerk.get("/tasks") if t["instance_id"] == instance_id)
    clerk.post(f"/tasks/{task['id']}/complete", data={"data": chain.application(title=title)})
    return instance_id


def _second_leader(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'e2e.db'}")
    with Session(engine) as session:
        user = create_user(session, "yz_leader2", "渝中区副职负责人 钱程", DEMO_PASSWORD)
        grant(session, user, "unit_leader", unit_by_code(session, "yuzhong"))
        session.commit()
    engine.dispose()


def test_a_batch_approval_completes_the_others_and_names_the_task_a_colleague_claimed_meanwhile(
    browser, live_server, artifacts, tmp_path
):
    _second_leader(tmp_path)
    clerk = Api(browser, live_server, "yz_clerk")
    ids = [_apply(clerk, title) for title in TITLES]
    leader = sign_in(browser, live_server, "yz_leader")
    leader.goto("/tasks")
    assert "主要负责人审核" in leader.inner_text(".batch-steps")
    for title in TITLES:
        leader.locator("table.tasks tr", has_text=title).locator("input[type=checkbox]").check()
    leader.click("#batch-form button[type=submit]")
    leader.wait_for_load_state("networkidle")
    assert leader.locator(".batch-ready li").count() == 3

    # A colleague claims 乙 while the leader writes the 审批意见.
    colleague = Api(browser, live_server, "yz_leader2")
    taken = next(t for t in colleague.get("/tasks") if t["instance_title"] == TITLES[1])
    colleague.post(f"/tasks/{taken['id']}/claim")
    leader.select_option("#batch-comment-phrases", "同意。")
    assert leader.input_value("#batch-comment") == "同意。"
    leader.click(".decisions button:has-text('同意')")
    leader.wait_for_load_state("networkidle")
    leader.screenshot(path=str(artifacts / "batch-result.png"), full_page=True)

    summary = leader.inner_text(".batch-result")
    assert "已办理 2 件，未办理 1 件。" in summary
    assert TITLES[0] in leader.inner_text(".batch-completed") and TITLES[2] in leader.inner_text(".batch-completed")
    refused = leader.inner_text(".batch-refused")
    assert TITLES[1] in refused and "已由 yz_leader2 认领" in refused
    supervisor = Api(browser, live_server, "supervisor")
    steps = [[t["bpmn_id"] for t in supervisor.get(f"/instances/{i}")["tasks"]] for i in ids]
    assert steps == [["secrecy_review"], ["leader_review"], ["secrecy_review"]]


def test_on_a_phone_the_inbox_shows_cards_and_the_diagram_has_zoom_buttons(browser, live_server, artifacts):
    clerk = Api(browser, live_server, "yz_clerk")
    _apply(clerk, TITLES[0])
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 390, "height": 844},
                                  has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto("/login")
    page.fill("#username", "yz_leader")
    page.fill("#password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.goto("/tasks")
    row = page.locator("table.inbox-list tbody tr").first
    assert row.evaluate("el => getComputedStyle(el).display") == "block"
    assert page.locator("table.inbox-list thead").first.is_hidden()
    box = row.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    label = row.locator("td[data-label]").nth(1).evaluate("el => getComputedStyle(el, '::before').content")
    assert "环节" in label
    page.screenshot(path=str(artifacts / "inbox-phone.png"), full_page=True)

    row.locator("td.cell-title a").click()
    page.wait_for_selector(".bpmn-diagram[data-ready]")
    decisions = page.locator(".task-form .decisions")
    assert decisions.evaluate("el => getComputedStyle(el).flexDirection") == "column"
    zoom = page.evaluate("() => document.querySelector('.bpmn-diagram svg .viewport').getAttribute('transform')")
    page.click("[data-diagram-zoom=in]")
    assert page.evaluate("() => document.querySelector('.bpmn-diagram svg .viewport').getAttribute('transform')") \
        != zoom
