"""Supervisors' actions on process state: 挂起 / 恢复 / 终止, 改派, 修复数据并重试, 回退 and 催办.

Applications are driven through the JSON API (which loads and saves the instance on every step); the supervisor's
actions are called on the engine, each in its own unit of work, and their effect is read back through the API.
Fixtures for failing steps: ``tests/data/guest_budget.bpmn`` (a script that divides by a guest count of 0) and
``tests/data/incident_probe.bpmn`` (a gateway condition naming a variable that does not exist).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.errors import Conflict, Forbidden, InvalidInput
from engine.models import HumanTask, Notification, User
from engine.org.units import create_user, grant
from engine.supervision import actions as supervisor_actions
from engine.workdays.calendar import SHANGHAI
from engine.workflow.deploy import deploy
from tests.integration import chain

DATA = Path(__file__).resolve().parent.parent / "data"
WITH_RUNTIME = {"resume", "retry", "move_back", "move_back_targets", "retry_names"}
CONFERENCE_START = dt.datetime(2026, 3, 20, 10, 0, tzinfo=SHANGHAI)


def supervise(app: Any, action: str, *args: Any, by: str = "supervisor") -> Any:
    """Call one supervisor action as ``by`` in a fresh session, the way a request would."""
    from webapp.extensions import db

    with app.app_context():
        actor = db.session.scalar(select(User).where(User.username == by))
        runtime = app.extensions["pressflow_runtime"]
        head = (db.session, runtime, actor) if action in WITH_RUNTIME else (db.session, actor)
        try:
            result = getattr(supervisor_actions, action)(*head, *args)
            return getattr(result, "status", result)
        finally:
            db.session.remove()


def targets(app: Any, instance_id: int) -> dict[str, str]:
    """The steps the supervisor may move the instance back to: bpmn id → task row id."""
    from engine.models import Instance
    from webapp.extensions import db

    with app.app_context():
        instance = db.session.get(Instance, instance_id)
        steps = supervisor_actions.move_back_targets(db.session, app.extensions["pressflow_runtime"], instance)
        db.session.remove()
    return {step.bpmn_id: step.row_id for step in steps}


def in_db(app: Any, query: Any) -> list[Any]:
    from webapp.extensions import db

    with app.app_context():
        rows = list(db.session.execute(query).tuples())
        db.session.remove()
    return rows


def history(login: Any, instance_id: int) -> list[dict[str, Any]]:
    response = login("supervisor").get(f"/instances/{instance_id}/history")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def deployed(app: Any, name: str) -> str:
    from webapp.extensions import db

    with app.app_context():
        version = deploy(db.session, app.extensions["pressflow_runtime"], (DATA / name).read_text(encoding="utf-8"),
                         [], "tests", note=name).version
        key = version.process_key
        db.session.remove()
    return key


def failed_review(app: Any, login: Any, fixture: str, decision: str) -> int:
    """Start a fixture process as yuzhong's leader and complete its review so that the next step fails."""
    leader = login("yz_leader")
    response = leader.post("/instances", json={"process": deployed(app, fixture)})
    assert response.status_code == 201, response.get_json()
    instance_id = response.get_json()["id"]
    answered = leader.complete(instance_id, "budget_review", {"decision": decision, "comment": "请核算"})
    assert answered["status"] == "error", answered
    return instance_id


def second_leader(app: Any) -> None:
    """Give yuzhong a deputy who also holds the unit-leader role (an eligible user to reassign to)."""
    from engine.models import Unit
    from webapp.extensions import db

    with app.app_context():
        deputy = create_user(db.session, "yz_deputy", "渝中区副主任 黄敏", "pressflow-demo")
        grant(db.session, deputy, "unit_leader", db.session.scalar(select(Unit).where(Unit.code == "yuzhong")))
        db.session.commit()
        db.session.remove()


# --- 挂起 / 恢复 ------------------------------------------------------------------------------------


def test_timer_of_a_suspended_application_does_not_fire_and_fires_after_resume(app, login, frozen_clock):
    instance_id = chain.to_conference_timer(login)
    assert supervise(app, "suspend", instance_id, "发布会场地待定，暂停") == "suspended"

    assert "已推进 0 个实例" in chain.run_timers(app, "2026-03-20T10:05")
    paused = login("supervisor").instance(instance_id)
    assert paused["status"] == "suspended"
    assert paused["tasks"] == []
    assert "timer" not in [h["action"] for h in history(login, instance_id)]

    assert supervise(app, "resume", instance_id, "场地已落实") == "waiting"
    resumed = login("supervisor").instance(instance_id)
    assert dt.datetime.fromisoformat(resumed["next_timer_at"]) == CONFERENCE_START
    assert "已推进 1 个实例" in chain.run_timers(app, "2026-03-20T10:05")
    assert chain.open_steps(login("supervisor"), instance_id) == ["conference_record"]
    entries = history(login, instance_id)
    suspended = next(h for h in entries if h["action"] == "suspend")
    assert suspended["actor"] == "supervisor"
    assert suspended["data"]["previous_status"] == "waiting"
    assert "发布会场地待定" in suspended["comment"]
    assert [h["action"] for h in entries][-3:] == ["suspend", "resume", "timer"]


