"""The annual evaluation (年度考评, Art. 13) and the spokesperson's annual report (Art. 9(八)), through the database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.models import AnnualEvaluation, Instance, Unit
from engine.workdays.calendar import SHANGHAI
from engine.worker import annual
from tests.web.test_notifications_delegations import _pressflow, signal_handlers_restored  # noqa: F401 - a fixture
from webapp.extensions import db

OPENING = dt.datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)  # Tuesday 1 December 2026, a working day
SELF_EVALUATION = {"conferences_held": 12, "releases": 340, "interviews": 25, "incidents": 3,
                   "summary": "全年按办法第十五条规范举办发布会。"}
REPORT = {"report": "全年组织新闻发布 12 场。", "plan": "明年每季度至少举办一场例行发布会。"}
EVALUATION = {"decision": "evaluate", "score": 92, "grade": "excellent", "comment": "发布规范，回应及时。"}


def _open(app: Any) -> list[int]:
    with app.app_context():
        return annual.start_annual_evaluations(db.session, app.extensions["pressflow_runtime"],
                                               _now())


def _now() -> dt.datetime:
    from engine import clock
    return clock.now()


def _count(app: Any, model: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def _instance_of(app: Any, unit_code: str) -> int:
    with app.app_context():
        return int(db.session.scalar(select(AnnualEvaluation.instance_id).join(Unit)
                                     .where(Unit.code == unit_code)) or 0)


def _unit_drafts(login: Any, instance_id: int) -> None:
    login("yz_clerk").complete(instance_id, "self_evaluation", SELF_EVALUATION)
    login("yz_spokes").complete(instance_id, "spokesperson_report", REPORT)


def _to_municipal(login: Any, instance_id: int) -> None:
    _unit_drafts(login, instance_id)
    login("yz_leader").complete(instance_id, "annual_leader_review", {"decision": "approve"})
    login("office_reviewer").complete(instance_id, "office_evaluation", EVALUATION)


def test_the_yearly_timer_opens_one_evaluation_per_district_and_department_at_nine_on_the_first_working_day(
    app, frozen_clock, login
):
    frozen_clock.set(OPENING - dt.timedelta(minutes=1))
    assert _open(app) == []

    frozen_clock.set(OPENING + dt.timedelta(minutes=1))
    opened = _open(app)

    assert len(opened) == 3  # 渝中区, 江北区, 市卫生健康委; not the Office
    assert _open(app) == []  # a second pass, as a second worker would run, starts nothing
    yuzhong = _instance_of(app, "yuzhong")
    assert {t["bpmn_id"] for t in login("yz_clerk").tasks() if t["instance_id"] == yuzhong} == {"self_evaluation"}
    assert [t["bpmn_id"] for t in login("yz_spokes").tasks()] == ["spokesperson_report"]
    assert "2026 年度" in login("yz_clerk").instance(yuzhong)["title"]
    assert not [t for t in login("jb_clerk").tasks() if t["instance_id"] == yuzhong]


def test_the_opening_day_follows_the_working_day_calendar_and_the_configured_month(app):
    with app.app_context():
        from engine.workdays.store import load_calendar
        calendar = load_calendar(db.session)
        # 1 December 2024 was a Sunday: the evaluations open on Monday the 2nd.
        assert annual.opening_moment(calendar, 2024, 12) == dt.datetime(2024, 12, 2, 1, 0, tzinfo=dt.UTC)
        # January 2027 opens after New Year's Day (a holiday) on the first working day.
        assert annual.opening_moment(calendar, 2026, 1).astimezone(SHANGHAI).date() > dt.date(2026, 1, 3)


def test_a_worker_back_from_downtime_opens_the_year_once_not_once_per_missed_day(app, frozen_clock):
    frozen_clock.set(OPENING + dt.timedelta(days=4))  # down from before the opening until Saturday

    passes = []
    for _day in range(3):
        passes.append(len(_open(app)))
        frozen_clock.advance(days=1)

    assert passes == [3, 0, 0]
    assert _count(app, AnnualEvaluation) == 3


def test_a_worker_back_long_after_the_opening_window_leaves_the_past_year_alone(app, frozen_clock):
    frozen_clock.set(OPENING + dt.timedelta(days=61))
    assert _open(app) == []
    assert _count(app, Instance) == 0


def test_a_worker_that_lost_the_race_for_a_unit_starts_nothing_for_it(app, frozen_clock):
    frozen_clock.set(OPENING + dt.timedelta(hours=1))
    _open(app)
    with app.app_context():
        unit_id = db.session.scalar(select(Unit.id).where(Unit.code == "yuzhong"))
        # A second worker read the unit list before the first committed, then tries the same unit.
        lost = annual._start_one(db.session, app.extensions["pressflow_runtime"], 2026, unit_id, _now())
    assert lost is None
    assert _count(app, Instance) == 3


def test_the_unit_drafts_the_leader_approves_the_office_evaluates_and_the_municipal_government_publishes(
    app, frozen_clock, login
):
    frozen_clock.set(OPENING)
    frozen_clock.advance(minutes=5)
    _open(app)
    yuzhong = _instance_of(app, "yuzhong")

    _to_municipal(login, yuzhong)
    done = login("mayor").complete(yuzhong, "municipal_approval", {"decision": "approve"})

    assert done["status"] == "completed"
    assert done["outcome"] == "published"


def test_the_leader_can_return_both_drafts_which_come_back_filled_in(app, frozen_clock, login):
    frozen_clock.set(OPENING + dt.timedelta(minutes=5))
    _open(app)
    yuzhong = _instance_of(app, "yuzhong")
    _unit_drafts(login, yuzhong)

    login("yz_leader").complete(yuzhong, "annual_leader_review", {"decision": "return", "comment": "补充舆情处置情况"})

    clerk_task = login("yz_clerk").task_at(yuzhong, "self_evaluation")
    form = login("yz_clerk").get(f"/tasks/{clerk_task['id']}").get_json()
    assert form["data"]["releases"] == 340
    login("yz_spokes").task_at(yuzhong, "spokesperson_report")
    _unit_drafts(login, yuzhong)
    login("yz_leader").complete(yuzhong, "annual_leader_review", {"decision": "approve"})
    login("office_reviewer").task_at(yuzhong, "office_evaluation")


def test_the_office_can_return_the_evaluation_to_the_unit(app, frozen_clock, login):
    frozen_clock.set(OPENING + dt.timedelta(minutes=5))
    _open(app)
    yuzhong = _instance_of(app, "yuzhong")
    _unit_drafts(login, yuzhong)
    login("yz_leader").complete(yuzhong, "annual_leader_review", {"decision": "approve"})

    login("office_reviewer").complete(yuzhong, "office_evaluation", {"decision": "return", "comment": "数据不全"})

    login("yz_clerk").task_at(yuzhong, "self_evaluation")
    login("yz_spokes").task_at(yuzhong, "spokesperson_report")


def test_the_municipal_government_can_send_the_result_back_to_the_office(app, frozen_clock, login):
    frozen_clock.set(OPENING + dt.timedelta(minutes=5))
    _open(app)
    yuzhong = _instance_of(app, "yuzhong")
    _to_municipal(login, yuzhong)

    login("mayor").complete(yuzhong, "municipal_approval", {"decision": "return", "comment": "等次偏高"})

    login("office_reviewer").complete(yuzhong, "office_evaluation", {**EVALUATION, "grade": "good", "score": 85})
    done = login("mayor").complete(yuzhong, "municipal_approval", {"decision": "approve"})
    assert done["outcome"] == "published"


def test_an_evaluation_without_score_or_grade_and_a_negative_figure_are_refused_with_reasons(
    app, frozen_clock, login
):
    frozen_clock.set(OPENING + dt.timedelta(minutes=5))
    _open(app)
    yuzhong = _instance_of(app, "yuzhong")

    refused = login("yz_clerk").complete(yuzhong, "self_evaluation", {**SELF_EVALUATION, "releases": -1}, status=422)
    assert refused["error"]["fields"]["releases"] == ["须在 0 到 100000 之间"]
    _unit_drafts(login, yuzhong)
    login("yz_leader").complete(yuzhong, "annual_leader_review", {"decision": "approve"})
    refused = login("office_reviewer").complete(yuzhong, "office_evaluation", {"decision": "evaluate"}, status=422)
    assert refused["error"]["fields"]["score"] == ["评定时须填写得分和等次"]
    assert refused["error"]["fields"]["grade"] == ["评定时须填写得分和等次"]
    login("office_reviewer").task_at(yuzhong, "office_evaluation")  # still open, nothing changed


def test_nobody_starts_an_annual_evaluation_by_hand(app, login):
    response = login("yz_clerk").post("/instances", json={"process": "annual_evaluation"})

    assert response.status_code == 403
    assert "定时启动" in str(response.get_json())
    assert _count(app, Instance) == 0


def test_run_timers_now_opens_the_year_once(app):
    assert "已启动年度考评 3 个" in _pressflow(app, "run-timers", "--now", "2026-12-01T09:30")
    assert "年度考评" not in _pressflow(app, "run-timers", "--now", "2026-12-02T09:30")
    assert _count(app, AnnualEvaluation) == 3


@pytest.mark.usefixtures("signal_handlers_restored")
def test_the_worker_opens_the_year_on_its_pass(app, frozen_clock):
    frozen_clock.set(OPENING + dt.timedelta(hours=2))

    assert "已启动年度考评" in _pressflow(app, "worker", "--once")
    _pressflow(app, "worker", "--once")
    assert _count(app, AnnualEvaluation) == 3


def test_an_opening_month_outside_one_to_twelve_is_refused_at_start_up():
    from engine.config import Settings

    with pytest.raises(ValueError, match="ANNUAL_EVALUATION_MONTH must be 1–12"):
        Settings.from_env({"PRESSFLOW_ANNUAL_EVALUATION_MONTH": "13", "PRESSFLOW_SECRET_KEY": "k" * 40})
