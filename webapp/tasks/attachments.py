"""Attachments inside the task form: upload, replace (a new version) and preview without leaving the task."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app, request, url_for
from flask_babel import gettext as _

import forms
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.models import Attachment, HumanTask
from engine.review import applications, attachments, reviewing
from forms.topic import REQUIRED_ATTACHMENTS
from webapp.applications.files import preview_kind
from webapp.applications.present import Document, documents
from webapp.extensions import db
from webapp.tasks import bp, formdata
from webapp.tasks.present import attachment_url
from webapp.web import current_user, login_required

#: The documents a form cannot be submitted without (the form's own rule; shown here as a checklist).
REQUIRED_BY_FORM = {"topic_application": REQUIRED_ATTACHMENTS}


@dataclass(frozen=True)
class Version:
    """One uploaded version as the task page lists it: where to download it and how to preview it."""

    file: Attachment
    url: str
    preview_url: str
    preview: str | None
    current: bool


@dataclass
class Panel:
    """What the task page's attachments section shows: documents with versions, what is missing, who may upload."""

    documents: list[tuple[Document, list[Version]]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    required: list[str] = field(default_factory=list)
    can_upload: bool = False


def panel(task: HumanTask, files: list[Attachment], acting: bool) -> Panel:
    """Group the application's files by document, newest version first, and list the required ones still missing."""
    required = REQUIRED_BY_FORM.get(task.form_key, {})
    present_kinds = {f.kind for f in files}
    grouped = [(document, [_version(task.instance_id, f, i == 0) for i, f in enumerate(document.versions)])
               for document in documents(files)]
    return Panel(documents=grouped, missing=[_(name) for kind, name in required.items() if kind not in present_kinds],
                 required=[_(name) for name in required.values()], can_upload=acting)


def _version(instance_id: int, file: Attachment, current: bool) -> Version:
    preview_url = url_for("applications.preview", instance_id=instance_id, attachment_id=file.id)
    return Version(file, attachment_url(instance_id, file.id), preview_url, preview_kind(file.content_type), current)


@bp.post("/<task:task_id>/attachments", endpoint="upload")
@login_required
def upload(task_id: str) -> tuple[str, int]:
    """Upload a document (or a new version of one) from the task form; the form's typed values are kept."""
    # Own names: these inputs belong to the task form (form="task-form"), whose fields include a "kind" of their own.
    replaces = request.form.get("attachment_replaces", "")[:300] or None
    file = request.files.get(f"attachment_replace:{replaces}" if replaces else "attachment_file")
    kind = request.form.get("attachment_kind", "")[:40]
    if file is None or not file.filename:
        return _render(task_id, 422, upload_errors=[_("请先选择要上传的文件")], upload_kind=kind)
    received = attachments.Upload(filename=file.filename, kind=kind, content=file.read())
    try:
        stored = attachments.add_task_attachment(db.session, current_user(), task_id, received,
                                                 current_app.config["MAX_CONTENT_LENGTH"], replaces)
    except InvalidInput as exc:
        problems = [m for messages in (exc.fields or {}).values() for m in messages] or [exc.message]
        return _render(task_id, 422, upload_errors=problems, upload_kind=kind)
    except (Forbidden, Conflict) as exc:
        status = 403 if isinstance(exc, Forbidden) else 409
        return _render(task_id, status, upload_errors=[exc.message], upload_kind=kind)
    return _render(task_id, 200, upload_notice=_("已上传：%(name)s（第 %(n)s 版）", name=stored.filename,
                                                  n=stored.version))


def _render(task_id: str, status: int, **state: Any) -> tuple[str, int]:
    from webapp.tasks.views import _task_page  # the task page's one renderer; imported late to avoid a cycle

    task = reviewing.mark_opened(db.session, current_user(), task_id)
    posted = any(f["name"] in request.form for f in forms.describe_form(task.form_key))
    values = formdata.from_post(task.form_key, request.form) if posted else \
        applications.prefill(db.session, current_app.extensions["pressflow_runtime"], task)
    return _task_page(task, values, **state), status
