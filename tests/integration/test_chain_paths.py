"""Every path of the Article 15 chain through the API: returns, rejections, 或签, name holders, kinds, timers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from engine.workdays.calendar import SHANGHAI
from tests.integration import chain

CONFERENCE_START = dt.datetime(2026, 3, 20, 10, 0, tzinfo=SHANGHAI)
MUNICIPAL_SPEAKERS = ("mayor", "vice_mayor", "secretary_general", "deputy_secretary_general")
OFFICE_SPEAKERS = ("unit_principal", "unit_spokesperson", "authorized_official")


# --- helpers ---------------------------------------------------------------------------------------------------


def task_detail(user: Any, instance_id: int, bpmn_id: str) -> dict[str, Any]:
    """GET /tasks/{id} for the user's open task at ``bpmn_id``."""
    response = user.get(f"/tasks/{user.task_at(instance_id, bpmn_id)['id']}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def history(user: Any, instance_id: int) -> list[dict[str, Any]]:
    response = user.get(f"/instances/{instance_id}/history")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def completions(user: Any, instance_id: int) -> list[tuple[str, str]]:
    """(bpmn_id, actor) of every completed step, in order."""
    return [(h["bpmn_id"], h["actor"]) for h in history(user, instance_id) if h["action"] == "complete"]


def refused_fields(user: Any, instance_id: int, bpmn_id: str, data: dict[str, Any]) -> set[str]:
    """Submit a form that must be refused and return the names of the fields blamed."""
    body = user.complete(instance_id, bpmn_id, data, status=422)
    assert body["error"]["code"], body
    return set(body["error"]["fields"])


def review(decision: str, comment: str = "") -> dict[str, str]:
    return {"decision": decision, "comment": comment}


def selection(speaker_role: str, host_role: str) -> dict[str, Any]:
    return {"speaker_name": "张三", "speaker_role": speaker_role, "host_name": "何平", "host_role": host_role,
            "guests": []}


def at_conference(app: Any, login: Any, frozen_clock: Any, unit: str = "yuzhong", **overrides: Any) -> int:
    """Run an application past the conference-start timer, so that on-site staff record it."""
    instance_id = chain.to_conference_timer(login, unit, **overrides)
    frozen_clock.set(CONFERENCE_START + dt.timedelta(minutes=1))
    assert f"已推进 1 个实例：{instance_id}" in chain.run_timers(app, "2026-03-20T10:01")
    assert chain.open_steps(login("onsite"), instance_id) == ["conference_record"]
    return instance_id


def held(questions: int = 5) -> dict[str, Any]:
    return {"conference_status": "held", "questions_count": questions, "questions_summary": "记者围绕主要举措提问"}


def monitoring(major_issue: bool = False) -> dict[str, Any]:
    return {"coverage_summary": "30 家媒体报道", "public_reaction": "总体积极", "major_issue": major_issue,
            "report": "舆情平稳" if not major_issue else "出现集中质疑，需处置"}


def ended_with(login: Any, instance_id: int, outcome: str) -> dict[str, Any]:
    instance = login("supervisor").instance(instance_id)
    assert (instance["status"], instance["outcome"], instance["tasks"]) == ("completed", outcome, [])
    assert instance["ended_at"] is not None
    assert history(login("supervisor"), instance_id)[-1]["action"] == "end"
    return instance


# --- where each review sends the application back from ---------------------------------------------------------


def _at_leader_review(login: Any) -> int:
    return chain.apply(login)


def _at_secrecy_review(login: Any) -> int:
    instance_id = chain.apply(login)
    login("yz_leader").complete(instance_id, "leader_review", review("approve"))
    return instance_id


def _at_office_topic_review(login: Any) -> int:
    instance_id = chain.apply(login)
    chain.through_unit(login, instance_id)
    return instance_id


def _at_content_approval(login: Any) -> int:
    instance_id = _at_office_topic_review(login)
    chain.office_accepts(login, instance_id)
    return instance_id


RETURNS = {
    "leader": (_at_leader_review, "yz_leader", "leader_review", "return"),
    "secrecy": (_at_secrecy_review, "yz_secrecy", "secrecy_review", "return"),
    "office": (_at_office_topic_review, "office_reviewer", "office_topic_review", "return"),
    "content": (_at_content_approval, "yz_leader", "content_approval_district", "return"),
}
NEGATIVE_DECISIONS = {
    "leader-return": (_at_leader_review, "yz_leader", "leader_review", "return"),
    "leader-reject": (_at_leader_review, "yz_leader", "leader_review", "reject"),
    "secrecy-return": (_at_secrecy_review, "yz_secrecy", "secrecy_review", "return"),
    "office-return": (_at_office_topic_review, "office_reviewer", "office_topic_review", "return"),
    "office-decline": (_at_office_topic_review, "office_reviewer", "office_topic_review", "decline"),
    "content-return": (_at_content_approval, "yz_leader", "content_approval_district", "return"),
    "content-reject": (_at_content_approval, "yz_leader", "content_approval_district", "reject"),
}
Reach = Callable[[Any], int]


# --- returns ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("reach", "reviewer", "step", "decision"), RETURNS.values(), ids=RETURNS.keys())
def test_a_return_brings_the_application_back_to_the_clerk_prefilled_with_the_comment_in_history(
    app, login, reach: Reach, reviewer: str, step: str, decision: str,
):
    instance_id = reach(login)
    reason = f"{step}：请补充发布会安全保障内容"
    login(reviewer).complete(instance_id, step, review(decision, reason))

    clerk = login("yz_clerk")
    assert chain.open_steps(clerk, instance_id) == ["topic_application"]
    returned = task_detail(clerk, instance_id, "topic_application")
    assert returned["assignee"] == "yz_clerk"
    assert returned["data"] == chain.application()
    entry = [h for h in history(clerk, instance_id) if h["bpmn_id"] == step][-1]
    # The 退回修改 decision is one 退回: recorded exactly as the 退回 panel records it.
    assert (entry["action"], entry["actor"], entry["comment"]) == ("return", reviewer, f"退回至「选题申报」：{reason}")
    assert returned["returned_by"] == reviewer
    assert clerk.instance(instance_id)["status"] == "running"


@pytest.mark.parametrize(("reach", "reviewer", "step", "decision"), RETURNS.values(), ids=RETURNS.keys())
def test_a_resubmitted_application_travels_the_chain_again_and_keeps_every_comment(
    app, login, reach: Reach, reviewer: str, step: str, decision: str,
):
    instance_id = reach(login)
    login(reviewer).complete(instance_id, step, review(decision, "标题过长，请精简"))
    clerk = login("yz_clerk")
    clerk.complete(instance_id, "topic_application", chain.application(title="渝中区营商环境发布会"))

    leader = login("yz_leader")
    assert leader.task_at(instance_id, "leader_review")["instance_title"] == "渝中区营商环境发布会"
    chain.through_unit(login, instance_id)
    chain.office_accepts(login, instance_id)
    chain.content_approved(login, instance_id)
    assert chain.open_steps(login("office_reviewer"), instance_id) == ["host_speaker_selection"]

    trail = history(login("supervisor"), instance_id)
    assert "退回至「选题申报」：标题过长，请精简" in [h["comment"] for h in trail]
    assert [bpmn_id for bpmn_id, _ in completions(login("supervisor"), instance_id)].count("topic_application") == 2


def test_returns_from_every_reviewer_pile_up_in_history_and_the_latest_values_are_prefilled(app, login):
    instance_id = chain.apply(login)
    login("yz_leader").complete(instance_id, "leader_review", review("return", "领导：补充背景"))
    clerk = login("yz_clerk")
    clerk.complete(instance_id, "topic_application", chain.application(summary="补充了背景介绍。"))
    login("yz_leader").complete(instance_id, "leader_review", review("approve"))
    login("yz_secrecy").complete(instance_id, "secrecy_review", review("return", "保密：删去内部数据"))

    returned = task_detail(clerk, instance_id, "topic_application")
    assert returned["data"]["summary"] == "补充了背景介绍。"
    comments = [h["comment"] for h in history(clerk, instance_id) if h["action"] == "return"]
    assert comments == ["退回至「选题申报」：领导：补充背景", "退回至「选题申报」：保密：删去内部数据"]


# --- rejections and comments -----------------------------------------------------------------------------------


REJECTIONS = {
    "leader-reject": (_at_leader_review, "yz_leader", "leader_review", "reject", "rejected"),
    "office-decline": (_at_office_topic_review, "office_reviewer", "office_topic_review", "decline", "declined"),
    "content-reject": (_at_content_approval, "yz_leader", "content_approval_district", "reject", "rejected"),
}


@pytest.mark.parametrize(("reach", "reviewer", "step", "decision", "outcome"), REJECTIONS.values(),
                         ids=REJECTIONS.keys())
def test_a_rejection_ends_the_application_with_its_outcome(
    app, login, reach: Reach, reviewer: str, step: str, decision: str, outcome: str,
):
    instance_id = reach(login)
    finished = login(reviewer).complete(instance_id, step, review(decision, "不符合发布条件"))
    assert (finished["status"], finished["outcome"]) == ("completed", outcome)

    ended_with(login, instance_id, outcome)
    assert [t for t in login("yz_clerk").tasks() if t["instance_id"] == instance_id] == []
    entry = [h for h in history(login("supervisor"), instance_id) if h["bpmn_id"] == step][-1]
    assert (entry["actor"], entry["comment"]) == (reviewer, "不符合发布条件")


@pytest.mark.parametrize(("reach", "reviewer", "step", "decision"), NEGATIVE_DECISIONS.values(),
                         ids=NEGATIVE_DECISIONS.keys())
def test_a_negative_decision_without_a_comment_is_refused_and_the_task_stays_open(
    app, login, reach: Reach, reviewer: str, step: str, decision: str,
):
    instance_id = reach(login)
    user = login(reviewer)
    assert refused_fields(user, instance_id, step, review(decision, "   ")) == {"comment"}
    assert refused_fields(user, instance_id, step, {"decision": decision}) == {"comment"}
    assert chain.open_steps(user, instance_id) == [step]
    assert [h for h in history(user, instance_id) if h["bpmn_id"] == step] == []


# --- content approval: 或签 for districts, the leader for departments -------------------------------------------


@pytest.mark.parametrize(("first", "other"), [("yz_spokes", "yz_leader"), ("yz_leader", "yz_spokes")])
def test_district_content_approval_is_done_by_whichever_of_leader_or_spokesperson_acts_first(
    app, login, first: str, other: str,
):
    instance_id = _at_content_approval(login)
    task = login(other).task_at(instance_id, "content_approval_district")
    assert login(first).task_at(instance_id, "content_approval_district")["id"] == task["id"]
    assert [t for t in login("jb_spokes").tasks() if t["instance_id"] == instance_id] == []

    login(first).complete(instance_id, "content_approval_district", review("approve", "内容审定同意"))

    assert [t for t in login(other).tasks() if t["instance_id"] == instance_id] == []
    late = login(other).post(f"/tasks/{task['id']}/complete", json={"data": review("approve")})
    assert late.status_code == 409, late.get_json()
    assert ("content_approval_district", first) in completions(login("supervisor"), instance_id)
    assert chain.open_steps(login("office_reviewer"), instance_id) == ["host_speaker_selection"]


def test_department_content_is_approved_by_its_principal_leader(app, login):
    instance_id = chain.apply(login, "health", title="2026年全市卫生健康工作新闻发布会")
    chain.through_unit(login, instance_id, "health")
    chain.office_accepts(login, instance_id)

    leader = login("wjw_leader")
    assert chain.open_steps(leader, instance_id) == ["content_approval_department"]
    assert leader.task_at(instance_id, "content_approval_department")["unit"] == "health"
    assert [t for t in login("wjw_clerk").tasks() if t["instance_id"] == instance_id] == []
    leader.complete(instance_id, "content_approval_department", review("approve", "同意发布"))

    chain.select_host_speaker(login, instance_id)
    chain.onsite_ready(login, instance_id)
    assert login("supervisor").instance(instance_id)["status"] == "waiting"
    assert completions(login("supervisor"), instance_id)[:5] == [
        ("topic_application", "wjw_clerk"), ("leader_review", "wjw_leader"), ("secrecy_review", "wjw_secrecy"),
        ("office_topic_review", "office_reviewer"), ("content_approval_department", "wjw_leader"),
    ]


def test_department_content_rejection_ends_the_application_as_rejected(app, login):
    instance_id = chain.apply(login, "health")
    chain.through_unit(login, instance_id, "health")
    chain.office_accepts(login, instance_id)
    login("wjw_leader").complete(instance_id, "content_approval_department", review("reject", "口径不统一"))
    ended_with(login, instance_id, "rejected")


# --- host and speaker by name holder ---------------------------------------------------------------------------


ELIGIBLE = [("municipal_government", speaker, "municipal_spokesperson") for speaker in MUNICIPAL_SPEAKERS] + [
    ("information_office", speaker, host) for speaker in OFFICE_SPEAKERS
    for host in ("municipal_spokesperson", "spokesperson_assistant")
]


@pytest.mark.parametrize(("name_holder", "speaker_role", "host_role"), ELIGIBLE)
def test_the_office_may_choose_any_speaker_and_host_the_name_holder_allows(
    app, login, name_holder: str, speaker_role: str, host_role: str,
):
    instance_id = chain.apply(login, name_holder=name_holder)
    chain.through_unit(login, instance_id)
    chain.office_accepts(login, instance_id)
    chain.content_approved(login, instance_id)

    done = login("office_reviewer").complete(instance_id, "host_speaker_selection", selection(speaker_role, host_role))
    assert (done["data"]["speaker_role"], done["data"]["host_role"]) == (speaker_role, host_role)
    assert chain.open_steps(login("supervisor"), instance_id) == ["pre_announcement", "venue_preparation"]


@pytest.mark.parametrize(("name_holder", "speaker_role", "host_role", "blamed"), [
    ("municipal_government", "unit_principal", "municipal_spokesperson", {"speaker_role"}),
    ("municipal_government", "unit_spokesperson", "municipal_spokesperson", {"speaker_role"}),
    ("municipal_government", "authorized_official", "municipal_spokesperson", {"speaker_role"}),
    ("municipal_government", "vice_mayor", "spokesperson_assistant", {"host_role"}),
    ("municipal_government", "unit_principal", "spokesperson_assistant", {"speaker_role", "host_role"}),
    ("information_office", "mayor", "spokesperson_assistant", {"speaker_role"}),
    ("information_office", "vice_mayor", "municipal_spokesperson", {"speaker_role"}),
    ("information_office", "secretary_general", "municipal_spokesperson", {"speaker_role"}),
    ("information_office", "deputy_secretary_general", "municipal_spokesperson", {"speaker_role"}),
    ("information_office", "governor", "municipal_spokesperson", {"speaker_role"}),
], ids=lambda value: "+".join(sorted(value)) if isinstance(value, set) else None)
def test_a_speaker_or_host_the_name_holder_does_not_allow_is_refused(
    app, login, name_holder: str, speaker_role: str, host_role: str, blamed: set[str],
):
    instance_id = chain.apply(login, name_holder=name_holder)
    chain.through_unit(login, instance_id)
    chain.office_accepts(login, instance_id)
    chain.content_approved(login, instance_id)

    office = login("office_reviewer")
    assert refused_fields(office, instance_id, "host_speaker_selection", selection(speaker_role, host_role)) == blamed
    assert chain.open_steps(office, instance_id) == ["host_speaker_selection"]


# --- the conference: 发布会 and 通报会, postponed, cancelled -----------------------------------------------------


def test_a_press_conference_must_record_reporters_questions(app, login, frozen_clock):
    instance_id = at_conference(app, login, frozen_clock, kind="press_conference")
    onsite = login("onsite")
    assert refused_fields(onsite, instance_id, "conference_record", held(questions=0)) == {"questions_count"}
    assert refused_fields(onsite, instance_id, "conference_record",
                          {"conference_status": "held", "questions_summary": "无"}) == {"questions_count"}
    assert refused_fields(onsite, instance_id, "conference_record",
                          {"conference_status": "held", "questions_count": 3}) == {"questions_summary"}

    onsite.complete(instance_id, "conference_record", held(questions=3))
    assert chain.open_steps(login("monitor"), instance_id) == ["monitoring_report"]


def test_a_briefing_may_be_recorded_without_questions_and_completes(app, login, frozen_clock):
    instance_id = at_conference(app, login, frozen_clock, kind="briefing", name_holder="information_office")
    login("onsite").complete(instance_id, "conference_record", {"conference_status": "held", "questions_count": 0})
    login("monitor").complete(instance_id, "monitoring_report", monitoring())
    ended_with(login, instance_id, "completed")


def test_a_postponed_conference_waits_for_its_new_start_and_is_recorded_again(app, login, frozen_clock):
    instance_id = at_conference(app, login, frozen_clock)
    onsite = login("onsite")
    assert refused_fields(onsite, instance_id, "conference_record", {"conference_status": "postponed"}) == {
        "new_conference_date", "new_start_time"}
    assert refused_fields(onsite, instance_id, "conference_record", {
        "conference_status": "postponed", "new_conference_date": "2026-03-20", "new_start_time": "15:00",
    }) == {"new_conference_date"}

    waiting = onsite.complete(instance_id, "conference_record", {
        "conference_status": "postponed", "new_conference_date": "2026-03-27", "new_start_time": "15:00",
        "notes": "发布人临时公务，改期一周",
    })
    new_start = dt.datetime(2026, 3, 27, 15, 0, tzinfo=SHANGHAI)
    assert (waiting["status"], waiting["tasks"]) == ("waiting", [])
    assert dt.datetime.fromisoformat(waiting["next_timer_at"]) == new_start
    assert (waiting["data"]["conference_date"], waiting["data"]["start_time"]) == ("2026-03-27", "15:00")

    assert "已推进 0 个实例" in chain.run_timers(app, "2026-03-27T14:59")
    assert login("supervisor").instance(instance_id)["status"] == "waiting"
    frozen_clock.set(new_start + dt.timedelta(minutes=1))
    assert f"已推进 1 个实例：{instance_id}" in chain.run_timers(app, "2026-03-27T15:01")

    onsite = login("onsite")
    assert chain.open_steps(onsite, instance_id) == ["conference_record"]
    assert onsite.instance(instance_id)["next_timer_at"] is None
    onsite.complete(instance_id, "conference_record", held())
    login("monitor").complete(instance_id, "monitoring_report", monitoring())
    ended_with(login, instance_id, "completed")
    assert [h["action"] for h in history(login("supervisor"), instance_id)].count("timer") == 2


def test_a_cancelled_conference_needs_a_reason_and_ends_as_cancelled(app, login, frozen_clock):
    instance_id = at_conference(app, login, frozen_clock)
    onsite = login("onsite")
    assert refused_fields(onsite, instance_id, "conference_record", {"conference_status": "cancelled"}) == {
        "cancel_reason"}

    onsite.complete(instance_id, "conference_record", {"conference_status": "cancelled", "cancel_reason": "突发事件"})
    cancelled = ended_with(login, instance_id, "cancelled")
    assert cancelled["next_timer_at"] is None


# --- after the conference: the major-issue escalation ----------------------------------------------------------


def test_a_major_issue_is_handled_by_unit_and_office_then_closed_by_a_report(app, login, frozen_clock):
    instance_id = at_conference(app, login, frozen_clock)
    login("onsite").complete(instance_id, "conference_record", held())
    login("monitor").complete(instance_id, "monitoring_report", monitoring(major_issue=True))

    assert chain.open_steps(login("supervisor"), instance_id) == ["escalation_office", "escalation_unit"]
    assert login("yz_leader").task_at(instance_id, "escalation_unit")["unit"] == "yuzhong"
    assert [t for t in login("jb_leader").tasks() if t["instance_id"] == instance_id] == []
    assert [t["bpmn_id"] for t in login("office_reviewer").tasks() if t["instance_id"] == instance_id] == [
        "escalation_office"]
    assert refused_fields(login("yz_leader"), instance_id, "escalation_unit", {"comment": "已处置"}) == {"measures"}

    login("yz_leader").complete(instance_id, "escalation_unit", {"measures": "主动回应关切，发布权威解读"})
    assert chain.open_steps(login("supervisor"), instance_id) == ["escalation_office"]
    login("office_reviewer").complete(instance_id, "escalation_office", {"measures": "组织专家会商", "comment": ""})
    assert chain.open_steps(login("monitor"), instance_id) == ["closing_report"]

    login("monitor").complete(instance_id, "closing_report", {"summary": "舆情已于两日内平息", "resolved": True})
    ended_with(login, instance_id, "completed")
    assert completions(login("supervisor"), instance_id)[-3:] == [
        ("escalation_unit", "yz_leader"), ("escalation_office", "office_reviewer"), ("closing_report", "monitor"),
    ]


def test_without_a_major_issue_the_monitoring_report_completes_the_application(app, login, frozen_clock):
    instance_id = at_conference(app, login, frozen_clock)
    login("onsite").complete(instance_id, "conference_record", held())
    login("monitor").complete(instance_id, "monitoring_report", monitoring(major_issue=False))
    ended_with(login, instance_id, "completed")
    assert "closing_report" not in [bpmn_id for bpmn_id, _ in completions(login("supervisor"), instance_id)]
