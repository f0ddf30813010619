"""批量审批: one decision and one 审批意见 for several tasks of the same review step, each completed on its own."""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

import forms
from engine.errors import InvalidInput, NotFound, PressflowError
from engine.models import HumanTask, User
from engine.org.access import can_act, can_see
from engine.review.applications import complete_task
from engine.review.delegation import load_delegations
from engine.workflow.runtime import ProcessRuntime
from engine.workflow.scripting import shanghai_today

#: A batch may hold at most this many tasks, so one request stays short.
BATCH_MAX = 100
#: The only fields a form may have to be approved in a batch: a decision and its 审批意见.
BATCH_FIELDS = frozenset({"decision", "comment"})


@dataclass(frozen=True)
class BatchItem:
    """A task of the batch, named the way the reviewer knows it, and why it was refused (if it was)."""

    task_id: str
    #: The application's title and the step; None for a task the actor may not see (named by its id only).
    title: str | None
    step: str | None
    reason: str = ""

    @property
    def name(self) -> str:
        """The task as one phrase: 《title》step, or its id."""
        return f"《{self.title}》{self.step}" if self.step is not None else f"任务 {self.task_id}"


@dataclass
class BatchResult:
    """What a batch did: the tasks completed and those refused, each named."""

    completed: list[BatchItem] = field(default_factory=list)
    refused: list[BatchItem] = field(default_factory=list)


@functools.lru_cache(maxsize=256)
def batchable(form_key: str) -> bool:
    """Tell whether tasks with this form can be approved in a batch (review forms of decision + comment only).

    The forms are code, fixed for the process's life: the answer is kept (the inbox asks it for every row)."""
    try:
        names = {f["name"] for f in forms.describe_form(form_key)}
    except KeyError:
        return False
    return forms.decision_field(form_key) is not None and names == BATCH_FIELDS


@dataclass
class BatchPlan:
    """What a batch would do before it is submitted: its step and form, the tasks ready and those refused."""

    step: str | None = None
    step_name: str = ""
    form_key: str | None = None
    ready: list[BatchItem] = field(default_factory=list)
    refused: list[BatchItem] = field(default_factory=list)


def plan_batch(session: Session, actor: User, task_ids: list[str]) -> BatchPlan:
    """Pick the step most of the chosen tasks share and say which tasks a batch of it would complete."""
    load_delegations(session, actor)
    wanted = list(dict.fromkeys(task_ids))[:BATCH_MAX]
    tasks = {i: session.get(HumanTask, i) for i in wanted}
    fitting = [t for t in tasks.values() if t is not None and _refusal(actor, t) is None]
    plan = BatchPlan()
    if fitting:
        counts = Counter(t.bpmn_id for t in fitting)
        sample = next(t for t in fitting if t.bpmn_id == counts.most_common(1)[0][0])
        plan.step, plan.step_name, plan.form_key = sample.bpmn_id, sample.name, sample.form_key
    for task_id, task in tasks.items():
        reason = _misfit(task, plan.step or "") if task is None else _refusal(actor, task) or _misfit(task, plan.step)
        title, step_name = _named(actor, task)
        (plan.refused if reason else plan.ready).append(BatchItem(task_id, title, step_name, reason or ""))
    return plan


def _refusal(actor: User, task: HumanTask) -> str | None:
    """Why the actor may not approve this task in a batch now, or None."""
    if not can_see(actor, task.instance):
        return "任务不存在或无权查看"
    if not task.is_open:
        return "该任务已办理，不能重复提交"
    if not can_act(actor, task):
        return f"此任务已由 {task.assignee} 认领" if task.assignee else "您没有办理此任务的权限"
    if not batchable(task.form_key):
        return "此环节不能批量审批，请逐件办理"
    return None


def complete_batch(session: Session, runtime: ProcessRuntime, actor: User, task_ids: list[str], step: str,
                   decision: str, comment: str) -> BatchResult:
    """Complete every listed task of ``step`` with the same decision and comment, each in its own unit of work.

    Tasks the actor may not act on (claimed by someone else, another unit, already done, another step) are refused
    and named; the others are completed. A decision or comment the step's form refuses changes nothing.
    """
    wanted = list(dict.fromkeys(task_ids))
    if not wanted or len(wanted) > BATCH_MAX:
        raise InvalidInput("批量审批的任务数量有误", fields={"tasks": [f"请选择 1 到 {BATCH_MAX} 个任务"]})
    load_delegations(session, actor)
    data = {"decision": decision, "comment": comment}
    _check_opinion(session, actor, wanted, step, data)
    result = BatchResult()
    for task_id in wanted:
        task = session.get(HumanTask, task_id)
        title, step_name = _named(actor, task)
        problem = _misfit(task, step)
        if problem is None:
            try:
                complete_task(session, runtime, actor, task_id, dict(data))
            except PressflowError as exc:
                problem = exc.message
        (result.refused if problem else result.completed).append(BatchItem(task_id, title, step_name, problem or ""))
    return result


def _check_opinion(session: Session, actor: User, task_ids: list[str], step: str, data: dict[str, str]) -> None:
    """Validate decision and comment against the step's form once, before anything is completed."""
    visible = [t for t in (session.get(HumanTask, i) for i in task_ids) if t is not None and can_see(actor, t.instance)]
    if not visible:
        raise NotFound("所选任务不存在或无权查看", fields={"tasks": ["请重新在待办中勾选任务"]})
    sample = next((t for t in visible if t.bpmn_id == step), None)
    if sample is None:
        raise InvalidInput("所选任务都不属于这一环节", fields={"tasks": ["请重新选择同一环节的任务"]})
    if not batchable(sample.form_key):
        raise InvalidInput("此环节不能批量审批", fields={"step": ["只有仅含审批结论和审批意见的审核环节可以批量审批"]})
    ctx = forms.FormContext(today=shanghai_today(), add_workdays=lambda day, days: (day, False))
    try:
        forms.validate_form(sample.form_key, data, ctx)
    except forms.FormError as exc:
        raise InvalidInput("审批结论或审批意见有误", fields=exc.fields) from exc


def _misfit(task: HumanTask | None, step: str | None) -> str | None:
    if task is None:
        return "任务不存在或无权查看"
    if task.bpmn_id != step:
        return "不属于所选环节，未办理"
    return None


def _named(actor: User, task: HumanTask | None) -> tuple[str | None, str | None]:
    """Title and step of a task, or nothing for a task the actor may not see."""
    if task is None or not can_see(actor, task.instance):
        return None, None
    return task.instance.title, task.name
