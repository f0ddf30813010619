"""Validate a BPMN model with its DMN files exactly as deploy does: safe XML, the XSDs, the spiff parser and
PressFlow's own rules (:mod:`engine.modeling.model_rules`). Every problem is ``{element_id, message}`` in Chinese.

:func:`validate_model` never raises for bad input: whatever a file from any modeler holds comes back as problems.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import SPIFF_XSD

from engine.errors import ModelError
from engine.modeling import model_rules as rules
from engine.modeling.model_rules import BPMN_NS, Problem, local_name, problem
from engine.modeling.xmlsafe import parse_model_xml
from engine.workflow.runtime import ParsedModel, ProcessRuntime

log = logging.getLogger(__name__)
# An lxml schema keeps its error log on the object: one validation at a time per schema.
_schema_lock = threading.Lock()
_validators: dict[str, BpmnValidator] = {}

PREFIXES = {
    BPMN_NS: "bpmn", rules.DI_NS: "bpmndi", rules.SPIFF_NS: "spiffworkflow",
    "http://www.omg.org/spec/DD/20100524/DC": "dc", "http://www.omg.org/spec/DD/20100524/DI": "di",
}


@dataclass(frozen=True)
class ModelCheck:
    """What validation found: the parsed model (None if the engine could not build it) and every problem."""

    model: ParsedModel | None
    problems: list[Problem] = field(default_factory=list)
    #: Scripts, conditions and timers all compile and pass the safety check: the model may be run (dry run).
    code_is_safe: bool = False

    @property
    def runnable(self) -> bool:
        """Whether the engine can run the model in a sandbox (it may still break a deployment rule)."""
        return self.model is not None and self.code_is_safe


def validate_model(bpmn_xml: str, dmn_xmls: list[str]) -> list[dict[str, Any]]:
    """List every problem of a BPMN model and the DMN files it calls, as ``{element_id, message}`` (Chinese).

    The same checks ``pressflow deploy`` and :func:`engine.workflow.deploy.deploy` apply. Never raises: unreadable,
    hostile or foreign files come back as problems too; an empty list means the model can be deployed.
    """
    return check_model(bpmn_xml, dmn_xmls).problems


def check_model(bpmn_xml: str, dmn_xmls: Iterable[str] = ()) -> ModelCheck:
    """Validate like :func:`validate_model` and also hand back the parsed model when there is one."""
    try:
        return _check(bpmn_xml, list(dmn_xmls))
    except Exception as exc:  # noqa: BLE001 - validation reports, it never crashes the page or the CLI
        log.exception("model validation failed unexpectedly")
        return ModelCheck(None, [problem(None, f"校验时发生意外错误：{type(exc).__name__}: {exc}")])


def model_problems(model: ParsedModel, bpmn_xml: str) -> list[dict[str, Any]]:
    """PressFlow's rules for an already parsed model (kept for callers that parse first; prefer validate_model)."""
    root = parse_model_xml(bpmn_xml, "BPMN").getroot()
    # The model parsed, so the spiff parser found every decision it calls.
    return _rule_problems(root, None) + rules.expression_problems(root)


def _check(bpmn_xml: str, dmn_xmls: list[str]) -> ModelCheck:
    try:
        root = parse_model_xml(bpmn_xml, "BPMN").getroot()
        dmn_roots = [parse_model_xml(dmn, f"DMN 文件 {n}").getroot() for n, dmn in enumerate(dmn_xmls, 1)]
    except ModelError as exc:
        return ModelCheck(None, [problem(None, exc.message)])
    if local_name(root) != "definitions" or etree.QName(root).namespace != BPMN_NS:
        return ModelCheck(None, [problem(None, "不是 BPMN 2.0 文件：根元素须为 BPMN 2.0 命名空间的 definitions")])
    schema = _bpmn_schema_problems(root) + [p for dmn in dmn_roots for p in _dmn_schema_problems(dmn)]
    code = rules.expression_problems(root) + [p for dmn in dmn_roots for p in rules.dmn_problems(dmn)]
    found = _rule_problems(root, dmn_roots)
    model, parse = (None, []) if schema else _parse(bpmn_xml, dmn_xmls)
    flagged = {p["element_id"] for p in schema + code + found if p["element_id"]}
    # The spiff parser stops at its first error, usually one our rules already explain better.
    explained = [p for p in parse if p["element_id"] is None or p["element_id"] not in flagged]
    problems = _unique(schema + explained + found + code)
    if model is None and not problems:
        problems = parse or [problem(None, "流程无法解析")]
    return ModelCheck(model, problems, code_is_safe=not code)


