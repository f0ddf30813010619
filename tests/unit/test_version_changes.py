"""The change summary between two models: elements added, removed and changed by id, with the properties changed."""

from __future__ import annotations

import json

import pytest

from engine.errors import ModelError
from engine.modeling.versions import compare_models
from tests.model_edits import BPMN, DMN, replaced, with_secrecy_recheck


def changes(new_bpmn: str = BPMN, new_dmn: str = DMN, old_bpmn: str = BPMN, old_dmn: str = DMN):
    return compare_models(old_bpmn, [old_dmn], new_bpmn, [new_dmn])


def changed_properties(summary) -> dict[str, dict[str, tuple[str | None, str | None]]]:
    return {e.id: {c.property: (c.old, c.new) for c in e.changes} for e in summary.changed}


def test_the_same_model_has_no_changes():
    summary = changes()

    assert summary.is_empty and summary.to_dict()["changed"] == []


def test_an_added_step_lists_the_task_and_its_flow_and_the_rerouted_flow():
    summary = changes(with_secrecy_recheck())

    assert [(e.id, e.type_label, e.name) for e in summary.added] == [
        ("secrecy_recheck", "用户任务", "保密复核"), ("flow_recheck_office", "连线", "")]
    assert changed_properties(summary) == {"flow_secrecy_pass": {"target": ("office_topic_review", "secrecy_recheck")}}


def test_a_removed_step_is_listed_with_its_type_and_name():
    summary = compare_models(with_secrecy_recheck(), [DMN], BPMN, [DMN])

    assert [(e.id, e.type, e.name) for e in summary.removed] == [
        ("secrecy_recheck", "userTask", "保密复核"), ("flow_recheck_office", "sequenceFlow", "")]


def test_form_deadline_roles_name_and_condition_changes_are_named_with_old_and_new_values():
    bpmn = replaced(BPMN, 'name="formKey" value="leader_review" />\n          <spiffworkflow:property '
                          'name="dueInWorkdays" value="2" />\n          <spiffworkflow:property name="candidateRoles" '
                          'value="unit_leader" />',
                    'name="formKey" value="content_approval" />\n          <spiffworkflow:property '
                    'name="dueInWorkdays" value="1" />\n          <spiffworkflow:property name="candidateRoles" '
                    'value="unit_leader unit_spokesperson" />')
    bpmn = replaced(bpmn, '<bpmn:userTask id="leader_review" name="主要负责人审核">',
                    '<bpmn:userTask id="leader_review" name="负责人审核">')
    bpmn = replaced(bpmn, "unit_kind == 'district'", "unit_kind in ('district', 'county')")

    properties = changed_properties(changes(bpmn))

    assert properties["leader_review"] == {
        "name": ("主要负责人审核", "负责人审核"), "formKey": ("leader_review", "content_approval"),
        "dueInWorkdays": ("2", "1"), "candidateRoles": ("unit_leader", "unit_leader unit_spokesperson"),
    }
    assert properties["flow_kind_district"] == {"condition": ("unit_kind == 'district'",
                                                              "unit_kind in ('district', 'county')")}


def test_scripts_timers_and_lane_moves_are_changes_too():
    bpmn = replaced(BPMN, "conference_status = None", "conference_status = ''")
    bpmn = replaced(bpmn, "conference_start(conference_date, start_time)", "conference_start(conference_date, '09:00')")
    bpmn = replaced(bpmn, "        <bpmn:flowNodeRef>pre_announcement</bpmn:flowNodeRef>\n", "")
    bpmn = replaced(bpmn, "<bpmn:flowNodeRef>venue_preparation</bpmn:flowNodeRef>",
                    "<bpmn:flowNodeRef>venue_preparation</bpmn:flowNodeRef><bpmn:flowNodeRef>pre_announcement"
                    "</bpmn:flowNodeRef>")

    summary = changes(bpmn)
    properties = changed_properties(summary)

    assert list(properties["reschedule_conference"]) == ["script"]
    assert properties["wait_conference_start"]["timer"][1] == "timeDate: conference_start(conference_date, '09:00')"
    assert properties["pre_announcement"] == {"lane": ("Lane_office_reviewer", "Lane_onsite_staff")}
    labels = {c.property: c.label for e in summary.changed for c in e.changes}
    assert (labels["script"], labels["timer"], labels["lane"]) == ("脚本", "定时", "泳道")


def test_moving_shapes_about_is_a_layout_change_only():
    bpmn = replaced(BPMN, '<dc:Bounds x="720" y="600" width="100" height="80" />',
                    '<dc:Bounds x="740" y="610" width="100" height="80" />')

    summary = changes(bpmn)

    assert (summary.added, summary.removed, summary.changed, summary.layout_changed) == ([], [], [], True)


def test_decision_table_rules_are_compared_by_id():
    dmn = replaced(DMN, "    </decisionTable>", """      <rule id="Rule_joint">
        <description>联合发布</description>
        <inputEntry id="InputEntry_joint"><text>"joint"</text></inputEntry>
        <outputEntry id="OutputEntry_joint_speakers"><text>["mayor"]</text></outputEntry>
        <outputEntry id="OutputEntry_joint_hosts"><text>["municipal_spokesperson"]</text></outputEntry>
      </rule>
    </decisionTable>""")
    dmn = replaced(dmn, '<text>["municipal_spokesperson"]</text>', '<text>["spokesperson_assistant"]</text>')

    summary = changes(new_dmn=dmn)

    assert [(e.id, e.type, e.type_label, e.name, e.source) for e in summary.added] == [
        ("Rule_joint", "rule", "决策规则", "联合发布", "dmn")]
    assert changed_properties(summary) == {"Rule_municipal_government": {
        "则 可选主持人": ('["municipal_spokesperson"]', '["spokesperson_assistant"]')}}
    json.dumps(summary.to_dict(), ensure_ascii=False)


def test_an_unreadable_draft_is_refused_as_a_model_error():
    with pytest.raises(ModelError):
        changes("<definitions")
