"""Attachments on an application: work plan, release text and other materials, checked before storing."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.models import Attachment, Instance, User
from engine.org.access import is_overseer, require_can_act, require_participant, require_visible
from engine.review.applications import _open_task
from engine.workflow.uow import audit, require_instance, unit_of_work

KINDS = {
    "work_plan": "工作方案",
    "release_text": "发布文稿",
    "application_form": "发布会申报表",
    "appointment_document": "任命文件",
    "other": "其他材料",
}

# extension -> (content type, test on the first bytes); the content must match what the name claims
ALLOWED = {
    ".pdf": ("application/pdf", lambda head: head.startswith(b"%PDF-")),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              lambda head: head.startswith(b"PK\x03\x04")),
    ".doc": ("application/msword", lambda head: head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")),
    ".png": ("image/png", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    ".jpg": ("image/jpeg", lambda head: head.startswith(b"\xff\xd8\xff")),
    ".jpeg": ("image/jpeg", lambda head: head.startswith(b"\xff\xd8\xff")),
    ".gif": ("image/gif", lambda head: head[:6] in (b"GIF87a", b"GIF89a")),
    ".txt": ("text/plain; charset=utf-8", lambda head: _is_text(head)),
}


@dataclass(frozen=True)
class Upload:
    """An uploaded file as received from outside."""

    filename: str
    kind: str
    content: bytes


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The sample may end inside a multi-byte character; only an error before its last 3 bytes counts.
        return exc.start >= len(head) - 3
    return b"\x00" not in head


#: A Word file is a zip: what its members may add up to once unpacked, and how far one may expand (zip bombs).
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_EXPANSION = 100


def zip_problem(content: bytes) -> str | None:
    """Say why a zip-based document is refused (damaged, or a zip bomb), reading only its directory, or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError):
        return "Word 文件已损坏或不是有效的 docx 文件"
    unpacked = sum(member.file_size for member in members)
    packed = max(sum(member.compress_size for member in members), 1)
    if unpacked > MAX_UNPACKED_BYTES or (unpacked > 10 * 1024 * 1024 and unpacked / packed > MAX_EXPANSION):
        return f"文件解压后达 {unpacked // 1024 // 1024} MB，疑似压缩炸弹，已拒收"
    return None


def check_upload(upload: Upload, max_bytes: int) -> str:
    """Return the content type of an acceptable upload, or raise InvalidInput naming the problem."""
    errors: dict[str, list[str]] = {}
    if upload.kind not in KINDS:
        errors["kind"] = [f"附件类型须为：{'、'.join(f'{k}（{v}）' for k, v in KINDS.items())}"]
    name = upload.filename.strip()
    extension = name[name.rfind("."):].lower() if "." in name else ""
    allowed = ALLOWED.get(extension)
    if not name or len(name) > 255:
        errors["file"] = ["文件名无效"]
    elif allowed is None:
        errors["file"] = ["只接受 PDF、Word（doc/docx）、图片（png/jpg/gif）和纯文本（txt）文件"]
    elif not upload.content:
        errors["file"] = ["文件为空"]
    elif not allowed[1](upload.content[:4096]):
        errors["file"] = [f"文件内容与扩展名 {extension} 不符"]
    elif extension == ".docx" and (problem := zip_problem(upload.content)):
        errors["file"] = [problem]
    if len(upload.content) > max_bytes:
        errors["file"] = [f"文件超过 {max_bytes // 1024 // 1024} MB 上限"]
    if errors:
        raise InvalidInput("附件未通过检查", fields=errors)
    assert allowed is not None  # noqa: S101 - narrowed by the checks above
    return allowed[0]


def add_attachment(session: Session, actor: User, instance_id: int, upload: Upload, max_bytes: int) -> Attachment:
    """Store an attachment on an application the actor takes part in."""
    content_type = check_upload(upload, max_bytes)
    with unit_of_work(session):
        instance = require_visible(actor, session.get(Instance, instance_id))
        require_participant(actor, instance)
        _require_participant(actor, instance)
        return _store(session, actor, require_instance(session, instance_id), upload, content_type,
                      document_key(upload.kind, upload.filename.strip()))


def add_task_attachment(session: Session, actor: User, task_id: str, upload: Upload, max_bytes: int,
                        replaces: str | None = None) -> Attachment:
    """Upload from a task form, or replace a document by a new version: only whoever may act on the task."""
    with unit_of_work(session):
        # The same lock and checks as completing the task: open, the application running, then role AND unit.
        task, instance = _open_task(session, actor, task_id)
        require_can_act(actor, task)
        if replaces:
            upload = Upload(upload.filename, _kind_of(session, instance.id, replaces), upload.content)
        content_type = check_upload(upload, max_bytes)
        return _store(session, actor, instance, upload, content_type,
                      replaces or document_key(upload.kind, upload.filename.strip()))


def _kind_of(session: Session, instance_id: int, document: str) -> str:
    kind = session.scalar(select(Attachment.kind).where(
        Attachment.instance_id == instance_id, Attachment.document == document).limit(1))
    if kind is None:
        raise InvalidInput("附件未通过检查", fields={"replaces": ["要替换的附件不存在"]})
    return kind


def _store(session: Session, actor: User, instance: Instance, upload: Upload, content_type: str,
           document: str) -> Attachment:
    if instance.status in ("completed", "terminated"):
        raise Forbidden("申请已结束，不能再上传附件")
    previous = session.scalar(select(func.max(Attachment.version)).where(
        Attachment.instance_id == instance.id, Attachment.document == document))
    attachment = Attachment(
        instance_id=instance.id, kind=upload.kind, filename=upload.filename.strip(), content_type=content_type,
        size=len(upload.content), sha256=hashlib.sha256(upload.content).hexdigest(), content=upload.content,
        uploaded_by=actor.username, uploaded_at=clock.now(), document=document, version=(previous or 0) + 1,
    )
    session.add(attachment)
    audit(session, instance, actor.username, "attach", data_changed={
        "kind": upload.kind, "filename": attachment.filename, "version": attachment.version})
    return attachment


def document_key(kind: str, filename: str) -> str:
    """Name the document an upload is a version of: one per kind, or per file name for other materials."""
    return f"other:{filename}" if kind == "other" else kind


def list_attachments(session: Session, actor: User, instance_id: int) -> list[Attachment]:
    """Return the attachments of a visible application, newest last."""
    require_visible(actor, session.get(Instance, instance_id))
    return list(session.scalars(
        select(Attachment).where(Attachment.instance_id == instance_id).order_by(Attachment.id)
    ))


def get_attachment(session: Session, actor: User, instance_id: int, attachment_id: int) -> Attachment:
    """Return one attachment with its content, if the actor may see its application."""
    require_visible(actor, session.get(Instance, instance_id))
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.instance_id != instance_id:
        raise NotFound("附件不存在")
    return attachment


def _require_participant(actor: User, instance: Instance) -> None:
    # Supervisors read everything but take no part in the application itself.
    if is_overseer(actor) and not any(g.unit_id == instance.unit_id for g in actor.grants):
        raise Forbidden("督办人员不能为申请上传附件")
