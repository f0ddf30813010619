"""The sample applications of a demo database: made through the engine, each at its point of the chain, once."""

from __future__ import annotations

from typing import Any

import pytest

from engine.samples import seed_sample_applications

COMPLETED = "2026年渝中区优化营商环境新闻发布会"
OVERDUE = "江北区今冬明春安全生产工作通报会"
RETURNED = "渝中区老旧小区改造进展新闻发布会"
AT_OFFICE = "冬春季呼吸道传染病防控新闻发布会"
WAITING = "江北区重点项目建设新闻发布会"
REJECTED = "医疗服务价格调整情况通报会"


def seed(app: Any) -> int:
    from webapp.extensions import db

    with app.app_context():
        made = seed_sample_applications(db.session, app.extensions["pressflow_runtime"])
        db.session.remove()
    return made


def by_title(login: Any) -> dict[str, dict[str, Any]]:
    items = login("supervisor").get("/instances").get_json()["items"]
    return {item["title"]: item for item in items}


def test_six_sample_applications_stand_where_the_demo_says(app, login):
    assert seed(app) == 6

    found = by_title(login)
    assert {title: (i["status"], i["outcome"]) for title, i in found.items()} == {
        COMPLETED: ("completed", "completed"), OVERDUE: ("running", None), RETURNED: ("running", None),
        AT_OFFICE: ("running", None), WAITING: ("waiting", None), REJECTED: ("completed", "rejected"),
    }
    assert found[WAITING]["next_timer_at"] is not None


def test_each_reviewer_finds_the_sample_waiting_for_them(app, login):
    seed(app)

    late = [t for t in login("jb_leader").tasks() if t["instance_title"] == OVERDUE]
    assert [(t["bpmn_id"], t["overdue"]) for t in late] == [("leader_review", True)]
    returned = [t for t in login("yz_clerk").tasks() if t["instance_title"] == RETURNED]
    assert [(t["bpmn_id"], t["returned_by"]) for t in returned] == [("topic_application", "yz_leader")]
    assert "数据来源" in returned[0]["returned_comment"]
    assert [t["bpmn_id"] for t in login("office_reviewer").tasks() if t["instance_title"] == AT_OFFICE] == [
        "office_topic_review"]


def test_the_completed_sample_has_a_whole_history_in_order_with_its_timer(app, login):
    seed(app)
    instance_id = by_title(login)[COMPLETED]["id"]

    history = login("supervisor").get(f"/instances/{instance_id}/history").get_json()

    assert [h["at"] for h in history] == sorted(h["at"] for h in history)
    assert [h["task"] for h in history if h["action"] == "complete"] == [
        "选题申报", "主要负责人审核", "保密审查", "新闻办选题审核", "内容审定（区县：主要负责人或新闻发言人）",
        "发布人、主持人选定", "「重庆发布」预告", "场地与直播准备", "发布会记录", "会后舆情报告"]
    assert {"timer", "end"} <= {h["action"] for h in history}


def test_samples_are_made_only_into_a_database_without_applications(app, login):
    assert seed(app) == 6
    assert seed(app) == 0
    assert len(by_title(login)) == 6


def test_a_changed_process_gets_no_samples_and_a_reason_instead_of_half_of_them(app, login):
    from engine.samples import SamplesDoNotFit
    from engine.workflow.deploy import deploy
    from tests.model_edits import DMN, replaced, with_secrecy_recheck
    from webapp.extensions import db

    renamed = replaced(with_secrecy_recheck(), 'id="monitoring_report"', 'id="opinion_report"')
    renamed = replaced(renamed, 'bpmnElement="monitoring_report"', 'bpmnElement="opinion_report"')
    renamed = renamed.replace('sourceRef="monitoring_report"', 'sourceRef="opinion_report"')
    renamed = renamed.replace('targetRef="monitoring_report"', 'targetRef="opinion_report"')
    renamed = renamed.replace("<bpmn:flowNodeRef>monitoring_report<", "<bpmn:flowNodeRef>opinion_report<")
    with app.app_context():
        deploy(db.session, app.extensions["pressflow_runtime"], renamed, [DMN], "owner", note="改名")
        with pytest.raises(SamplesDoNotFit, match="monitoring_report"):
            seed_sample_applications(db.session, app.extensions["pressflow_runtime"])
        db.session.remove()

    assert login("supervisor").get("/instances").get_json()["total"] == 0


def test_a_process_that_leads_elsewhere_stops_the_samples_with_the_step_it_missed(app):
    from engine.samples import SamplesDoNotFit
    from engine.workflow.deploy import deploy
    from tests.model_edits import DMN, with_secrecy_recheck
    from webapp.extensions import db

    with app.app_context():
        deploy(db.session, app.extensions["pressflow_runtime"], with_secrecy_recheck(), [DMN], "owner",
               note="复核")
        with pytest.raises(SamplesDoNotFit, match="office_topic_review"):
            seed_sample_applications(db.session, app.extensions["pressflow_runtime"])
        db.session.remove()