def test_nobody_can_complete_a_step_of_a_suspended_application_until_it_is_resumed(app, login):
    instance_id = chain.apply(login)
    supervise(app, "suspend", instance_id, "核查申报材料")

    leader = login("yz_leader")
    task = leader.task_at(instance_id, "leader_review")
    refused = leader.post(f"/tasks/{task['id']}/complete", json={"data": {"decision": "approve", "comment": ""}})
    assert refused.status_code == 409

    assert supervise(app, "resume", instance_id, "材料无误") == "running"
    leader.complete(instance_id, "leader_review", {"decision": "approve", "comment": "同意"})
    assert chain.open_steps(login("supervisor"), instance_id) == ["secrecy_review"]


def test_only_running_or_waiting_applications_can_be_suspended_and_only_suspended_ones_resumed(app, login):
    instance_id = chain.apply(login)
    with pytest.raises(Conflict):
        supervise(app, "resume", instance_id, "无需恢复")
    supervise(app, "suspend", instance_id, "暂停")
    with pytest.raises(Conflict):
        supervise(app, "suspend", instance_id, "再次暂停")
    assert [h["action"] for h in history(login, instance_id)].count("suspend") == 1


def test_the_days_an_application_was_suspended_do_not_count_against_the_open_steps_deadline(
        app, login, frozen_clock):
    instance_id = chain.apply(login)  # Mon 03-02: the leader's review is due at the end of Wed 03-04
    leader = login("yz_leader")
    assert leader.task_at(instance_id, "leader_review")["due_at"] == "2026-03-04T15:59:59+00:00"
    frozen_clock.set(dt.datetime(2026, 3, 3, 10, 0, tzinfo=SHANGHAI))
    supervise(app, "suspend", instance_id, "等待市委宣传部意见")

    frozen_clock.set(dt.datetime(2026, 3, 9, 9, 0, tzinfo=SHANGHAI))
    supervise(app, "resume", instance_id, "意见已收到")

    # one working day (Wed) was left on Tue when it was paused; it is granted again from Mon 03-09
    task = login("yz_leader").task_at(instance_id, "leader_review")
    assert (task["due_at"], task["overdue"]) == ("2026-03-10T15:59:59+00:00", False)
    resumed = history(login, instance_id)[-1]
    assert resumed["action"] == "resume"
    assert "期限已顺延" in resumed["comment"]


def test_a_step_already_late_when_suspended_stays_late_after_resume(app, login, frozen_clock):
    instance_id = chain.apply(login)
    frozen_clock.set(dt.datetime(2026, 3, 6, 10, 0, tzinfo=SHANGHAI))  # Fri: two days past Wed's deadline
    supervise(app, "suspend", instance_id, "核查逾期原因")
    frozen_clock.set(dt.datetime(2026, 3, 9, 9, 0, tzinfo=SHANGHAI))
    supervise(app, "resume", instance_id, "核查完毕")

    task = login("yz_leader").task_at(instance_id, "leader_review")
    assert (task["due_at"], task["overdue"]) == ("2026-03-04T15:59:59+00:00", True)
    assert history(login, instance_id)[-1]["comment"] == "恢复：核查完毕"


# --- 终止 -------------------------------------------------------------------------------------------


def test_terminating_closes_the_open_steps_ends_the_application_and_tells_the_applicant(app, login):
    instance_id = chain.apply(login)

    assert supervise(app, "terminate", instance_id, "申报单位已撤销该发布会") == "terminated"

    ended = login("supervisor").instance(instance_id)
    assert (ended["status"], ended["outcome"], ended["tasks"]) == ("terminated", "terminated", [])
    assert ended["ended_at"] is not None
    assert [t for t in login("yz_leader").tasks() if t["instance_id"] == instance_id] == []
    closed = in_db(app, select(HumanTask.bpmn_id, HumanTask.closed_reason).where(
        HumanTask.instance_id == instance_id, HumanTask.bpmn_id == "leader_review"))
    assert closed == [("leader_review", "terminated")]
    told = in_db(app, select(User.username, Notification.message).join(Notification.user).where(
        Notification.instance_id == instance_id, Notification.kind == "ended"))
    assert {name for name, _ in told} >= {"yz_clerk", "yz_leader"}
    assert all("申报单位已撤销该发布会" in message for _, message in told)
    last = history(login, instance_id)[-1]
    assert (last["action"], last["actor"]) == ("terminate", "supervisor")
    assert "申报单位已撤销该发布会" in last["comment"]
    with pytest.raises(Conflict):
        supervise(app, "terminate", instance_id, "再次终止")


