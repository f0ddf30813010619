"""Regression tests, through the web pages, for the reviewer defects of issue 9 (1, 2, 3, 4, 7, 8 and 10)."""

from __future__ import annotations

import html
import re
from typing import Any

from sqlalchemy import select

from engine.models import AuditEntry, HumanTask, Notification, User
from engine.org.units import create_user, grant, unit_by_code
from tests.conftest import WebUser
from tests.integration import chain

AWAY = {"starts_on": "2026-03-02", "ends_on": "2026-03-06", "reason": "外出学习"}
CANNOT_ACT = "您可以查看此任务，但不能办理"


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _section(page: str, heading_id: str) -> str:
    start = page.index(f'id="{heading_id}"')
    return page[start:page.index("</section>", start)]


def _open_task(app: Any, instance_id: int, bpmn_id: str) -> HumanTask:
    from webapp.extensions import db

    with app.app_context():
        task = db.session.scalar(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.bpmn_id == bpmn_id, HumanTask.completed_at.is_(None)))
        assert task is not None, f"instance {instance_id} is not at {bpmn_id}"
        db.session.expunge(task)
        return task


def _notices(app: Any, username: str, instance_id: int) -> list[tuple[str, str]]:
    from webapp.extensions import db

    with app.app_context():
        return [(n.kind, n.message) for n in db.session.scalars(
            select(Notification).join(User).where(User.username == username, Notification.instance_id == instance_id)
            .order_by(Notification.id))]


def _trail(app: Any, instance_id: int) -> list[tuple[str, str, str | None]]:
    from webapp.extensions import db

    with app.app_context():
        return [(e.action, e.actor, e.comment) for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.instance_id == instance_id).order_by(AuditEntry.id))]


def _review(user: Any, task_id: str, decision: str, comment: str = "") -> Any:
    page = f"/tasks/{task_id}"
    return user.post_form(f"/tasks/{task_id}/complete", {"decision": decision, "comment": comment}, page=page)


def _return_options(page: str) -> list[str]:
    """The steps the 退回 panel offers, as their visible labels."""
    if 'id="return-target"' not in page:
        return []
    select_html = page[page.index('id="return-target"'):page.index("</select>", page.index('id="return-target"'))]
    return [_text(o).strip() for o in re.findall(r"<option[^>]*>(.*?)</option>", select_html, re.S)]


def _return_target(page: str, step: str) -> str:
    select_html = page[page.index('id="return-target"'):page.index("</select>", page.index('id="return-target"'))]
    for value, label in re.findall(r'<option value="([^"]+)"[^>]*>(.*?)</option>', select_html, re.S):
        if step in label:
            return value
    raise AssertionError(f"the 退回 panel does not offer {step}")


def _delegate(web: Any, principal: str, delegate: str) -> None:
    response = web(principal).post_form("/delegations", {"delegate": delegate, **AWAY}, page="/delegations")
    assert response.status_code == 302, response.text


# --- 1. the attachment message ----------------------------------------------------------------------------------


def test_submitting_the_topic_application_without_attachments_says_so_next_to_them_with_a_link_to_upload(
    app, web, login,
):
    instance_id = login("yz_clerk").post("/instances", json={"process": "press_conference"}).get_json()["id"]
    task = _open_task(app, instance_id, "topic_application")
    clerk = web("yz_clerk")

    response = clerk.post_form(f"/tasks/{task.id}/complete", chain.application(), page=f"/tasks/{task.id}")

    assert response.status_code == 422
    files = _section(response.text, "files-heading")
    assert "申报前须上传工作方案、发布文稿" in _text(files)
    assert f'href="/applications/{instance_id}#attachments"' in files
    assert 'href="#attachment-errors"' in _section(response.text, "complete-heading")


# --- 2. 委托: the delegate can act on what they claimed or got back ---------------------------------------------


def test_a_delegate_who_claims_the_principals_task_can_complete_it_and_it_stays_in_both_inboxes(app, web, login):
    instance_id = chain.apply(login)
    _delegate(web, "yz_leader", "yz_spokes")
    task = _open_task(app, instance_id, "leader_review")
    spokes, leader = web("yz_spokes"), web("yz_leader")

    assert spokes.post_form(f"/tasks/{task.id}/claim", page=f"/tasks/{task.id}").status_code == 302

    page = spokes.get(f"/tasks/{task.id}").text
    assert CANNOT_ACT not in page
    assert 'id="complete-heading"' in page
    assert f'data-task="{task.id}"' in spokes.get("/tasks").text
    assert f'data-task="{task.id}"' in leader.get("/tasks").text
    assert _review(spokes, task.id, "approve", "同意").status_code == 302
    assert _open_task(app, instance_id, "secrecy_review").bpmn_id == "secrecy_review"
    assert ("complete", "yz_spokes", "同意") in _trail(app, instance_id)


