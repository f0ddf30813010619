"""Dry runs: a model is played through in memory with sample or given form data; the path taken comes back."""

from __future__ import annotations

import datetime as dt
import threading

from engine import clock
from engine.modeling.dry_run import dry_run
from tests.conftest import DEFAULT_NOW
from tests.model_edits import BPMN, DMN, replaced, with_secrecy_recheck

HAPPY_PATH = [
    "start", "gw_topic_merge", "topic_application", "leader_review", "gw_leader_review", "secrecy_review",
    "gw_secrecy_review",
    "office_topic_review", "gw_office_topic_review", "gw_unit_kind", "content_approval_district", "gw_content_merge",
    "gw_content_approval", "determine_host_speaker", "host_speaker_selection", "gw_onsite_fork", "pre_announcement",
    "venue_preparation", "gw_onsite_join", "gw_wait_merge", "wait_conference_start", "conference_record",
    "gw_conference_status", "monitoring_report", "gw_major_issue", "gw_end_merge", "end_completed",
]


def run(bpmn: str = BPMN, **options):
    return dry_run(bpmn, [DMN], start_at=DEFAULT_NOW, **options)


def test_sample_data_takes_the_positive_path_to_the_end_firing_the_conference_timer():
    result = run()

    assert (result.stopped, result.end, result.outcome, result.error) == ("end", "end_completed", "completed", None)
    assert result.path == HAPPY_PATH
    assert "flow_leader_approve" in result.flows and "flow_leader_return" not in result.flows
    assert {"flow_announce_join", "flow_venue_join"} <= set(result.flows), "both branches into the join are drawn"
    timer = next(step for step in result.steps if step.kind == "timer")
    # Sample conference: three weeks after Monday 2026-03-02, at 10:00 Beijing time; the fake clock jumps past it.
    assert (timer.bpmn_id, timer.at) == ("wait_conference_start", "2026-03-23T02:00:01+00:00")


def test_given_form_data_per_step_and_visit_sends_the_application_back_once():
    result = run(form_data={"leader_review": [{"decision": "return", "comment": "请补充工作方案"}]})

    assert result.path[:9] == ["start", "gw_topic_merge", "topic_application", "leader_review", "gw_leader_review",
                               "gw_topic_merge", "topic_application", "leader_review", "gw_leader_review"]
    assert "flow_leader_return" in result.flows and result.outcome == "completed"
    leader_steps = [step.data["decision"] for step in result.steps if step.bpmn_id == "leader_review"]
    assert leader_steps == ["return", "approve"]


def test_a_rejection_ends_the_run_at_the_rejection_end():
    result = run(form_data={"leader_review": {"decision": "reject", "comment": "不同意"}})

    assert (result.stopped, result.end, result.outcome) == ("end", "end_rejected", "rejected")
    assert result.path[-1] == "end_rejected"


def test_a_department_application_takes_the_department_approval():
    result = run(start_data={"unit": "health", "unit_kind": "department"})

    assert "content_approval_department" in result.path and "content_approval_district" not in result.path


def test_a_postponed_conference_waits_for_the_timer_again():
    result = run(form_data={"conference_record": [
        {"conference_status": "postponed", "new_conference_date": "2026-04-10", "new_start_time": "15:00"}]})

    assert result.path.count("wait_conference_start") == 2 and "reschedule_conference" in result.path
    timers = [step.at for step in result.steps if step.kind == "timer"]
    assert timers == ["2026-03-23T02:00:01+00:00", "2026-04-10T07:00:01+00:00"]
    assert result.outcome == "completed"


def test_a_major_issue_runs_both_escalations_before_the_closing_report():
    result = run(form_data={"monitoring_report": {"major_issue": True}})

    assert result.path[-7:] == ["gw_escalation_fork", "escalation_unit", "escalation_office", "gw_escalation_join",
                                "closing_report", "gw_end_merge", "end_completed"]


def test_the_run_stops_after_the_given_number_of_steps_and_says_where_it_waits():
    result = run(max_steps=3)

    assert (result.stopped, result.end, result.waiting_at) == ("max_steps", None, ["office_topic_review"])
    assert [step.bpmn_id for step in result.steps] == ["topic_application", "leader_review", "secrecy_review"]


def test_an_unsaved_model_runs_through_its_new_step():
    result = run(with_secrecy_recheck())

    assert result.path[result.path.index("gw_secrecy_review") + 1] == "secrecy_recheck"
    assert result.outcome == "completed" and result.problems == []


def test_a_condition_failing_at_run_time_is_reported_on_its_gateway():
    bpmn = replaced(BPMN, "unit_kind == 'district'", "unit_category == 'district'")

    result = run(bpmn)

    assert result.stopped == "error" and result.error is not None
    assert result.error["element_id"] == "gw_unit_kind"
    assert result.error["message"].startswith("运行出错：") and "unit_category" in result.error["message"]
    assert result.path[-1] == "gw_office_topic_review"


def test_a_model_with_unsafe_code_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    bpmn = replaced(BPMN, "<bpmn:script>conference_date = new_conference_date",
                    f"<bpmn:script>import os\nopen('{marker}', 'w')\nconference_date = new_conference_date")

    result = run(bpmn, form_data={"conference_record": [{"conference_status": "postponed",
                                                         "new_conference_date": "2026-04-10",
                                                         "new_start_time": "15:00"}]})

    assert (result.stopped, result.path, result.steps) == ("invalid", [], [])
    assert result.error == {"element_id": "reschedule_conference", "message": "脚本不安全：不允许使用 import"}
    assert not marker.exists()


def test_a_model_that_cannot_be_parsed_comes_back_with_its_problems():
    result = dry_run("<definitions>", [DMN])

    assert result.stopped == "invalid" and result.problems and result.problems[0]["element_id"] is None


def test_a_dry_run_leaves_the_engine_clock_where_it_was():
    with clock.frozen_at(DEFAULT_NOW):
        result = run()

        assert clock.now() == DEFAULT_NOW
    assert dt.datetime.fromisoformat(result.steps[-1].at) > DEFAULT_NOW


def test_the_dry_run_clock_is_seen_by_its_own_thread_only():
    later = DEFAULT_NOW + dt.timedelta(days=30)
    seen_elsewhere: list[dt.datetime] = []
    with clock.frozen_at(DEFAULT_NOW), clock.local_clock(lambda: later):
        other = threading.Thread(target=lambda: seen_elsewhere.append(clock.now()))
        other.start()
        other.join()
        seen_here = clock.now()

    assert (seen_here, seen_elsewhere) == (later, [DEFAULT_NOW])


def test_an_endless_loop_of_automatic_steps_is_stopped_and_reported():
    bpmn = replaced(BPMN, 'sourceRef="reschedule_conference" targetRef="gw_wait_merge"',
                    'sourceRef="reschedule_conference" targetRef="gw_conference_status"')
    bpmn = replaced(bpmn, "conference_status = None\n", "")  # stays "postponed": round and round

    result = run(bpmn, form_data={"conference_record": {"conference_status": "postponed",
                                                        "new_conference_date": "2026-04-10",
                                                        "new_start_time": "15:00"}})

    assert result.stopped == "error" and result.error is not None
    assert result.error["element_id"] in ("gw_conference_status", "reschedule_conference")
    assert "无限循环" in result.error["message"]
    assert any("无限循环" in p["message"] for p in result.problems), "validation warned before the run"
