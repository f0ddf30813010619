"""定时发布 (Art. 15(七)): a series starts one linked release round per slot; the HQ changes or ends it; slots
missed while the workers were down are recorded, not fired late."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from engine.models import AuditEntry, Instance, TimedReleaseSeries
from engine.workdays.calendar import SHANGHAI
from tests.integration import chain

DAILY = {"event": "呼吸道传染病疫情防控", "cadence": "daily", "daily_time": "15:00",
         "first_day": "2026-03-02", "first_time": "15:00"}


def start_series(login: Any, **overrides: Any) -> int:
    """The general office's liaison in the HQ sets a series up; return the series instance id."""
    liaison = login("gov_office")
    response = liaison.post("/instances", json={"process": "timed_release_series"})
    assert response.status_code == 201, response.get_json()
    series_id = response.get_json()["id"]
    liaison.complete(series_id, "series_setup", {**DAILY, **overrides})
    return series_id


def worker_at(app: Any, frozen_clock: Any, at: str) -> None:
    """Let the clock reach ``at`` (Beijing time) and run one ``pressflow run-timers`` pass then."""
    frozen_clock.set(dt.datetime.fromisoformat(at).replace(tzinfo=SHANGHAI))
    chain.run_timers(app, at)


def rounds(app: Any, series_id: int) -> list[dict[str, Any]]:
    from webapp.extensions import db

    with app.app_context():
        found = db.session.scalars(select(Instance).where(Instance.parent_instance_id == series_id)
                                   .order_by(Instance.id)).all()
        result = [{"id": i.id, "at": i.data["conference_at"], "status": i.status, "outcome": i.outcome}
                  for i in found]
        db.session.remove()
    return result


def trail(app: Any, instance_id: int, action: str) -> list[str]:
    from webapp.extensions import db

    with app.app_context():
        comments = db.session.scalars(select(AuditEntry.comment).where(
            AuditEntry.instance_id == instance_id, AuditEntry.action == action).order_by(AuditEntry.id)).all()
        db.session.remove()
    return [str(c) for c in comments]


def test_a_daily_series_starts_one_round_per_day_four_hours_before_its_conference(app, login, frozen_clock):
    series_id = start_series(login)

    worker_at(app, frozen_clock, "2026-03-02T10:30")
    assert rounds(app, series_id) == []
    worker_at(app, frozen_clock, "2026-03-02T11:01")
    worker_at(app, frozen_clock, "2026-03-02T14:00")
    worker_at(app, frozen_clock, "2026-03-03T11:01")
    worker_at(app, frozen_clock, "2026-03-04T11:30")

    assert [r["at"] for r in rounds(app, series_id)] == ["2026-03-02 15:00", "2026-03-03 15:00", "2026-03-04 15:00"]


def test_the_first_round_waits_in_the_health_commissions_inbox_and_the_hq_sees_it(app, login, frozen_clock):
    series_id = start_series(login)
    worker_at(app, frozen_clock, "2026-03-02T11:01")
    round_id = rounds(app, series_id)[0]["id"]

    writer_task = login("wjw_writer").task_at(round_id, "release_text")
    assert "第 1 场定时发布会（2026-03-02 15:00）" in writer_task["instance_title"]
    assert login("hq_leader").get(f"/instances/{round_id}").status_code == 200
    assert login("jb_clerk").get(f"/instances/{round_id}").status_code == 404
    assert not [t for t in login("wjw_clerk").tasks() if t["instance_id"] == round_id]


def test_a_series_with_an_end_day_stops_after_its_last_slot(app, login, frozen_clock):
    series_id = start_series(login, end_day="2026-03-03")
    for at in ("2026-03-02T11:01", "2026-03-03T11:01", "2026-03-04T11:01", "2026-03-05T11:01"):
        worker_at(app, frozen_clock, at)

    assert [r["at"] for r in rounds(app, series_id)] == ["2026-03-02 15:00", "2026-03-03 15:00"]


def test_changing_the_cadence_takes_effect_at_the_next_slot(app, login, frozen_clock):
    series_id = start_series(login)
    worker_at(app, frozen_clock, "2026-03-02T11:01")
    frozen_clock.set(dt.datetime(2026, 3, 2, 16, 0, tzinfo=SHANGHAI))
    login("hq_leader").complete(series_id, "series_control",
                                {"action": "change", "cadence": "times", "times": "20:00, 09:00"})

    worker_at(app, frozen_clock, "2026-03-02T16:30")
    worker_at(app, frozen_clock, "2026-03-03T05:30")

    assert [r["at"] for r in rounds(app, series_id)] == ["2026-03-02 15:00", "2026-03-02 20:00", "2026-03-03 09:00"]
    assert "下一场：2026-03-02 20:00" in trail(app, series_id, "series_change")[0]
    assert chain.open_steps(login("hq_leader"), series_id) == ["series_control"]


def test_an_interval_cadence_counts_from_the_last_conference(app, login, frozen_clock):
    series_id = start_series(login)
    worker_at(app, frozen_clock, "2026-03-02T11:01")
    frozen_clock.set(dt.datetime(2026, 3, 2, 16, 0, tzinfo=SHANGHAI))
    login("hq_leader").complete(series_id, "series_control",
                                {"action": "change", "cadence": "interval", "interval_hours": 8})

    worker_at(app, frozen_clock, "2026-03-02T19:30")

    assert [r["at"] for r in rounds(app, series_id)] == ["2026-03-02 15:00", "2026-03-02 23:00"]


