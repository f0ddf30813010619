"""A whole application as reviewers do it in the browser: apply, upload, be sent back, resubmit, move on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import sign_in

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
APPLICATION = {
    "f-title": "2026年渝中区优化营商环境新闻发布会",
    "f-conference_date": "2026-03-20",
    "f-start_time": "10:00",
    "f-summary": "介绍渝中区优化营商环境的主要举措和成效。",
}
CHOICES = {"f-name_holder": "municipal_government", "f-kind": "press_conference", "f-venue": "press_center",
           "f-live_stream": "video"}


def _open_first_task(page: Any, step_name: str) -> None:
    page.goto("/tasks")
    page.locator("table.tasks tr", has_text=step_name).first.locator("td a").first.click()
    page.wait_for_load_state("networkidle")


def _upload(page: Any, tmp_path: Path, kind: str, filename: str) -> None:
    path = tmp_path / filename
    path.write_bytes(PDF)
    page.select_option("#upload-kind", kind)
    page.set_input_files("#upload-file", str(path))
    page.click("form[enctype='multipart/form-data'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert filename in page.inner_text("main")


def _decide(page: Any, decision_label: str, comment: str = "") -> None:
    if comment:
        page.fill("#f-comment", comment)
    page.click(f".decisions button:has-text('{decision_label}')")
    page.wait_for_load_state("networkidle")


def test_application_goes_back_to_the_clerk_with_the_leaders_comment_and_on_to_host_selection(
    browser, live_server, artifacts, tmp_path
):
    clerk = sign_in(browser, live_server, "yz_clerk")
    clerk.goto("/applications/new")
    clerk.click("form.process-form:has(input[value='press_conference']) button[type=submit]")
    clerk.wait_for_load_state("networkidle")
    task_url = clerk.url
    assert "/tasks/" in task_url

    # The work plan and the release text are uploaded on the application page.
    clerk.get_by_role("link", name="查看申请详情").click()
    clerk.wait_for_load_state("networkidle")
    application_url = clerk.url
    _upload(clerk, tmp_path, "work_plan", "工作方案.pdf")
    _upload(clerk, tmp_path, "release_text", "发布文稿.pdf")

    clerk.goto(task_url)
    for field, value in APPLICATION.items():
        clerk.fill(f"#{field}", value)
    for field, value in CHOICES.items():
        clerk.select_option(f"#{field}", value)
    clerk.click("form.task-form button[type=submit]")
    clerk.wait_for_load_state("networkidle")
    assert "/tasks/" not in clerk.url or "已提交" in clerk.inner_text("main") or "办理" in clerk.inner_text("main")

    leader = sign_in(browser, live_server, "yz_leader")
    leader.goto("/tasks")
    assert APPLICATION["f-title"] in leader.inner_text("main")
    leader.screenshot(path=str(artifacts / "inbox.png"), full_page=True)
    _open_first_task(leader, "主要负责人审核")
    leader.screenshot(path=str(artifacts / "task-page.png"), full_page=True)
    _decide(leader, "退回", "请补充发布会的具体议程安排")

    # The clerk finds the application back in the inbox, with the leader's comment and the earlier values.
    _open_first_task(clerk, "选题申报")
    assert "请补充发布会的具体议程安排" in clerk.inner_text("main")
    assert clerk.input_value("#f-title") == APPLICATION["f-title"]
    clerk.fill("#f-summary", APPLICATION["f-summary"] + "议程：发布、答问。")
    clerk.click("form.task-form button[type=submit]")
    clerk.wait_for_load_state("networkidle")

    _open_first_task(leader, "主要负责人审核")
    _decide(leader, "同意")
    secrecy = sign_in(browser, live_server, "yz_secrecy")
    _open_first_task(secrecy, "保密审查")
    _decide(secrecy, "通过")
    office = sign_in(browser, live_server, "office_reviewer")
    _open_first_task(office, "新闻办选题审核")
    _decide(office, "受理", "同意选题")
    _open_first_task(leader, "内容审定")
    _decide(leader, "同意")

    office.goto("/tasks")
    assert "发布人、主持人选定" in office.inner_text("main")
    clerk.goto(application_url)
    clerk.wait_for_load_state("networkidle")
    timeline = clerk.inner_text("main")
    assert "请补充发布会的具体议程安排" in timeline
    assert "发布人、主持人选定" in timeline
    clerk.screenshot(path=str(artifacts / "application-page.png"), full_page=True)
