"""PressFlow's rules for a BPMN/DMN model, read straight from the XML so that they all run even when the spiff
parser gives up at its first error (a file from another modeler then shows every problem at once).

Each rule returns ``{element_id, message}`` problems with Chinese messages. The lane → role convention: a lane maps
to the role in its ``spiffworkflow:property name="role"`` (what the editor writes), or else to the part of its id
after ``Lane_`` (``Lane_office_reviewer`` → ``office_reviewer``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from lxml import etree

from engine.modeling.script_safety import code_problems
from engine.org.access import ROLES
from engine.org.units import role_spec_problem, username_problem
from forms import FORM_KEYS

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
B, S = f"{{{BPMN_NS}}}", f"{{{SPIFF_NS}}}"

HUMAN_TASKS = ("userTask", "manualTask")
ADDED_SIGNER_FORM = "sign_opinion"
VENDORS = {
    "http://camunda.org/schema/1.0/bpmn": "Camunda",
    "http://camunda.org/schema/zeebe/1.0": "Camunda 8 (Zeebe)",
    "http://activiti.org/bpmn": "Activiti",
    "http://flowable.org/bpmn": "Flowable",
}
#: Vendor settings that change nothing about what runs (history, async hints, templates): not worth a problem.
HARMLESS_VENDOR = frozenset({
    "asyncBefore", "asyncAfter", "exclusive", "jobPriority", "historyTimeToLive", "versionTag", "modelerTemplate",
    "modelerTemplateVersion", "isStartableInTasklist",
})
UNSUPPORTED = {
    "serviceTask": "服务任务 PressFlow 无法执行（本系统不调用外部服务）：请改为用户任务，或用脚本任务处理数据",
    "sendTask": "发送任务 PressFlow 无法执行（本系统不收发消息）：请改为用户任务",
    "receiveTask": "接收任务 PressFlow 无法执行（本系统不收发消息）：请改为用户任务或定时事件",
}
_ISO_VALUE = re.compile(r"^\s*(R\d*/)?(P[\dYMWDTHS.]+|\d{4}-\d{2}-\d{2}[\dT:+\-.Z]*)(/\S*)?\s*$")
Problem = dict[str, Any]


def problem(element_id: str | None, message: str) -> Problem:
    """One problem as the editor draws it on the diagram."""
    return {"element_id": element_id, "message": message}


def local_name(element: Any) -> str:
    """The tag of an element without its namespace ("" for comments and processing instructions)."""
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def pressflow_properties(element: Any) -> dict[str, str]:
    """The ``spiffworkflow:property`` name → value pairs of an element (formKey, dueInWorkdays, role …)."""
    found = element.iterfind(f"{B}extensionElements/{S}properties/{S}property")
    return {p.get("name", ""): p.get("value") or "" for p in found}


def lane_role(lane: Any) -> str | None:
    """The role a lane stands for: its ``role`` property, else its id after ``Lane_``, else None."""
    role = pressflow_properties(lane).get("role", "").strip()
    if role:
        return role
    lane_id = lane.get("id") or ""
    return lane_id.removeprefix("Lane_") if lane_id.startswith("Lane_") and len(lane_id) > 5 else None


# --- human tasks, lanes, diagram ------------------------------------------------------------------------------


def human_task_problems(root: Any) -> list[Problem]:
    """Every user task needs a known form, a deadline in working days ≥ 0 and known candidate roles."""
    problems: list[Problem] = []
    for kind in HUMAN_TASKS:
        for task in root.iter(f"{B}{kind}"):
            problems.extend(problem(task.get("id"), message) for message in _human_task_messages(task))
    return problems


def _human_task_messages(task: Any) -> Iterator[str]:
    props = pressflow_properties(task)
    form_key = props.get("formKey", "").strip()
    if not form_key:
        yield "用户任务缺少 formKey 属性"
    elif form_key not in FORM_KEYS:
        yield f"formKey “{form_key}” 不是已知表单（可用：{', '.join(FORM_KEYS)}）"
    elif form_key == ADDED_SIGNER_FORM:
        yield f"表单 {ADDED_SIGNER_FORM} 只供加签人提出意见，不能作为流程环节的表单"
    yield from _due_messages(props)
    roles = props.get("candidateRoles", "").split()
    if not roles:
        yield "未指定办理角色（candidateRoles 属性）"
    yield from (f"未知角色 “{role}”（可用：{', '.join(ROLES)}）" for role in roles if role not in ROLES)
    yield from _carbon_copy_messages(props)
    loop = task.find(f"{B}multiInstanceLoopCharacteristics")
    if loop is not None:
        yield from _multi_instance_messages(loop, props.get("assigneeVariable", "").strip())


def _due_messages(props: dict[str, str]) -> Iterator[str]:
    """A deadline is in working days (``dueInWorkdays``) or in wall-clock hours (``dueInHours``), never both."""
    due, hours = props.get("dueInWorkdays"), props.get("dueInHours")
    if due is not None and hours is not None:
        yield "dueInWorkdays 与 dueInHours 不能同时设置（办理期限只能按工作日或按小时计算）"
    elif hours is not None:
        if not hours.strip().isdigit() or int(hours) < 1:
            yield f"dueInHours 须为不小于 1 的整数（当前为 “{hours}”）"
    elif due is None:
        yield "缺少 dueInWorkdays 属性（办理期限，工作日）或 dueInHours 属性（办理期限，小时）"
    elif not due.strip().isdigit():
        yield f"dueInWorkdays 须为不小于 0 的整数（当前为 “{due}”）"


def _carbon_copy_messages(props: dict[str, str]) -> Iterator[str]:
    """抄送 on completion: ``ccRoles`` are role@unit (@applying, @office or a unit code), ``ccUsers`` usernames."""
    for spec in props.get("ccRoles", "").split():
        message = role_spec_problem(spec)
        if message:
            yield f"抄送角色（ccRoles）：{message}"
    for username in props.get("ccUsers", "").split():
        message = username_problem(username)
        if message:
            yield f"抄送人员（ccUsers）：{message}"


def _multi_instance_messages(loop: Any, assignee_variable: str) -> Iterator[str]:
    # 会签 / 或签 / 依次审批 (isSequential="true"): one task per approver, each assigned through assigneeVariable.
    kind = "依次审批" if loop.get("isSequential") == "true" else "会签/或签"
    if loop.find(f"{B}loopDataInputRef") is None and loop.find(f"{B}loopCardinality") is None:
        yield f"{kind}任务须用 loopDataInputRef 指定审批人名单（或用 loopCardinality 指定人数）"
    item = loop.find(f"{B}inputDataItem")
    item_name = (item.get("name") or item.get("id") or "") if item is not None else ""
    if assignee_variable and assignee_variable != item_name:
        yield (f"{kind}任务的指定办理人变量 “{assignee_variable}” 须与多实例输入项（inputDataItem）同名，"
               f"每位审批人才会收到自己的任务")


def lane_problems(root: Any) -> list[Problem]:
    """Every lane stands for a known role."""
    problems: list[Problem] = []
    for lane in root.iter(f"{B}lane"):
        role, label = lane_role(lane), lane.get("name") or lane.get("id")
        if role is None:
            problems.append(problem(lane.get("id"), f"泳道“{label}”未对应角色：请在属性中选择角色（role），"
                                                    f"或将 ID 设为 Lane_<角色>"))
        elif role not in ROLES:
            problems.append(problem(lane.get("id"), f"泳道“{label}”对应的角色 “{role}” 不是已知角色"
                                                    f"（可用：{', '.join(ROLES)}）"))
    return problems


def di_problems(root: Any) -> list[Problem]:
    """Every flow node, flow, lane and pool has a shape or edge in the diagram."""
    drawable = [el for el in _semantic_elements(root) if _is_drawable(local_name(el))]
    if not any(True for _ in root.iter(f"{{{DI_NS}}}BPMNDiagram")):
        process = next(root.iter(f"{B}process"), None)
        element_id = process.get("id") if process is not None else None
        return [problem(element_id, f"模型没有图形信息（DI），{len(drawable)} 个元素无法显示：请在建模器中打开并保存")]
    drawn = {el.get("bpmnElement") for el in root.iter(f"{{{DI_NS}}}BPMNShape", f"{{{DI_NS}}}BPMNEdge")}
    return [problem(el.get("id"), f"元素缺少图形信息（DI）：{local_name(el)}")
            for el in drawable if el.get("id") not in drawn]


def _semantic_elements(root: Any) -> Iterator[Any]:
    for container in root.iter(f"{B}process", f"{B}collaboration"):
        yield from container.iter()


def _is_drawable(tag: str) -> bool:
    return tag.endswith(("Task", "Event", "Gateway")) or tag in (
        "task", "sequenceFlow", "subProcess", "callActivity", "lane", "participant",
    )


#: Flow nodes where a run stops and waits (for a person or the clock); a loop needs one of them to ever end.
WAIT_STATES = ("userTask", "manualTask", "receiveTask", "intermediateCatchEvent", "eventBasedGateway", "subProcess",
               "callActivity", "transaction")


def automatic_loop_problems(root: Any) -> list[Problem]:
    """A cycle of automatic steps only (gateways, scripts, throw events) would run forever without anyone acting."""
    problems = []
    for container in root.iter(f"{B}process", f"{B}subProcess"):
        nodes = {el.get("id"): el for el in container if el.get("id") and _is_flow_node(local_name(el))}
        automatic = {node_id for node_id, el in nodes.items() if local_name(el) not in WAIT_STATES}
        edges: dict[str, set[str]] = {node_id: set() for node_id in nodes if node_id in automatic}
        for flow in container.iterfind(f"{B}sequenceFlow"):
            source, target = flow.get("sourceRef"), flow.get("targetRef")
            if source in automatic and target in automatic:
                edges[source].add(target)
        for loop in _cycles(edges):
            names = " → ".join(nodes[n].get("name") or n for n in loop)
            problems.append(problem(loop[0], f"自动环节构成循环（{names}），其中没有用户任务或等待事件，"
                                             f"运行时可能无限循环：请在循环中加入用户任务或定时事件"))
    return problems


def _is_flow_node(kind: str) -> bool:
    return kind.endswith(("Task", "Event", "Gateway")) or kind in ("task", "subProcess", "callActivity", "transaction")


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of nodes that lie on a cycle, each in a stable order."""
    reach = {node: _reachable(node, edges) for node in edges}
    loops: list[list[str]] = []
    for node in edges:
        if node in reach[node] and not any(node in loop for loop in loops):
            loops.append([n for n in edges if n in reach[node] and node in reach[n]])
    return loops