def test_a_step_the_delegate_completed_comes_back_on_return_to_someone_who_can_act_on_it(
    app, web, login, frozen_clock,
):
    instance_id = chain.apply(login)
    _delegate(web, "yz_leader", "yz_spokes")
    spokes, leader, secrecy = web("yz_spokes"), web("yz_leader"), web("yz_secrecy")
    leader_task = _open_task(app, instance_id, "leader_review")
    assert _review(spokes, leader_task.id, "approve", "同意").status_code == 302
    secrecy_task = _open_task(app, instance_id, "secrecy_review")
    page = secrecy.get(f"/tasks/{secrecy_task.id}").text
    target = _return_target(page, "主要负责人审核")

    response = secrecy.post_form(f"/tasks/{secrecy_task.id}/return", {"target": target, "comment": "请领导再看"},
                                 page=f"/tasks/{secrecy_task.id}")

    assert response.status_code == 302
    reopened = _open_task(app, instance_id, "leader_review")
    assert reopened.assignee == "yz_leader"  # the step was done for the leader
    for user in (spokes, leader):
        assert f'data-task="{reopened.id}"' in user.get("/tasks").text
        assert CANNOT_ACT not in user.get(f"/tasks/{reopened.id}").text
    frozen_clock.advance(days=7)  # Monday 9 March: the delegation has ended and the leader still has it
    assert CANNOT_ACT not in WebUser(app, "yz_leader").get(f"/tasks/{reopened.id}").text


def test_the_supervisor_dashboard_counts_tasks_nobody_can_act_on_until_they_are_reassigned(app, web, login):
    from webapp.extensions import db

    instance_id = chain.apply(login)
    with app.app_context():
        deputy = create_user(db.session, "yz_leader2", "渝中区副职负责人 钱程", "pressflow-demo")
        grant(db.session, deputy, "unit_leader", unit_by_code(db.session, "yuzhong"))
        db.session.commit()
    task = _open_task(app, instance_id, "leader_review")
    assert web("yz_leader").post_form(f"/tasks/{task.id}/claim", page=f"/tasks/{task.id}").status_code == 302
    supervisor = web("supervisor")
    assert 'data-total="stranded">0<' in supervisor.get("/supervise/").text

    with app.app_context():
        db.session.scalar(select(User).where(User.username == "yz_leader")).active = False
        db.session.commit()
    board = supervisor.get("/supervise/").text
    assert 'data-total="stranded">1<' in board
    listed = _section(board, "stranded-heading")
    assert f'data-task="{task.id}"' in listed and "yz_leader" in listed and "主要负责人审核" in listed

    page = f"/supervise/instances/{instance_id}"
    response = supervisor.post_form(f"{page}/tasks/{task.id}/reassign", {"to": "yz_leader2", "reason": "原办理人离岗"},
                                    page=page)
    assert response.status_code == 302
    assert 'data-total="stranded">0<' in supervisor.get("/supervise/").text


# --- 3. one 退回 ----------------------------------------------------------------------------------------------------


def test_the_return_decision_behaves_like_the_return_panel_reason_banner_notice_and_trail(app, web, login):
    instance_id = chain.apply(login)
    task = _open_task(app, instance_id, "leader_review")

    assert _review(web("yz_leader"), task.id, "return", "请补充安全保障方案").status_code == 302

    reopened = _open_task(app, instance_id, "topic_application")
    assert (reopened.returned_by, reopened.returned_comment) == ("yz_leader", "请补充安全保障方案")
    page = web("yz_clerk").get(f"/tasks/{reopened.id}").text
    assert "此申请被 渝中区主要负责人 李强 退回" in _text(page) and "退回理由：请补充安全保障方案" in _text(page)
    assert 'id="return-heading"' not in page  # the applicant's own step has nothing earlier to return to
    kinds = [kind for kind, _ in _notices(app, "yz_clerk", instance_id)]
    assert kinds == ["returned"]  # starting it was his own action: no 新待办 for the first 选题申报
    # The trail keeps the reason and the step as facts; the timeline puts them into words.
    assert ("return", "yz_leader", "请补充安全保障方案") in _trail(app, instance_id)
    assert "退回至「选题申报」：请补充安全保障方案" in _text(web("yz_clerk").get(f"/applications/{instance_id}").text)
    with app.app_context():
        from webapp.extensions import db

        returned = db.session.get(HumanTask, task.id)
        assert (returned.closed_reason, returned.decision, returned.completed_by) == ("returned", "return",
                                                                                      "yz_leader")


