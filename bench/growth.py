"""Section 5, growth: the cost of one task completion in an instance with 10, 100 and 1,000 completed tasks.

Each instance is started through the engine; its history is then grown in memory (the leader returns the topic
application, the clerk submits it again, over and over: two completed tasks per round) and stored through the
engine's ``save_workflow``, with one completed task row and one audit row per completed task, as the engine would
have left them. Then ``complete_task`` is timed through the engine on the grown instance (alternately the
resubmission and the return, so it stays the same size give or take two tasks).

SpiffWorkflow 3.2 walks the task tree with ``TaskIterator(max_depth=1000)``, and every return round makes the tree
four levels deeper (application, review, gateway, merge); engine.workflow.runtime lifts that limit (past ~250 rounds
the newest tasks used to fall out of ``get_tasks`` and ``is_completed()`` turned true), so the issue's 1,000
completed tasks are measured as they are.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench.engine_bench import EngineBench
from bench.floor import complete_ready
from bench.scenario import SUBMITTED_AT, USER_STEPS, Step, spiff_values
from bench.server import sql_engine
from engine import clock
from engine.models import AuditEntry, HumanTask, Instance
from engine.workdays.store import load_calendar
from engine.workflow.deploy import load_workflow, model_of
from engine.workflow.uow import save_workflow, unit_of_work

TOPIC = USER_STEPS[0]
RETURN = Step("leader_review", "yz_leader", {"decision": "return", "comment": "请补充材料"})


def grow(bench: EngineBench, instance_id: int, completed: int) -> None:
    """Give the instance ``completed`` completed tasks (an even number), in memory, then store it."""
    with bench.sessions() as session, unit_of_work(session):
        instance = session.get(Instance, instance_id)
        assert instance is not None
        calendar = load_calendar(session)
        workflow = load_workflow(bench.runtime, instance, calendar)
        now = clock.now()
        for _ in range(completed // 2):
            for step in (TOPIC, RETURN):
                complete_ready(workflow, step.bpmn_id, spiff_values(step) if "decision" in (step.data or {})
                               else dict(step.data or {}))
                workflow.do_engine_steps()
                session.add(HumanTask(spiff_task_id="grown", instance_id=instance_id, name=step.bpmn_id,
                                      bpmn_id=step.bpmn_id, form_key=step.bpmn_id, candidate_roles=[],
                                      unit_id=instance.unit_id, created_at=now, completed_at=now,
                                      completed_by=step.actor, closed_reason="completed"))
                session.add(AuditEntry(instance_id=instance_id, at=now, actor=step.actor, action="complete",
                                       bpmn_id=step.bpmn_id))
        save_workflow(session, bench.runtime, instance, workflow, calendar)


def completion_cost(bench: EngineBench, instance_id: int, completions: int, *, restored: bool = False) -> float:
    """Median ms of ``completions`` completions (resubmit, return, resubmit …) on the instance.

    ``restored``: each completion restores the workflow from its stored state, as a process that did not save it
    last does (otherwise the bench's runtime continues the workflow it kept, see engine.workflow.live)."""
    times = []
    for index in range(completions):
        step = TOPIC if index % 2 == 0 else RETURN
        if restored:
            bench.runtime.live.clear()
        started = time.perf_counter()
        bench.complete(instance_id, step)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _tree_size(bench: EngineBench, instance_id: int) -> int:
    with bench.sessions() as session:
        instance = session.get(Instance, instance_id)
        assert instance is not None
        return len(bench.runtime.load(model_of(bench.runtime, instance.version), instance.state,
                                      load_calendar(session)).tasks)


def run(database_url: str, sizes: tuple[int, ...], completions: int) -> dict[str, Any]:
    """Measure the completion cost at each size; the ratio of the largest to the smallest."""
    db = sql_engine(database_url)
    frozen = clock.FrozenClock(SUBMITTED_AT)
    clock.set_clock(frozen)
    clock.install_spiff_clock()
    try:
        bench = EngineBench(db, frozen)
        figures: dict[str, Any] = {}
        for size in sizes:
            instance_id = bench.start()
            grow(bench, instance_id, size)
            completion_cost(bench, instance_id, 2)  # warm-up
            with bench.sessions() as session:
                state_kib = len((session.get(Instance, instance_id) or Instance(state="")).state) / 1024
            figures[str(size)] = {
                "completion_ms": round(completion_cost(bench, instance_id, completions), 2),
                "restored_ms": round(completion_cost(bench, instance_id, completions, restored=True), 2),
                "state_kib": round(state_kib, 1), "spiff_tasks": _tree_size(bench, instance_id)}
    finally:
        clock.set_clock(None)
        db.dispose()
    smallest, largest = figures[str(sizes[0])], figures[str(sizes[-1])]
    return {"sizes": figures, "ratio": round(largest["completion_ms"] / smallest["completion_ms"], 2),
            "restored_ratio": round(largest["restored_ms"] / smallest["restored_ms"], 2)}
