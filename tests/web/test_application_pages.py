"""The application pages: 发起申请, 我的申请 and the application page (timeline, 撤回, 催办, comments, attachments)."""

from __future__ import annotations

import html
import io
import re

from engine.org.units import create_user, grant, unit_by_code
from tests.conftest import WebUser
from tests.integration import chain

YZ_TITLE = chain.application()["title"]
JB_TITLE = "2026年江北区文化旅游发展新闻发布会"


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _section(page: str, element_id: str) -> str:
    """The text of the card that holds the element with this id."""
    start = page.index(f'id="{element_id}"')
    return _text(page[start:page.index("</section>", start)])


def _row(page: str, title: str) -> str:
    """The text of the table row that mentions ``title``."""
    at = page.index(html.escape(title, quote=False))
    return _text(page[page.rindex("<tr", 0, at):page.index("</tr>", at)])


def _task_id(login, instance_id: int, bpmn_id: str) -> str:
    tasks = [t for t in login("supervisor").instance(instance_id)["tasks"] if t["bpmn_id"] == bpmn_id]
    assert tasks, f"instance {instance_id} is not at {bpmn_id}"
    return tasks[0]["id"]


def _page_of(instance_id: int) -> str:
    return f"/applications/{instance_id}"


def _upload(web_user, instance_id: int, kind: str, name: str, content: bytes, page: str | None = None):
    return web_user.post_form(f"/applications/{instance_id}/attachments",
                              {"kind": kind, "file": (io.BytesIO(content), name)},
                              page=page or _page_of(instance_id), content_type="multipart/form-data")


def _history(login, instance_id: int) -> list[dict]:
    return login("supervisor").get(f"/instances/{instance_id}/history").get_json()


# --- 发起申请 -------------------------------------------------------------------------------------


def test_clerk_starts_an_application_and_lands_on_its_first_step(web, login):
    clerk = web("yz_clerk")
    page = clerk.get("/applications/new")
    assert page.status_code == 200
    assert "新闻发布会审批（第十五条）" in page.text and "渝中区人民政府" in page.text

    response = clerk.post_form("/applications/new", {"process": "press_conference", "unit": "yuzhong"},
                               page="/applications/new")

    assert response.status_code == 302
    mine = login("yz_clerk").tasks()
    assert [t["bpmn_id"] for t in mine] == ["topic_application"]
    assert response.headers["Location"].endswith(f"/tasks/{mine[0]['id']}")
    assert login("yz_clerk").instance(mine[0]["instance_id"])["unit"] == "yuzhong"


def test_someone_without_the_applicant_role_is_told_why_and_cannot_start(web, login):
    leader = web("yz_leader")
    page = leader.get("/applications/new")
    assert page.status_code == 200
    assert "只有申报单位的经办人可以发起申请" in page.text
    assert 'name="process"' not in page.text

    response = leader.post_form("/applications/new", {"process": "press_conference"}, page="/applications/new")

    assert response.status_code == 403
    assert "须在申报单位具有“申报单位经办人”角色" in response.text
    assert login("supervisor").get("/instances").get_json()["total"] == 0


# --- 我的申请 -------------------------------------------------------------------------------------


def test_my_applications_show_status_current_step_holder_and_outcome_in_chinese(web, login):
    chain.start(login)  # not submitted yet
    draft_title = "（未填写标题）"
    running = chain.apply(login, title="2026年渝中区城市更新新闻发布会")
    returned = chain.apply(login, title="2026年渝中区消费季新闻发布会")
    leader = login("yz_leader")
    task = leader.task_at(returned, "leader_review")
    assert leader.post(f"/tasks/{task['id']}/return", json={"comment": "请补充发布口径"}).status_code == 200
    rejected = chain.apply(login, title="2026年渝中区夜间经济新闻发布会")
    leader.complete(rejected, "leader_review", {"decision": "reject", "comment": "时机不成熟"})
    chain.apply(login, "jiangbei", title=JB_TITLE)

    page = web("yz_clerk").get("/applications/mine")

    assert page.status_code == 200
    assert "待提交" in _row(page.text, draft_title)
    in_progress = _row(page.text, "2026年渝中区城市更新新闻发布会")
    assert "办理中" in in_progress and "主要负责人审核" in in_progress
    assert "主要负责人（渝中区人民政府，待认领）" in in_progress
    sent_back = _row(page.text, "2026年渝中区消费季新闻发布会")
    assert "已退回" in sent_back and "选题申报" in sent_back and "渝中区经办人 王敏" in sent_back
    ended = _row(page.text, "2026年渝中区夜间经济新闻发布会")
    assert "已办结" in ended and "不予同意" in ended
    assert f"/applications/{running}" in page.text
    assert JB_TITLE not in page.text


# --- isolation ------------------------------------------------------------------------------------


