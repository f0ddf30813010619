"""Validation of BPMN/DMN models: every problem names its element and says in Chinese what is wrong, never a crash.

Each broken model is processes/press_conference.bpmn with one small XML edit.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from engine.modeling.script_safety import HELPER_FUNCTIONS, code_problems
from engine.modeling.validation import check_model, validate_model
from engine.workdays.calendar import WorkCalendar
from engine.workflow.scripting import script_functions
from tests.conftest import PROCESSES

BPMN = (PROCESSES / "press_conference.bpmn").read_text(encoding="utf-8")
DMN = (PROCESSES / "host_speaker.dmn").read_text(encoding="utf-8")
FOREIGN = Path(__file__).resolve().parent.parent / "data" / "foreign"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def edited(text: str, old: str, new: str, count: int = 1) -> str:
    assert old in text, f"fixture text not found: {old}"
    return text.replace(old, new, count)


def problems_at(element_id: str | None, bpmn: str, dmns: list[str] | None = None) -> list[str]:
    problems = validate_model(bpmn, [DMN] if dmns is None else dmns)
    for p in problems:
        assert set(p) == {"element_id", "message"}
        assert CHINESE.search(p["message"]), p
    return [p["message"] for p in problems if p["element_id"] == element_id]


def the_one_problem_at(element_id: str | None, bpmn: str, dmns: list[str] | None = None) -> str:
    messages = problems_at(element_id, bpmn, dmns)
    assert len(messages) == 1, messages
    return messages[0]


def test_the_press_conference_model_and_its_decision_table_pass_every_rule():
    assert validate_model(BPMN, [DMN]) == []


# --- user tasks -----------------------------------------------------------------------------------------------


def test_a_user_task_without_a_form_key_is_reported_on_that_task():
    bpmn = edited(BPMN, '<spiffworkflow:property name="formKey" value="leader_review" />', "")

    assert the_one_problem_at("leader_review", bpmn) == "用户任务缺少 formKey 属性"


def test_a_form_key_that_names_no_form_lists_the_forms_there_are():
    bpmn = edited(BPMN, 'name="formKey" value="secrecy_review"', 'name="formKey" value="secrecy_check"')

    message = the_one_problem_at("secrecy_review", bpmn)
    assert "secrecy_check" in message and "不是已知表单" in message and "leader_review" in message


@pytest.mark.parametrize("due", ["-1", "two", ""])
def test_a_deadline_that_is_not_a_whole_number_of_workdays_is_refused(due):
    bpmn = edited(BPMN, 'name="dueInWorkdays" value="3" />', f'name="dueInWorkdays" value="{due}" />')

    assert "dueInWorkdays 须为不小于 0 的整数" in the_one_problem_at("office_topic_review", bpmn)


def test_a_deadline_of_zero_workdays_is_allowed():
    bpmn = edited(BPMN, 'name="dueInWorkdays" value="3" />', 'name="dueInWorkdays" value="0" />')

    assert problems_at("office_topic_review", bpmn) == []


def test_an_unknown_candidate_role_is_reported_on_the_task():
    bpmn = edited(BPMN, 'name="candidateRoles" value="secrecy_reviewer"', 'name="candidateRoles" value="censor"')

    message = the_one_problem_at("secrecy_review", bpmn)
    assert "未知角色 “censor”" in message


# --- lanes ----------------------------------------------------------------------------------------------------


def test_a_lane_named_after_an_unknown_role_is_reported_on_the_lane():
    bpmn = edited(BPMN, "Lane_secrecy_reviewer", "Lane_censor", count=-1)  # the lane and its shape

    message = the_one_problem_at("Lane_censor", bpmn)
    assert "保密审查员" in message and "“censor” 不是已知角色" in message


def test_a_lane_maps_to_the_role_in_its_role_property_whatever_its_id():
    lane = '<bpmn:lane id="Lane_secrecy_reviewer" name="保密审查员">'
    with_property = lane.replace("Lane_secrecy_reviewer", "Lane_0x7k2q") + (
        '<bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="role" value="secrecy_reviewer" />'
        '</spiffworkflow:properties></bpmn:extensionElements>'
    )
    bpmn = edited(edited(BPMN, lane, with_property), 'bpmnElement="Lane_secrecy_reviewer"', 'bpmnElement="Lane_0x7k2q"')

    assert validate_model(bpmn, [DMN]) == []
    unknown = edited(bpmn, 'name="role" value="secrecy_reviewer"', 'name="role" value="janitor"')
    assert "“janitor” 不是已知角色" in the_one_problem_at("Lane_0x7k2q", unknown)


def test_a_lane_with_neither_a_role_property_nor_a_lane_id_is_asked_for_its_role():
    bpmn = edited(BPMN, "Lane_onsite_staff", "Lane", count=-1)

    assert "未对应角色" in the_one_problem_at("Lane", bpmn)


# --- conditions, timers, scripts ------------------------------------------------------------------------------


def test_a_broken_gateway_condition_is_reported_on_its_flow_with_the_position():
    bpmn = edited(BPMN, "leader_review_decision == 'approve'", "leader_review_decision == ")

    message = the_one_problem_at("flow_leader_approve", bpmn)
    assert message.startswith("条件表达式语法错误（第 1 行")


def test_a_condition_that_opens_a_file_is_refused_as_unsafe():
    bpmn = edited(BPMN, "unit_kind == 'district'", "open('/etc/passwd').read() != ''")

    assert the_one_problem_at("flow_kind_district", bpmn) == "条件表达式不安全：不允许使用 open"


def test_a_script_task_that_imports_os_is_refused():
    bpmn = edited(BPMN, "<bpmn:script>conference_date = new_conference_date",
                  "<bpmn:script>import os\nconference_date = new_conference_date")

    assert the_one_problem_at("reschedule_conference", bpmn) == "脚本不安全：不允许使用 import"


def test_a_post_script_reaching_for_dunder_attributes_is_refused_on_its_task():
    bpmn = edited(BPMN, "content_decision = content_approval_district_decision",
                  "content_decision = content_approval_district_decision.__class__")

    message = the_one_problem_at("content_approval_district", bpmn)
    assert message == "后置脚本不安全：不允许访问以下划线开头的属性 .__class__"


def test_a_timer_expression_with_a_syntax_error_is_reported_on_the_timer_event():
    bpmn = edited(BPMN, "conference_start(conference_date, start_time)", "conference_start(conference_date,")

    assert the_one_problem_at("wait_conference_start", bpmn).startswith("定时表达式语法错误")


def test_a_bare_iso_timer_value_is_told_to_be_quoted():
    bpmn = edited(BPMN, "conference_start(conference_date, start_time)", "2026-03-20T10:00:00+08:00")

    assert "请加引号" in the_one_problem_at("wait_conference_start", bpmn)


def test_scripts_may_call_the_calendar_helpers_and_plain_builtins():
    bpmn = edited(BPMN, "<bpmn:script>conference_date = new_conference_date",
                  "<bpmn:script>deadline = add_workdays(today(), max(1, len(str(new_conference_date))))\n"
                  "conference_date = new_conference_date")

    assert validate_model(bpmn, [DMN]) == []


@pytest.mark.parametrize(("source", "refusal"), [
    ("__import__('os').system('id')", "不允许使用双下划线名称 __import__"),
    ("eval('1')", "不允许使用 eval"),
    ("getattr(unit, 'x')", "不允许使用 getattr"),
    ("globals()", "不允许使用 globals"),
    ("'{0.__class__}'.format(unit)", "不允许使用 .format"),
    ("[open][0]('/etc/passwd')", "不允许使用 open"),
    ("(lambda: 1)()", "不允许使用 lambda"),
    ("isinstance(unit, str)", "不允许调用内置函数 isinstance"),
])
def test_the_safety_check_refuses_ways_out_of_the_sandbox(source, refusal):
    assert any(refusal in message for message in code_problems(source, "eval", "条件表达式"))


def test_the_allow_list_names_exactly_the_helpers_the_engine_gives_scripts():
    assert set(script_functions(WorkCalendar())) == HELPER_FUNCTIONS


# --- diagram --------------------------------------------------------------------------------------------------


def test_a_diagram_without_any_di_is_reported_on_the_process():
    start = BPMN.index("  <bpmndi:BPMNDiagram")
    end = BPMN.index("</bpmndi:BPMNDiagram>") + len("</bpmndi:BPMNDiagram>")
    bpmn = BPMN[:start] + BPMN[end:]

    assert "没有图形信息（DI）" in the_one_problem_at("press_conference", bpmn)


def test_a_task_without_its_shape_is_reported_on_that_task():
    shape = re.search(r'\s*<bpmndi:BPMNShape id="[^"]+" bpmnElement="secrecy_review".*?</bpmndi:BPMNShape>', BPMN, re.S)
    assert shape
    bpmn = BPMN.replace(shape.group(0), "")

    assert the_one_problem_at("secrecy_review", bpmn) == "元素缺少图形信息（DI）：userTask"


# --- XSD and the spiff parser ---------------------------------------------------------------------------------


def test_an_attribute_the_bpmn_schema_does_not_know_is_reported_on_its_element():
    bpmn = edited(BPMN, '<bpmn:userTask id="leader_review"', '<bpmn:userTask id="leader_review" deadline="2"')

    message = the_one_problem_at("leader_review", bpmn)
    assert message.startswith("不符合 BPMN 2.0 规范（第 ") and "不允许有属性 deadline" in message


def test_a_duplicate_element_id_is_reported():
    bpmn = edited(BPMN, '<bpmn:endEvent id="end_declined"', '<bpmn:endEvent id="end_rejected"')

    assert any("“end_rejected” 重复" in m for m in problems_at("end_rejected", bpmn))


def test_a_parser_error_comes_back_in_chinese_on_the_element():
    condition = ('<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">'
                 "leader_review_decision == 'reject'</bpmn:conditionExpression>")
    bpmn = edited(BPMN, condition, "")

    assert the_one_problem_at("flow_leader_reject", bpmn) == "流程无法解析：网关的非默认出口缺少条件表达式"


def test_a_business_rule_task_calling_a_decision_nobody_deployed_is_reported():
    message = the_one_problem_at("determine_host_speaker", BPMN, dmns=[])

    assert "引用的决策表 “host_speaker” 不存在" in message


# --- decision tables ------------------------------------------------------------------------------------------


def test_a_broken_decision_table_entry_is_reported_on_the_entry():
    dmn = edited(DMN, '["unit_principal", "unit_spokesperson", "authorized_official"]', '["unit_principal", ')

    messages = problems_at("OutputEntry_information_office_speakers", BPMN, [dmn])
    assert len(messages) == 1 and messages[0].startswith("决策表输出语法错误")


def test_an_unsafe_decision_table_condition_is_refused():
    dmn = edited(DMN, '<text>"information_office"</text>', "<text>__import__('os').getcwd()</text>")

    messages = problems_at("InputEntry_information_office", BPMN, [dmn])
    assert messages == ["决策表条件不安全：不允许使用双下划线名称 __import__"]


def test_decision_table_comparisons_in_spiff_style_are_accepted():
    dmn = edited(DMN, '<text>"information_office"</text>', '<text>!= "municipal_government"</text>')

    assert validate_model(BPMN, [dmn]) == []


# --- files that are not ours ----------------------------------------------------------------------------------


def test_a_camunda_model_is_reported_element_by_element_without_a_crash():
    camunda = (FOREIGN / "camunda_leave_request.bpmn").read_text(encoding="utf-8")

    check = check_model(camunda, [])

    assert check.model is None and not check.runnable
    by_element: dict[Any, list[str]] = {}
    for p in check.problems:
        assert CHINESE.search(p["message"])
        by_element.setdefault(p["element_id"], []).append(p["message"])
    assert any("服务任务 PressFlow 无法执行" in m for m in by_element["Task_notify_hr"])
    assert "用户任务缺少 formKey 属性" in by_element["Task_approve"]
    assert any("camunda:candidateGroups" in m for m in by_element["Task_approve"])
    assert any("JUEL" in m for m in by_element["Flow_yes"])
    assert any("请加引号" in m for m in by_element["Timer_approval_overdue"])


@pytest.mark.parametrize("content", [
    "",
    "not xml at all",
    "<definitions/>",
    '<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" />',
    BPMN[: len(BPMN) // 2],
    BPMN.replace('isExecutable="true"', 'isExecutable="false"'),
    edited(BPMN, "<bpmn:startEvent", "<bpmn:complexGateway"),
])
def test_any_input_comes_back_as_problems_never_as_an_exception(content):
    problems = validate_model(content, [DMN])

    assert problems
    assert all(set(p) == {"element_id", "message"} and CHINESE.search(p["message"]) for p in problems)


def test_a_garbled_decision_file_is_a_problem_not_an_exception():
    problems = validate_model(BPMN, ["<definitions>half a decision"])

    assert problems and all(CHINESE.search(p["message"]) for p in problems)


def test_a_model_parsed_elsewhere_gets_the_same_pressflow_rules():
    from engine.modeling.validation import model_problems
    from engine.workflow.runtime import ProcessRuntime

    bpmn = edited(BPMN, '<spiffworkflow:property name="formKey" value="leader_review" />', "")

    assert model_problems(ProcessRuntime.parse(bpmn, [DMN]), bpmn) == [
        {"element_id": "leader_review", "message": "用户任务缺少 formKey 属性"}]


def test_a_loop_of_automatic_steps_only_is_reported_as_endless():
    bpmn = edited(BPMN, 'sourceRef="reschedule_conference" targetRef="gw_wait_merge"',
                  'sourceRef="reschedule_conference" targetRef="gw_conference_status"')

    message = the_one_problem_at("gw_conference_status", bpmn)

    assert "自动环节构成循环（举行情况？ → 改期）" in message and "无限循环" in message


# --- 会签 / 或签 / 依次审批 ---------------------------------------------------------------------------------


SEQUENTIAL = (Path(__file__).resolve().parent.parent / "data" / "sequential_sign.bpmn").read_text(encoding="utf-8")


def test_a_sequential_countersign_task_passes_the_rules():
    assert validate_model(SEQUENTIAL, []) == []


def test_a_sequential_task_without_a_list_of_approvers_is_reported_on_the_task():
    bpmn = edited(SEQUENTIAL, "<bpmn:loopDataInputRef>seq_reviewers</bpmn:loopDataInputRef>", "")
    assert "依次审批任务须用 loopDataInputRef 指定审批人名单" in the_one_problem_at("seq_review", bpmn, [])


def test_an_assignee_variable_that_is_not_the_input_item_is_reported_on_the_task():
    bpmn = edited(SEQUENTIAL, 'name="assigneeVariable" value="seq_reviewer"', 'name="assigneeVariable" value="who"')
    assert "指定办理人变量 “who” 须与多实例输入项（inputDataItem）同名" in the_one_problem_at("seq_review", bpmn, [])


def test_the_added_approvers_opinion_form_cannot_be_a_step_of_a_model():
    bpmn = edited(BPMN, 'name="formKey" value="secrecy_review"', 'name="formKey" value="sign_opinion"')
    assert the_one_problem_at("secrecy_review", bpmn) == "表单 sign_opinion 只供加签人提出意见，不能作为流程环节的表单"
