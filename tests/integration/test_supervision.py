"""Supervision in the engine: overdue in working days, the four stuck reasons, dashboard counts, the filtered list
and the heatmap's figures, judged at controlled clock times on a real database (state built through the API)."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

import pytest
from sqlalchemy import delete, select

from engine.config import Settings
from engine.models import Instance, RoleGrant, User
from engine.supervision.overview import Criteria, Policy, Supervision
from engine.supervision.stats import Period, charts, step_timings
from engine.workdays.calendar import SHANGHAI
from tests.integration import chain
from tests.integration.test_incidents import PROBE, review

CONFERENCE_AFTER_NATIONAL_DAY = {"conference_date": "2026-11-20"}


def at(*parts: int) -> dt.datetime:
    """A Beijing wall-clock time."""
    return dt.datetime(*parts, tzinfo=SHANGHAI)


def judge(app: Any, instance_id: int, policy: Policy | None = None) -> dict[str, Any]:
    """How supervision sees one application now, as plain values."""
    from webapp.extensions import db

    with app.app_context():
        supervision = Supervision.load(db.session, policy or Policy())
        row = supervision.rows([db.session.get(Instance, instance_id)])[0]
        seen = {
            "overdue": row.overdue, "overdue_workdays": row.overdue_workdays,
            "stuck": [(r.kind, r.message) for r in row.stuck], "kinds": [r.kind for r in row.stuck],
            "holders": {s.task.bpmn_id: s.holders for s in row.steps},
            "steps": {s.task.bpmn_id: s.overdue_workdays for s in row.steps},
        }
        db.session.remove()
    return seen


def listed(app: Any, **criteria: Any) -> tuple[list[int], int, int]:
    """Ids on the page, total and page count of the supervisors' list for these criteria."""
    from webapp.extensions import db

    with app.app_context():
        page = Supervision.load(db.session, Policy()).instances(Criteria(**criteria))
        found = ([row.instance.id for row in page.rows], page.total, page.pages)
        db.session.remove()
    return found


def board(app: Any) -> Any:
    from webapp.extensions import db

    with app.app_context():
        dashboard = Supervision.load(db.session, Policy()).dashboard()
        db.session.remove()
    return dashboard


def set_user(app: Any, username: str, **values: Any) -> None:
    from webapp.extensions import db

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        for name, value in values.items():
            setattr(user, name, value)
        db.session.commit()
        db.session.remove()


def next_timer(app: Any, instance_id: int) -> dt.datetime:
    from webapp.extensions import db

    with app.app_context():
        timer = db.session.get(Instance, instance_id).next_timer_at
        db.session.remove()
    return timer


# --- overdue ------------------------------------------------------------------------------------


def test_task_becomes_overdue_exactly_after_its_sla_across_national_day_and_the_make_up_saturday(
        app, login, frozen_clock):
    # Wednesday 30 September 2026, the last working day before the National Day holiday (1–7 October).
    frozen_clock.set(at(2026, 9, 30, 10, 0))
    instance_id = chain.apply(login, **CONFERENCE_AFTER_NATIONAL_DAY)
    chain.through_unit(login, instance_id)
    # office_topic_review has 3 working days: Thu 8, Fri 9 and the make-up Saturday 10 October.

    frozen_clock.set(at(2026, 10, 10, 23, 59, 59))
    assert judge(app, instance_id)["overdue"] is False

    frozen_clock.set(at(2026, 10, 11, 0, 0, 0))
    seen = judge(app, instance_id)
    assert seen["overdue"] is True
    assert seen["steps"] == {"office_topic_review": 0}  # Sunday: late, but no working day missed yet

    frozen_clock.set(at(2026, 10, 12, 9, 0))
    assert judge(app, instance_id)["steps"] == {"office_topic_review": 1}
    frozen_clock.set(at(2026, 10, 14, 9, 0))
    assert judge(app, instance_id)["overdue_workdays"] == 3


