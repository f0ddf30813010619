"""Dry run: play a process version (or an unsaved model) through in memory to see which path it takes.

Nothing touches the database and nobody is notified: the workflow lives only in this call. Each ready user task is
completed with the form data given for its bpmn id, or else with sample data that takes the positive decision; a
waiting timer fires by moving a fake clock (for this call only) just past it. The run stops at an end event, after
``max_steps`` steps (tasks completed + timers fired), when nothing can move, or at the first error.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState

import forms
from engine import clock
from engine.modeling.dry_run_samples import DEFAULT_START_DATA, sample_form_data
from engine.modeling.model_rules import B
from engine.modeling.validation import check_model
from engine.modeling.xmlsafe import parse_model_xml
from engine.models import ProcessVersion
from engine.workdays.calendar import SHANGHAI, WorkCalendar
from engine.workflow.runtime import ProcessRuntime

FormData = Mapping[str, Mapping[str, Any] | list[Mapping[str, Any]]]
#: Automatic steps (gateways, scripts, events) between two waits: a loop without a wait state would never stop.
ENGINE_STEP_LIMIT = 500


class RunawayLoop(Exception):
    """Automatic steps kept running without ever reaching a user task or a timer."""

    def __init__(self, task: SpiffTask) -> None:
        super().__init__(f"自动环节已连续执行 {ENGINE_STEP_LIMIT} 次仍未停下，疑似没有人工或等待环节的无限循环")
        self.task = task


@dataclass(frozen=True)
class DryRunStep:
    """One thing the run did: a user task completed (with the values used) or a timer fired."""

    bpmn_id: str
    name: str
    kind: str  # "user_task" | "timer"
    at: str  # the fake time, ISO 8601 (UTC)
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DryRunResult:
    """Where a dry run went: the flow nodes passed in order, the flows taken, the end reached or why it stopped."""

    #: Bpmn ids of every flow node completed, in order (a step done twice appears twice).
    path: list[str]
    #: Ids of the sequence flows taken, in order of first use: for drawing the path on the diagram.
    flows: list[str]
    steps: list[DryRunStep]
    #: "end" | "max_steps" | "stalled" (nothing ready, no timer) | "error" | "invalid" (the model cannot run)
    stopped: str
    end: str | None = None
    outcome: str | None = None
    waiting_at: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for the API and templates."""
        return asdict(self)


def dry_run_version(version: ProcessVersion, **options: Any) -> DryRunResult:
    """Dry-run a deployed version; ``options`` as for :func:`dry_run`."""
    return dry_run(version.bpmn_xml, list(version.dmn_xml), **options)


def dry_run(
    bpmn_xml: str, dmn_xmls: list[str], *, form_data: FormData | None = None,
    start_data: Mapping[str, Any] | None = None, max_steps: int = 60, calendar: WorkCalendar | None = None,
    start_at: dt.datetime | None = None,
) -> DryRunResult:
    """Run a model against sample data in memory and report the path taken. Never raises for a bad model.

    ``form_data`` maps a user task's bpmn id to the form values to complete it with (merged over the sample values;
    review forms take ``decision`` and ``comment``); a list gives the values per visit, in order, for steps done
    more than once (``{"leader_review": [{"decision": "return", "comment": "补充"}]}`` returns once, then the
    sample approves). ``start_data`` is merged over the applying unit of a new instance (a 渝中区 district by
    default). The fake clock starts at ``start_at`` (default: now). ``calendar`` defaults to chinesecalendar alone;
    pass ``engine.workdays.store.load_calendar(session)`` to use the imported notices (a read, no write).
    """
    check = check_model(bpmn_xml, dmn_xmls)
    if check.model is None or not check.runnable:
        # Never execute code that did not pass the safety check.
        return DryRunResult([], [], [], "invalid", problems=check.problems,
                            error=check.problems[0] if check.problems else None)
    fake = clock.FrozenClock(start_at or clock.now())
    clock.install_spiff_clock()
    run = _Run(ProcessRuntime(), calendar or WorkCalendar(), fake, form_data or {}, *_links(bpmn_xml))
    with clock.local_clock(fake):
        result = run.play(check.model, {**DEFAULT_START_DATA, **(start_data or {})}, max_steps)
    return replace(result, problems=check.problems)