def test_a_terminated_application_waiting_for_its_timer_never_moves_on(app, login):
    instance_id = chain.to_conference_timer(login)
    supervise(app, "terminate", instance_id, "发布会取消")

    assert "已推进 0 个实例" in chain.run_timers(app, "2026-03-20T10:05")
    assert login("supervisor").instance(instance_id)["status"] == "terminated"
    with pytest.raises(Conflict):
        supervise(app, "resume", instance_id, "恢复")


# --- 改派 -------------------------------------------------------------------------------------------


def test_supervisor_reassigns_a_claimed_review_to_another_leader_of_the_unit(app, login):
    second_leader(app)
    instance_id = chain.apply(login)
    leader = login("yz_leader")
    task = leader.task_at(instance_id, "leader_review")
    assert leader.post(f"/tasks/{task['id']}/claim").status_code == 200

    supervise(app, "reassign", task["id"], "yz_deputy", "李强出差一周")

    deputy = login("yz_deputy")
    assert deputy.task_at(instance_id, "leader_review")["assignee"] == "yz_deputy"
    refused = leader.post(f"/tasks/{task['id']}/complete", json={"data": {"decision": "approve", "comment": ""}})
    assert refused.status_code == 403
    deputy.complete(instance_id, "leader_review", {"decision": "approve", "comment": "同意"})
    entry = next(h for h in history(login, instance_id) if h["action"] == "reassign")
    assert (entry["actor"], entry["on_behalf_of"], entry["task"]) == ("supervisor", "yz_deputy", task["name"])
    assert "李强出差一周" in entry["comment"]
    assert entry["data"] == {"from": "yz_leader", "to": "yz_deputy"}


def test_a_task_cannot_be_reassigned_to_someone_without_its_role_in_that_unit(app, login):
    instance_id = chain.apply(login)
    task = login("yz_leader").task_at(instance_id, "leader_review")

    for outsider in ("jb_leader", "yz_secrecy", "supervisor", "nobody"):
        with pytest.raises(InvalidInput) as refused:
            supervise(app, "reassign", task["id"], outsider, "改派")
        assert "to" in refused.value.fields
    assert login("yz_leader").task_at(instance_id, "leader_review")["assignee"] is None
    assert "reassign" not in [h["action"] for h in history(login, instance_id)]


# --- 修复数据并重试 -------------------------------------------------------------------------------------


def test_fixing_the_guest_count_and_retrying_the_failed_script_completes_the_application(app, login):
    instance_id = failed_review(app, login, "guest_budget.bpmn", "approve")
    incident = login("supervisor").instance(instance_id)["incident"]
    assert (incident["bpmn_id"], incident["error_type"]) == ("tally_budget", "ZeroDivisionError")
    from engine.models import Instance
    from webapp.extensions import db

    with app.app_context():
        named, others = supervisor_actions.retry_names(
            db.session, app.extensions["pressflow_runtime"], db.session.get(Instance, instance_id))
        db.session.remove()
    assert named == {"per_guest": None, "budget": 12000, "guests": 0}
    assert "budget_review_decision" in others

    assert supervise(app, "retry", instance_id, {"guests": "40"}, "来宾人数应为 40 人") == "completed"

    done = login("supervisor").instance(instance_id)
    assert (done["status"], done["outcome"], done["incident"]) == ("completed", "completed", None)
    assert done["data"]["per_guest"] == 300
    entries = history(login, instance_id)
    retried = next(h for h in entries if h["action"] == "retry")
    assert (retried["actor"], retried["bpmn_id"], retried["data"]) == ("supervisor", "tally_budget", {"guests": 40})
    assert "来宾人数应为 40 人" in retried["comment"]
    assert [h["action"] for h in entries][-3:] == ["incident", "retry", "end"]