def test_a_task_due_before_the_holiday_is_not_overdue_during_the_sla_and_counts_no_holiday_when_late(
        app, login, frozen_clock):
    frozen_clock.set(at(2026, 9, 29, 16, 0))  # Tuesday; leader_review has 2 working days: Wed 30 Sep, Thu 8 Oct
    instance_id = chain.apply(login, **CONFERENCE_AFTER_NATIONAL_DAY)

    frozen_clock.set(at(2026, 10, 5, 12, 0))  # the middle of the holiday
    assert judge(app, instance_id)["overdue"] is False
    frozen_clock.set(at(2026, 10, 8, 23, 59, 59))
    assert judge(app, instance_id)["overdue"] is False
    frozen_clock.set(at(2026, 10, 10, 9, 0))  # make-up Saturday: Friday 9 October was missed, and today counts
    assert judge(app, instance_id)["steps"] == {"leader_review": 2}
    assert listed(app, overdue=True)[0] == [instance_id]
    assert listed(app, overdue=False)[0] == []


# --- stuck --------------------------------------------------------------------------------------


def test_application_without_progress_for_three_working_days_is_stuck_and_weekends_and_urging_do_not_count(
        app, login, frozen_clock):
    frozen_clock.set(at(2026, 3, 5, 9, 0))  # Thursday
    instance_id = chain.apply(login)

    frozen_clock.set(at(2026, 3, 9, 10, 0))  # Monday: a reminder is not progress
    urged = login("supervisor").post(f"/instances/{instance_id}/urge", json={"comment": "请尽快审核"})
    assert urged.get_json() == {"reminded_tasks": 1}
    frozen_clock.set(at(2026, 3, 10, 23, 59))  # Friday, Monday and Tuesday have passed only at midnight
    assert judge(app, instance_id)["stuck"] == []

    frozen_clock.set(at(2026, 3, 11, 0, 0))
    assert judge(app, instance_id)["stuck"] == [
        ("no_progress", "已连续 3 个工作日无进展（最后进展：2026-03-05 09:00）")]

    login("yz_leader").complete(instance_id, "leader_review", {"decision": "approve", "comment": "同意"})
    assert judge(app, instance_id)["stuck"] == []


def test_stuck_threshold_comes_from_the_configuration(app, login, frozen_clock):
    policy = Policy.from_settings(Settings.from_env({"PRESSFLOW_STUCK_AFTER_WORKDAYS": "1",
                                                     "PRESSFLOW_SECRET_KEY": "x"}))
    instance_id = chain.apply(login)  # Monday 2 March

    frozen_clock.set(at(2026, 3, 3, 23, 0))
    assert judge(app, instance_id, policy)["kinds"] == []
    frozen_clock.set(at(2026, 3, 4, 0, 0))
    assert judge(app, instance_id, policy)["kinds"] == ["no_progress"]
    assert judge(app, instance_id)["kinds"] == []  # the default is three working days


def test_application_in_error_is_stuck_with_the_incident_message(app, login):
    from engine.workflow.deploy import deploy
    from webapp.extensions import db

    with app.app_context():
        key = deploy(db.session, app.extensions["pressflow_runtime"], PROBE.read_text(encoding="utf-8"), [],
                     "tests").version.process_key
        db.session.remove()
    instance_id, _ = review(login, key, "approve")

    seen = judge(app, instance_id)
    assert seen["kinds"] == ["incident"]
    assert "division by zero" in seen["stuck"][0][1]
    totals = board(app).totals
    assert (totals.error, totals.stuck, totals.in_progress) == (1, 1, 0)


