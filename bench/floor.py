"""Section 1, the engine floor: the happy path through bare SpiffWorkflow, in memory and with the state
serialized and restored around every task by the engine's own converter (what each request does)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from bench.measure import repeat
from bench.scenario import (
    CONFERENCE_DAY,
    HAPPY_PATH,
    PROCESS_KEY,
    PROCESSES,
    START_DATA,
    SUBMITTED_AT,
    TIMER,
    after_start,
    spiff_values,
)
from engine import clock
from engine.workdays.calendar import WorkCalendar
from engine.workflow.runtime import ParsedModel, ProcessRuntime

Store = Callable[[BpmnWorkflow], BpmnWorkflow]


def parse_model() -> tuple[ParsedModel, float]:
    """Parse the BPMN and DMN with the spiff parser (XSD-validated); return the model and the ms it took."""
    started = time.perf_counter()
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_files([str(PROCESSES / "press_conference.bpmn")])
    parser.add_dmn_files([str(PROCESSES / "host_speaker.dmn")])
    spec = parser.get_spec(PROCESS_KEY)
    model = ParsedModel(PROCESS_KEY, spec.description or PROCESS_KEY, spec, parser.get_subprocess_specs(PROCESS_KEY))
    return model, (time.perf_counter() - started) * 1000


class RawEngine:
    """Bare SpiffWorkflow with the product's script functions and, optionally, the product's converter."""

    def __init__(self, frozen: clock.FrozenClock) -> None:
        self.frozen = frozen
        self.model, self.parse_ms = parse_model()
        self.calendar = WorkCalendar()
        self.runtime = ProcessRuntime()
        self.script_engine: PythonScriptEngine = self.runtime.script_engine(self.calendar)

    def in_memory(self, workflow: BpmnWorkflow) -> BpmnWorkflow:
        """Keep the workflow as it is between steps."""
        return workflow

    def round_trip(self, workflow: BpmnWorkflow) -> BpmnWorkflow:
        """Serialize and restore the state (no spec), as every unit of work does."""
        return self.runtime.load(self.model, self.runtime.dump(workflow), self.calendar)

    def start(self) -> BpmnWorkflow:
        """Create a workflow with the unit's data and run it to the first user task."""
        self.frozen.set(SUBMITTED_AT)
        workflow = BpmnWorkflow(self.model.spec, self.model.subprocess_specs, script_engine=self.script_engine)
        workflow.data.update(START_DATA)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(START_DATA)
        workflow.do_engine_steps()
        return workflow

    def lifecycle(self, store: Store) -> BpmnWorkflow:
        """Run the happy path, passing the workflow through ``store`` after every step."""
        workflow = store(self.start())
        for step in HAPPY_PATH:
            if step.bpmn_id == TIMER:
                self.frozen.set(after_start(CONFERENCE_DAY))
                workflow.refresh_timers()
            else:
                complete_ready(workflow, step.bpmn_id, spiff_values(step))
            workflow.do_engine_steps()
            workflow = store(workflow)
        if not workflow.is_completed():
            raise RuntimeError("the raw lifecycle did not reach its end")
        return workflow


def complete_ready(workflow: BpmnWorkflow, bpmn_id: str, values: dict[str, Any]) -> None:
    """Set the data of the READY user task ``bpmn_id`` and run it."""
    task = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.bpmn_id == bpmn_id)
    task.set_data(**values)
    task.run()


def run(runs: int, frozen: clock.FrozenClock) -> dict[str, Any]:
    """Measure both floors; return their figures."""
    raw = RawEngine(frozen)
    memory = repeat(lambda: raw.lifecycle(raw.in_memory), runs, warmup=2)
    serialized = repeat(lambda: raw.lifecycle(raw.round_trip), runs, warmup=2)
    state_kib = len(raw.runtime.dump(raw.lifecycle(raw.in_memory)).encode()) / 1024
    return {"parse_ms": round(raw.parse_ms, 1), "in_memory": memory.summary(), "serialized": serialized.summary(),
            "final_state_kib": round(state_kib, 1)}
