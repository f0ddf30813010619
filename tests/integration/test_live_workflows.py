"""A process continues the workflows it saved without restoring them (engine.workflow.live), and that never
changes what happens: the kept workflow is exactly what was committed, and one another process moved on is not
used."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.models import HumanTask, Instance, User
from engine.review.applications import complete_task
from engine.workflow.runtime import ProcessRuntime
from tests.integration import chain
from webapp.extensions import db


def _stored(app: Any, instance_id: int) -> tuple[str, Any]:
    runtime = app.extensions["pressflow_runtime"]
    with app.app_context():
        instance = db.session.get(Instance, instance_id)
        assert instance is not None
        state, spec = instance.state, runtime.cached_model(instance.version_id).spec
        db.session.remove()
    return state, spec


def test_the_workflow_kept_after_each_step_is_the_state_that_was_committed(app, login):
    runtime = app.extensions["pressflow_runtime"]
    instance_id = chain.apply(login)
    for step in (lambda: chain.through_unit(login, instance_id), lambda: chain.office_accepts(login, instance_id)):
        step()
        state, spec = _stored(app, instance_id)
        kept = runtime.live.take(state, spec)
        assert kept is not None, "the process that saved the step keeps its workflow"
        assert runtime.dump(kept) == state
        runtime.live.keep(state, kept)


def test_a_step_another_process_completed_is_not_answered_with_the_workflow_kept_before_it(app, login):
    instance_id = chain.apply(login)  # this process keeps the workflow waiting at the leader's review
    other = ProcessRuntime()
    other.adopt_models(app.extensions["pressflow_runtime"])
    with app.app_context():
        leader = db.session.scalar(select(User).where(User.username == "yz_leader"))
        task_id = db.session.scalar(select(HumanTask.id).where(
            HumanTask.instance_id == instance_id, HumanTask.bpmn_id == "leader_review",
            HumanTask.completed_at.is_(None)))
        assert leader is not None and task_id is not None
        complete_task(db.session, other, leader, task_id, {"decision": "approve", "comment": "同意"})
        db.session.remove()

    # This process's kept workflow still waits at the leader's review; the database has moved on to secrecy.
    login("yz_secrecy").complete(instance_id, "secrecy_review", {"decision": "pass", "comment": ""})
    assert chain.open_steps(login("office_reviewer"), instance_id) == ["office_topic_review"]
    history = [(e["action"], e["bpmn_id"]) for e in login("yz_clerk").get(f"/instances/{instance_id}/history")
               .get_json() if e["action"] == "complete"]
    assert history == [("complete", "topic_application"), ("complete", "leader_review"),
                       ("complete", "secrecy_review")]