def test_timer_not_fired_within_the_grace_minutes_marks_the_application_stuck_until_a_worker_runs_it(
        app, login, frozen_clock):
    instance_id = chain.to_conference_timer(login)
    timer = next_timer(app, instance_id)
    assert timer == at(2026, 3, 20, 10, 0)

    frozen_clock.set(timer + dt.timedelta(minutes=5))
    assert judge(app, instance_id)["stuck"] == []
    frozen_clock.set(timer + dt.timedelta(minutes=5, seconds=1))
    assert judge(app, instance_id)["stuck"] == [
        ("missed_timer", "定时器应于 2026-03-20 10:00 触发，已超时 5 分钟仍未触发（定时任务进程可能未运行）")]
    assert listed(app, stuck=True)[0] == [instance_id]

    chain.run_timers(app, (timer + dt.timedelta(minutes=6)).isoformat())
    assert judge(app, instance_id)["kinds"] == []


def test_task_nobody_can_take_is_stuck_when_the_role_is_vacant_in_that_unit(app, login):
    instance_id = chain.apply(login)
    assert judge(app, instance_id)["holders"] == {"leader_review": ("渝中区主要负责人 李强",)}

    set_user(app, "yz_leader", active=False)
    seen = judge(app, instance_id)
    assert seen["stuck"] == [("vacant_role", "「主要负责人审核」无人可办：渝中区人民政府没有在岗的主要负责人")]
    assert seen["holders"] == {"leader_review": ()}

    set_user(app, "yz_leader", active=True)
    assert judge(app, instance_id)["kinds"] == []


@pytest.mark.leaves_stranded_tasks
def test_office_step_is_stuck_when_its_only_reviewer_loses_the_grant(app, login):
    from webapp.extensions import db

    instance_id = chain.apply(login)
    chain.through_unit(login, instance_id)
    with app.app_context():
        db.session.execute(delete(RoleGrant).where(RoleGrant.role == "office_reviewer"))
        db.session.commit()
        db.session.remove()

    assert judge(app, instance_id)["stuck"] == [
        ("vacant_role", "「新闻办选题审核」无人可办：市政府新闻办没有在岗的新闻办审核人")]


@pytest.mark.leaves_stranded_tasks
def test_claimed_task_whose_holder_is_deactivated_is_stuck_even_though_the_role_has_others(app, login):
    from engine.org.units import create_user, grant, unit_by_code
    from webapp.extensions import db

    instance_id = chain.apply(login)
    leader = login("yz_leader")
    assert leader.post(f"/tasks/{leader.task_at(instance_id, 'leader_review')['id']}/claim").status_code == 200
    with app.app_context():
        deputy = create_user(db.session, "yz_leader2", "渝中区副职负责人 钱程", "pressflow-demo")
        grant(db.session, deputy, "unit_leader", unit_by_code(db.session, "yuzhong"))
        db.session.commit()
        db.session.remove()

    set_user(app, "yz_leader", active=False)

    assert judge(app, instance_id)["stuck"] == [
        ("vacant_role", "「主要负责人审核」的办理人 yz_leader 已停用或不再担任该岗位，其他人无法认领")]


# --- dashboard and list ---------------------------------------------------------------------------


def test_dashboard_counts_open_applications_by_state_stage_unit_and_process(app, login, frozen_clock):
    from engine.supervision.actions import suspend
    from webapp.extensions import db

    late = chain.apply(login)  # Monday 2 March, leader_review due Wednesday
    chain.apply(login, "jiangbei", title="2026年江北区文化旅游发展新闻发布会")
    frozen_clock.set(at(2026, 3, 5, 9, 0))
    fresh = chain.apply(login, "health", title="2026年卫生健康工作新闻发布会")
    paused = chain.apply(login, title="2026年渝中区城市更新新闻发布会")
    with app.app_context():
        suspend(db.session, db.session.scalar(select(User).where(User.username == "supervisor")), paused, "待补材料")
        db.session.remove()

    dashboard = board(app)

    t = dashboard.totals
    assert (t.in_progress, t.overdue, t.stuck, t.error, t.suspended) == (3, 2, 0, 0, 1)
    stages = {b.key: (b.tally.in_progress, b.tally.overdue, b.tally.suspended) for b in dashboard.by_stage}
    assert stages == {"leader_review": (3, 2, 1)}
    units = {b.key: (b.label, b.tally.in_progress, b.tally.suspended) for b in dashboard.by_unit}
    assert units == {"yuzhong": ("渝中区人民政府", 1, 1), "jiangbei": ("江北区人民政府", 1, 0),
                     "health": ("市卫生健康委", 1, 0)}
    assert [(b.key, b.tally.in_progress) for b in dashboard.by_process] == [("press_conference", 3)]
    assert late in listed(app, overdue=True, unit="yuzhong")[0] and fresh not in listed(app, overdue=True)[0]