def _reachable(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(edges[start])
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(edges.get(node, ()))
    return seen


# --- code in the model ----------------------------------------------------------------------------------------


def expression_problems(root: Any) -> list[Problem]:
    """Conditions, timers and scripts compile as Python and pass the safety check."""
    problems: list[Problem] = []
    for flow in root.iter(f"{B}sequenceFlow"):
        for condition in flow.iterfind(f"{B}conditionExpression"):
            problems.extend(_code(flow.get("id"), condition.text, "eval", "条件表达式"))
    for event in root.iter(f"{B}conditionalEventDefinition"):
        for condition in event.iterfind(f"{B}condition"):
            problems.extend(_code(_owner_id(event), condition.text, "eval", "条件事件的条件"))
    for timer in root.iter(f"{B}timerEventDefinition"):
        problems.extend(_timer_problems(timer))
    for loop in root.iter(f"{B}multiInstanceLoopCharacteristics", f"{B}standardLoopCharacteristics"):
        for part in loop:
            if local_name(part) in ("loopCardinality", "completionCondition", "loopCondition"):
                problems.extend(_code(_owner_id(loop), part.text, "eval", "循环表达式"))
    for task in root.iter(f"{B}scriptTask"):
        problems.extend(_script_task_problems(task))
    for kind, label in (("preScript", "前置脚本"), ("postScript", "后置脚本")):
        for script in root.iter(f"{S}{kind}"):
            problems.extend(_code(_owner_id(script), script.text, "exec", label, allow_empty=True))
    return problems


def _timer_problems(timer: Any) -> list[Problem]:
    owner = _owner_id(timer)
    parts = [p for p in timer if local_name(p) in ("timeDate", "timeDuration", "timeCycle")]
    if not parts:
        return [problem(owner, "定时器缺少时间定义（timeDate、timeDuration 或 timeCycle）")]
    found = []
    for part in parts:
        text = (part.text or "").strip()
        if _ISO_VALUE.match(text):
            found.append(problem(owner, f"定时表达式须为返回 ISO-8601 字符串的 Python 表达式：请加引号，如 \"{text}\""))
        else:
            found.extend(_code(owner, text, "eval", "定时表达式"))
    return found


def _script_task_problems(task: Any) -> list[Problem]:
    language = (task.get("scriptFormat") or "python").strip().lower()
    if language not in ("python", "python3", "text/x-python"):
        return [problem(task.get("id"), f"脚本语言须为 python（当前为 “{language}”）")]
    script = task.find(f"{B}script")
    return _code(task.get("id"), script.text if script is not None else None, "exec", "脚本")


def _code(element_id: str | None, text: str | None, mode: str, what: str, allow_empty: bool = False) -> list[Problem]:
    source = (text or "").strip()
    if not source:
        return [] if allow_empty else [problem(element_id, f"{what}为空")]
    hint = _foreign_expression_hint(source)
    if hint:
        return [problem(element_id, f"{what}{hint}")]
    return [problem(element_id, message) for message in code_problems(source, mode, what)]  # type: ignore[arg-type]


def _foreign_expression_hint(source: str) -> str | None:
    if "${" in source or "#{" in source:
        return "看起来是 JUEL 表达式（${…}）：PressFlow 使用 Python 表达式，如 decision == 'approve'"
    if source.startswith("=") and not source.startswith("=="):
        return "看起来是 FEEL 表达式（以 = 开头）：PressFlow 使用 Python 表达式，如 decision == 'approve'"
    return None


def _owner_id(element: Any) -> str | None:
    """The id of the nearest flow element around ``element`` (the task or event a script or timer belongs to)."""
    node = element
    while node is not None:
        if node.get("id") and not local_name(node).endswith(("Definition", "Characteristics")):
            return node.get("id")
        node = node.getparent()
    return None


# --- decisions, foreign files ---------------------------------------------------------------------------------


def decision_reference_problems(root: Any, decision_ids: Iterable[str]) -> list[Problem]:
    """Every business-rule task calls a decision that the deployed DMN files define."""
    known = sorted(set(decision_ids))
    problems: list[Problem] = []
    for task in root.iter(f"{B}businessRuleTask"):
        called = (task.findtext(f"{B}extensionElements/{S}calledDecisionId") or "").strip()
        if not called:
            problems.append(problem(task.get("id"), "业务规则任务未指定决策表（spiffworkflow:calledDecisionId）"))
        elif called not in known:
            available = "、".join(known) or "无"
            problems.append(problem(task.get("id"), f"引用的决策表 “{called}” 不存在（已提供：{available}）"))
    return problems


def foreign_problems(root: Any) -> list[Problem]:
    """Elements the engine cannot run, and settings of other engines that PressFlow would silently ignore."""
    problems = [problem(el.get("id"), message)
                for kind, message in UNSUPPORTED.items() for el in root.iter(f"{B}{kind}")]
    for element in _semantic_elements(root):
        if local_name(element) in ("process", "collaboration") or not element.get("id"):
            continue
        settings = sorted(_vendor_settings(element))
        if settings:
            vendors = "、".join(sorted({vendor for vendor, _ in settings}))
            names = "、".join(name for _, name in settings)
            hint = "表单、期限和办理角色请在 PressFlow 属性组中设置" if local_name(element) in HUMAN_TASKS else "请删除"
            problems.append(problem(element.get("id"), f"含有 {vendors} 专用设置（{names}），PressFlow 不读取也不执行："
                                                       f"{hint}"))
    return problems


def _vendor_settings(element: Any) -> Iterator[tuple[str, str]]:
    for key in element.attrib:
        qname = etree.QName(key)
        if qname.namespace in VENDORS and qname.localname not in HARMLESS_VENDOR:
            yield VENDORS[qname.namespace], f"{VENDORS[qname.namespace].split()[0].lower()}:{qname.localname}"
    for extension in element.iterfind(f"{B}extensionElements/*"):
        qname = etree.QName(extension)
        if qname.namespace in VENDORS:
            yield VENDORS[qname.namespace], f"{VENDORS[qname.namespace].split()[0].lower()}:{qname.localname}"


def dmn_problems(root: Any) -> list[Problem]:
    """Input expressions and rule entries of every decision table compile and pass the safety check."""
    problems: list[Problem] = []
    for element in root.iter():
        kind = local_name(element)
        if kind not in ("inputExpression", "inputEntry", "outputEntry"):
            continue
        text = (next((c.text for c in element if local_name(c) == "text"), None) or "").strip()
        if kind == "inputEntry":
            problems.extend(_input_entry_problems(element.get("id"), text))
        elif text:
            what = "决策表输入表达式" if kind == "inputExpression" else "决策表输出"
            problems.extend(_code(element.get("id"), text, "eval", what))
    return problems


def _input_entry_problems(element_id: str | None, text: str) -> list[Problem]:
    if not text or text == "-":
        return []  # "any value"
    # As SpiffWorkflow's DMN engine reads it: "?" stands for the input; "< 5" compares the input with 5.
    source = re.sub(r"\?(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)", "dmninputexpr", text)
    found = code_problems(source, "eval", "决策表条件")
    if found and "语法错误" in found[0]:
        relative = code_problems(f"dmninputexpr {source}", "eval", "决策表条件")
        found = found if relative and "语法错误" in relative[0] else relative
    return [problem(element_id, message) for message in found]
