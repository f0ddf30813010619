"""批量审批, 常用语 and the discussion thread on the task page, through the web pages."""

from __future__ import annotations

import html
import re

from engine.org.units import create_user, grant, unit_by_code
from tests.integration import chain

TITLES = ("2026年渝中区甲项新闻发布会", "2026年渝中区乙项新闻发布会", "2026年渝中区丙项新闻发布会")
JB_TITLE = "2026年江北区文化旅游发展新闻发布会"


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _section(page: str, css_class: str) -> str:
    start = page.index(f'class="{css_class}"')
    return page[start:page.index("</ul>", start)]


def _second_leader(app) -> None:
    from webapp.extensions import db

    with app.app_context():
        user = create_user(db.session, "yz_leader2", "渝中区副职负责人 钱程", "pressflow-demo")
        grant(db.session, user, "unit_leader", unit_by_code(db.session, "yuzhong"))
        db.session.commit()


def _leader_tasks(login, ids: list[int]) -> list[str]:
    return [login("yz_leader").task_at(i, "leader_review")["id"] for i in ids]


def _open_steps(login, instance_id: int) -> list[str]:
    return [t["bpmn_id"] for t in login("supervisor").instance(instance_id)["tasks"]]


def test_a_batch_completes_the_tasks_it_may_and_names_each_refused_one_with_its_reason(app, web, login):
    _second_leader(app)
    ids = [chain.apply(login, title=title) for title in TITLES]
    jb_id = chain.apply(login, "jiangbei", title=JB_TITLE)
    tasks = _leader_tasks(login, ids)
    jb_task = login("jb_leader").task_at(jb_id, "leader_review")["id"]
    leader = web("yz_leader")
    query = "&".join(f"task={t}" for t in [*tasks, jb_task])
    plan = leader.get(f"/tasks/batch?{query}")
    assert plan.status_code == 200 and len(re.findall(r"<li data-task=", _section(plan.text, "batch-ready"))) == 3
    assert f"任务 {jb_task}" in _text(_section(plan.text, "batch-refused")) and JB_TITLE not in plan.text

    # Meanwhile a colleague claims the second one.
    assert login("yz_leader2").post(f"/tasks/{tasks[1]}/claim").status_code == 200
    result = leader.post_form("/tasks/batch", {"task": [*tasks, jb_task], "step": "leader_review",
                                               "decision": "approve", "comment": "同意报送。"},
                              page=f"/tasks/batch?{query}")
    assert result.status_code == 200
    done, refused = _text(_section(result.text, "batch-completed")), _text(_section(result.text, "batch-refused"))
    assert TITLES[0] in done and TITLES[2] in done and TITLES[1] not in done
    assert f"《{TITLES[1]}》主要负责人审核：此任务已由 yz_leader2 认领" in refused
    assert f"任务 {jb_task}：申请不存在或无权查看" in refused
    assert "已办理 2 件，未办理 2 件。" in _text(result.text)
    assert [_open_steps(login, i) for i in ids] == [["secrecy_review"], ["leader_review"], ["secrecy_review"]]
    history = login("supervisor").get(f"/instances/{ids[0]}/history").get_json()
    assert [(h["actor"], h["comment"]) for h in history if h["action"] == "complete"][-1] == ("yz_leader", "同意报送。")

    again = leader.post_form("/tasks/batch", {"task": tasks[0], "step": "leader_review", "decision": "approve",
                                              "comment": ""}, page="/tasks")
    assert "该任务已办理，不能重复提交" in _text(again.text)


def test_a_batch_refuses_tasks_of_another_step(web, login):
    ids = [chain.apply(login, title=title) for title in TITLES[:2]]
    chain.through_unit(login, ids[1])
    chain.apply(login, title=TITLES[2])
    office = login("office_reviewer").task_at(ids[1], "office_topic_review")["id"]
    leader_task = login("yz_leader").task_at(ids[0], "leader_review")["id"]
    reviewer = web("office_reviewer")
    result = reviewer.post_form("/tasks/batch", {"task": [office, leader_task], "step": "office_topic_review",
                                                 "decision": "accept", "comment": ""}, page="/tasks")
    assert result.status_code == 200
    assert "不属于所选环节" in _text(_section(result.text, "batch-refused"))
    assert _open_steps(login, ids[0]) == ["leader_review"]


def test_a_negative_batch_decision_without_a_comment_changes_nothing_and_says_why(web, login):
    tasks = _leader_tasks(login, [chain.apply(login, title=title) for title in TITLES[:2]])
    leader = web("yz_leader")
    response = leader.post_form("/tasks/batch", {"task": tasks, "step": "leader_review", "decision": "reject",
                                                 "comment": "  "}, page="/tasks")
    assert response.status_code == 422
    assert "退回或不同意时须填写审批意见" in _text(response.text)
    assert len(login("yz_leader").tasks()) == 2
    assert leader.post_form("/tasks/batch", {"step": "leader_review", "decision": "approve"},
                            page="/tasks").status_code == 400
    assert leader.get("/tasks/batch?task=not-a-task!").status_code == 400