def test_instance_list_filters_by_status_unit_process_step_dates_and_title(app, login, frozen_clock):
    first = chain.apply(login)
    frozen_clock.set(at(2026, 3, 3, 9, 0))
    second = chain.apply(login, "jiangbei", title="2026年江北区文化旅游发展新闻发布会")
    chain.through_unit(login, second, "jiangbei")
    frozen_clock.set(at(2026, 3, 4, 9, 0))
    third = chain.apply(login, "health", title="2026年卫生健康工作新闻发布会")

    assert listed(app, unit="jiangbei")[0] == [second]
    assert listed(app, step="leader_review")[0] == [third, first]
    assert listed(app, step="office_topic_review")[0] == [second]
    assert listed(app, process="press_conference", status="in_progress")[1] == 3
    assert listed(app, status="completed")[0] == []
    assert listed(app, started_from=dt.date(2026, 3, 3), started_to=dt.date(2026, 3, 3))[0] == [second]
    assert listed(app, started_from=dt.date(2026, 3, 3))[0] == [third, second]
    assert listed(app, text="江北区文化")[0] == [second]
    assert listed(app, text="%")[0] == []  # a LIKE wildcard is searched for literally


def test_instance_list_sorts_and_pages_also_when_filtered_by_stuck(app, login, frozen_clock):
    ids = []
    for day, title in enumerate(["丙 发布会", "甲 发布会", "乙 发布会", "丁 发布会", "戊 发布会"]):
        frozen_clock.set(at(2026, 3, 2 + day, 9, 0))
        ids.append(chain.apply(login, title=f"2026年{title}"))
    frozen_clock.set(at(2026, 3, 10, 9, 0))  # the first three have been idle for three working days or more

    assert listed(app, sort="started_at", descending=False)[0] == ids
    assert listed(app, sort="due", descending=False, per_page=2) == (ids[:2], 5, 3)
    assert listed(app, sort="due", descending=False, per_page=2, page=3) == (ids[4:], 5, 3)
    assert listed(app, stuck=True, sort="started_at", descending=False, per_page=2) == (ids[:2], 3, 2)
    assert listed(app, stuck=True, sort="started_at", descending=False, per_page=2, page=2) == (ids[2:3], 3, 2)
    assert listed(app, stuck=False)[0] == [ids[4], ids[3]]
    assert listed(app, page=9, per_page=2)[0] == [ids[0]]  # past the end: the last page


# --- heatmap ------------------------------------------------------------------------------------

#: Hours each seeded application spent in (topic_application, leader_review, secrecy_review).
SEEDED_HOURS = [(1, 2, 3), (2, 4, 1), (4, 8, 2), (1, 30, 5)]


def seed_timed_applications(login: Any, frozen_clock: Any) -> list[int]:
    ids = []
    for day, (topic, leader, secrecy) in enumerate(SEEDED_HOURS):
        frozen_clock.set(at(2026, 3, 2 + day, 9, 0))
        instance_id = chain.start(login)
        frozen_clock.advance(hours=topic)
        login("yz_clerk").complete(instance_id, "topic_application", chain.application())
        frozen_clock.advance(hours=leader)
        login("yz_leader").complete(instance_id, "leader_review", {"decision": "approve", "comment": "同意"})
        frozen_clock.advance(hours=secrecy)
        login("yz_secrecy").complete(instance_id, "secrecy_review", {"decision": "pass", "comment": ""})
        ids.append(instance_id)
    return ids


