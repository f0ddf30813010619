"""The worker's reminder and escalation policy, with a controllable clock, on each database backend.

At the deadline the holder of a task is reminded (逾期); at the end of the next working day the leaders of the
task's unit and every supervisor are told (督办升级). Each happens once per task: whatever the number of passes,
the number of workers running at the same moment, or the days the workers were down.

Spring Festival 2026 makes the calendar bite: Saturday 14 February is a make-up working day (调休上班) and
15–23 February are holidays. A secrecy review opened on Thursday 12 February with an SLA of two working days is
due at the end of that Saturday, and escalated at the end of Tuesday 24 February, not on the Monday in between.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.workdays.calendar import SHANGHAI
from tests.integration import chain
from webapp.cli import main

TITLE = chain.application()["title"]
THREAD_TIMEOUT = 60


def at(day: str, time: str = "09:00:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def signal_handlers_restored() -> Iterator[None]:
    """``pressflow worker`` installs SIGTERM/SIGINT handlers; give pytest its own back afterwards."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def worker_pass(app: Any, frozen_clock: Any, when: dt.datetime) -> str:
    """Run one pass of ``pressflow worker`` at ``when``; return what it printed."""
    frozen_clock.set(when)
    result = CliRunner().invoke(main, ["worker", "--once"], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    return result.output


def notices(login: Any, username: str, kind: str) -> list[dict[str, Any]]:
    """The notifications of one kind that ``username`` sees in their notification list."""
    response = login(username).get("/notifications")
    assert response.status_code == 200, response.get_json()
    return [n for n in response.get_json()["items"] if n["kind"] == kind]


def escalations_in_history(login: Any, instance_id: int) -> list[dict[str, Any]]:
    response = login("supervisor").get(f"/instances/{instance_id}/history")
    assert response.status_code == 200, response.get_json()
    return [h for h in response.get_json() if h["action"] == "escalate"]


def secrecy_review_opened_before_spring_festival(login: Any, frozen_clock: Any) -> int:
    """yz_clerk applies and yz_leader approves on Thursday 12 February: the secrecy review opens for yz_secrecy."""
    frozen_clock.set(at("2026-02-12"))
    instance_id = chain.apply(login)
    login("yz_leader").complete(instance_id, "leader_review", {"decision": "approve", "comment": "同意"})
    return instance_id


def test_a_task_falls_due_at_the_end_of_its_sla_counting_a_make_up_saturday_and_its_holder_is_reminded_once(
    app, login, frozen_clock
):
    instance_id = secrecy_review_opened_before_spring_festival(login, frozen_clock)
    task = login("yz_secrecy").task_at(instance_id, "secrecy_review")
    assert dt.datetime.fromisoformat(task["due_at"]) == at("2026-02-14", "23:59:59")

    worker_pass(app, frozen_clock, at("2026-02-14", "23:59:58"))
    assert notices(login, "yz_secrecy", "overdue") == []
    assert login("yz_secrecy").task_at(instance_id, "secrecy_review")["overdue"] is False

    output = worker_pass(app, frozen_clock, at("2026-02-15", "00:00:01"))
    assert "逾期提醒 1 个任务，督办升级 0 个任务" in output
    (reminder,) = notices(login, "yz_secrecy", "overdue")
    assert reminder["instance_id"] == instance_id and reminder["task_id"] == task["id"]
    assert TITLE in reminder["message"] and "保密审查" in reminder["message"] and "2026-02-14" in reminder["message"]
    assert login("yz_secrecy").task_at(instance_id, "secrecy_review")["overdue"] is True

    worker_pass(app, frozen_clock, at("2026-02-15", "09:00:00"))
    worker_pass(app, frozen_clock, at("2026-02-20", "09:00:00"))
    assert len(notices(login, "yz_secrecy", "overdue")) == 1
    assert notices(login, "yz_leader", "overdue") == []  # the leader is not the holder


def test_escalation_reaches_the_unit_leader_and_supervisors_at_the_end_of_the_next_working_day_after_the_holiday(
    app, login, frozen_clock
):
    instance_id = secrecy_review_opened_before_spring_festival(login, frozen_clock)
    worker_pass(app, frozen_clock, at("2026-02-15", "00:00:01"))

    # Monday 16 February would be "one working day later" without the holiday; the festival runs to the 23rd.
    worker_pass(app, frozen_clock, at("2026-02-16", "23:59:59"))
    worker_pass(app, frozen_clock, at("2026-02-23", "18:00:00"))
    worker_pass(app, frozen_clock, at("2026-02-24", "23:59:58"))
    assert notices(login, "yz_leader", "escalation") == []
    assert notices(login, "supervisor", "escalation") == []
    assert escalations_in_history(login, instance_id) == []

    output = worker_pass(app, frozen_clock, at("2026-02-25", "00:00:01"))

    assert "逾期提醒 0 个任务，督办升级 1 个任务" in output
    (to_leader,) = notices(login, "yz_leader", "escalation")
    (to_supervisor,) = notices(login, "supervisor", "escalation")
    for notice in (to_leader, to_supervisor):
        assert notice["instance_id"] == instance_id
        assert TITLE in notice["message"] and "保密审查" in notice["message"]
        assert "渝中区保密审查员 赵磊" in notice["message"]  # who is holding it up
    assert notices(login, "yz_secrecy", "escalation") == []  # the holder had the reminder
    assert notices(login, "jb_leader", "escalation") == []  # another unit's leader
    (entry,) = escalations_in_history(login, instance_id)
    assert entry["actor"] == "system" and entry["bpmn_id"] == "secrecy_review"
    assert "渝中区主要负责人 李强" in entry["comment"] and "督办人员 邓华" in entry["comment"]

    worker_pass(app, frozen_clock, at("2026-02-25", "09:00:00"))
    worker_pass(app, frozen_clock, at("2026-02-27", "09:00:00"))
    assert len(notices(login, "yz_leader", "escalation")) == 1
    assert len(notices(login, "supervisor", "escalation")) == 1
    assert len(escalations_in_history(login, instance_id)) == 1


def test_a_task_finished_before_its_escalation_is_not_escalated(app, login, frozen_clock):
    instance_id = secrecy_review_opened_before_spring_festival(login, frozen_clock)
    worker_pass(app, frozen_clock, at("2026-02-15", "00:00:01"))

    frozen_clock.set(at("2026-02-24", "10:00:00"))
    login("yz_secrecy").complete(instance_id, "secrecy_review", {"decision": "pass", "comment": ""})
    worker_pass(app, frozen_clock, at("2026-02-26", "09:00:00"))

    assert notices(login, "supervisor", "escalation") == []
    assert escalations_in_history(login, instance_id) == []


def test_after_a_week_of_downtime_each_late_task_gets_one_reminder_and_one_escalation(app, login, frozen_clock):
    yuzhong = [chain.apply(login), chain.apply(login, title="2026年渝中区城市更新新闻发布会")]
    jiangbei = chain.apply(login, unit="jiangbei")  # each leader review is due at the end of Wednesday 4 March

    output = worker_pass(app, frozen_clock, at("2026-03-11", "10:00:00"))

    assert "逾期提醒 3 个任务，督办升级 3 个任务" in output
    for _ in range(3):
        frozen_clock.advance(days=1)
        assert "督办升级" not in worker_pass(app, frozen_clock, frozen_clock.at)
    assert sorted(n["instance_id"] for n in notices(login, "yz_leader", "overdue")) == sorted(yuzhong)
    assert sorted(n["instance_id"] for n in notices(login, "yz_leader", "escalation")) == sorted(yuzhong)
    assert [n["instance_id"] for n in notices(login, "jb_leader", "overdue")] == [jiangbei]
    assert [n["instance_id"] for n in notices(login, "jb_leader", "escalation")] == [jiangbei]
    assert sorted(n["instance_id"] for n in notices(login, "supervisor", "escalation")) == sorted([*yuzhong, jiangbei])
    assert all(len(escalations_in_history(login, i)) == 1 for i in [*yuzhong, jiangbei])


def test_two_workers_chasing_at_the_same_moment_send_each_reminder_and_escalation_once(app, login, frozen_clock):
    from engine.worker.reminders import Chased, chase_late_tasks
    from webapp.extensions import db

    instances = [chain.apply(login, title=f"2026年渝中区第{n}场新闻发布会") for n in range(1, 5)]
    frozen_clock.set(at("2026-03-11", "10:00:00"))
    with app.app_context():
        bind = db.engine
    barrier = threading.Barrier(2)
    results: list[Chased | BaseException | None] = [None, None]

    def worker(index: int) -> None:
        try:
            with Session(bind) as session:  # each worker its own connection, as two processes would have
                barrier.wait(THREAD_TIMEOUT)
                results[index] = chase_late_tasks(session, frozen_clock.at)
        except BaseException as exc:  # reported below, never swallowed
            results[index] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a worker never finished its pass"
    for result in results:
        if isinstance(result, BaseException):
            raise result

    chased = [r for r in results if isinstance(r, Chased)]
    assert sum(c.reminded for c in chased) == 4 and sum(c.escalated for c in chased) == 4
    assert sorted(n["instance_id"] for n in notices(login, "yz_leader", "overdue")) == instances
    assert sorted(n["instance_id"] for n in notices(login, "yz_leader", "escalation")) == instances
    assert sorted(n["instance_id"] for n in notices(login, "supervisor", "escalation")) == instances
    assert "逾期提醒" not in worker_pass(app, frozen_clock, at("2026-03-11", "10:01:00"))


# --- heartbeats -----------------------------------------------------------------------------------------------


def test_live_workers_lists_the_workers_that_beat_recently_and_leaves_out_silent_ones(app, frozen_clock):
    from engine.worker import heartbeat
    from webapp.extensions import db

    started = frozen_clock.at
    with app.app_context():
        heartbeat.register(db.session, "host-a:101", started)
        heartbeat.register(db.session, "host-b:202", started)
        for second in (1, 2, 3):
            heartbeat.beat(db.session, "host-a:101", started + dt.timedelta(seconds=second))
        heartbeat.beat(db.session, "host-b:202", started + dt.timedelta(seconds=1))

        live = heartbeat.live_workers(db.session, started + dt.timedelta(seconds=32))

        assert [(w.id, w.passes, w.started_at, w.last_beat_at) for w in live] == [
            ("host-a:101", 3, started, started + dt.timedelta(seconds=3))]
        assert [w.id for w in heartbeat.live_workers(db.session, started + dt.timedelta(seconds=10))] == [
            "host-a:101", "host-b:202"]
        assert heartbeat.live_workers(db.session, started + dt.timedelta(minutes=5)) == []


def test_a_failed_pass_stays_on_the_heartbeat_after_later_passes_succeed(app, frozen_clock):
    from engine.worker import heartbeat
    from webapp.extensions import db

    now = frozen_clock.at
    with app.app_context():
        heartbeat.register(db.session, "host-a:101", now)
        heartbeat.beat(db.session, "host-a:101", now + dt.timedelta(seconds=1), error="OperationalError('断开')")
        heartbeat.beat(db.session, "host-a:101", now + dt.timedelta(seconds=2))

        (worker,) = heartbeat.live_workers(db.session, now + dt.timedelta(seconds=2))
        assert worker.passes == 2
        assert worker.last_error == "OperationalError('断开')"
        assert worker.last_error_at == now + dt.timedelta(seconds=1)


def test_a_worker_stopping_cleanly_removes_its_row_and_a_new_one_clears_rows_silent_for_a_week(app, frozen_clock):
    from engine.models import WorkerHeartbeat
    from engine.worker import heartbeat
    from webapp.extensions import db

    now = frozen_clock.at
    with app.app_context():
        heartbeat.register(db.session, "crashed:1", now - dt.timedelta(days=8))
        heartbeat.register(db.session, "crashed:2", now - dt.timedelta(days=2))
        heartbeat.register(db.session, "host-a:101", now)
        heartbeat.register(db.session, "host-b:202", now)
        heartbeat.retire(db.session, "host-b:202")

        assert sorted(db.session.scalars(select(WorkerHeartbeat.id))) == ["crashed:2", "host-a:101"]


def test_worker_once_beats_and_leaves_no_heartbeat_behind(app, frozen_clock):
    from engine.models import WorkerHeartbeat
    from webapp.extensions import db

    output = worker_pass(app, frozen_clock, at("2026-03-02", "09:00:00"))

    assert "定时任务进程已启动" in output and "定时任务进程已停止" in output
    with app.app_context():
        assert db.session.scalars(select(WorkerHeartbeat)).all() == []
