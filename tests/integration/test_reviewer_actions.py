"""退回 to any earlier step, 撤回, 转办, 催办, 委托 and comments through the API, each traced in the history."""

from __future__ import annotations

import datetime as dt

from engine.org.units import create_user, grant, unit_by_code
from tests.integration import chain


def _history(login, instance_id: int) -> list[dict]:
    return login("supervisor").get(f"/instances/{instance_id}/history").get_json()


def _second_leader(app) -> None:
    from webapp.extensions import db

    with app.app_context():
        user = create_user(db.session, "yz_leader2", "渝中区副职负责人 钱程", "pressflow-demo")
        grant(db.session, user, "unit_leader", unit_by_code(db.session, "yuzhong"))
        db.session.commit()


def test_office_reviewer_returns_to_the_leader_who_gets_previous_values_and_the_reason(login):
    instance_id = chain.apply(login)
    chain.through_unit(login, instance_id)
    office = login("office_reviewer")
    task = office.task_at(instance_id, "office_topic_review")

    targets = office.get(f"/tasks/{task['id']}/return-targets").get_json()
    assert [t["bpmn_id"] for t in targets] == ["topic_application", "leader_review", "secrecy_review"]
    leader_step = next(t for t in targets if t["bpmn_id"] == "leader_review")
    body = {"comment": "请补充发布口径", "target": leader_step["id"]}
    response = office.post(f"/tasks/{task['id']}/return", json=body)
    assert response.status_code == 200, response.get_json()

    reopened = login("yz_leader").task_at(instance_id, "leader_review")
    assert reopened["returned_by"] == "office_reviewer"
    assert reopened["returned_comment"] == "请补充发布口径"
    assert reopened["assignee"] == "yz_leader"
    detail = login("yz_leader").get(f"/tasks/{reopened['id']}").get_json()
    assert detail["data"]["decision"] == "approve"
    assert [t["bpmn_id"] for t in login("supervisor").instance(instance_id)["tasks"]] == ["leader_review"]
    returns = [h for h in _history(login, instance_id) if h["action"] == "return"]
    assert returns[0]["actor"] == "office_reviewer"
    assert "退回至「主要负责人审核」" in returns[0]["comment"]

    chain.through_unit(login, instance_id)
    chain.office_accepts(login, instance_id)
    assert login("supervisor").instance(instance_id)["tasks"][0]["bpmn_id"] == "content_approval_district"


def test_return_without_a_reason_or_to_a_foreign_step_is_refused_and_changes_nothing(login):
    instance_id = chain.apply(login)
    leader = login("yz_leader")
    task = leader.task_at(instance_id, "leader_review")
    assert leader.post(f"/tasks/{task['id']}/return", json={"comment": ""}).status_code == 422
    assert leader.post(f"/tasks/{task['id']}/return", json={"comment": "x", "target": "nope"}).status_code == 422
    assert login("jb_leader").post(f"/tasks/{task['id']}/return", json={"comment": "x"}).status_code == 404
    assert leader.task_at(instance_id, "leader_review")["id"] == task["id"]
    assert not [h for h in _history(login, instance_id) if h["action"] == "return"]


def test_applicant_withdraws_before_the_leader_opens_the_task_then_resubmits(login):
    instance_id = chain.apply(login)
    clerk = login("yz_clerk")
    response = clerk.post(f"/instances/{instance_id}/withdraw", json={"comment": "发布日期需调整"})
    assert response.status_code == 200, response.get_json()
    reopened = clerk.task_at(instance_id, "topic_application")
    assert reopened["returned_by"] == "yz_clerk"
    assert clerk.get(f"/tasks/{reopened['id']}").get_json()["data"]["title"] == chain.application()["title"]
    assert not [t for t in login("yz_leader").tasks() if t["instance_id"] == instance_id]
    assert [h["comment"] for h in _history(login, instance_id) if h["action"] == "withdraw"] == ["发布日期需调整"]

    clerk.complete(instance_id, "topic_application", chain.application())
    assert login("yz_leader").task_at(instance_id, "leader_review")


def test_withdrawal_is_refused_once_the_leader_has_opened_the_task(login):
    instance_id = chain.apply(login)
    leader = login("yz_leader")
    leader.get(f"/tasks/{leader.task_at(instance_id, 'leader_review')['id']}")
    response = login("yz_clerk").post(f"/instances/{instance_id}/withdraw", json={})
    assert response.status_code == 409
    assert "已查看或认领" in response.get_json()["error"]["message"]
    assert login("jb_clerk").post(f"/instances/{instance_id}/withdraw", json={}).status_code == 404


