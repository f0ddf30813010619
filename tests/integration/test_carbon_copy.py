"""抄送: copies for information from a step (by hand or by the model), the 抄送我 list and the 已阅 receipts."""

from __future__ import annotations

import pytest

from engine.workflow.deploy import deploy
from tests.integration.chain import apply, through_unit, upload
from tests.model_edits import BPMN, DMN, replaced

LEADER_PROPS = '<spiffworkflow:property name="candidateRoles" value="unit_leader" />'


def _copy(user, instance_id: int, bpmn_id: str, status: int = 201, **body):
    task = user.task_at(instance_id, bpmn_id)
    response = user.post(f"/tasks/{task['id']}/cc", json=body)
    assert response.status_code == status, response.get_json()
    return response.get_json()


@pytest.fixture
def at_office(login) -> int:
    """A 渝中区 application waiting for the Office's topic review."""
    instance_id = apply(login)
    through_unit(login, instance_id)
    return instance_id


def test_office_copies_a_district_leader_who_may_then_read_only_that_application(login, at_office):
    other = apply(login)  # a second 渝中区 application, never copied
    office = login("office_reviewer")
    sent = _copy(office, at_office, "office_topic_review", users=["jb_leader"], note="请江北区参考此发布安排")
    assert [(c["recipient"], c["source"], c["read_at"]) for c in sent] == [("jb_leader", "manual", None)]

    jb_leader = login("jb_leader")
    mine = jb_leader.get("/cc").get_json()
    assert mine["unread"] == 1 and mine["items"][0]["note"] == "请江北区参考此发布安排"
    assert jb_leader.get(f"/instances/{at_office}").status_code == 200
    assert jb_leader.get(f"/instances/{other}").status_code == 404  # no cross-district leak beyond the copy
    assert upload(jb_leader, at_office, "other", "参考.pdf").status_code == 403
    assert not [t for t in jb_leader.tasks() if t["instance_id"] == at_office]

    read = jb_leader.post(f"/instances/{at_office}/cc/read").get_json()
    assert read["unread"] == 0 and read["items"][0]["read_at"] is not None
    receipts = office.get(f"/instances/{at_office}/cc").get_json()
    assert [(r["recipient"], r["read_at"] is not None) for r in receipts] == [("jb_leader", True)]

    history = office.get(f"/instances/{at_office}/history").get_json()
    cc = next(h for h in history if h["action"] == "cc")
    assert cc["comment"] == "请江北区参考此发布安排" and cc["data"]["recipients"] == ["jb_leader"]
    assert [h["actor"] for h in history if h["action"] == "cc_read"] == ["jb_leader"]


def test_a_copy_by_role_reaches_everyone_holding_it_and_notifies_them(login, at_office):
    _copy(login("office_reviewer"), at_office, "office_topic_review", roles=["opinion_monitor@office"])
    notices = login("monitor").get("/notifications").get_json()["items"]
    assert [n["kind"] for n in notices if n["instance_id"] == at_office] == ["cc"]
    assert login("monitor").get("/cc?state=unread").get_json()["items"][0]["via_role"] == "opinion_monitor@office"


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"users": ["nobody_here"]}, "users", "不存在"),
    ({"roles": ["boss@office"]}, "roles", "不是已知角色"),
    ({"roles": ["opinion_monitor@health"]}, "roles", "没有在岗人员"),  # nobody holds it there
    ({"roles": ["leader at office"]}, "roles", "角色@单位"),
    ({}, "users", "至少一位"),
    ({"users": ["office_reviewer"]}, "users", "自己"),
    ({"users": ["monitor"], "note": "长" * 501}, "note", None),
])
def test_a_copy_that_names_nobody_or_is_malformed_is_refused_and_changes_nothing(login, at_office, body, field,
                                                                                 words):
    office = login("office_reviewer")
    error = _copy(office, at_office, "office_topic_review", status=422, **body)["error"]
    assert field in error["fields"]
    assert words is None or words in " ".join(error["fields"][field])
    assert office.get(f"/instances/{at_office}/cc").get_json() == []
    assert login("monitor").get("/cc").get_json()["unread"] == 0


def test_only_someone_who_may_act_on_the_step_can_copy_from_it(login, at_office):
    task = login("office_reviewer").task_at(at_office, "office_topic_review")
    response = login("monitor").post(f"/tasks/{task['id']}/cc", json={"users": ["onsite"]})
    assert response.status_code == 403


def test_a_step_modelled_with_cc_copies_on_completion_with_the_decision(app, login):
    from webapp.extensions import db

    bpmn = replaced(BPMN, LEADER_PROPS, LEADER_PROPS + '\n          <spiffworkflow:property name="ccRoles" '
                    'value="unit_spokesperson opinion_monitor" />\n          '
                    '<spiffworkflow:property name="ccUsers" value="supervisor" />')
    with app.app_context():
        deploy(db.session, app.extensions["pressflow_runtime"], bpmn, [DMN], "tests")
    instance_id = apply(login)
    assert login("yz_spokes").get("/cc").get_json()["unread"] == 0  # nothing before the step completes
    login("yz_leader").complete(instance_id, "leader_review", {"decision": "approve", "comment": "同意"})

    for username in ("yz_spokes", "monitor", "supervisor"):
        item = login(username).get("/cc").get_json()["items"][0]
        assert (item["instance_id"], item["source"], item["sender"]) == (instance_id, "model", "yz_leader")
    notice = next(n for n in login("yz_spokes").get("/notifications").get_json()["items"] if n["kind"] == "cc")
    assert "同意" in notice["message"]
    receipts = login("yz_leader").get(f"/instances/{instance_id}/cc").get_json()
    assert sorted(r["recipient"] for r in receipts) == ["monitor", "supervisor", "yz_spokes"]


def test_a_model_whose_cc_names_an_unknown_role_or_a_bad_username_is_not_deployed(app):
    from engine.errors import ModelError
    from webapp.extensions import db

    bpmn = replaced(BPMN, LEADER_PROPS, LEADER_PROPS + '\n          <spiffworkflow:property name="ccRoles" '
                    'value="chief@office" />\n          <spiffworkflow:property name="ccUsers" value="bad!name" />')
    with app.app_context(), pytest.raises(ModelError) as refused:
        deploy(db.session, app.extensions["pressflow_runtime"], bpmn, [DMN], "tests")
    messages = [p["message"] for p in refused.value.problems if p["element_id"] == "leader_review"]
    assert any("ccRoles" in m and "chief" in m for m in messages)
    assert any("ccUsers" in m and "bad!name" in m for m in messages)
