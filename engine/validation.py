"""PressFlow's own rules for a runnable model, on top of the XSD and the spiff parser."""

from __future__ import annotations

from typing import Any

# The mixin, not bpmn.specs.defaults.UserTask: the spiff parser builds spiff.specs.defaults.UserTask, which only
# shares this base with it.
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask

from engine.access import ROLES
from engine.runtime import ParsedModel
from engine.xmlsafe import parse_model_xml
from forms import FORM_KEYS

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"


def model_problems(model: ParsedModel, bpmn_xml: str) -> list[dict[str, Any]]:
    """List every rule the model breaks, as ``{element_id, message}`` with Chinese messages."""
    problems: list[dict[str, Any]] = []
    for spec in [model.spec, *model.subprocess_specs.values()]:
        for task_spec in spec.task_specs.values():
            if isinstance(task_spec, UserTask):
                problems.extend(_user_task_problems(task_spec))
    problems.extend(_missing_di(bpmn_xml))
    return problems


def _user_task_problems(task_spec: Any) -> list[dict[str, Any]]:
    props = task_spec.extensions.get("properties", {})
    element, found = task_spec.bpmn_id, []
    form_key = props.get("formKey")
    if not form_key:
        found.append("用户任务缺少 formKey 属性")
    elif form_key not in FORM_KEYS:
        found.append(f"formKey “{form_key}” 不是已知表单（可用：{', '.join(FORM_KEYS)}）")
    due = props.get("dueInWorkdays")
    if due is None or not due.isdigit():
        found.append("dueInWorkdays 须为不小于 0 的整数")
    roles = props.get("candidateRoles", "").split()
    if not roles:
        found.append("未指定办理角色（candidateRoles 属性）")
    found.extend(f"未知角色 “{role}”" for role in roles if role not in ROLES)
    return [{"element_id": element, "message": message} for message in found]


def _missing_di(bpmn_xml: str) -> list[dict[str, Any]]:
    root = parse_model_xml(bpmn_xml).getroot()
    drawn = {el.get("bpmnElement") for el in root.iter(f"{{{DI_NS}}}BPMNShape", f"{{{DI_NS}}}BPMNEdge")}
    problems = []
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        for node in process.iter():
            tag = node.tag.split("}")[-1] if isinstance(node.tag, str) else ""
            if _is_drawable(tag) and node.get("id") not in drawn:
                problems.append({"element_id": node.get("id"), "message": f"元素缺少图形信息（DI）：{tag}"})
    return problems


def _is_drawable(tag: str) -> bool:
    return tag.endswith(("Task", "Event", "Gateway")) or tag in ("sequenceFlow", "subProcess", "callActivity")
