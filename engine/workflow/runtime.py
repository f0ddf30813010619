"""A thin facade over SpiffWorkflow: parse and cache specs, start, load, save and advance workflows.

Callers never touch ``BpmnWorkflow`` internals or the serializer; they go through :class:`ProcessRuntime`.
Instances are serialized without their spec: the spec comes from the cached, deployed version.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.util.diff import WorkflowDiff, diff_workflow
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskIterator, TaskState

from engine.errors import ModelError
from engine.modeling.xmlsafe import parse_model_xml
from engine.workdays.calendar import WorkCalendar
from engine.workflow.live import LiveWorkflows
from engine.workflow.scripting import script_functions

_restoring_specs: contextvars.ContextVar[tuple[Any, dict[str, Any]]] = contextvars.ContextVar("specs")

#: How deep SpiffWorkflow may walk a task tree. Its iterators stop at depth 1,000 by default, and every 退回 round
#: that follows the model's own loop makes the tree four levels deeper: past ~250 rounds of one application the
#: newest tasks would vanish from ``get_tasks()`` and ``is_completed()`` would say true, leaving the application
#: "completed" with its open step gone. The tree is finite, so walking all of it is always safe.
TASK_TREE_DEPTH = 1_000_000


def _lift_depth_limit() -> None:
    for iterator in (TaskIterator, BpmnTaskIterator):
        defaults = list(iterator.__init__.__defaults__ or ())
        # (end_at_spec, max_depth, …): the second keyword is the depth in both classes of SpiffWorkflow 3.2.
        if len(defaults) < 2 or defaults[1] not in (1000, TASK_TREE_DEPTH):
            raise RuntimeError(f"SpiffWorkflow's {iterator.__name__} changed its signature: check TASK_TREE_DEPTH")
        defaults[1] = TASK_TREE_DEPTH
        iterator.__init__.__defaults__ = tuple(defaults)


_lift_depth_limit()


TIMER_EVENTS = frozenset({"TimeDateEventDefinition", "DurationTimerEventDefinition", "CycleTimerEventDefinition"})


class InstanceOnlyConverter(BpmnWorkflowConverter):
    """Write a workflow without its spec; restore it with the spec of the instance's deployed version."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        spec, subprocess_specs = _restoring_specs.get()
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _uuid(value: str) -> Any:
    from uuid import UUID

    return UUID(value)


def _build_serializer() -> BpmnWorkflowSerializer:
    config = dict(DEFAULT_CONFIG)
    config[BpmnWorkflow] = InstanceOnlyConverter
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(dt.date, lambda d: {"iso": d.isoformat()}, lambda v: dt.date.fromisoformat(v["iso"]))
    return BpmnWorkflowSerializer(registry)


@dataclass(frozen=True)
class ParsedModel:
    """A parsed, runnable process: what deploy stores and what the runtime caches per version."""

    process_key: str
    name: str
    spec: Any
    subprocess_specs: dict[str, Any]


@dataclass(frozen=True)
class HumanTaskInfo:
    """What the database needs to know about one ready user task."""

    task_id: str
    bpmn_id: str
    name: str
    form_key: str
    candidate_roles: list[str]
    due_in_workdays: int
    instructions: str
    data: dict[str, Any]
    #: Name of a task variable holding the username the task belongs to (会签: one task per approver).
    assignee_variable: str = ""
    #: A deadline in wall-clock hours (emergencies do not wait for Monday); 0 when the step counts working days.
    due_in_hours: int = 0

    @property
    def designated_assignee(self) -> str | None:
        """The username the diagram assigns this task to, if any."""
        value = self.data.get(self.assignee_variable) if self.assignee_variable else None
        return value if isinstance(value, str) and value else None


