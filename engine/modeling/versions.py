"""Deployed versions of a process and what changed between two of them.

The change summary compares the XML element by element (by id): what was added, removed and changed, and for each
change the properties a process owner cares about (name, form, deadline, roles, conditions, scripts, timers, lanes,
decision rules). A diagram that was only moved about shows as ``layout_changed``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.modeling.model_rules import DI_NS, B, S, local_name, pressflow_properties
from engine.modeling.xmlsafe import parse_model_xml
from engine.models import Instance, ProcessVersion

ENDED = ("completed", "terminated")

TYPE_LABELS = {
    "process": "流程", "participant": "池", "lane": "泳道", "sequenceFlow": "连线", "userTask": "用户任务",
    "manualTask": "手工任务", "scriptTask": "脚本任务", "businessRuleTask": "业务规则任务", "serviceTask": "服务任务",
    "task": "任务", "subProcess": "子流程", "callActivity": "调用活动", "startEvent": "开始事件",
    "endEvent": "结束事件",
    "intermediateCatchEvent": "中间事件", "intermediateThrowEvent": "中间事件", "boundaryEvent": "边界事件",
    "exclusiveGateway": "排他网关", "parallelGateway": "并行网关", "inclusiveGateway": "包容网关",
    "eventBasedGateway": "事件网关", "decision": "决策", "rule": "决策规则", "input": "决策输入", "output": "决策输出",
}
PROPERTY_LABELS = {
    "name": "名称", "formKey": "表单", "dueInWorkdays": "办理期限（工作日）", "dueInHours": "办理期限（小时）",
    "candidateRoles": "办理角色",
    "assigneeVariable": "指定办理人变量", "role": "角色", "condition": "条件", "default": "默认出口",
    "source": "起点", "target": "终点", "script": "脚本", "preScript": "前置脚本", "postScript": "后置脚本",
    "timer": "定时", "lane": "泳道", "instructions": "办理说明", "documentation": "说明",
    "calledDecisionId": "决策表", "calledElement": "被调用流程", "attachedTo": "附着于", "type": "类型",
    "hitPolicy": "命中策略", "expression": "表达式", "description": "说明", "variable": "变量名",
}


@dataclass(frozen=True)
class VersionSummary:
    """One deployed version as the version list shows it."""

    id: int
    process_key: str
    name: str
    version: int
    deployed_by: str
    deployed_at: dt.datetime
    note: str
    content_hash: str
    #: Instances on this version that have not ended (running, waiting, suspended or in error).
    running: int
    is_current: bool


@dataclass(frozen=True)
class PropertyChange:
    property: str
    label: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class ElementChange:
    """An element added, removed or changed, by id; ``changes`` lists its changed properties."""

    id: str
    type: str
    type_label: str
    name: str
    source: str  # "bpmn" | "dmn"
    changes: list[PropertyChange] = field(default_factory=list)


@dataclass(frozen=True)
class ChangeSummary:
    added: list[ElementChange]
    removed: list[ElementChange]
    changed: list[ElementChange]
    layout_changed: bool

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.layout_changed)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for the API and templates."""
        return asdict(self)


# --- listing --------------------------------------------------------------------------------------------------


def running_counts(session: Session, process_key: str | None = None) -> dict[int, int]:
    """Count the instances that have not ended, per version id."""
    query = select(Instance.version_id, func.count()).where(Instance.status.not_in(ENDED))
    if process_key is not None:
        query = query.where(Instance.process_key == process_key)
    return dict(session.execute(query.group_by(Instance.version_id)).tuples().all())


def list_versions(session: Session, process_key: str) -> list[VersionSummary]:
    """Every version of a process, newest first, with who deployed it, when, why, its hash and running count."""
    versions = list(session.scalars(
        select(ProcessVersion).where(ProcessVersion.process_key == process_key).order_by(ProcessVersion.version.desc())
    ))
    if not versions:
        raise NotFound(f"流程 {process_key} 不存在")
    counts = running_counts(session, process_key)
    return [
        VersionSummary(
            id=v.id, process_key=v.process_key, name=v.name, version=v.version, deployed_by=v.deployed_by,
            deployed_at=v.deployed_at, note=v.note, content_hash=v.content_hash, running=counts.get(v.id, 0),
            is_current=v is versions[0],
        ) for v in versions
    ]


