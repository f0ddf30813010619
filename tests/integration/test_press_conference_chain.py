"""The whole Article 15 chain through the API and the database, one step per demo user."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner

from engine.workdays.calendar import SHANGHAI
from tests.integration import chain


def run_timers(app, at: str) -> str:
    from webapp.cli import main

    result = CliRunner().invoke(main, ["run-timers", "--now", at], obj=_script_info(app))
    assert result.exit_code == 0, result.output
    return result.output


def _script_info(app):
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=lambda: app)


def test_yuzhong_application_travels_the_whole_chain_and_history_names_every_actor(app, login, frozen_clock):
    instance_id = chain.to_conference_timer(login)
    supervisor = login("supervisor")
    waiting = supervisor.instance(instance_id)
    assert waiting["status"] == "waiting"
    assert waiting["tasks"] == []
    start = dt.datetime(2026, 3, 20, 10, 0, tzinfo=SHANGHAI)
    assert dt.datetime.fromisoformat(waiting["next_timer_at"]) == start

    assert "已推进 0 个实例" in run_timers(app, "2026-03-20T09:59")
    frozen_clock.set(start + dt.timedelta(minutes=1))
    assert "已推进 1 个实例" in run_timers(app, "2026-03-20T10:01")

    onsite = login("onsite")
    onsite.complete(instance_id, "conference_record", {
        "conference_status": "held", "questions_count": 6, "questions_summary": "记者就营商环境举措提问 6 个",
    })
    login("monitor").complete(instance_id, "monitoring_report", {
        "coverage_summary": "40 家媒体报道", "public_reaction": "反响积极", "major_issue": False,
        "report": "无负面舆情",
    })
    supervisor = login("supervisor")  # a new token: the clock moved on by weeks
    done = supervisor.instance(instance_id)
    assert done["status"] == "completed"
    assert done["outcome"] == "completed"

    history = supervisor.get(f"/instances/{instance_id}/history").get_json()
    completed = [(h["bpmn_id"], h["actor"]) for h in history if h["action"] == "complete"]
    assert completed[:6] == [
        ("topic_application", "yz_clerk"), ("leader_review", "yz_leader"), ("secrecy_review", "yz_secrecy"),
        ("office_topic_review", "office_reviewer"), ("content_approval_district", "yz_leader"),
        ("host_speaker_selection", "office_reviewer"),
    ]
    assert sorted(completed[6:8]) == [("pre_announcement", "office_reviewer"), ("venue_preparation", "onsite")]
    assert completed[8:] == [("conference_record", "onsite"), ("monitoring_report", "monitor")]
    assert [h["action"] for h in history if h["action"] == "timer"] == ["timer"]
    comments = {h["task"]: h["comment"] for h in history if h["action"] == "complete"}
    assert comments["主要负责人审核"] == "同意"
    assert comments["新闻办选题审核"] == "同意选题"
    assert [h["action"] for h in history][0] == "start"
    assert history[-1]["action"] == "end"