def test_leader_transfers_the_review_to_another_leader_of_the_unit(app, login):
    _second_leader(app)
    instance_id = chain.apply(login)
    leader = login("yz_leader")
    task = leader.task_at(instance_id, "leader_review")
    assert leader.post(f"/tasks/{task['id']}/transfer", json={"to": "jb_leader", "reason": "出差"}).status_code == 422
    assert leader.post(f"/tasks/{task['id']}/transfer", json={"to": "yz_leader2", "reason": ""}).status_code == 422
    response = leader.post(f"/tasks/{task['id']}/transfer", json={"to": "yz_leader2", "reason": "本人出差，请代为审核"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["assignee"] == "yz_leader2"

    assert leader.post(f"/tasks/{task['id']}/complete", json={"data": {"decision": "approve"}}).status_code == 403
    login("yz_leader2").complete(instance_id, "leader_review", {"decision": "approve", "comment": "同意"})
    history = _history(login, instance_id)
    transfer = next(h for h in history if h["action"] == "transfer")
    assert (transfer["actor"], transfer["on_behalf_of"]) == ("yz_leader", "yz_leader2")
    assert "本人出差" in transfer["comment"]
    notes = login("yz_leader2").get("/notifications").get_json()
    assert any(n["kind"] == "transferred" for n in notes["items"])


def test_delegate_completes_the_principals_task_during_the_window_and_the_history_names_both(login, frozen_clock):
    leader = login("yz_leader")
    today = dt.date(2026, 3, 2)
    bad = leader.post("/delegations", json={"delegate": "jb_leader", "starts_on": str(today),
                                            "ends_on": str(today + dt.timedelta(days=3)), "reason": "出差"})
    assert bad.status_code == 422
    created = leader.post("/delegations", json={"delegate": "yz_spokes", "starts_on": str(today),
                                                "ends_on": str(today + dt.timedelta(days=3)), "reason": "出差"})
    assert created.status_code == 201, created.get_json()
    instance_id = chain.apply(login)

    spokes = login("yz_spokes")
    task = spokes.task_at(instance_id, "leader_review")
    spokes.complete(instance_id, "leader_review", {"decision": "approve", "comment": "代为审核同意"})
    done = next(h for h in _history(login, instance_id) if h["bpmn_id"] == "leader_review")
    assert (done["actor"], done["on_behalf_of"]) == ("yz_spokes", "yz_leader")
    assert task["id"]

    frozen_clock.set(dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC))
    second = chain.apply(login, conference_date="2026-04-10")
    assert not [t for t in login("yz_spokes").tasks() if t["instance_id"] == second]


def test_urging_reminds_the_holders_once_an_hour_and_only_for_the_applicant_or_supervisor(login, frozen_clock):
    instance_id = chain.apply(login)
    assert login("yz_leader").post(f"/instances/{instance_id}/urge", json={}).status_code == 403
    response = login("yz_clerk").post(f"/instances/{instance_id}/urge", json={"comment": "请今天内审核"})
    assert response.status_code == 200
    assert response.get_json()["reminded_tasks"] == 1
    assert login("yz_clerk").post(f"/instances/{instance_id}/urge", json={}).status_code == 409
    notes = login("yz_leader").get("/notifications").get_json()
    assert any(n["kind"] == "urge" and "请今天内审核" in n["message"] for n in notes["items"])
    assert login("supervisor").post(f"/instances/{instance_id}/urge", json={}).status_code == 200
    assert [h["actor"] for h in _history(login, instance_id) if h["action"] == "urge"] == ["yz_clerk", "supervisor"]


def test_new_tasks_notify_the_role_holders_of_the_unit_and_can_be_marked_read(login):
    instance_id = chain.apply(login)
    leader = login("yz_leader")
    notes = leader.get("/notifications").get_json()
    assert notes["unread"] == 1
    assert notes["items"][0]["kind"] == "new_task"
    assert notes["items"][0]["instance_id"] == instance_id
    assert login("jb_leader").get("/notifications").get_json()["unread"] == 0
    assert leader.post("/notifications/read", json={}).get_json()["unread"] == 0


def test_participants_discuss_an_application_and_other_districts_cannot(login):
    instance_id = chain.apply(login)
    clerk = login("yz_clerk")
    assert clerk.post(f"/instances/{instance_id}/comments", json={"body": "附件已更新"}).status_code == 201
    assert clerk.post(f"/instances/{instance_id}/comments", json={"body": ""}).status_code == 422
    assert login("jb_clerk").post(f"/instances/{instance_id}/comments", json={"body": "x"}).status_code == 404
    thread = login("yz_leader").get(f"/instances/{instance_id}/comments").get_json()
    assert [c["body"] for c in thread] == ["附件已更新"]
