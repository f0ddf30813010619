"""The inbox reads an emergency step's deadline in hours."""

from __future__ import annotations

from tests.conftest import WebUser
from tests.integration.test_emergency_release import report


def test_the_inbox_shows_an_hour_deadline_in_hours_left_then_hours_overdue(app, login, frozen_clock):
    report(login)
    assert "剩余 1 小时" in WebUser(app, "yz_leader").get("/tasks").text
    frozen_clock.advance(minutes=100)
    # A fresh sign-in: the first session has been idle longer than the idle limit by now.
    assert "逾期 1 小时" in WebUser(app, "yz_leader").get("/tasks").text


def test_both_new_processes_appear_in_the_modeler_with_their_diagrams(web):
    owner = web("owner")
    listing = owner.get("/models/").text
    assert "突发事件应急发布（第十二条）" in listing and "新闻发言人任命与备案（第八条）" in listing
    for key in ("emergency_release", "spokesperson_appointment"):
        assert owner.get(f"/models/{key}/edit").status_code == 200
        diagram = owner.get(f"/models/{key}/v1.bpmn")
        assert diagram.status_code == 200 and "<bpmndi:BPMNDiagram" in diagram.text


def test_every_emergency_step_opens_as_a_form_page(app, login):
    from tests.integration.test_emergency_release import APPROVE, FIRST_PUBLISHED, PUBLISHED

    instance_id = report(login)
    path = [("yz_leader", "first_release_approval", APPROVE), ("yz_clerk", "first_release_record", FIRST_PUBLISHED),
            ("yz_clerk", "situation_update", {"next_step": "update", "update_text": "续报。"}),
            ("yz_leader", "update_approval", APPROVE), ("yz_clerk", "update_record", PUBLISHED),
            ("yz_clerk", "situation_update", {"next_step": "close", "update_text": ""}),
            ("yz_clerk", "emergency_closing", {"summary": "总结。"})]
    for username, bpmn_id, data in path:
        task = login(username).task_at(instance_id, bpmn_id)
        page = WebUser(app, username).get(f"/tasks/{task['id']}")
        assert page.status_code == 200, bpmn_id
        login(username).complete(instance_id, bpmn_id, data)
