"""The year's published annual evaluation results: the Office sees every unit, a unit only its own."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from engine import clock
from engine.models import AnnualEvaluation, Unit
from engine.workdays.calendar import SHANGHAI
from engine.worker.annual import start_annual_evaluations
from webapp.extensions import db

OPENING = dt.datetime(2026, 12, 1, 9, 30, tzinfo=SHANGHAI)
RESULTS = "/applications/annual-results?year=2026"


def _publish(app: Any, login: Any, frozen_clock: Any, unit: str, prefix: str, score: int, grade: str) -> int:
    with app.app_context():
        if not db.session.scalar(select(AnnualEvaluation.id).limit(1)):
            start_annual_evaluations(db.session, app.extensions["pressflow_runtime"], clock.now())
        instance_id = int(db.session.scalar(select(AnnualEvaluation.instance_id).join(Unit)
                                            .where(Unit.code == unit)) or 0)
    login(f"{prefix}_clerk").complete(instance_id, "self_evaluation", {
        "conferences_held": 4, "releases": 80, "interviews": 6, "incidents": 1, "summary": "全年工作总结"})
    login(f"{prefix}_spokes").complete(instance_id, "spokesperson_report", {"report": "年度报告", "plan": "明年计划"})
    login(f"{prefix}_leader").complete(instance_id, "annual_leader_review", {"decision": "approve"})
    login("office_reviewer").complete(instance_id, "office_evaluation", {
        "decision": "evaluate", "score": score, "grade": grade, "comment": f"{unit} 考评意见"})
    login("mayor").complete(instance_id, "municipal_approval", {"decision": "approve"})
    return instance_id


def test_the_office_sees_every_published_result_and_each_unit_only_its_own(app, frozen_clock, login, web):
    frozen_clock.set(OPENING)
    _publish(app, login, frozen_clock, "yuzhong", "yz", 92, "excellent")
    _publish(app, login, frozen_clock, "jiangbei", "jb", 78, "good")

    office = web("office_reviewer").get(RESULTS).text
    assert "渝中区人民政府" in office and "江北区人民政府" in office and "优秀" in office and "良好" in office
    assert "市卫生健康委" not in office  # not yet published
    for supervisor in ("supervisor", "mayor"):
        assert "江北区人民政府" in web(supervisor).get(RESULTS).text
    yuzhong = web("yz_leader").get(RESULTS).text
    assert "渝中区人民政府" in yuzhong and "92" in yuzhong
    assert "江北区人民政府" not in yuzhong and "jiangbei 考评意见" not in yuzhong
    assert "江北区人民政府" not in web("yz_clerk").get(RESULTS).text
    assert "渝中区人民政府" not in web("wjw_clerk").get(RESULTS).text


def test_a_year_whose_results_are_still_under_way_says_none_is_published_yet(app, frozen_clock, login, web):
    frozen_clock.set(OPENING)
    with app.app_context():
        start_annual_evaluations(db.session, app.extensions["pressflow_runtime"], clock.now())
    page = web("office_reviewer").get(RESULTS)
    assert page.status_code == 200
    assert "该年度尚无您可查看的已发布考评结果" in page.text


def test_a_bad_year_gets_a_clear_message_not_an_error(app, web):
    for year in ("abcd", "1999", "20261", "9999"):
        page = web("office_reviewer").get(f"/applications/annual-results?year={year}")
        assert page.status_code == 400
        assert "年份无效" in page.text


def test_the_new_application_page_does_not_offer_the_yearly_evaluation(app, web):
    page = web("yz_clerk").get("/applications/new").text
    assert "新闻发布工作年度考评" not in page
    assert "新闻发布会审批" in page


def test_the_process_owner_finds_the_annual_evaluation_in_the_modeler_with_its_diagram(app, web):
    owner = web("owner")
    assert "新闻发布工作年度考评" in owner.get("/models/").text
    assert owner.get("/models/annual_evaluation").status_code == 200
    xml = owner.get("/models/annual_evaluation/v1.bpmn").text
    assert 'bpmnElement="office_evaluation"' in xml and 'bpmnElement="Lane_municipal_leader"' in xml


def test_each_step_of_the_evaluation_is_done_through_its_web_form(app, frozen_clock, login, web):
    frozen_clock.set(OPENING)
    with app.app_context():
        start_annual_evaluations(db.session, app.extensions["pressflow_runtime"], clock.now())
        instance_id = int(db.session.scalar(select(AnnualEvaluation.instance_id).join(Unit)
                                            .where(Unit.code == "yuzhong")) or 0)
    steps = (
        ("yz_clerk", "self_evaluation", {"conferences_held": "4", "releases": "80", "interviews": "6",
                                         "incidents": "0", "summary": "全年工作总结"}),
        ("yz_spokes", "spokesperson_report", {"report": "年度报告", "plan": "明年计划"}),
        ("yz_leader", "annual_leader_review", {"decision": "approve"}),
        ("office_reviewer", "office_evaluation", {"decision": "evaluate", "score": "88", "grade": "good"}),
        ("mayor", "municipal_approval", {"decision": "approve"}),
    )
    for username, bpmn_id, data in steps:
        task_id = login(username).task_at(instance_id, bpmn_id)["id"]
        page = web(username).get(f"/tasks/{task_id}")
        assert page.status_code == 200
        done = web(username).post_form(f"/tasks/{task_id}/complete", data, page=f"/tasks/{task_id}")
        assert done.status_code == 302, done.text

    assert web("yz_clerk").get(f"/applications/{instance_id}").status_code == 200
    assert "良好" in web("yz_clerk").get(RESULTS).text


def test_posting_the_yearly_evaluation_to_the_start_form_is_refused_and_starts_nothing(app, web):
    refused = web("yz_clerk").post_form("/applications/new", {"process": "annual_evaluation"}, page="/applications/new")

    assert refused.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(AnnualEvaluation.id).limit(1)) is None
        from engine.models import Instance
        assert db.session.scalar(select(Instance.id).limit(1)) is None
