"""A failing script or gateway condition puts the application in "error" with an incident, and it stays readable.

The process is ``tests/data/incident_probe.bpmn``: a leader's budget review, then a script that divides by zero
(approve), a gateway condition that names an unknown variable (return), or a plain end (reject).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.workflow.deploy import deploy

PROBE = Path(__file__).resolve().parent.parent / "data" / "incident_probe.bpmn"


@pytest.fixture
def probe(app: Any) -> str:
    """Deploy the incident probe beside the press-conference process; return its key."""
    from webapp.extensions import db

    with app.app_context():
        deployment = deploy(db.session, app.extensions["pressflow_runtime"], PROBE.read_text(encoding="utf-8"), [],
                            "tests", note="incident probe")
        key = deployment.version.process_key
        db.session.remove()
    return key


def review(login: Any, process: str, decision: str, comment: str = "") -> tuple[int, dict[str, Any]]:
    """Start the probe as yuzhong's leader and complete the budget review; return the id and the response."""
    leader = login("yz_leader")
    response = leader.post("/instances", json={"process": process})
    assert response.status_code == 201, response.get_json()
    instance_id = response.get_json()["id"]
    return instance_id, leader.complete(instance_id, "budget_review", {"decision": decision, "comment": comment})


def history(user: Any, instance_id: int) -> list[dict[str, Any]]:
    response = user.get(f"/instances/{instance_id}/history")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_failing_script_puts_the_application_in_error_with_task_line_and_message(app, probe, login):
    instance_id, answered = review(login, probe, "approve")

    assert answered["status"] == "error"
    assert answered["tasks"] == []
    incident = answered["incident"]
    assert incident["bpmn_id"] == "tally_budget"
    assert incident["task_id"]
    assert incident["error_type"] == "ZeroDivisionError"
    assert "division by zero" in incident["message"]
    assert incident["line_number"] == 2
    assert incident["error_line"] == "per_guest = budget / 0"


def test_application_in_error_stays_readable_and_its_history_records_the_incident(app, probe, login):
    instance_id, _ = review(login, probe, "approve")
    supervisor = login("supervisor")

    instance = supervisor.instance(instance_id)
    assert instance["status"] == "error"
    assert instance["incident"]["bpmn_id"] == "tally_budget"
    entries = history(supervisor, instance_id)
    actions = [(h["action"], h["bpmn_id"]) for h in entries]
    assert ("incident", "tally_budget") in actions
    assert actions.index(("complete", "budget_review")) < actions.index(("incident", "tally_budget"))
    incident = next(h for h in entries if h["action"] == "incident")
    assert "division by zero" in incident["comment"]
    listed = supervisor.get("/instances?status=error").get_json()
    assert [item["id"] for item in listed["items"]] == [instance_id]


def test_failing_gateway_condition_puts_the_application_in_error_naming_the_gateway(app, probe, login):
    instance_id, answered = review(login, probe, "return", comment="预算须细化")

    assert answered["status"] == "error"
    incident = answered["incident"]
    assert incident["bpmn_id"] == "gw_budget_review"
    assert incident["error_type"] == "NameError"
    assert "budget_ceiling > 0" in incident["message"]
    assert login("yz_clerk").instance(instance_id)["status"] == "error"
    assert [h["action"] for h in history(login("yz_leader"), instance_id)].count("incident") == 1


def test_stored_workflow_of_an_application_in_error_still_loads_with_the_failed_step_marked(app, probe, login):
    from SpiffWorkflow.util.task import TaskState

    from engine.models import Instance
    from engine.workdays.store import load_calendar
    from engine.workflow.deploy import model_of
    from webapp.extensions import db

    instance_id, _ = review(login, probe, "approve")

    with app.app_context():
        runtime = app.extensions["pressflow_runtime"]
        instance = db.session.get(Instance, instance_id)
        workflow = runtime.load(model_of(runtime, instance.version), instance.state, load_calendar(db.session))
        failed = [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.ERROR)]
        db.session.remove()
    assert failed == ["tally_budget"]


def test_review_that_led_to_the_incident_cannot_be_submitted_again(app, probe, login):
    leader = login("yz_leader")
    instance_id = leader.post("/instances", json={"process": probe}).get_json()["id"]
    task_id = leader.task_at(instance_id, "budget_review")["id"]
    first = leader.post(f"/tasks/{task_id}/complete", json={"data": {"decision": "approve", "comment": ""}})
    assert first.status_code == 200, first.get_json()

    again = leader.post(f"/tasks/{task_id}/complete", json={"data": {"decision": "approve", "comment": ""}})

    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "conflict"
    assert [t for t in leader.tasks() if t["instance_id"] == instance_id] == []


def test_rejecting_in_the_probe_ends_normally_without_an_incident(app, probe, login):
    instance_id, answered = review(login, probe, "reject", comment="经费不足")

    assert answered["status"] == "completed"
    assert answered["outcome"] == "rejected"
    assert answered["incident"] is None
    assert "incident" not in [h["action"] for h in history(login("supervisor"), instance_id)]
