"""In the browser: the clerk attaches the documents inside the 选题申报 form, keeps what he typed, previews, submits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import sign_in
from tests.e2e.test_reviewers_browser import APPLICATION, CHOICES, PDF


def test_clerk_uploads_inside_the_form_keeps_his_input_previews_and_submits(browser, live_server, artifacts,
                                                                             tmp_path: Path):
    clerk: Any = sign_in(browser, live_server, "yz_clerk")
    clerk.goto("/applications/new")
    clerk.click("form.process-form:has(input[value='press_conference']) button[type=submit]")
    clerk.wait_for_load_state("networkidle")
    assert "/tasks/" in clerk.url and "尚缺：工作方案、发布文稿" in clerk.inner_text("#attachments")

    clerk.fill("#f-title", APPLICATION["f-title"])
    for kind, name in (("work_plan", "工作方案.pdf"), ("release_text", "发布文稿.pdf")):
        (tmp_path / name).write_bytes(PDF)
        clerk.select_option("#attachment-kind", kind)
        clerk.set_input_files("#attachment-file", str(tmp_path / name))
        clerk.click("#attachment-upload button")
        clerk.wait_for_load_state("networkidle")
        assert f"已上传：{name}" in clerk.inner_text("#attachments")
    assert clerk.input_value("#f-title") == APPLICATION["f-title"]  # typed before the uploads, still there
    assert "必需附件已齐全" in clerk.inner_text("#attachments")
    assert clerk.locator("#attachments iframe.preview-pdf").count() == 2
    clerk.screenshot(path=str(artifacts / "task-attachments.png"), full_page=True)

    for field, value in APPLICATION.items():
        clerk.fill(f"#{field}", value)
    for field, value in CHOICES.items():
        clerk.select_option(f"#{field}", value)
    clerk.press("#f-start_time", "Enter")  # the form's own submit, not an upload
    clerk.wait_for_load_state("networkidle")
    assert clerk.url.endswith("/tasks") and "已办理：选题申报" in clerk.inner_text("main")