def test_a_retry_that_fails_again_records_a_new_incident_and_a_later_retry_can_still_succeed(app, login):
    instance_id = failed_review(app, login, "guest_budget.bpmn", "approve")

    assert supervise(app, "retry", instance_id, {"guests": "0", "budget": "15000"}, "先核对预算") == "error"
    still = login("supervisor").instance(instance_id)
    assert still["incident"]["bpmn_id"] == "tally_budget"
    assert still["data"]["budget"] == 15000

    assert supervise(app, "retry", instance_id, {"guests": "50"}, "补录来宾人数") == "completed"
    assert login("supervisor").instance(instance_id)["data"]["per_guest"] == 300
    actions = [h["action"] for h in history(login, instance_id)]
    assert actions[-5:] == ["incident", "retry", "incident", "retry", "end"]


def test_retrying_a_failed_gateway_with_the_variable_its_condition_names(app, login):
    instance_id = failed_review(app, login, "incident_probe.bpmn", "return")
    assert login("supervisor").instance(instance_id)["incident"]["bpmn_id"] == "gw_budget_review"

    assert supervise(app, "retry", instance_id, {"budget_ceiling": "5000"}, "补充预算上限") == "completed"

    done = login("supervisor").instance(instance_id)
    assert (done["outcome"], done["data"]["budget_ceiling"]) == ("returned", 5000)


def test_a_timer_that_cannot_work_out_its_time_is_an_incident_and_a_retry_with_the_time_arms_it(app, login):
    instance_id = failed_review(app, login, "timer_from_data.bpmn", "approve")
    stuck = login("supervisor").instance(instance_id)
    assert (stuck["status"], stuck["incident"]["bpmn_id"], stuck["next_timer_at"]) == ("error", "wait_for_start", None)
    from engine.models import Instance
    from webapp.extensions import db

    with app.app_context():
        named, _ = supervisor_actions.retry_names(
            db.session, app.extensions["pressflow_runtime"], db.session.get(Instance, instance_id))
        db.session.remove()
    assert named == {"start_at": None}

    assert supervise(app, "retry", instance_id, {"start_at": "2026-03-20T10:00:00+08:00"}, "补录开始时间") == "waiting"
    armed = login("supervisor").instance(instance_id)
    assert (armed["incident"], dt.datetime.fromisoformat(armed["next_timer_at"])) == (None, CONFERENCE_START)
    assert "已推进 1 个实例" in chain.run_timers(app, "2026-03-20T10:05")
    assert chain.open_steps(login("supervisor"), instance_id) == ["follow_up"]


def test_retry_accepts_only_known_names_and_plain_values(app, login):
    instance_id = failed_review(app, login, "guest_budget.bpmn", "approve")

    for values in ({"is_admin": "true"}, {"guests": "[40]"}, {"guests": "NaN"}, {"__class__": "1"},
                   {"add_workdays": "1"}):
        with pytest.raises(InvalidInput) as refused:
            supervise(app, "retry", instance_id, values, "试试")
        assert set(refused.value.fields) == set(values)
    with pytest.raises(InvalidInput) as unexplained:
        supervise(app, "retry", instance_id, {"guests": "40"}, "  ")
    assert "reason" in unexplained.value.fields

    still = login("supervisor").instance(instance_id)
    assert (still["status"], still["data"]["guests"]) == ("error", 0)
    assert "retry" not in [h["action"] for h in history(login, instance_id)]


def test_only_an_application_in_error_can_be_retried(app, login):
    instance_id = chain.apply(login)
    with pytest.raises(Conflict):
        supervise(app, "retry", instance_id, {}, "重试")


# --- 回退 -------------------------------------------------------------------------------------------


def test_supervisor_moves_an_application_back_to_the_leader_review_with_a_reason(app, login):
    instance_id = chain.apply(login)
    chain.through_unit(login, instance_id)
    assert list(targets(app, instance_id)) == ["topic_application", "leader_review", "secrecy_review"]

    supervise(app, "move_back", instance_id, targets(app, instance_id)["leader_review"], "请补充领导审核意见")

    assert chain.open_steps(login("supervisor"), instance_id) == ["leader_review"]
    task = login("yz_leader").task_at(instance_id, "leader_review")
    assert (task["assignee"], task["returned_by"]) == ("yz_leader", "supervisor")
    assert "请补充领导审核意见" in task["returned_comment"]
    entry = history(login, instance_id)[-1]
    assert (entry["action"], entry["actor"], entry["bpmn_id"]) == ("move_back", "supervisor", "leader_review")
    assert "请补充领导审核意见" in entry["comment"]
    closed = in_db(app, select(HumanTask.closed_reason, HumanTask.completed_by).where(
        HumanTask.instance_id == instance_id, HumanTask.bpmn_id == "office_topic_review"))
    assert closed == [("moved_back", "supervisor")]
    login("yz_leader").complete(instance_id, "leader_review", {"decision": "approve", "comment": "已补充"})
    assert chain.open_steps(login("supervisor"), instance_id) == ["secrecy_review"]


