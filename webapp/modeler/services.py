"""What the modeler pages ask of the engine: overviews of the deployed models, validation and deployment.

A small adapter, so the views never depend on how the engine names these things: validation and deployment go
through the same engine code as ``pressflow deploy``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import ModelError, NotFound
from engine.modeling import versions
from engine.modeling.validation import validate_model
from engine.modeling.versions import ChangeSummary, VersionSummary
from engine.modeling.xmlsafe import parse_model_xml
from engine.models import ProcessVersion, User
from engine.workflow.deploy import Deployment, deploy, latest_version, latest_versions
from engine.workflow.runtime import ProcessRuntime

Problem = dict[str, Any]


@dataclass
class ProcessSummary:
    """A deployed process: its newest version and how many applications run on each version."""

    current: ProcessVersion
    running: dict[int, int] = field(default_factory=dict)  # version number → running instances

    @property
    def key(self) -> str:
        return self.current.process_key


@dataclass
class DecisionSummary:
    """A decision table used by deployed processes, and the deployment that brought its current content."""

    decision_id: str
    name: str
    used_by: list[ProcessVersion]
    since: ProcessVersion

    @property
    def file(self) -> str:
        return f"{self.decision_id}.dmn"


# --- reading -----------------------------------------------------------------------------------


def process_summaries(session: Session) -> list[ProcessSummary]:
    """Every deployed process with its current version and running instances per version number."""
    counts = versions.running_counts(session)
    numbers = dict(session.execute(select(ProcessVersion.id, ProcessVersion.version)).tuples().all())
    summaries = {v.process_key: ProcessSummary(v) for v in latest_versions(session)}
    keys = dict(session.execute(select(ProcessVersion.id, ProcessVersion.process_key)).tuples().all())
    for version_id, count in sorted(counts.items(), key=lambda item: numbers[item[0]]):
        summaries[keys[version_id]].running[numbers[version_id]] = count
    return list(summaries.values())


def display_names(session: Session, usernames: list[str]) -> dict[str, str]:
    """The display name of each username (unknown names, such as "tests" or a CLI user, stay as they are)."""
    found = dict(session.execute(select(User.username, User.display_name)
                                 .where(User.username.in_(set(usernames)))).tuples().all())
    return {name: found.get(name, name) for name in usernames}


def versions_of(session: Session, process_key: str) -> list[VersionSummary]:
    """Every version of a process, newest first (who, when, note, hash, running instances), or NotFound."""
    return versions.list_versions(session, process_key)


def version_of(session: Session, process_key: str, number: int) -> ProcessVersion:
    """One version of a process, or NotFound."""
    return versions.get_version(session, process_key, number)


def changes_from_previous(session: Session, process_key: str, listed: list[VersionSummary],
                          limit: int = 20) -> dict[int, ChangeSummary]:
    """What each of the newest ``limit`` versions changed against the version before it, by version number."""
    return {v.version: versions.version_changes(session, process_key, v.version - 1, v.version)
            for v in listed[:limit] if v.version > 1}


def decision_summaries(session: Session) -> list[DecisionSummary]:
    """Every decision table in the current versions of the deployed processes."""
    found: dict[str, DecisionSummary] = {}
    for version in latest_versions(session):
        for dmn in version.dmn_xml:
            for decision_id, name in decisions_in(dmn):
                summary = found.setdefault(decision_id, DecisionSummary(decision_id, name, [], version))
                summary.used_by.append(version)
                summary.since = _deployed_since(session, version, decision_id, dmn)
    return sorted(found.values(), key=lambda s: s.decision_id)


def decision_xml(session: Session, decision_id: str) -> str:
    """The current DMN file holding the decision, or NotFound."""
    for version in latest_versions(session):
        dmn = _dmn_with(version, decision_id)
        if dmn is not None:
            return dmn
    raise NotFound(_("决策表 %(id)s 不存在", id=decision_id))


def decisions_in(dmn_xml: str) -> list[tuple[str, str]]:
    """The (id, name) of every decision in a DMN file."""
    root = parse_model_xml(dmn_xml, "DMN").getroot()
    return [(el.get("id", ""), el.get("name") or el.get("id", ""))
            for el in root.iter() if isinstance(el.tag, str) and el.tag.rsplit("}", 1)[-1] == "decision"]


def _dmn_with(version: ProcessVersion, decision_id: str) -> str | None:
    return next((dmn for dmn in version.dmn_xml if decision_id in dict(decisions_in(dmn))), None)


def _deployed_since(session: Session, current: ProcessVersion, decision_id: str, dmn: str) -> ProcessVersion:
    """The oldest version of the process from which on the decision has had this very content."""
    since = current
    older = session.scalars(select(ProcessVersion).where(
        ProcessVersion.process_key == current.process_key, ProcessVersion.version < current.version,
    ).order_by(ProcessVersion.version.desc()))
    for version in older:
        if _dmn_with(version, decision_id) != dmn:
            break
        since = version
    return since


# --- validating and deploying -----------------------------------------------------------------


def validate_process(bpmn_xml: str, dmn_xmls: list[str]) -> list[Problem]:
    """Every problem of a BPMN model (with the DMN files it calls), as ``{element_id, message}``; never raises."""
    return validate_model(bpmn_xml, dmn_xmls)


def check_process(session: Session, process_key: str, bpmn_xml: str) -> list[Problem]:
    """Every problem of a BPMN model edited as ``process_key``, checked with the DMN files it deploys with."""
    return _key_problems(bpmn_xml, process_key) + validate_process(bpmn_xml, process_dmns(session, process_key))


def process_dmns(session: Session, process_key: str) -> list[str]:
    """The DMN files a process deploys with: those of its current version (all current ones for a new process)."""
    current = latest_version(session, process_key)
    if current is not None:
        return list(current.dmn_xml)
    return list({dmn: None for version in latest_versions(session) for dmn in version.dmn_xml})


def deploy_process(session: Session, runtime: ProcessRuntime, process_key: str, bpmn_xml: str, username: str,
                   note: str) -> Deployment:
    """Deploy an edited BPMN model as the next version of ``process_key``; ModelError lists what is wrong."""
    problems = _key_problems(bpmn_xml, process_key)
    if problems:
        raise ModelError(_("流程模型未通过校验"), problems)
    return deploy(session, runtime, bpmn_xml, process_dmns(session, process_key), username, note)


def validate_decision(session: Session, decision_id: str, dmn_xml: str) -> list[Problem]:
    """Problems of an edited decision table, checked with every process that uses it."""
    try:
        if decision_id not in dict(decisions_in(dmn_xml)):
            return [{"element_id": None,
                     "message": _("决策表中缺少 ID 为 %(id)s 的决策（流程按此 ID 调用）", id=decision_id)}]
    except ModelError as exc:
        return [{"element_id": None, "message": exc.message}]
    problems: list[Problem] = []
    for version in _users_of(session, decision_id):
        found = validate_process(version.bpmn_xml, _with_decision(version, decision_id, dmn_xml))
        problems.extend(p for p in found if p not in problems)
    return problems


def deploy_decision(session: Session, runtime: ProcessRuntime, decision_id: str, dmn_xml: str, username: str,
                    note: str) -> list[Deployment]:
    """Deploy a new version of every process using the decision, with the edited DMN and the BPMN unchanged."""
    problems = validate_decision(session, decision_id, dmn_xml)
    if problems:
        raise ModelError(_("决策表未通过校验"), problems)
    return [deploy(session, runtime, version.bpmn_xml, _with_decision(version, decision_id, dmn_xml), username, note)
            for version in _users_of(session, decision_id)]


def _users_of(session: Session, decision_id: str) -> list[ProcessVersion]:
    users = [v for v in latest_versions(session) if _dmn_with(v, decision_id) is not None]
    if not users:
        raise NotFound(_("决策表 %(id)s 不存在", id=decision_id))
    return users


def _with_decision(version: ProcessVersion, decision_id: str, dmn_xml: str) -> list[str]:
    old = _dmn_with(version, decision_id)
    return [dmn_xml if dmn == old else dmn for dmn in version.dmn_xml]


def _key_problems(bpmn_xml: str, process_key: str) -> list[Problem]:
    """The editor deploys one process: its executable process must keep the id it is edited under."""
    try:
        root = parse_model_xml(bpmn_xml, "BPMN").getroot()
    except ModelError:
        return []  # validation says what is wrong with the file itself
    ids = [el.get("id") for el in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}process")
           if el.get("isExecutable") == "true"]
    if process_key in ids:
        return []
    found = "、".join(i for i in ids if i) or _("无")
    return [{"element_id": ids[0] if ids else None,
             "message": _("可执行流程的 ID 须为 %(key)s（当前为：%(found)s）", key=process_key, found=found)}]