def play_on(
    runtime: ProcessRuntime, workflow: BpmnWorkflow, calendar: WorkCalendar, bpmn_xml: str, *,
    form_data: FormData | None = None, max_steps: int = 60, on_ready: ReadyHook | None = None,
) -> DryRunResult:
    """Play a restored instance forward in memory from where it stands, as :func:`dry_run` does; nothing is saved.

    ``on_ready`` sees the workflow each time user tasks are ready, before the first of them is completed.
    """
    fake = clock.FrozenClock(clock.now())
    clock.install_spiff_clock()
    run = _Run(runtime, calendar, fake, form_data or {}, *_links(bpmn_xml))
    run.on_ready = on_ready
    with clock.local_clock(fake):
        return run.resume(workflow, max_steps)


ReadyHook = Callable[[BpmnWorkflow], None]


class _Run:
    """The state of one dry run."""

    def __init__(self, runtime: ProcessRuntime, calendar: WorkCalendar, fake: clock.FrozenClock, form_data: FormData,
                 flows: dict[tuple[str | None, str | None], str], joins: set[str]) -> None:
        self.runtime, self.calendar, self.fake = runtime, calendar, fake
        self.form_data, self.flow_ids = form_data, flows
        self.joins = joins
        self.path: list[str] = []
        self.flows: list[str] = []
        self.steps: list[DryRunStep] = []
        self.seen: set[Any] = set()
        self.visits: dict[str, int] = {}
        self.engine_steps = 0
        self.on_ready: ReadyHook | None = None

    def play(self, model: Any, start_data: dict[str, Any], max_steps: int) -> DryRunResult:
        try:
            workflow = self.runtime.start(model, self.calendar, start_data, self._count)
        except Exception as exc:  # noqa: BLE001 - a script or condition failing is what a dry run is for
            return self._result(None, "error", error=_error_of(exc))
        return self.resume(workflow, max_steps)

    def resume(self, workflow: BpmnWorkflow, max_steps: int) -> DryRunResult:
        try:
            self._record(workflow)
            stopped = self._loop(workflow, max_steps)
        except Exception as exc:  # noqa: BLE001 - a script or condition failing is what a dry run is for
            return self._result(workflow, "error", error=_error_of(exc))
        return self._result(workflow, stopped)

    def _loop(self, workflow: BpmnWorkflow, max_steps: int) -> str:
        while not workflow.is_completed():
            if len(self.steps) >= max_steps:
                return "max_steps"
            ready = workflow.get_tasks(state=TaskState.READY, manual=True)
            if ready and self.on_ready is not None:
                self.on_ready(workflow)
            if ready:
                self._complete(workflow, ready[0])
            elif not self._fire_timer(workflow):
                return "stalled"
            self._record(workflow)
        return "end"

    def _complete(self, workflow: BpmnWorkflow, task: SpiffTask) -> None:
        spec = task.task_spec
        props = spec.extensions.get("properties", {}) if hasattr(spec, "extensions") else {}
        form_key = props.get("formKey", "")
        visit = self.visits.get(spec.bpmn_id, 0)
        self.visits[spec.bpmn_id] = visit + 1
        today = self.fake().astimezone(SHANGHAI).date()
        values = {**sample_form_data(form_key, dict(task.data), today), **_given(self.form_data, spec.bpmn_id, visit)}
        self.steps.append(DryRunStep(spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, "user_task", self._now(), values))
        prefix = f"{spec.bpmn_id}_" if form_key in forms.FORM_KEYS and forms.decision_field(form_key) else ""
        task.set_data(**{prefix + name: value for name, value in values.items()})
        task.run()
        self.engine_steps = 0
        self.runtime.advance(workflow, self._count)

    def _fire_timer(self, workflow: BpmnWorkflow) -> bool:
        moment = self.runtime.next_timer_at(workflow)
        if moment is None:
            return False
        waiting = [t for t in workflow.get_tasks(state=TaskState.WAITING) if _waits_for_event(t)]
        self.fake.set(max(self.fake(), moment + dt.timedelta(seconds=1)))
        self.engine_steps = 0
        self.runtime.advance(workflow, self._count)
        fired = [t for t in waiting if t.state == TaskState.COMPLETED] or waiting[:1]
        self.steps.extend(DryRunStep(t.task_spec.bpmn_id or "", t.task_spec.bpmn_name or "", "timer", self._now())
                          for t in fired)
        return True

    def _count(self, task: SpiffTask) -> None:
        self.engine_steps += 1
        if self.engine_steps > ENGINE_STEP_LIMIT:
            raise RunawayLoop(task)

    def _record(self, workflow: BpmnWorkflow) -> None:
        done = [t for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.id not in self.seen]
        for task in sorted(done, key=lambda t: (t.last_state_change, t.depth)):
            self.seen.add(task.id)
            bpmn_id = task.task_spec.bpmn_id
            if not bpmn_id:
                continue
            # A parallel join hangs under one branch only: every branch that reached it came in by its own flow.
            sources = [s for s, t in self.flow_ids if t == bpmn_id and s in self.path] if bpmn_id in self.joins else []
            self.path.append(bpmn_id)
            for source in [_anchor(task), *sources]:
                flow = self.flow_ids.get((source, bpmn_id))
                if flow and flow not in self.flows:
                    self.flows.append(flow)

    def _result(self, workflow: BpmnWorkflow | None, stopped: str, error: dict[str, Any] | None = None) -> DryRunResult:
        end = outcome = None
        waiting: list[str] = []
        data: dict[str, Any] = {}
        if workflow is not None:
            self._record(workflow)
            if workflow.is_completed():
                outcome, end = self.runtime.outcome(workflow), _end_reached(workflow)
            waiting = [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
                       if t.task_spec.bpmn_id and (t.task_spec.manual or _waits_for_event(t))]
            data = _jsonable((workflow.last_task or workflow.task_tree).data)
        return DryRunResult(self.path, self.flows, self.steps, stopped, end=end, outcome=outcome, waiting_at=waiting,
                            error=error, data=data)

    def _now(self) -> str:
        return self.fake().isoformat()