def _rule_problems(root: Any, dmn_roots: list[Any] | None) -> list[Problem]:
    found = (rules.foreign_problems(root) + rules.human_task_problems(root) + rules.lane_problems(root)
             + rules.automatic_loop_problems(root))
    if dmn_roots is not None:
        decision_ids = [d.get("id", "") for dmn in dmn_roots for d in dmn.iter() if local_name(d) == "decision"]
        found += rules.decision_reference_problems(root, decision_ids)
    return found + rules.di_problems(root)


def _parse(bpmn_xml: str, dmn_xmls: list[str]) -> tuple[ParsedModel | None, list[Problem]]:
    try:
        return ProcessRuntime.parse(bpmn_xml, dmn_xmls), []
    except ModelError as exc:
        cause = exc.__cause__
        if cause is None:
            found = [problem(p.get("element_id"), exc.message) for p in exc.problems]
            return None, found or [problem(None, exc.message)]
        return None, [problem(getattr(cause, "id", None) or None, spiff_message(cause))]
    except Exception as exc:  # noqa: BLE001 - a foreign file can trip the parser anywhere
        log.warning("spiff parser failed on a model", exc_info=True)
        return None, [problem(None, f"流程无法解析：{type(exc).__name__}: {exc}")]


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[Any, str]] = set()
    unique = []
    for p in problems:
        key = (p["element_id"], p["message"])
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


# --- XSD -------------------------------------------------------------------------------------------------------


def _bpmn_schema_problems(root: Any) -> list[Problem]:
    with _schema_lock:
        # Our own copy of the spiff parser's schema: the parser may be validating with its one right now.
        validator = _validators.get("bpmn") or _validators.setdefault("bpmn", BpmnValidator(imports={
            "spiffworkflow": SPIFF_XSD}))
    validator.preprocess(root)  # the same bpmn-js quirk fix-up the spiff parser applies before its XSD check
    return _schema_problems(validator.validator, root, "BPMN 2.0")


def _dmn_schema_problems(root: Any) -> list[Problem]:
    namespace = etree.QName(root).namespace or ""
    schema = DMN_SCHEMAS.get(namespace)
    if local_name(root) != "definitions" or schema is None:
        return [problem(None, f"不是受支持的 DMN 文件（命名空间 {namespace or '无'}；支持 DMN 1.1–1.3）")]
    with _schema_lock:
        validator = _validators.get(namespace) or _validators.setdefault(namespace, BpmnValidator(schema))
    return _schema_problems(validator.validator, root, "DMN")


def _schema_problems(schema: etree.XMLSchema, root: Any, standard: str) -> list[Problem]:
    with _schema_lock:
        if schema.validate(root):
            return []
        errors = [(e.path, e.line, e.message) for e in schema.error_log]
    return [problem(_element_at(root, path, line), xsd_message(message, line, standard))
            for path, line, message in errors]


def _element_at(root: Any, path: str | None, line: int) -> str | None:
    nsmap = {prefix: ns for prefix, ns in root.nsmap.items() if prefix}
    found: list[Any] = []
    try:
        found = root.getroottree().xpath(path, namespaces=nsmap) if path else []
    except etree.XPathError:
        found = []
    if not found:
        found = [el for el in root.iter() if getattr(el, "sourceline", None) == line][:1]
    node = found[0] if found and isinstance(found[0], etree._Element) else None
    while node is not None and node is not root:
        if node.get("id"):
            return str(node.get("id"))
        node = node.getparent()
    return None


