"""Approval-chain preview: the steps ahead of an open task and the people who will hold them.

The instance's workflow is restored and played forward in memory (:func:`engine.modeling.dry_run.play_on`): the
open task with what it holds so far, every later step with sample data that takes the positive decision. Nothing is
saved and nobody is notified. A step reached only because an undecided review was assumed to approve is marked
``assumed``: the real path depends on decisions not made yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import select
from sqlalchemy.orm import Session

import forms
from engine.errors import NotFound
from engine.modeling.dry_run import play_on
from engine.models import HumanTask, Instance, RoleGrant, Unit, User
from engine.org.access import require_visible
from engine.review.applications import form_values
from engine.workdays.store import load_calendar
from engine.workflow.deploy import load_workflow
from engine.workflow.runtime import HumanTaskInfo, ProcessRuntime
from engine.workflow.uow import task_placement

#: Steps (tasks completed + timers fired) played at most: enough for the whole press-conference chain.
MAX_STEPS = 40


@dataclass(frozen=True)
class StepAhead:
    """One step the application will reach: its roles in its unit and who holds it."""

    bpmn_id: str
    name: str
    roles: list[str]
    unit_code: str
    unit_name: str
    #: Usernames of the people who will hold the step: its designated assignees, else the role's active holders.
    holders: list[str]
    designated: bool
    #: Reached only if the undecided reviews before it approve.
    assumed: bool


@dataclass
class ChainPreview:
    """The steps ahead in order, where the path ends and whether it rests on assumed approvals."""

    steps: list[StepAhead] = field(default_factory=list)
    #: "end" (the path reaches an end) | "max_steps" | "stalled" | "error"
    stopped: str = "end"
    outcome: str | None = None
    assumed: bool = False
    error: str | None = None


def preview_chain(session: Session, runtime: ProcessRuntime, viewer: User, task_id: str) -> ChainPreview:
    """Play the instance of an open task forward in memory and list the steps ahead with their holders."""
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFound("任务不存在或无权查看")
    instance = require_visible(viewer, task.instance)
    if not task.is_open:
        return ChainPreview(stopped="closed")
    calendar = load_calendar(session)
    workflow = load_workflow(runtime, instance, calendar)
    current = runtime.task(workflow, task.spiff_task_id)
    given = form_values(task, dict(current.data)) if current is not None else {}
    given.pop("decision", None)  # an earlier decision (a return, say) must not be replayed: assume approval
    collector = _Collector(session, runtime, instance)
    result = play_on(runtime, workflow, calendar, instance.version.bpmn_xml, form_data={task.bpmn_id: given},
                     max_steps=MAX_STEPS, on_ready=collector.see)
    error = (result.error or {}).get("message") if result.stopped == "error" else None
    return ChainPreview(collector.steps, result.stopped, result.outcome,
                        any(step.assumed for step in collector.steps), error)


class _Collector:
    """Notes each user task the first time it becomes ready during the play."""

    def __init__(self, session: Session, runtime: ProcessRuntime, instance: Instance) -> None:
        self.session, self.runtime, self.instance = session, runtime, instance
        self.seen: set[str] = set()
        self.steps: list[StepAhead] = []
        self.first = True
        self.decided = False

    def see(self, workflow: BpmnWorkflow) -> None:
        ready = self.runtime.ready_human_tasks(workflow)
        fresh = [info for info in ready if info.task_id not in self.seen]
        self.seen.update(info.task_id for info in ready)
        if not self.first:
            for bpmn_id in dict.fromkeys(info.bpmn_id for info in fresh):
                self.steps.append(self._step([i for i in fresh if i.bpmn_id == bpmn_id]))
        self.first = False
        # The play completes the first ready task next; a review's decision there is assumed, not known.
        if ready and ready[0].form_key in forms.FORM_KEYS and forms.decision_field(ready[0].form_key):
            self.decided = True

    def _step(self, infos: list[HumanTaskInfo]) -> StepAhead:
        placed = [task_placement(self.session, self.instance, info) for info in infos]
        unit = self.session.get(Unit, placed[0][0])
        assert unit is not None  # noqa: S101 - task_placement returns an existing unit
        designated = [assignee for _, assignee in placed if assignee]
        holders = designated or self._holders(infos[0].candidate_roles, unit.id)
        return StepAhead(infos[0].bpmn_id, infos[0].name, infos[0].candidate_roles, unit.code, unit.name,
                         list(dict.fromkeys(holders)), bool(designated), self.decided)

    def _holders(self, roles: list[str], unit_id: int) -> list[str]:
        return list(self.session.scalars(select(User.username).join(RoleGrant).where(
            RoleGrant.role.in_(roles), RoleGrant.unit_id == unit_id, User.active.is_(True))
            .order_by(User.username).distinct()))
