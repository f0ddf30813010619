"""Emergency releases (Art. 12(四), 5(四)) through the API: first release fast, rolling updates, hour deadlines."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine import clock
from engine.models import AuditEntry
from engine.worker.reminders import chase_late_tasks
from tests.integration.test_supervisor_actions import supervise
from webapp.extensions import db

REPORT = {"title": "渝中区某路段燃气泄漏", "level": "ordinary", "situation": "今日 8 时许发生燃气泄漏，已疏散群众。",
          "first_release": "事发路段已封闭，无人员伤亡。", "first_speaker": "李强"}
APPROVE = {"decision": "approve", "comment": ""}
RETURN = {"decision": "return", "comment": "伤亡情况须核实后再发"}
PUBLISHED = {"channels": "「重庆发布」", "speaker": "李强", "published": True, "note": ""}
FIRST_PUBLISHED = PUBLISHED | {"principal_in_person": True}


def report(login: Any) -> int:
    """The clerk of 渝中区 reports the event and drafts the first release."""
    clerk = login("yz_clerk")
    response = clerk.post("/instances", json={"process": "emergency_release"})
    assert response.status_code == 201, response.get_json()
    instance_id = response.get_json()["id"]
    clerk.complete(instance_id, "emergency_report", REPORT)
    return instance_id


def first_release(login: Any) -> int:
    instance_id = report(login)
    login("yz_leader").complete(instance_id, "first_release_approval", APPROVE)
    login("yz_clerk").complete(instance_id, "first_release_record", FIRST_PUBLISHED)
    return instance_id


def open_steps(login: Any, username: str, instance_id: int) -> list[str]:
    return [t["bpmn_id"] for t in login(username).tasks() if t["instance_id"] == instance_id]


def test_the_leader_must_approve_the_first_release_within_one_wall_clock_hour(login):
    instance_id = report(login)
    task = login("yz_leader").task_at(instance_id, "first_release_approval")
    due = dt.datetime.fromisoformat(task["due_at"])
    assert due == clock.now() + dt.timedelta(hours=1)


def test_an_hour_deadline_on_a_friday_evening_does_not_wait_for_monday(login, frozen_clock):
    frozen_clock.set(dt.datetime(2026, 3, 6, 22, 30, tzinfo=dt.UTC))  # Saturday 06:30 in Chongqing
    instance_id = report(login)
    due = dt.datetime.fromisoformat(login("yz_leader").task_at(instance_id, "first_release_approval")["due_at"])
    assert due == dt.datetime(2026, 3, 6, 23, 30, tzinfo=dt.UTC)


def test_a_returned_first_release_goes_back_to_the_clerk_who_redrafts_it(login):
    instance_id = report(login)
    login("yz_leader").complete(instance_id, "first_release_approval", RETURN)
    assert open_steps(login, "yz_clerk", instance_id) == ["emergency_report"]
    login("yz_clerk").complete(instance_id, "emergency_report", REPORT | {"first_release": "无人员伤亡（已核实）。"})
    assert open_steps(login, "yz_leader", instance_id) == ["first_release_approval"]


def test_the_first_release_is_recorded_only_when_the_principal_leader_spoke_in_person(login):
    instance_id = report(login)
    login("yz_leader").complete(instance_id, "first_release_approval", APPROVE)
    absent = PUBLISHED | {"principal_in_person": False}
    refused = login("yz_clerk").complete(instance_id, "first_release_record", absent, status=422)
    assert "principal_in_person" in refused["error"]["fields"]


def test_rolling_updates_are_approved_and_published_until_the_event_is_closed(login):
    instance_id = first_release(login)
    clerk, leader = login("yz_clerk"), login("yz_leader")
    for number in (1, 2):
        clerk.complete(instance_id, "situation_update", {"next_step": "update", "update_text": f"第 {number} 次续报。"})
        leader.complete(instance_id, "update_approval", APPROVE)
        clerk.complete(instance_id, "update_record", PUBLISHED)
    clerk.complete(instance_id, "situation_update", {"next_step": "close", "update_text": ""})
    clerk.complete(instance_id, "emergency_closing", {"summary": "首发 1 次，续报 2 次，舆情平稳。"})
    detail = clerk.instance(instance_id)
    assert (detail["status"], detail["outcome"]) == ("completed", "completed")
    trail = clerk.get(f"/instances/{instance_id}/history").get_json()
    published = [h["actor"] for h in trail if h["bpmn_id"] == "update_record"
                 and h["action"] == "complete"]
    assert published == ["yz_clerk", "yz_clerk"]


def test_a_returned_update_goes_back_to_the_situation_step_without_being_published(login):
    instance_id = first_release(login)
    login("yz_clerk").complete(instance_id, "situation_update", {"next_step": "update", "update_text": "续报。"})
    login("yz_leader").complete(instance_id, "update_approval", RETURN)
    assert open_steps(login, "yz_clerk", instance_id) == ["situation_update"]


def test_an_update_without_its_text_is_refused(login):
    instance_id = first_release(login)
    refused = login("yz_clerk").complete(instance_id, "situation_update", {"next_step": "update", "update_text": ""},
                                         status=422)
    assert "update_text" in refused["error"]["fields"]


def test_a_late_hour_step_is_escalated_one_more_hour_after_its_deadline_not_a_working_day(login, frozen_clock, app):
    instance_id = report(login)
    start = clock.now()
    with app.app_context():
        frozen_clock.set(start + dt.timedelta(minutes=90))
        assert chase_late_tasks(db.session, clock.now()).escalated == 0
        frozen_clock.set(start + dt.timedelta(hours=2, minutes=1))
        chased = chase_late_tasks(db.session, clock.now())
        escalations = db.session.query(AuditEntry).filter_by(instance_id=instance_id, action="escalate").count()
    assert (chased.escalated, escalations) == (1, 1)


def test_a_suspended_hour_step_gets_back_the_wall_clock_time_it_had_left(app, login, frozen_clock):
    instance_id = report(login)
    frozen_clock.advance(minutes=20)
    supervise(app, "suspend", instance_id, "核实伤亡情况")
    frozen_clock.advance(hours=5)
    supervise(app, "resume", instance_id, "已核实")
    due = dt.datetime.fromisoformat(login("yz_leader").task_at(instance_id, "first_release_approval")["due_at"])
    assert due == clock.now() + dt.timedelta(minutes=40)