def get_version(session: Session, process_key: str, number: int) -> ProcessVersion:
    """One version of a process by its number, or NotFound."""
    version = session.scalar(select(ProcessVersion).where(
        ProcessVersion.process_key == process_key, ProcessVersion.version == number))
    if version is None:
        raise NotFound(f"流程 {process_key} 没有第 {number} 版")
    return version


# --- comparing ------------------------------------------------------------------------------------------------


def version_changes(session: Session, process_key: str, old_number: int, new_number: int) -> ChangeSummary:
    """What changed from version ``old_number`` to ``new_number`` of a process (NotFound for a missing one)."""
    old, new = get_version(session, process_key, old_number), get_version(session, process_key, new_number)
    return compare_models(old.bpmn_xml, old.dmn_xml, new.bpmn_xml, new.dmn_xml)


def compare_models(
    old_bpmn: str, old_dmns: Iterable[str], new_bpmn: str, new_dmns: Iterable[str]
) -> ChangeSummary:
    """Compare two models (deployed or a draft): elements added, removed and changed, by id.

    Raises ModelError if either side is not readable XML (validate a draft first).
    """
    old_roots = [parse_model_xml(old_bpmn, "BPMN").getroot()]
    new_roots = [parse_model_xml(new_bpmn, "BPMN").getroot()]
    old = _bpmn_elements(old_roots[0]) | _dmn_elements([parse_model_xml(d, "DMN").getroot() for d in old_dmns])
    new = _bpmn_elements(new_roots[0]) | _dmn_elements([parse_model_xml(d, "DMN").getroot() for d in new_dmns])
    added = [_change(key, new[key]) for key in new if key not in old]
    removed = [_change(key, old[key]) for key in old if key not in new]
    changed = []
    for key in old.keys() & new.keys():
        diffs = _property_changes(old[key], new[key])
        if diffs:
            changed.append(_change(key, new[key], diffs))
    layout = _layout(old_roots[0]) != _layout(new_roots[0])
    order = list(new) + [k for k in old if k not in new]
    return ChangeSummary(
        added=added, removed=removed, changed=sorted(changed, key=lambda c: order.index((c.source, c.id))),
        layout_changed=layout,
    )


Facts = dict[str, str | None]


def _change(key: tuple[str, str], facts: Facts, diffs: list[PropertyChange] | None = None) -> ElementChange:
    kind = facts.get("type") or ""
    return ElementChange(id=key[1], type=kind, type_label=TYPE_LABELS.get(kind, kind), name=facts.get("name") or "",
                         source=key[0], changes=diffs or [])


def _property_changes(old: Facts, new: Facts) -> list[PropertyChange]:
    names = list(old) + [n for n in new if n not in old]
    return [PropertyChange(n, PROPERTY_LABELS.get(n, n), old.get(n), new.get(n))
            for n in names if (old.get(n) or None) != (new.get(n) or None)]


def _bpmn_elements(root: Any) -> dict[tuple[str, str], Facts]:
    lanes = {ref.text.strip(): lane.get("id") for lane in root.iter(f"{B}lane")
             for ref in lane.iterfind(f"{B}flowNodeRef") if ref.text}
    found: dict[tuple[str, str], Facts] = {}
    for container in root.iter(f"{B}process", f"{B}collaboration"):
        for element in container.iter():
            kind = local_name(element)
            if element.get("id") and _compared(kind):
                found[("bpmn", element.get("id"))] = _bpmn_facts(element, kind, lanes)
    return found


def _compared(kind: str) -> bool:
    return kind.endswith(("Task", "Event", "Gateway")) or kind in (
        "process", "participant", "lane", "task", "sequenceFlow", "subProcess", "callActivity",
    )