_XSD_MESSAGES = (
    (r"Element '([^']+)', attribute 'id': '([^']*)' is not a valid value of the atomic type 'xs:ID'",
     "ID “{1}” 重复或不是合法的 ID（须以字母或下划线开头，且在文件中唯一）"),
    (r"Element '([^']+)', attribute '([^']+)': The attribute '[^']+' is not allowed", "元素 {0} 不允许有属性 {1}"),
    (r"Element '([^']+)': The attribute '([^']+)' is required but missing", "元素 {0} 缺少必填属性 {1}"),
    (r"Element '([^']+)', attribute '([^']+)': '([^']*)' is not a valid value", "元素 {0} 的属性 {1} 取值 “{2}” 无效"),
    (r"Element '([^']+)': This element is not expected", "此处不允许出现元素 {0}（位置或名称不符合规范）"),
    (r"Element '([^']+)': Missing child element", "元素 {0} 缺少必需的子元素"),
    (r"Element '([^']+)': Character content other than whitespace is not allowed", "元素 {0} 中不允许直接出现文本"),
    (r"Element '([^']+)': No matching global declaration", "未知元素 {0}"),
)


def xsd_message(message: str, line: int, standard: str) -> str:
    """Say what an XSD error means in Chinese, keeping the line so the file can be fixed by hand too."""
    for pattern, template in _XSD_MESSAGES:
        match = re.search(pattern, message)
        if match:
            return f"不符合 {standard} 规范（第 {line} 行）：" + template.format(*(_short(g) for g in match.groups()))
    return f"不符合 {standard} 规范（第 {line} 行）：{message}"


def _short(name: str) -> str:
    match = re.fullmatch(r"\{([^}]*)\}(.+)", name)
    if not match:
        return name
    prefix = PREFIXES.get(match.group(1)) or ("dmn" if "DMN" in match.group(1) else "")
    return f"{prefix}:{match.group(2)}" if prefix else match.group(2)


# --- the spiff parser ------------------------------------------------------------------------------------------

_SPIFF_MESSAGES = (
    (r"A Service Task must have an operator", rules.UNSUPPORTED["serviceTask"]),
    (r"There is no support implemented for this task type", "引擎不支持此类元素"),
    (r"Process (\S+) is not executable", "流程 {0} 未标记为可执行（isExecutable=\"true\"）"),
    (r"No start event found", "流程缺少开始事件"),
    (r"Non-default exclusive outgoing sequence flow without condition", "网关的非默认出口缺少条件表达式"),
    (r"Exactly one start event is required in a SubWorkflow Task; found (\d+)",
     "子流程须恰有一个开始事件（实际 {0} 个）"),
    (r"A SubWorkflow Must contain an End event", "子流程缺少结束事件"),
    (r'No "calledElement" attribute for Call Activity', "调用活动缺少 calledElement 属性"),
    (r"Invalid Script Task\.\s+No Script Provided", "脚本任务没有脚本"),
    (r"Cannot resolve data(Input|Output)Association (\S+)", "无法解析数据关联 {1}"),
    (r"Duplicate process ID: (\S+)", "流程 ID 重复：{0}"),
    (r"The process '([^']+)' was not found", "找不到被调用的流程 {0}"),
    (r'No DMN Diagram available with id "([^"]+)"', "找不到决策表 {0}"),
    (r"No decisions found", "DMN 文件中没有决策"),
    (r"Unknown Time Specification", "无法识别的定时器定义"),
    (r"Time Specification Error", "定时器定义有误"),
    (r"Conditional event definition with missing condition", "条件事件缺少条件"),
    (r"Could not find messageRef", "找不到消息定义"),
)


def spiff_message(exc: BaseException) -> str:
    """Say in Chinese what the spiff parser objected to (the original English stays, for the log and support)."""
    text = str(exc).strip()
    for pattern, template in _SPIFF_MESSAGES:
        match = re.search(pattern, text)
        if match:
            return f"流程无法解析：{template.format(*match.groups())}"
    return f"流程无法解析：{text or type(exc).__name__}"
