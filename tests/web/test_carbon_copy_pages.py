"""抄送 in the web pages: copy from the task page, 抄送我 with 未阅/已阅, receipts for the sender, the preview."""

from __future__ import annotations

import html
import re

import pytest

from tests.integration import chain

TITLE = chain.application()["title"]


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _section(page: str, heading_id: str) -> str:
    start = page.index(f'id="{heading_id}"')
    return _text(page[start:page.index("</section>", start)])


def _task_id(login, instance_id: int, bpmn_id: str) -> str:
    return next(t["id"] for t in login("supervisor").instance(instance_id)["tasks"] if t["bpmn_id"] == bpmn_id)


@pytest.fixture
def at_office(login) -> int:
    instance_id = chain.apply(login)
    chain.through_unit(login, instance_id)
    return instance_id


def test_the_office_copies_the_monitor_who_reads_it_and_the_office_sees_the_receipt(web, login, at_office):
    task_id = _task_id(login, at_office, "office_topic_review")
    office, monitor = web("office_reviewer"), web("monitor")
    response = office.post_form(f"/tasks/{task_id}/cc", {"users": ["monitor"], "note": "请关注舆情"},
                                page=f"/tasks/{task_id}", follow_redirects=True)
    assert response.status_code == 200
    assert "已抄送给 舆情监测 谢婷" in _text(response.text)
    assert "未阅" in _section(response.text, "cc-heading")

    inbox = monitor.get("/tasks/cc").text
    assert TITLE in inbox and "未阅" in _text(inbox) and 'data-count="unread">1<' in inbox
    page = monitor.get(f"/applications/{at_office}").text
    assert "市政府新闻办 新闻发布处 林峰 将此申请抄送给您知悉" in _text(page)
    assert "请关注舆情" in _text(page)
    assert TITLE in monitor.get("/tasks/cc?state=read").text
    assert TITLE not in monitor.get("/tasks/cc?state=unread").text

    receipt = _section(office.get(f"/tasks/{task_id}").text, "cc-heading")
    assert "舆情监测 谢婷" in receipt and "已阅" in receipt and "未阅" not in receipt
    timeline = _section(office.get(f"/applications/{at_office}").text, "timeline-title")
    assert "抄送给 舆情监测 谢婷" in timeline and "请关注舆情" in timeline and "已阅抄送" in timeline


def test_a_district_leader_copied_reads_the_application_without_upload_and_nothing_else(web, login, at_office):
    task_id = _task_id(login, at_office, "office_topic_review")
    other = chain.apply(login)
    sent = {"roles": ["unit_leader@applying"], "users": ["jb_leader"]}
    web("office_reviewer").post_form(f"/tasks/{task_id}/cc", sent, page=f"/tasks/{task_id}")
    jb_leader = web("jb_leader")
    page = jb_leader.get(f"/applications/{at_office}")
    assert page.status_code == 200 and TITLE in page.text
    assert 'enctype="multipart/form-data"' not in page.text  # read only: no upload
    assert jb_leader.get(f"/applications/{other}").status_code == 404
    assert "您可以查看此任务，但不能办理" in _text(jb_leader.get(f"/tasks/{task_id}").text)


def test_a_copy_without_recipients_is_refused_on_the_task_page_with_a_message(web, login, at_office):
    task_id = _task_id(login, at_office, "office_topic_review")
    response = web("office_reviewer").post_form(f"/tasks/{task_id}/cc", {"note": "请阅"}, page=f"/tasks/{task_id}")
    assert response.status_code == 422
    section = _section(response.text, "cc-heading")
    assert "抄送未完成" in section and "请选择至少一位抄送人或一个角色" in section and "请阅" in section


def test_an_unknown_state_on_the_cc_tab_is_a_clear_400(web):
    response = web("monitor").get("/tasks/cc?state=everything")
    assert response.status_code == 400 and "状态须为 未阅 或 已阅" in _text(response.text)


def test_the_clerks_topic_application_page_previews_the_steps_ahead_with_their_holders(web, login):
    instance_id = chain.start(login)
    page = web("yz_clerk").get(f"/tasks/{_task_id(login, instance_id, 'topic_application')}").text
    preview = _section(page, "preview-heading")
    assert preview.index("主要负责人审核") < preview.index("保密审查") < preview.index("新闻办选题审核")
    assert "渝中区主要负责人 李强" in preview and "舆情监测 谢婷" in preview and "推定" in preview
    assert "此后流程结束" in preview