def test_the_inbox_offers_batch_approval_only_for_review_steps_and_names_them(web, login):
    instance_id = chain.apply(login)
    page = web("yz_leader").get("/tasks").text
    assert "本页可批量审批的环节： 主要负责人审核" in _text(page)
    assert 'form="batch-form"' in page
    clerk = web("yz_clerk")
    login("yz_leader").complete(instance_id, "leader_review", {"decision": "return", "comment": "请补充材料"})
    clerk_page = clerk.get("/tasks").text
    assert 'form="batch-form"' not in clerk_page and "本页没有可批量审批的任务。" in _text(clerk_page)


def test_a_reviewer_saves_lists_and_deletes_phrases_and_picks_them_on_the_task_and_batch_forms(web, login):
    task_id = _leader_tasks(login, [chain.apply(login)])[0]
    leader = web("yz_leader")
    listed = leader.get("/tasks/phrases").text
    assert "同意。" in listed and "请修改后重新报送。" in listed
    saved = leader.post_form("/tasks/phrases", {"text": "  原则同意，请按程序报送。 "}, page="/tasks/phrases")
    assert saved.status_code == 302
    duplicate = leader.post_form("/tasks/phrases", {"text": "原则同意，请按程序报送。"}, page="/tasks/phrases")
    assert duplicate.status_code == 409 and "这条常用语已经在列表中" in _text(duplicate.text)
    assert leader.post_form("/tasks/phrases", {"text": ""}, page="/tasks/phrases").status_code == 422

    task_page = leader.get(f"/tasks/{task_id}").text
    assert 'data-phrase-target="f-comment"' in task_page and "原则同意，请按程序报送。" in task_page
    assert "js/phrases.js" in task_page
    batch_page = leader.get(f"/tasks/batch?task={task_id}").text
    assert 'data-phrase-target="batch-comment"' in batch_page and "原则同意，请按程序报送。" in batch_page
    assert "原则同意，请按程序报送。" not in web("yz_spokes").get("/tasks/phrases").text

    phrase_id = re.search(r'data-phrase="(\d+)"', leader.get("/tasks/phrases").text).group(1)
    other = web("yz_spokes").post_form(f"/tasks/phrases/{phrase_id}/delete", page="/tasks/phrases")
    assert other.status_code == 404
    deleted = leader.post_form(f"/tasks/phrases/{phrase_id}/delete", page="/tasks/phrases")
    assert deleted.status_code == 302 and "原则同意，请按程序报送。" not in leader.get("/tasks/phrases").text


def test_the_discussion_is_shown_and_posted_from_the_task_page_and_shared_with_the_application_page(web, login):
    instance_id = chain.apply(login)
    task_id = _leader_tasks(login, [instance_id])[0]
    leader = web("yz_leader")
    posted = leader.post_form(f"/tasks/{task_id}/comments", {"body": "发布时间能否提前半小时？"},
                              page=f"/tasks/{task_id}")
    assert posted.status_code == 302 and posted.headers["Location"].endswith("#discussion")
    assert "发布时间能否提前半小时？" in _text(leader.get(f"/tasks/{task_id}").text)
    assert "发布时间能否提前半小时？" in _text(web("yz_clerk").get(f"/applications/{instance_id}").text)
    empty = leader.post_form(f"/tasks/{task_id}/comments", {"body": " "}, page=f"/tasks/{task_id}")
    assert empty.status_code == 422 and "评论须为 1–2000 个字符" in _text(empty.text)
    assert web("jb_leader").post_form(f"/tasks/{task_id}/comments", {"body": "看看"}, page="/tasks").status_code == 404


def test_the_api_batch_names_refused_tasks_and_phrases_are_saved_listed_and_deleted(app, login):
    _second_leader(app)
    tasks = _leader_tasks(login, [chain.apply(login, title=title) for title in TITLES[:2]])
    assert login("yz_leader2").post(f"/tasks/{tasks[1]}/claim").status_code == 200
    leader = login("yz_leader")
    response = leader.post("/tasks/batch", json={"tasks": tasks, "step": "leader_review", "decision": "approve",
                                                 "comment": "同意。"})
    assert response.status_code == 200
    body = response.get_json()
    assert [i["task"] for i in body["completed"]] == [tasks[0]]
    assert body["refused"] == [{"task": tasks[1], "name": f"《{TITLES[1]}》主要负责人审核",
                                "reason": "此任务已由 yz_leader2 认领"}]
    bad = leader.post("/tasks/batch", json={"tasks": [], "step": "leader_review", "decision": "approve"})
    assert bad.status_code == 422 and "error" in bad.get_json()

    saved = leader.post("/phrases", json={"text": "请按程序报送。"})
    assert saved.status_code == 201 and saved.get_json()["system"] is False
    assert leader.post("/phrases", json={"text": "请按程序报送。"}).status_code == 409
    assert leader.post("/phrases", json={"text": "同意。"}).status_code == 409
    listed = leader.get("/phrases").get_json()
    assert listed[0] == {"id": None, "text": "同意。", "system": True} and listed[-1]["text"] == "请按程序报送。"
    assert login("yz_spokes").client.delete(f"/api/v1/phrases/{saved.get_json()['id']}",
                                            headers=login("yz_spokes").headers).status_code == 404
    assert leader.client.delete(f"/api/v1/phrases/{saved.get_json()['id']}", headers=leader.headers).status_code == 204
    assert leader.post("/phrases", json={"text": "x" * 201}).status_code == 422