class ProcessRuntime:
    """Load specs once per deployed version and run workflows against them."""

    def __init__(self) -> None:
        self._specs: dict[int, ParsedModel] = {}
        self._lock = threading.Lock()
        self._serializer = _build_serializer()
        #: Workflows saved by this process, continued without being restored (see engine.workflow.live).
        self.live = LiveWorkflows()

    # --- specs ---------------------------------------------------------------------------------

    @staticmethod
    def parse(bpmn_xml: str, dmn_xmls: Iterable[str] = (), process_key: str | None = None) -> ParsedModel:
        """Parse a BPMN file (and the DMN files it calls) with XSD validation, or raise ModelError."""
        parser = SpiffBpmnParser(validator=VALIDATOR)
        try:
            parser.add_bpmn_xml(parse_model_xml(bpmn_xml, "BPMN"), filename="process.bpmn")
            for index, dmn in enumerate(dmn_xmls):
                parser.add_dmn_xml(parse_model_xml(dmn, "DMN").getroot(), filename=f"decision{index}.dmn")
            key = process_key or _single_executable_process(parser)
            spec = parser.get_spec(key)
            subprocess_specs = parser.get_subprocess_specs(key)
        except ModelError:
            raise
        except (SpiffWorkflowException, ValueError, KeyError) as exc:
            raise ModelError(f"流程无法解析：{exc}", _problems_from(exc)) from exc
        return ParsedModel(key, spec.description or key, spec, subprocess_specs)

    def adopt_models(self, other: ProcessRuntime | None) -> None:
        """Take over the models another runtime parsed, for a database whose versions have the same ids and content
        (a copy of the one it parsed them for)."""
        if other is not None:
            with self._lock:
                self._specs.update(other._specs)

    def cached_model(self, version_id: int) -> ParsedModel | None:
        """Return the parsed model of a version if it was parsed already (no XML needed)."""
        return self._specs.get(version_id)

    def model_for(self, version_id: int, bpmn_xml: str, dmn_xmls: Iterable[str]) -> ParsedModel:
        """Return the parsed model of a deployed version, parsing it only the first time."""
        model = self._specs.get(version_id)
        if model is None:
            with self._lock:
                model = self._specs.get(version_id)
                if model is None:
                    model = self.parse(bpmn_xml, list(dmn_xmls))
                    self._specs[version_id] = model
        return model

    # --- workflows ----------------------------------------------------------------------------

    def start(
        self, model: ParsedModel, calendar: WorkCalendar, data: dict[str, Any], on_task: TaskHook | None = None
    ) -> BpmnWorkflow:
        """Create a workflow with initial data and run it to its first wait state (``on_task`` sees each step)."""
        workflow = BpmnWorkflow(model.spec, model.subprocess_specs, script_engine=self.script_engine(calendar))
        workflow.data.update(data)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
        workflow.do_engine_steps(did_complete_task=on_task)
        return workflow

    def load(self, model: ParsedModel, state: str, calendar: WorkCalendar) -> BpmnWorkflow:
        """Restore a workflow saved by :meth:`dump`: the one this process kept for that very state, if any."""
        kept = self.live.take(state, model.spec)
        if kept is not None:
            kept.script_engine = self.script_engine(calendar)
            return kept
        token = _restoring_specs.set((model.spec, model.subprocess_specs))
        try:
            dct = orjson.loads(state)
            self._serializer.migrate(dct)
            workflow = self._serializer.from_dict(dct)
        finally:
            _restoring_specs.reset(token)
        workflow.script_engine = self.script_engine(calendar)
        return workflow

    def dump(self, workflow: BpmnWorkflow) -> str:
        """Serialize a workflow's state (not its spec) as JSON."""
        registry = self._serializer.registry
        registry._encoder_mode = True
        try:
            dct = self._serializer.to_dict(workflow)
        finally:
            registry._encoder_mode = False
        dct[self._serializer.VERSION_KEY] = self._serializer.VERSION
        return orjson.dumps(dct, default=self._encode_extra).decode("utf-8")

    def _encode_extra(self, obj: Any) -> Any:
        typename = self._serializer.registry.typenames.get(type(obj))
        if typename is not None:
            return self._serializer.registry.convert_to_dict[typename](obj)
        if isinstance(obj, set | frozenset):
            return sorted(obj)
        raise TypeError(f"cannot store {type(obj).__name__} in workflow data")

    def diff(self, workflow: BpmnWorkflow, model: ParsedModel) -> tuple[WorkflowDiff, dict[Any, WorkflowDiff | None]]:
        """Compare a workflow with another version's spec (SpiffWorkflow's diff): for migrating instances."""
        return diff_workflow(self._serializer.registry, workflow, model.spec, model.subprocess_specs)

    @staticmethod
    def script_engine(calendar: WorkCalendar) -> PythonScriptEngine:
        """Return a script engine whose scripts, conditions and timers can call the calendar helpers."""
        return PythonScriptEngine(environment=TaskDataEnvironment(script_functions(calendar)))

    @staticmethod
    def advance(workflow: BpmnWorkflow, on_task: TaskHook | None = None) -> None:
        """Fire due timers and run every engine step that is ready (``on_task`` sees each step run)."""
        _forget_removed_events(workflow)
        workflow.refresh_timers()
        workflow.do_engine_steps(did_complete_task=on_task)

    # --- reading a workflow -------------------------------------------------------------------

    @staticmethod
    def ready_human_tasks(workflow: BpmnWorkflow) -> list[HumanTaskInfo]:
        """Describe every READY user task, with the PressFlow properties from the diagram."""
        return [_describe(t) for t in workflow.get_tasks(state=TaskState.READY, manual=True)]

    @staticmethod
    def open_tasks(workflow: BpmnWorkflow) -> OpenTasks:
        """The READY user tasks (in tree order) and the failed tasks, found in one walk of the task tree.

        The tree holds every task the instance ever ran, so each walk costs as much as its history is long."""
        found = workflow.get_tasks(state=TaskState.READY | TaskState.ERROR)
        return OpenTasks(ready=[t for t in found if t.state == TaskState.READY and t.task_spec.manual],
                         failed=[t for t in found if t.state == TaskState.ERROR])

    @staticmethod
    def describe(tasks: Iterable[SpiffTask]) -> list[HumanTaskInfo]:
        """Describe READY user tasks with the PressFlow properties from the diagram."""
        return [_describe(t) for t in tasks]

    @staticmethod
    def task(workflow: BpmnWorkflow, task_id: str) -> SpiffTask | None:
        """Find a task by its id."""
        from uuid import UUID

        try:
            return workflow.get_task_from_id(UUID(task_id))
        except (ValueError, KeyError, TaskNotFoundException):
            # A send-back (退回) removes the tasks after the step returned to; their old rows point nowhere.
            return None

    @staticmethod
    def next_timer_at(workflow: BpmnWorkflow) -> dt.datetime | None:
        """Return when the earliest waiting timer is due, or None."""
        moments = []
        for event in workflow.waiting_events():
            value = event.value
            if isinstance(value, dict):
                value = value.get("next")
            if event.event_type in TIMER_EVENTS and isinstance(value, str):
                moments.append(_parse_moment(value))
        return min(moments) if moments else None

    @staticmethod
    def outcome(workflow: BpmnWorkflow) -> str | None:
        """Name the end reached: the id of the completed top-level end event, minus ``end_``."""
        ended = [
            t for t in workflow.get_tasks(state=TaskState.COMPLETED)
            if isinstance(t.task_spec, EndEvent) and t.workflow is workflow
        ]
        if not ended:
            return None
        bpmn_id = ended[-1].task_spec.bpmn_id or ""
        outcome = bpmn_id.removeprefix("end_").split("_")[0]
        return outcome or "completed"