def test_ending_the_series_stops_new_rounds_and_keeps_the_started_one(app, login, frozen_clock):
    series_id = start_series(login)
    worker_at(app, frozen_clock, "2026-03-02T11:01")
    login("hq_leader").complete(series_id, "series_control", {"action": "end", "comment": "疫情平稳，转为常态发布"})

    for at in ("2026-03-03T11:01", "2026-03-04T11:01"):
        worker_at(app, frozen_clock, at)

    assert [(r["at"], r["status"]) for r in rounds(app, series_id)] == [("2026-03-02 15:00", "running")]
    series = login("gov_office").instance(series_id)
    assert (series["status"], series["outcome"]) == ("completed", "ended")
    assert trail(app, series_id, "series_end") == ["疫情平稳，转为常态发布"]


def test_after_a_three_day_outage_missed_slots_are_recorded_and_only_the_next_slot_fires(app, login, frozen_clock):
    series_id = start_series(login)
    worker_at(app, frozen_clock, "2026-03-02T11:01")

    worker_at(app, frozen_clock, "2026-03-05T12:00")  # the workers were down from 3 March to 5 March noon

    assert [r["at"] for r in rounds(app, series_id)] == ["2026-03-02 15:00", "2026-03-05 15:00"]
    missed = trail(app, series_id, "slot_missed")
    assert len(missed) == 2
    assert "2026-03-03 15:00" in missed[0] and "2026-03-04 15:00" in missed[1] and "记为错过" in missed[0]
    from webapp.extensions import db

    with app.app_context():
        series = db.session.scalar(select(TimedReleaseSeries).where(TimedReleaseSeries.instance_id == series_id))
        assert (series.rounds_started, series.slots_missed) == (2, 2)
        db.session.remove()


def test_a_slot_whose_conference_time_passed_during_the_outage_is_missed_too(app, login, frozen_clock):
    series_id = start_series(login)
    worker_at(app, frozen_clock, "2026-03-04T16:00")

    assert rounds(app, series_id) == []
    assert len(trail(app, series_id, "slot_missed")) == 3
    worker_at(app, frozen_clock, "2026-03-05T11:01")
    assert [r["at"] for r in rounds(app, series_id)] == ["2026-03-05 15:00"]


def test_the_missed_slots_show_on_the_series_page(app, login, web, frozen_clock):
    series_id = start_series(login)
    worker_at(app, frozen_clock, "2026-03-04T16:00")

    page = web("supervisor").get(f"/supervise/instances/{series_id}")

    assert page.status_code == 200
    assert "2026-03-03 15:00 未能按时发起" in page.text


def test_the_start_form_refuses_an_incomplete_cadence_with_clear_messages(app, login):
    liaison = login("gov_office")
    series_id = liaison.post("/instances", json={"process": "timed_release_series"}).get_json()["id"]
    task = liaison.task_at(series_id, "series_setup")

    def refused(**changes: Any) -> dict[str, Any]:
        data = {k: v for k, v in {**DAILY, **changes}.items() if v is not None}
        response = liaison.post(f"/tasks/{task['id']}/complete", json={"data": data})
        assert response.status_code == 422, response.get_json()
        return response.get_json()["error"]["fields"]

    assert refused(daily_time=None) == {"daily_time": ["每天定时发布须填写发布时间"]}
    assert refused(cadence="interval", interval_hours=0) == {"interval_hours": ["间隔须为 1–168 小时"]}
    assert "times" in refused(cadence="times", times="9点")
    assert refused(first_day="2026-03-01") == {"first_day": ["首场日期不能早于今天"]}
    assert refused(end_day="2026-03-01")["end_day"]
    assert refused(release_unit="nowhere") == {"release_unit": ["单位代码 nowhere 不存在"]}
    assert chain.open_steps(liaison, series_id) == ["series_setup"]


def test_the_hq_control_form_needs_a_new_cadence_to_change(app, login):
    series_id = start_series(login)
    leader = login("hq_leader")
    task = leader.task_at(series_id, "series_control")

    response = leader.post(f"/tasks/{task['id']}/complete", json={"data": {"action": "change"}})

    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"cadence": ["调整发布节奏须选择新的节奏"]}


def test_a_second_worker_pass_at_the_same_moment_starts_the_slot_only_once(app, login, frozen_clock):
    series_id = start_series(login)

    worker_at(app, frozen_clock, "2026-03-02T11:01")
    worker_at(app, frozen_clock, "2026-03-02T11:01")

    assert len(rounds(app, series_id)) == 1
    assert len(trail(app, series_id, "round_started")) == 1


def test_the_series_page_lists_its_cadence_and_rounds_and_a_round_links_back(app, login, web, frozen_clock):
    series_id = start_series(login)
    worker_at(app, frozen_clock, "2026-03-02T11:01")
    round_id = rounds(app, series_id)[0]["id"]

    series_page = web("hq_leader").get(f"/applications/{series_id}")
    round_page = web("wjw_writer").get(f"/applications/{round_id}")

    assert series_page.status_code == 200 and "每天 15:00" in series_page.text
    assert "2026-03-03 15:00" in series_page.text and f"/applications/{round_id}" in series_page.text
    assert round_page.status_code == 200 and "查看所属定时发布系列" in round_page.text