def audit_durations(login: Any, ids: list[int]) -> dict[str, list[float]]:
    """Hours from the entry that opened each step (start, or the previous completion) to its completion."""
    durations: dict[str, list[float]] = {}
    for instance_id in ids:
        history = login("supervisor").get(f"/instances/{instance_id}/history").get_json()
        opened = None
        for entry in history:
            when = dt.datetime.fromisoformat(entry["at"])
            if entry["action"] == "complete":
                durations.setdefault(entry["bpmn_id"], []).append((when - opened).total_seconds() / 3600)
            if entry["action"] in ("start", "complete", "timer", "return"):
                opened = when
    return durations


def timings(app: Any, start: dt.date, end: dt.date) -> dict[str, Any]:
    from engine.workdays.store import load_calendar
    from webapp.extensions import db

    with app.app_context():
        found = {t.bpmn_id: t for t in step_timings(db.session, Period(start, end), load_calendar(db.session),
                                                       "press_conference")}
        db.session.remove()
    return found


def test_heatmap_median_and_p90_per_step_match_the_durations_in_the_audit_trail(app, login, frozen_clock):
    ids = seed_timed_applications(login, frozen_clock)
    from_audit = audit_durations(login, ids)
    assert from_audit["leader_review"] == [2, 4, 8, 30]

    found = timings(app, dt.date(2026, 3, 2), dt.date(2026, 3, 8))

    assert set(found) == {"topic_application", "leader_review", "secrecy_review"}
    for bpmn_id, hours in from_audit.items():
        assert found[bpmn_id].count == len(hours) == 4
        assert found[bpmn_id].median_hours == statistics.median(hours)
        p90 = statistics.quantiles(hours, n=10, method="inclusive")[8]
        assert found[bpmn_id].p90_hours == pytest.approx(p90, rel=1e-12)
    assert (found["leader_review"].median_hours, found["leader_review"].p90_hours) == (6, pytest.approx(23.4))
    assert found["leader_review"].p90_workdays == pytest.approx(0.7)  # only the 30-hour review crossed a day
    assert found["topic_application"].name == "选题申报"


def test_heatmap_counts_only_steps_completed_in_the_chosen_period(app, login, frozen_clock):
    seed_timed_applications(login, frozen_clock)

    assert timings(app, dt.date(2026, 3, 3), dt.date(2026, 3, 3))["leader_review"].count == 1
    assert timings(app, dt.date(2026, 3, 9), dt.date(2026, 3, 31)) == {}


def test_charts_count_applications_per_week_cycle_times_and_overdue_rate_per_unit(app, login, frozen_clock):
    from engine.workdays.store import load_calendar
    from webapp.extensions import db

    chain.apply(login)  # Monday 2 March: leader_review due Wednesday 4 March
    frozen_clock.set(at(2026, 3, 10, 9, 0))
    on_time = chain.apply(login, "jiangbei", title="2026年江北区文化旅游发展新闻发布会", conference_date="2026-04-20")
    login("jb_leader").complete(on_time, "leader_review", {"decision": "reject", "comment": "暂不举办"})

    with app.app_context():
        data = charts(db.session, Period(dt.date(2026, 3, 1), dt.date(2026, 3, 15)), load_calendar(db.session),
                      at(2026, 3, 10, 9, 0), "press_conference")
        db.session.remove()

    assert [(w["monday"], w["count"]) for w in data["weeks"]] == [
        ("2026-02-23", 0), ("2026-03-02", 1), ("2026-03-09", 1)]
    assert [b["count"] for b in data["cycle_times"]] == [1, 0, 0, 0, 0, 0]
    by_unit = {u["unit"]: (u["tasks"], u["overdue"]) for u in data["overdue_by_unit"]}
    # yuzhong: the application on time, the review late; jiangbei's steps are not due before now.
    assert by_unit == {"渝中区人民政府": (2, 1)}