@dataclass(frozen=True)
class OpenTasks:
    """What a workflow waits on: its READY user tasks and its failed (ERROR) tasks."""

    ready: list[SpiffTask]
    failed: list[SpiffTask]


def _describe(task: SpiffTask) -> HumanTaskInfo:
    spec = task.task_spec
    props: dict[str, str] = spec.extensions.get("properties", {}) if hasattr(spec, "extensions") else {}
    roles = props.get("candidateRoles", "").split()
    return HumanTaskInfo(
        task_id=str(task.id),
        bpmn_id=spec.bpmn_id,
        name=spec.bpmn_name or spec.bpmn_id,
        form_key=props.get("formKey", ""),
        candidate_roles=roles,
        due_in_workdays=_int(props.get("dueInWorkdays"), 0),
        instructions=spec.extensions.get("instructionsForEndUser", "") or "",
        data=dict(task.data),
        assignee_variable=props.get("assigneeVariable", ""),
        due_in_hours=_int(props.get("dueInHours"), 0),
    )


def _forget_removed_events(workflow: BpmnWorkflow) -> None:
    # SpiffWorkflow 3.2's reset_from_task_id removes a waiting timer's task but leaves it registered for events;
    # refreshing timers would then crash on it (moving an instance back past a timer it waits on).
    registered = workflow.event_manager.tasks
    for task_id, task in list(registered.items()):
        if task.workflow.tasks.get(task_id) is not task:
            del registered[task_id]


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw is not None else default
    except ValueError:
        return default


def _parse_moment(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.astimezone(dt.UTC)


def _single_executable_process(parser: SpiffBpmnParser) -> str:
    ids = parser.get_process_ids()
    executable = [pid for pid in ids if parser.get_process_parser(pid).node.get("isExecutable") == "true"]
    candidates = executable or ids
    if len(candidates) != 1:
        raise ModelError(f"文件须只包含一个可执行流程，实际为 {len(candidates)} 个")
    return candidates[0]


def _problems_from(exc: Exception) -> list[dict[str, Any]]:
    element_id = getattr(exc, "id", None) or getattr(getattr(exc, "task_spec", None), "bpmn_id", None)
    return [{"element_id": element_id, "message": str(exc)}]


TaskHook = Callable[[SpiffTask], None]
