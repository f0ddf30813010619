"""Reporter interview requests (第十二条（六）): every path from the Office's entry to the outcome it sees."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.models import AuditEntry, Instance
from engine.review.interviews import submit_public_request


def request(**overrides: Any) -> dict[str, Any]:
    """A valid request of an overseas reporter to interview the Yuzhong district government next week."""
    return {
        "outlet": "Reuters 路透社", "reporter_name": "Anna Schmidt", "origin": "overseas", "nationality": "德国",
        "press_card_no": "DE-2026-0042", "contact": "anna.schmidt@example.com",
        "topic": "渝中区老旧小区改造的进展", "wished_unit": "yuzhong",
        "wished_from": "2026-03-09", "wished_to": "2026-03-13", "outline_attached": False,
    } | overrides


def entered(login: Any, **overrides: Any) -> int:
    """Start a request as the Office and enter it; return the instance id."""
    office = login("office_reviewer")
    response = office.post("/instances", json={"process": "reporter_interview"})
    assert response.status_code == 201, response.get_json()
    instance_id = response.get_json()["id"]
    office.complete(instance_id, "interview_entry", request(**overrides))
    return instance_id


def routed(login: Any, unit: str = "yuzhong", **overrides: Any) -> int:
    instance_id = entered(login, **overrides)
    login("office_reviewer").complete(instance_id, "interview_routing",
                                      {"decision": "route", "unit": unit, "comment": ""})
    return instance_id


def scheduled(login: Any, by: str = "yz_leader") -> int:
    instance_id = routed(login)
    login(by).complete(instance_id, "interview_decision", {"decision": "accept", "comment": ""})
    login(by).complete(instance_id, "interview_schedule", {
        "interview_date": "2026-03-10", "interview_time": "15:00", "place": "渝中区政府新闻发布厅",
        "interviewee": "渝中区新闻发言人 陈静"})
    return instance_id


def test_a_held_interview_ends_completed_with_its_summary_for_the_office_to_see(app: Any, login: Any) -> None:
    instance_id = scheduled(login)
    login("yz_leader").complete(instance_id, "interview_record",
                                {"interview_status": "held", "summary": "介绍了改造进展，回答 6 个问题。"})
    seen = login("office_reviewer").instance(instance_id)
    assert (seen["status"], seen["outcome"]) == ("completed", "completed")
    assert seen["title"].startswith("记者采访：Reuters 路透社 Anna Schmidt")


def test_an_interview_not_held_ends_cancelled_with_its_reason(app: Any, login: Any) -> None:
    instance_id = scheduled(login, by="yz_spokes")
    login("yz_spokes").complete(instance_id, "interview_record",
                                {"interview_status": "not_held", "reason": "记者行程取消"})
    assert login("office_reviewer").instance(instance_id)["outcome"] == "cancelled"


def test_a_record_without_its_summary_or_reason_is_refused(app: Any, login: Any) -> None:
    instance_id = scheduled(login)
    leader = login("yz_leader")
    refused = leader.complete(instance_id, "interview_record", {"interview_status": "held", "summary": ""},
                              status=422)
    assert "summary" in refused["error"]["fields"]
    refused = leader.complete(instance_id, "interview_record", {"interview_status": "not_held"}, status=422)
    assert "reason" in refused["error"]["fields"]


def test_the_office_declines_with_reasons_and_the_request_ends_declined(app: Any, login: Any) -> None:
    instance_id = entered(login)
    office = login("office_reviewer")
    office.complete(instance_id, "interview_routing", {"decision": "decline", "unit": "", "comment": ""}, status=422)
    office.complete(instance_id, "interview_routing", {"decision": "decline", "comment": "记者证无法核实"})
    seen = office.instance(instance_id)
    assert (seen["status"], seen["outcome"]) == ("completed", "declined")


def test_the_unit_declines_with_reasons_and_the_office_sees_the_outcome(app: Any, login: Any) -> None:
    instance_id = routed(login)
    leader = login("yz_leader")
    leader.complete(instance_id, "interview_decision", {"decision": "decline", "comment": ""}, status=422)
    leader.complete(instance_id, "interview_decision", {"decision": "decline", "comment": "尚在研究，暂不接受采访"})
    assert login("office_reviewer").instance(instance_id)["outcome"] == "declined"


def test_an_outline_asked_for_goes_to_the_office_and_back_to_the_unit(app: Any, login: Any) -> None:
    instance_id = routed(login)
    login("yz_spokes").complete(instance_id, "interview_decision",
                                {"decision": "outline", "comment": "请提供采访提纲，列明问题"})
    office = login("office_reviewer")
    office.complete(instance_id, "interview_outline", {"received_on": "2026-03-03", "outline": "1. 进展 2. 资金"},
                    status=422)  # received tomorrow: refused
    office.complete(instance_id, "interview_outline", {"received_on": "2026-03-02", "outline": "1. 进展 2. 资金"})
    login("yz_spokes").complete(instance_id, "interview_decision", {"decision": "accept", "comment": ""})
    assert login("yz_leader").task_at(instance_id, "interview_schedule")


def test_routing_moves_the_request_to_the_chosen_unit_only(app: Any, login: Any) -> None:
    instance_id = routed(login, unit="jiangbei")
    assert login("jb_leader").task_at(instance_id, "interview_decision")["unit"] == "jiangbei"
    assert not [t for t in login("yz_leader").tasks() if t["instance_id"] == instance_id]
    assert login("yz_leader").get(f"/instances/{instance_id}").status_code == 404


def test_routing_to_a_unit_not_in_the_units_table_is_refused_and_changes_nothing(app: Any, login: Any) -> None:
    instance_id = entered(login)
    office = login("office_reviewer")
    for unit in ("nowhere", "office"):
        refused = office.complete(instance_id, "interview_routing", {"decision": "route", "unit": unit},
                                  status=422)
        assert "unit" in refused["error"]["fields"]
    assert office.task_at(instance_id, "interview_routing")


def test_an_entry_with_bad_values_is_refused_field_by_field(app: Any, login: Any) -> None:
    office = login("office_reviewer")
    instance_id = office.post("/instances", json={"process": "reporter_interview"}).get_json()["id"]
    refused = office.complete(instance_id, "interview_entry", request(
        press_card_no="卡号!", contact="call me", wished_from="2026-03-01", wished_to="2026-02-27",
        wished_unit="nowhere"), status=422)
    assert {"press_card_no", "contact", "wished_from", "wished_to"} <= set(refused["error"]["fields"])
    refused = office.complete(instance_id, "interview_entry", request(wished_unit="nowhere"), status=422)
    assert set(refused["error"]["fields"]) == {"wished_unit"}


def test_only_the_office_may_start_an_interview_request(app: Any, login: Any) -> None:
    assert login("yz_clerk").post("/instances", json={"process": "reporter_interview"}).status_code == 403


def test_a_public_submission_leaves_the_routing_step_ready_for_the_office(app: Any, login: Any) -> None:
    from webapp.extensions import db

    with app.app_context():
        receipt = submit_public_request(db.session, app.extensions["pressflow_runtime"], request())
        instance = db.session.scalar(select(Instance).where(Instance.process_key == "reporter_interview"))
        assert instance is not None
        assert (instance.started_by, instance.data["receipt_no"]) == ("public", receipt)
        trail = db.session.scalars(select(AuditEntry).where(AuditEntry.instance_id == instance.id)
                                   .order_by(AuditEntry.id)).all()
        assert [(e.actor, e.action) for e in trail][:2] == [("public", "start"), ("public", "complete")]
        instance_id = instance.id
    task = login("office_reviewer").task_at(instance_id, "interview_routing")
    assert task["unit"] == "office"
    assert not [t for t in login("office_reviewer").tasks() if t["bpmn_id"] == "interview_entry"]


def test_a_public_request_the_office_declines_ends_declined_without_anyone_to_notify(app: Any, login: Any) -> None:
    from webapp.extensions import db

    with app.app_context():
        submit_public_request(db.session, app.extensions["pressflow_runtime"], request(origin="domestic"))
        db.session.remove()
    office = login("office_reviewer")
    (task,) = [t for t in office.tasks() if t["bpmn_id"] == "interview_routing"]
    office.complete(task["instance_id"], "interview_routing", {"decision": "decline", "comment": "非本市事项"})
    assert office.instance(task["instance_id"])["outcome"] == "declined"
