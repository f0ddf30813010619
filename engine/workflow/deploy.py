"""Deploy BPMN/DMN files as immutable process versions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.errors import ModelError
from engine.modeling.validation import check_model
from engine.modeling.xmlsafe import MAX_MODEL_BYTES
from engine.models import Instance, ProcessVersion
from engine.workdays.calendar import WorkCalendar
from engine.workflow.runtime import ParsedModel, ProcessRuntime


@dataclass(frozen=True)
class Deployment:
    version: ProcessVersion
    created: bool


def latest_version(session: Session, process_key: str) -> ProcessVersion | None:
    """Return the newest deployed version of a process."""
    return session.scalar(
        select(ProcessVersion).where(ProcessVersion.process_key == process_key)
        .order_by(ProcessVersion.version.desc()).limit(1)
    )


def latest_versions(session: Session) -> list[ProcessVersion]:
    """Return the newest version of every deployed process."""
    newest = (
        select(ProcessVersion.process_key, func.max(ProcessVersion.version).label("v"))
        .group_by(ProcessVersion.process_key).subquery()
    )
    return list(session.scalars(
        select(ProcessVersion).join(
            newest, (ProcessVersion.process_key == newest.c.process_key) & (ProcessVersion.version == newest.c.v)
        ).order_by(ProcessVersion.process_key)
    ))


def model_of(runtime: ProcessRuntime, version: ProcessVersion) -> ParsedModel:
    """Return the parsed (cached) model of a version."""
    return runtime.cached_model(version.id) or runtime.model_for(version.id, version.bpmn_xml, version.dmn_xml)


def load_workflow(runtime: ProcessRuntime, instance: Instance, calendar: WorkCalendar) -> BpmnWorkflow:
    """Restore an instance's workflow; its version's row is read only when the model is not cached yet."""
    model = runtime.cached_model(instance.version_id) or model_of(runtime, instance.version)
    return runtime.load(model, instance.state, calendar)


def deploy(
    session: Session, runtime: ProcessRuntime, bpmn_xml: str, dmn_xmls: list[str], deployed_by: str, note: str = "",
    *, once: bool = False,
) -> Deployment:
    """Validate and store a new version unless the newest one has the same content. Commits.

    With ``once`` (the shipped processes/ at every ``pressflow init``), content that was ever deployed is not deployed
    again: a process owner's newer version from the editor stays the newest across restarts.
    """
    check = check_model(bpmn_xml, dmn_xmls)
    if check.problems or check.model is None:
        raise ModelError(_refusal(check.problems), check.problems)
    model = check.model
    digest = _content_hash(bpmn_xml, dmn_xmls)
    latest = latest_version(session, model.process_key)
    if latest is not None and (latest.content_hash == digest or once and _ever_deployed(session, model, digest)):
        return Deployment(latest, created=False)
    version = ProcessVersion(
        process_key=model.process_key, name=model.name, version=(latest.version + 1) if latest else 1,
        bpmn_xml=bpmn_xml, dmn_xml=list(dmn_xmls), content_hash=digest, deployed_by=deployed_by, note=note,
    )
    session.add(version)
    try:
        session.commit()
    except IntegrityError:
        # Another process deployed the same version number first (two containers starting together).
        session.rollback()
        return deploy(session, runtime, bpmn_xml, dmn_xmls, deployed_by, note, once=once)
    return Deployment(version, created=True)


def _ever_deployed(session: Session, model: ParsedModel, digest: str) -> bool:
    return session.scalar(select(ProcessVersion.id).where(
        ProcessVersion.process_key == model.process_key, ProcessVersion.content_hash == digest).limit(1)) is not None


def deploy_files(
    session: Session, runtime: ProcessRuntime, paths: list[Path], deployed_by: str, note: str = "",
    *, once: bool = False,
) -> list[Deployment]:
    """Deploy every BPMN file given, each with every DMN file given."""
    bpmn = [p for p in paths if p.suffix == ".bpmn"]
    dmn = [read_model_file(p) for p in paths if p.suffix == ".dmn"]
    if not bpmn:
        raise ModelError("未提供 .bpmn 文件")
    return [deploy(session, runtime, read_model_file(p), dmn, deployed_by, note, once=once) for p in bpmn]


def read_model_file(path: Path) -> str:
    """Read a BPMN/DMN file as UTF-8 text, refusing an oversize file before reading it."""
    if path.stat().st_size > MAX_MODEL_BYTES:
        raise ModelError(f"{path.name}：文件超过 {MAX_MODEL_BYTES // 1024 // 1024} MB 上限")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelError(f"{path.name}：文件不是 UTF-8 编码，请用建模器另存为 UTF-8") from exc


def deploy_directory(session: Session, runtime: ProcessRuntime, directory: Path, deployed_by: str) -> list[Deployment]:
    """Deploy the processes folder: each BPMN file with the folder's DMN files, unless that content ever was."""
    paths = sorted(directory.glob("*.bpmn")) + sorted(directory.glob("*.dmn"))
    return deploy_files(session, runtime, paths, deployed_by, note="pressflow init", once=True)


def _refusal(problems: list[dict[str, Any]]) -> str:
    if len(problems) == 1 and problems[0]["element_id"] is None:
        return str(problems[0]["message"])  # the file as a whole (not XML, too large …): say just that
    return "流程模型未通过校验"


def _content_hash(bpmn_xml: str, dmn_xmls: list[str]) -> str:
    digest = hashlib.sha256(bpmn_xml.encode("utf-8"))
    for dmn in dmn_xmls:
        digest.update(b"\0" + dmn.encode("utf-8"))
    return digest.hexdigest()
