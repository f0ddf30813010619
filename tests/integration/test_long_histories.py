"""An application with a very long history keeps working: SpiffWorkflow walks task trees only 1,000 levels deep by
default, and every 退回 round through the model's loop adds four levels (engine.workflow.runtime lifts the limit)."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.util.task import TaskState

from engine.models import Instance
from engine.workdays.store import load_calendar
from engine.workflow.deploy import model_of
from engine.workflow.uow import save_workflow, unit_of_work
from tests.integration import chain
from webapp.extensions import db

#: Enough rounds to take the tree past depth 1,000 (4 levels per round).
ROUNDS = 260


def _run(workflow: Any, bpmn_id: str, values: dict[str, Any]) -> None:
    task = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.bpmn_id == bpmn_id)
    task.set_data(**values)
    task.run()
    workflow.do_engine_steps()


def _return_many_times(app: Any, instance_id: int) -> int:
    """Let the leader return the application and the clerk resubmit it ROUNDS times, in memory, then store it as
    the engine does; return the depth of the deepest task."""
    runtime = app.extensions["pressflow_runtime"]
    with app.app_context():
        with unit_of_work(db.session):
            instance = db.session.get(Instance, instance_id)
            assert instance is not None
            calendar = load_calendar(db.session)
            workflow = runtime.load(model_of(runtime, instance.version), instance.state, calendar)
            for _ in range(ROUNDS):
                _run(workflow, "leader_review", {"leader_review_decision": "return", "leader_review_comment": "请补充"})
                _run(workflow, "topic_application", {})
            save_workflow(db.session, runtime, instance, workflow, calendar)
        db.session.remove()
    runtime.live.clear()  # the next action restores the long tree from its state, as another process would
    return max(task.depth for task in workflow.tasks.values())


def test_an_application_returned_hundreds_of_times_keeps_its_open_step_and_goes_on(app, login):
    instance_id = chain.apply(login)

    assert _return_many_times(app, instance_id) > 1000

    leader = login("yz_leader")
    assert leader.get(f"/instances/{instance_id}").get_json()["status"] == "running"
    leader.complete(instance_id, "leader_review", {"decision": "approve", "comment": "同意"})
    assert login("yz_secrecy").task_at(instance_id, "secrecy_review")["name"]
    assert leader.get(f"/instances/{instance_id}").get_json()["status"] == "running"