def _waits_for_event(task: SpiffTask) -> bool:
    return task.state == TaskState.WAITING and getattr(task.task_spec, "event_definition", None) is not None


def _end_reached(workflow: BpmnWorkflow) -> str | None:
    ended = [t for t in workflow.get_tasks(state=TaskState.COMPLETED)
             if isinstance(t.task_spec, EndEvent) and t.workflow is workflow]
    return max(ended, key=lambda t: t.last_state_change).task_spec.bpmn_id if ended else None


def _given(form_data: FormData, bpmn_id: str, visit: int) -> dict[str, Any]:
    given = form_data.get(bpmn_id)
    if isinstance(given, list):
        return dict(given[visit]) if visit < len(given) else {}
    return dict(given or {})


def _anchor(task: SpiffTask) -> str | None:
    """The bpmn id of the nearest earlier flow node (SpiffWorkflow puts internal tasks in between)."""
    parent = task.parent
    while parent is not None and not parent.task_spec.bpmn_id:
        parent = parent.parent
    return parent.task_spec.bpmn_id if parent is not None else None


def _links(bpmn_xml: str) -> tuple[dict[tuple[str | None, str | None], str], set[str]]:
    """Sequence flow ids by (source, target), and the parallel gateways that join branches."""
    root = parse_model_xml(bpmn_xml, "BPMN").getroot()
    flows = {(f.get("sourceRef"), f.get("targetRef")): f.get("id", "") for f in root.iter(f"{B}sequenceFlow")}
    joins = {g.get("id", "") for g in root.iter(f"{B}parallelGateway", f"{B}inclusiveGateway")
             if sum(target == g.get("id") for _, target in flows) > 1}
    return flows, joins


def _error_of(exc: Exception) -> dict[str, Any]:
    task = getattr(exc, "task", None)
    spec = task.task_spec if task is not None else getattr(exc, "task_spec", None)
    element_id = getattr(spec, "bpmn_id", None)
    detail = getattr(exc, "error_line", None)
    if isinstance(exc, RunawayLoop):
        return {"element_id": element_id, "message": str(exc)}
    message = f"运行出错：{exc}" + (f"（出错的代码：{detail}）" if detail else "")
    return {"element_id": element_id, "message": message}


def _jsonable(data: Mapping[str, Any]) -> dict[str, Any]:
    kept = {}
    for key, value in data.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            continue
        kept[key] = value
    return kept