def _bpmn_facts(element: Any, kind: str, lanes: dict[str, str]) -> Facts:
    facts: Facts = {"type": kind, "name": element.get("name")}
    facts.update(pressflow_properties(element))
    for extension in ("instructionsForEndUser", "preScript", "postScript", "calledDecisionId"):
        text = element.findtext(f"{B}extensionElements/{S}{extension}")
        if text is not None:
            facts["instructions" if extension == "instructionsForEndUser" else extension] = text.strip()
    facts["documentation"] = _text(element.findtext(f"{B}documentation"))
    facts["script"] = _text(element.findtext(f"{B}script"))
    facts["condition"] = _text(element.findtext(f"{B}conditionExpression"))
    for attribute, fact in (("sourceRef", "source"), ("targetRef", "target"), ("default", "default"),
                            ("attachedToRef", "attachedTo"), ("calledElement", "calledElement")):
        facts[fact] = element.get(attribute)
    facts["timer"] = _timer(element)
    facts["lane"] = lanes.get(element.get("id"))
    return {k: v for k, v in facts.items() if v is not None}


def _timer(element: Any) -> str | None:
    for definition in element.iterfind(f"{B}timerEventDefinition"):
        for part in definition:
            if local_name(part) in ("timeDate", "timeDuration", "timeCycle"):
                return f"{local_name(part)}: {_text(part.text) or ''}"
    return None


def _dmn_elements(roots: list[Any]) -> dict[tuple[str, str], Facts]:
    found: dict[tuple[str, str], Facts] = {}
    for root in roots:
        for decision in _children(root, "decision"):
            found[("dmn", decision.get("id", ""))] = {"type": "decision", "name": decision.get("name")}
            for table in _children(decision, "decisionTable"):
                found.update(_decision_table(table))
    return found


def _decision_table(table: Any) -> Iterator[tuple[tuple[str, str], Facts]]:
    # Rule entries are keyed by their column's label (当 … / 则 …), as the decision table shows them.
    inputs = [(el, el.get("label") or _dmn_text(_first(el, "inputExpression")) or el.get("id", ""))
              for el in _children(table, "input")]
    outputs = [(el, el.get("label") or el.get("name") or el.get("id", "")) for el in _children(table, "output")]
    for el, label in inputs:
        yield ("dmn", el.get("id", "")), {"type": "input", "name": label,
                                          "expression": _dmn_text(_first(el, "inputExpression"))}
    for el, label in outputs:
        yield ("dmn", el.get("id", "")), {"type": "output", "name": label, "variable": el.get("name")}
    for rule in _children(table, "rule"):
        facts: Facts = {"type": "rule", "name": _text(rule.findtext("{*}description")) or rule.get("id")}
        for (_, label), entry in zip(inputs, _children(rule, "inputEntry"), strict=False):
            facts[f"当 {label}"] = _dmn_text(entry)
        for (_, label), entry in zip(outputs, _children(rule, "outputEntry"), strict=False):
            facts[f"则 {label}"] = _dmn_text(entry)
        yield ("dmn", rule.get("id", "")), facts


def _children(element: Any, kind: str) -> list[Any]:
    return [child for child in element if local_name(child) == kind]


def _first(element: Any, kind: str) -> Any:
    return next(iter(_children(element, kind)), None)


def _dmn_text(element: Any) -> str | None:
    return _text(element.findtext("{*}text")) if element is not None else None


def _text(value: str | None) -> str | None:
    return value.strip() if value is not None else None


def _layout(root: Any) -> list[tuple[str, str]]:
    # Shapes and edges with their coordinates; ids of DI elements themselves do not matter.
    drawn = []
    for el in root.iter(f"{{{DI_NS}}}BPMNShape", f"{{{DI_NS}}}BPMNEdge"):
        geometry = "".join(etree.tostring(child, encoding="unicode", with_tail=False) for child in el)
        drawn.append((el.get("bpmnElement") or "", geometry))
    return sorted(drawn)