def test_a_jiangbei_user_never_reaches_a_yuzhong_application_its_attachments_or_actions(web, login):
    yz = chain.apply(login)
    chain.apply(login, "jiangbei", title=JB_TITLE)
    attachment_id = login("yz_clerk").get(f"/instances/{yz}/attachments").get_json()[0]["id"]
    outsider = web("jb_clerk")

    mine = outsider.get("/applications/mine").text
    assert JB_TITLE in mine and YZ_TITLE not in mine
    assert outsider.get(_page_of(yz)).status_code == 404
    assert outsider.get(f"/applications/{yz}/attachments/{attachment_id}").status_code == 404
    own = login("jb_clerk").get("/instances?unit=jiangbei").get_json()["items"][0]["id"]
    assert outsider.get(f"/applications/{own}/attachments/{attachment_id}").status_code == 404
    for action in ("comments", "withdraw", "urge"):
        assert outsider.post_form(f"/applications/{yz}/{action}", {"body": "看看", "comment": "x"}).status_code == 404
    assert _upload(outsider, yz, "other", "说明.txt", "说明".encode(), page="/applications/mine").status_code == 404
    assert YZ_TITLE not in web("jb_leader").get("/notifications").text
    assert YZ_TITLE in web("yz_leader").get("/notifications").text
    assert len(login("yz_clerk").get(f"/instances/{yz}/attachments").get_json()) == 2
    assert not login("yz_clerk").get(f"/instances/{yz}/comments").get_json()


# --- the application page -------------------------------------------------------------------------


def test_application_page_shows_header_current_step_and_a_timeline_in_chinese(web, login, app):
    instance_id = chain.apply(login)
    with app.app_context():
        from webapp.extensions import db

        second = create_user(db.session, "yz_leader2", "渝中区副职负责人 钱程", "pressflow-demo")
        grant(db.session, second, "unit_leader", unit_by_code(db.session, "yuzhong"))
        db.session.commit()
    task = login("yz_leader").task_at(instance_id, "leader_review")
    response = login("yz_leader").post(f"/tasks/{task['id']}/transfer", json={"to": "yz_leader2", "reason": "出差"})
    assert response.status_code == 200
    login("yz_leader2").complete(instance_id, "leader_review", {"decision": "approve", "comment": "同意发布"})

    page = web("yz_clerk").get(_page_of(instance_id))

    assert page.status_code == 200
    head = _section(page.text, "application-title")
    assert YZ_TITLE in head and "渝中区人民政府" in head and "办理中" in head and "渝中区经办人 王敏" in head
    assert "2026-03-02 09:00" in head  # started at 09:00 Beijing time
    steps = _section(page.text, "current-steps")
    assert "保密审查" in steps and "保密审查员（渝中区人民政府，待认领）" in steps
    timeline = _section(page.text, "timeline-title")
    for expected in ("发起", "上传附件", "提交 · 选题申报", "转办 · 主要负责人审核", "转办给 渝中区副职负责人 钱程",
                     "渝中区副职负责人 钱程 同意 · 主要负责人审核", "同意发布"):
        assert expected in timeline, expected
    assert timeline.index("发起") < timeline.index("提交 · 选题申报") < timeline.index("同意发布")
    assert "diagram-" in page.text  # the instance diagram is on the page


def test_attachments_keep_every_version_and_each_version_downloads(web, login):
    clerk = web("yz_clerk")
    clerk.post_form("/applications/new", {"process": "press_conference"}, page="/applications/new")
    instance_id = login("yz_clerk").tasks()[0]["instance_id"]
    first, second = chain.PDF + b"% v1\n", chain.PDF + b"% v2 revised\n"

    assert _upload(clerk, instance_id, "work_plan", "工作方案.pdf", first).status_code == 302
    assert _upload(clerk, instance_id, "work_plan", "工作方案（修订）.pdf", second).status_code == 302

    page = clerk.get(_page_of(instance_id)).text
    attachments = _section(page, "attachments-title")
    assert "工作方案" in attachments and "第 1 版" in attachments and "第 2 版 当前版本" in attachments
    assert "工作方案（修订）.pdf" in attachments and "工作方案.pdf" in attachments
    links = re.findall(rf'href="(/applications/{instance_id}/attachments/\d+)"', page)
    assert len(links) == 2
    downloads = [clerk.get(link) for link in links]
    assert [d.data for d in downloads] == [second, first]  # newest first
    assert all(d.headers["Content-Disposition"].startswith("attachment") for d in downloads)
    assert web("yz_leader").get(links[1]).data == first


def test_a_refused_upload_is_explained_on_the_page_and_nothing_is_stored(web, login, app):
    instance_id = chain.start(login)
    clerk = web("yz_clerk")

    wrong = _upload(clerk, instance_id, "release_text", "发布文稿.pdf", "这不是PDF".encode())
    assert wrong.status_code == 422
    assert "附件未能上传" in wrong.text and "文件内容与扩展名 .pdf 不符" in wrong.text
    assert YZ_TITLE not in wrong.text and "附件类型" in wrong.text  # the page itself, with its form

    app.config["MAX_CONTENT_LENGTH"] = 4096
    too_big = _upload(clerk, instance_id, "release_text", "发布文稿.pdf", chain.PDF + b"0" * 8192)
    assert too_big.status_code == 413
    assert "文件太大" in too_big.text and "办理记录" in too_big.text

    assert len(login("yz_clerk").get(f"/instances/{instance_id}/attachments").get_json()) == 2