def test_the_return_decision_without_a_reason_is_refused_like_the_panel(app, web, login):
    instance_id = chain.apply(login)
    task = _open_task(app, instance_id, "leader_review")

    response = _review(web("yz_leader"), task.id, "return")

    assert response.status_code == 422
    assert _open_task(app, instance_id, "leader_review").id == task.id


def test_the_return_list_offers_each_earlier_step_once_after_the_application_went_round_twice(app, web, login):
    instance_id = chain.apply(login)
    leader = web("yz_leader")
    assert _review(leader, _open_task(app, instance_id, "leader_review").id, "return", "补充").status_code == 302
    login("yz_clerk").complete(instance_id, "topic_application", chain.application())
    chain.through_unit(login, instance_id)
    chain.office_accepts(login, instance_id)
    task = _open_task(app, instance_id, "content_approval_district")

    options = _return_options(leader.get(f"/tasks/{task.id}").text)

    assert [o.split("（")[0] for o in options] == ["选题申报", "主要负责人审核", "保密审查", "新闻办选题审核"]


def test_a_task_with_no_earlier_step_shows_no_return_panel(app, web, login):
    instance_id = login("yz_clerk").post("/instances", json={"process": "press_conference"}).get_json()["id"]
    task = _open_task(app, instance_id, "topic_application")

    page = web("yz_clerk").get(f"/tasks/{task.id}").text

    assert 'id="complete-heading"' in page and 'id="return-heading"' not in page


# --- 4. 撤回 is 撤回 -------------------------------------------------------------------------------------------------


def test_a_withdrawal_is_shown_as_withdrawn_and_the_applicant_is_not_notified_of_his_own_action(app, web, login):
    instance_id = chain.apply(login)
    clerk = web("yz_clerk")
    before = len(_notices(app, "yz_clerk", instance_id))
    page = f"/applications/{instance_id}"

    assert clerk.post_form(f"{page}/withdraw", {"comment": "补充材料"}, page=page).status_code == 302

    reopened = _open_task(app, instance_id, "topic_application")
    task_page = _text(clerk.get(f"/tasks/{reopened.id}").text)
    assert "此申请已由 渝中区经办人 王敏 撤回" in task_page
    assert "被退回" not in task_page and "退回理由" not in task_page
    inbox = clerk.get("/tasks").text
    row = inbox[inbox.index(f'data-task="{reopened.id}"'):]
    row = row[:row.index("</tr>")]
    assert "已撤回" in row and "被退回" not in row
    assert "已撤回" in _text(clerk.get(page).text)
    assert len(_notices(app, "yz_clerk", instance_id)) == before


# --- 7. no 催办 of oneself ------------------------------------------------------------------------------------------


def test_urging_ones_own_unsubmitted_draft_is_refused_with_a_clear_message(app, web, login):
    instance_id = login("yz_clerk").post("/instances", json={"process": "press_conference"}).get_json()["id"]
    clerk = web("yz_clerk")
    page = f"/applications/{instance_id}"

    response = clerk.post_form(f"{page}/urge", {"comment": "快点"}, page=page, follow_redirects=True)

    assert "不能催办：当前待办环节由您本人办理（如尚未提交的申请），不能催办自己" in _text(response.text)
    assert [a for a, _, _ in _trail(app, instance_id) if a == "urge"] == []
    assert [k for k, _ in _notices(app, "yz_clerk", instance_id) if k == "urge"] == []
    assert f'action="{page}/urge"' not in clerk.get(page).text  # and it is not offered


# --- 8. 发布人/主持人 choices ----------------------------------------------------------------------------------------


def test_host_and_speaker_selection_offers_only_the_roles_the_decision_table_allows(app, web, login):
    instance_id = chain.apply(login)
    chain.through_unit(login, instance_id)
    chain.office_accepts(login, instance_id)
    chain.content_approved(login, instance_id)
    task = _open_task(app, instance_id, "host_speaker_selection")

    page = web("office_reviewer").get(f"/tasks/{task.id}").text

    def options(name: str) -> list[str]:
        start = page.index(f'name="{name}"')
        return [v for v in re.findall(r'<option value="([^"]*)"', page[start:page.index("</select>", start)]) if v]

    assert options("speaker_role") == ["mayor", "vice_mayor", "secretary_general", "deputy_secretary_general"]
    assert options("host_role") == ["municipal_spokesperson"]


# --- 10. the landing page ----------------------------------------------------------------------------------------


def test_the_anonymous_landing_page_shows_no_counts_or_deployment_details(app, login):
    chain.apply(login)

    page = app.test_client().get("/")

    assert page.status_code == 200
    text = _text(page.text)
    assert "已部署流程" not in text and "申请状态" not in text and "press_conference" not in text
    assert "办理中" not in text and 'class="count"' not in page.text
    assert 'href="/login"' in page.text