def test_an_application_in_error_can_be_moved_back_to_the_review_before_the_failure(app, login):
    instance_id = failed_review(app, login, "guest_budget.bpmn", "approve")

    supervise(app, "move_back", instance_id, targets(app, instance_id)["budget_review"], "请重新审核经费")

    moved = login("supervisor").instance(instance_id)
    assert (moved["status"], moved["incident"]) == ("running", None)
    assert [t["bpmn_id"] for t in moved["tasks"]] == ["budget_review"]
    rows = in_db(app, select(HumanTask.closed_reason).where(HumanTask.instance_id == instance_id))
    assert sorted(reason or "open" for (reason,) in rows) == ["completed", "open"]


def test_an_application_waiting_for_the_conference_can_be_moved_back_to_host_selection(app, login):
    instance_id = chain.to_conference_timer(login)

    supervise(app, "move_back", instance_id, targets(app, instance_id)["host_speaker_selection"], "主持人调整")

    moved = login("supervisor").instance(instance_id)
    assert (moved["status"], moved["next_timer_at"]) == ("running", None)
    assert chain.open_steps(login("supervisor"), instance_id) == ["host_speaker_selection"]
    assert "已推进 0 个实例" in chain.run_timers(app, "2026-03-20T10:05")


def test_moving_back_to_a_step_not_on_the_path_is_refused(app, login):
    instance_id = chain.apply(login)
    other = chain.apply(login)
    chain.through_unit(login, other)

    with pytest.raises(InvalidInput):
        supervise(app, "move_back", instance_id, targets(app, other)["leader_review"], "回退")
    assert chain.open_steps(login("supervisor"), instance_id) == ["leader_review"]


# --- who may act, and the trail -----------------------------------------------------------------------


@pytest.mark.parametrize("username", ["yz_leader", "office_reviewer", "owner", "jb_clerk"])
def test_nobody_but_supervisors_and_admins_may_take_supervisor_actions(app, login, username):
    instance_id = chain.apply(login)
    task = login("yz_leader").task_at(instance_id, "leader_review")
    attempts = [("urge", instance_id, "催"), ("suspend", instance_id, "停"), ("resume", instance_id, "复"),
                ("terminate", instance_id, "止"), ("reassign", task["id"], "yz_leader", "派"),
                ("retry", instance_id, {}, "试"), ("move_back", instance_id, "x", "退")]
    for action, *args in attempts:
        with pytest.raises(Forbidden):
            supervise(app, action, *args, by=username)
    assert [h["action"] for h in history(login, instance_id)] == ["start", "attach", "attach", "complete"]
    assert login("supervisor").instance(instance_id)["status"] == "running"


def test_admin_may_act_like_a_supervisor(app, login):
    instance_id = chain.apply(login)
    assert supervise(app, "suspend", instance_id, "系统维护", by="admin") == "suspended"
    assert history(login, instance_id)[-1]["actor"] == "admin"


def test_every_supervisor_action_is_in_the_trail_with_its_reason(app, login, frozen_clock):
    second_leader(app)
    instance_id = chain.apply(login)
    task = login("yz_leader").task_at(instance_id, "leader_review")

    assert supervise(app, "urge", instance_id, "理由一：请今日办结") == 1
    with pytest.raises(InvalidInput):
        supervise(app, "urge", instance_id, "")
    supervise(app, "reassign", task["id"], "yz_deputy", "理由二：李强休假")
    supervise(app, "suspend", instance_id, "理由三：核查")
    supervise(app, "resume", instance_id, "理由四：核查完毕")
    supervise(app, "move_back", instance_id, targets(app, instance_id)["topic_application"], "理由五：补材料")
    supervise(app, "terminate", instance_id, "理由六：单位撤回")

    trail = [h for h in history(login, instance_id) if h["actor"] == "supervisor"]
    assert [h["action"] for h in trail] == ["urge", "reassign", "suspend", "resume", "move_back", "terminate"]
    for number, entry in zip("一二三四五六", trail, strict=True):
        assert f"理由{number}" in entry["comment"]
    urged = in_db(app, select(User.username).join(Notification.user).where(
        Notification.instance_id == instance_id, Notification.kind == "urge"))
    assert sorted(urged) == [("yz_deputy",), ("yz_leader",)]  # the review was still a group task
