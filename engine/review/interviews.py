"""Reporter interview requests (第十二条（六）): the public submission and the steps that name a unit.

A request comes in two ways. Office staff enter it as the first task of ``reporter_interview``; or a reporter sends
the public form, and :func:`submit_public_request` starts the instance for the Office and completes that entry step
with the submitted data in the same unit of work, as the actor ``public``, so the routing step is what the Office
finds. The reporter gets only a receipt number back: nothing of the instance is readable without signing in.

A task whose ``unitFields`` property names form fields must name existing units (not the Office) in them; one whose
``routesToUnit`` names a field moves the instance to that unit on completion, so its staff see the request and the
unit's steps are placed there.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

import forms
from engine import clock
from engine.errors import InvalidInput, NotFound
from engine.models import Instance, Unit
from engine.org.units import office_unit
from engine.workdays.calendar import WorkCalendar
from engine.workdays.store import load_calendar
from engine.workflow.deploy import latest_version, model_of
from engine.workflow.runtime import ProcessRuntime
from engine.workflow.scripting import shanghai_today
from engine.workflow.uow import audit, record_end, record_incident, save_workflow, unit_of_work

PROCESS_KEY = "reporter_interview"
ENTRY_FORM = "interview_request"
PUBLIC_ACTOR = "public"
_RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud over the phone


def submit_public_request(session: Session, runtime: ProcessRuntime, data: Mapping[str, Any]) -> str:
    """Start an interview request from the public form and return its receipt number (the only thing shown)."""
    calendar = load_calendar(session)
    try:  # validated before anything is written
        values = forms.validate_form(ENTRY_FORM, data, _context(calendar))
    except forms.FormError as exc:
        raise InvalidInput("表单填写有误", fields=exc.fields) from exc
    with unit_of_work(session):
        version = latest_version(session, PROCESS_KEY)
        if version is None:
            raise NotFound("记者采访申请流程尚未部署")
        units = {"wished_unit": named_unit(session, "wished_unit", values["wished_unit"])}
        office = office_unit(session)
        receipt = new_receipt()
        workflow = runtime.start(model_of(runtime, version), calendar,
                                 {"unit": office.code, "unit_name": office.name, "unit_kind": office.kind})
        instance = Instance(
            process_key=version.process_key, version_id=version.id, version=version, status="running",
            unit_id=office.id, unit=office, started_by=PUBLIC_ACTOR, started_at=clock.now(), state="",
        )
        session.add(instance)
        session.flush()
        audit(session, instance, PUBLIC_ACTOR, "start", data_changed={"process": version.name,
                                                                       "version": version.version})
        (entry,) = workflow.get_tasks(state=TaskState.READY, manual=True)  # the Office's entry step
        entry.set_data(**values, receipt_no=receipt, wished_unit_name=units["wished_unit"].name)
        audit(session, instance, PUBLIC_ACTOR, "complete", task_name=entry.task_spec.bpmn_name,
              bpmn_id="interview_entry", data_changed={**values, "receipt_no": receipt})
        try:
            entry.run()
            runtime.advance(workflow)
        except (WorkflowTaskException, WorkflowException) as exc:
            record_incident(session, instance, exc, PUBLIC_ACTOR)
        save_workflow(session, runtime, instance, workflow, calendar, actor=PUBLIC_ACTOR)
        record_end(session, instance, PUBLIC_ACTOR)
    return receipt


def apply_unit_fields(session: Session, instance: Instance, spiff_task: Any, values: Mapping[str, Any]) -> None:
    """Check the units a completed task names and move the instance to the one it routes to (see module doc)."""
    props: dict[str, str] = spiff_task.task_spec.extensions.get("properties", {})
    for field in props.get("unitFields", "").split():
        if values.get(field):
            unit = named_unit(session, field, values[field])
            spiff_task.set_data(**{f"{field}_name": unit.name})
    routed = props.get("routesToUnit", "")
    if routed and values.get(routed):
        unit = named_unit(session, routed, values[routed])
        instance.unit_id, instance.unit = unit.id, unit  # the completion's audit row names the unit


def named_unit(session: Session, field: str, code: str) -> Unit:
    """Return the unit (not the Office) with this code, or refuse the field with a clear message."""
    unit = session.scalar(select(Unit).where(Unit.code == code.strip()))
    if unit is None or unit.kind == "office":
        raise InvalidInput("表单填写有误", fields={field: [f"单位代码 {code} 不存在，请从单位列表中选择"]})
    return unit


def new_receipt() -> str:
    """Make a receipt number: the Beijing date and eight random characters (says nothing about other requests)."""
    suffix = "".join(secrets.choice(_RECEIPT_ALPHABET) for _ in range(8))
    return f"CF{shanghai_today():%Y%m%d}-{suffix}"


def _context(calendar: WorkCalendar) -> forms.FormContext:
    def add_workdays(start: Any, days: int) -> tuple[Any, bool]:
        result = calendar.add_workdays(start, days)
        return result.date, result.provisional

    return forms.FormContext(today=shanghai_today(), add_workdays=add_workdays)