def test_applicant_withdraws_before_the_leader_opens_the_task(web, login):
    instance_id = chain.apply(login)
    clerk = web("yz_clerk")
    assert f'action="/applications/{instance_id}/withdraw"' in clerk.get(_page_of(instance_id)).text

    response = clerk.post_form(f"/applications/{instance_id}/withdraw", {"comment": "发布日期需调整"},
                               page=_page_of(instance_id))

    reopened = login("yz_clerk").task_at(instance_id, "topic_application")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{reopened['id']}")
    assert not [t for t in login("yz_leader").tasks() if t["instance_id"] == instance_id]
    page = clerk.get(_page_of(instance_id)).text
    assert "已撤回" in _section(page, "application-title")
    assert "撤回 · 选题申报" in _section(page, "timeline-title") and "发布日期需调整" in page
    assert "/withdraw" not in page


def test_withdrawal_is_refused_once_the_leader_has_opened_the_task(web, login):
    instance_id = chain.apply(login)
    task_id = _task_id(login, instance_id, "leader_review")
    assert web("yz_leader").get(f"/tasks/{task_id}").status_code == 200  # the leader opens it
    clerk = web("yz_clerk")
    assert f"/applications/{instance_id}/withdraw" not in clerk.get(_page_of(instance_id)).text

    response = clerk.post_form(f"/applications/{instance_id}/withdraw", {}, page=_page_of(instance_id))

    assert response.status_code == 302
    followed = clerk.get(response.headers["Location"]).text
    assert "不能撤回" in followed and "下一环节已查看或认领" in followed
    assert login("yz_leader").task_at(instance_id, "leader_review")["id"] == task_id
    assert not [h for h in _history(login, instance_id) if h["action"] == "withdraw"]


def test_urging_notifies_the_holders_and_appears_in_the_timeline_once_an_hour(web, login, frozen_clock, app):
    instance_id = chain.apply(login)
    clerk = web("yz_clerk")

    first = clerk.post_form(f"/applications/{instance_id}/urge", {"comment": "请尽快审核"}, page=_page_of(instance_id))
    assert "已催办 1 个待办环节" in clerk.get(first.headers["Location"]).text

    notices = web("yz_leader").get("/notifications").text
    assert "催办" in notices and "请尽快审核" in notices
    assert "催办" not in web("yz_spokes").get("/notifications").text
    timeline = _section(clerk.get(_page_of(instance_id)).text, "timeline-title")
    assert "渝中区经办人 王敏 催办" in timeline and "催办：请尽快审核" in timeline

    again = clerk.post_form(f"/applications/{instance_id}/urge", {}, page=_page_of(instance_id))
    assert "一小时内已催办过" in clerk.get(again.headers["Location"]).text
    frozen_clock.advance(hours=2)
    clerk = WebUser(app, "yz_clerk")  # the old session has expired meanwhile
    later = clerk.post_form(f"/applications/{instance_id}/urge", {}, page=_page_of(instance_id))
    assert "已催办 1 个待办环节" in clerk.get(later.headers["Location"]).text

    secrecy = web("yz_secrecy")
    assert f"/applications/{instance_id}/urge" not in secrecy.get(_page_of(instance_id)).text
    refused = secrecy.post_form(f"/applications/{instance_id}/urge", {}, page=_page_of(instance_id))
    assert "只有申请人或督办人员可以催办" in secrecy.get(refused.headers["Location"]).text
    assert f"/applications/{instance_id}/urge" in web("supervisor").get(_page_of(instance_id)).text
    assert len([h for h in _history(login, instance_id) if h["action"] == "urge"]) == 2


def test_participants_discuss_an_application_in_its_comment_thread(web, login):
    instance_id = chain.apply(login)
    clerk, leader = web("yz_clerk"), web("yz_leader")

    posted = clerk.post_form(f"/applications/{instance_id}/comments", {"body": "发布会时间可否提前半小时？"},
                             page=_page_of(instance_id))
    assert posted.status_code == 302
    leader.post_form(f"/applications/{instance_id}/comments", {"body": "可以，请同步调整方案。"},
                     page=_page_of(instance_id))

    thread = _section(clerk.get(_page_of(instance_id)).text, "comments-title")
    assert thread.index("渝中区经办人 王敏 2026-03-02 09:00 发布会时间可否提前半小时？") < thread.index(
        "渝中区主要负责人 李强 2026-03-02 09:00 可以，请同步调整方案。")
    notices = clerk.get("/notifications").text
    assert "评论" in notices and "可以，请同步调整方案。" in notices

    empty = clerk.post_form(f"/applications/{instance_id}/comments", {"body": "   "}, page=_page_of(instance_id))
    assert empty.status_code == 422
    assert "评论须为 1–2000 个字符" in empty.text and 'aria-invalid="true"' in empty.text
    assert len(login("yz_clerk").get(f"/instances/{instance_id}/comments").get_json()) == 2
