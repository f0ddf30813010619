"""Turn engine rows into the API's JSON shapes."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import fields
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.models import Attachment, AuditEntry, HumanTask, Instance
from webapp.api import schemas
from webapp.audit_texts import audit_text


def task_dict(task: HumanTask) -> dict[str, Any]:
    """Describe a task row."""
    return {
        "id": task.id, "instance_id": task.instance_id, "instance_title": task.instance.title, "name": task.name,
        "bpmn_id": task.bpmn_id, "form": task.form_key, "candidate_roles": task.candidate_roles,
        "unit": task.unit.code, "assignee": task.assignee, "created_at": task.created_at, "due_at": task.due_at,
        "due_provisional": task.due_provisional,
        "overdue": task.is_open and task.due_at is not None and task.due_at < clock.now(),
        "completed_at": task.completed_at, "completed_by": task.completed_by, "on_behalf_of": task.on_behalf_of,
        "returned_by": task.returned_by, "returned_comment": task.returned_comment, "opened_at": task.opened_at,
        "sign_group_id": task.sign_group_id,
    }


def instance_dict(session: Session, instance: Instance) -> dict[str, Any]:
    """Describe an instance with its open tasks and current data."""
    tasks = session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.completed_at.is_(None))
        .order_by(HumanTask.created_at, HumanTask.bpmn_id)
    )
    return {
        "id": instance.id, "process": instance.process_key, "version": instance.version.version,
        "status": instance.status, "title": instance.title, "unit": instance.unit.code,
        "started_by": instance.started_by, "started_at": instance.started_at, "ended_at": instance.ended_at,
        "outcome": instance.outcome, "next_timer_at": instance.next_timer_at, "incident": instance.incident,
        "tasks": [task_dict(t) for t in tasks], "data": instance.data or {},
    }


def history_dict(entry: AuditEntry, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Describe one audit row: ``comment`` in words (request language), ``note`` only what a person wrote."""
    return {
        "at": entry.at, "actor": entry.actor, "action": entry.action, "task": entry.task_name,
        "bpmn_id": entry.bpmn_id, "comment": audit_text(entry, names), "note": entry.comment,
        "data": entry.data_changed,
        "on_behalf_of": entry.on_behalf_of,
    }


def attachment_dict(attachment: Attachment) -> dict[str, Any]:
    """Describe an attachment (without its content)."""
    return {
        "id": attachment.id, "instance_id": attachment.instance_id, "kind": attachment.kind,
        "filename": attachment.filename, "content_type": attachment.content_type, "size": attachment.size,
        "sha256": attachment.sha256, "uploaded_by": attachment.uploaded_by, "uploaded_at": attachment.uploaded_at,
        "version": attachment.version, "document": attachment.document,
    }


def dump(schema: type[schemas.Schema], value: Any, many: bool = False) -> Any:
    """Serialize through the contract schema so the API never drifts from its OpenAPI description.

    A list of a flat schema's records (strings, numbers, booleans, ISO datetimes, lists of strings: an inbox page of
    100 tasks) is written by converters read off the same schema's fields, as marshmallow would write them but
    without its per-value machinery (a fifth of an inbox request); anything else goes through marshmallow."""
    flat = _flat_dumper(schema) if many else None
    if flat is not None:
        return [flat(item) for item in value]
    return schema(many=many).dump(value)


_Converter = Callable[[Any], Any]
_ABSENT = object()


def _as_it_is(value: Any) -> Any:
    return value


def _text_list(value: Any) -> list[str]:
    return [str(item) for item in value]


@functools.cache
def _flat_dumper(schema: type[schemas.Schema]) -> Callable[[Any], dict[str, Any]] | None:
    instance = schema()
    if instance.Meta is not schemas.Schema.Meta or instance._hooks:  # noqa: SLF001 - marshmallow keeps hooks there
        return None
    plan: list[tuple[str, str, _Converter]] = []
    for name, field in instance.dump_fields.items():
        converter = _flat_converter(field)
        if converter is None:
            return None
        plan.append((field.data_key or name, field.attribute or name, converter))

    def write(item: Any) -> dict[str, Any]:
        # A record is a mapping or an object with attributes (an ORM row), as marshmallow's get_value reads them;
        # what the record does not have is left out, as marshmallow leaves it out.
        read = item.get if isinstance(item, Mapping) else functools.partial(getattr, item)
        out = {}
        for key, attribute, converter in plan:
            value = read(attribute, _ABSENT)
            if value is not _ABSENT:
                out[key] = None if value is None else converter(value)
        return out

    return write


def _flat_converter(field: fields.Field) -> _Converter | None:
    if type(field) is fields.DateTime and field.format in (None, "iso", "iso8601"):
        return dt.datetime.isoformat
    if type(field) is fields.String:
        return str
    if type(field) is fields.Integer and not field.as_string and not field.strict:
        return int
    if type(field) is fields.Boolean:
        return _as_it_is  # marshmallow 4 writes a Boolean field's value unchanged
    if type(field) is fields.List and type(field.inner) is fields.String:
        return _text_list
    return None
