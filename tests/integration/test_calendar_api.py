"""The 10-working-day rule through the API: holidays and make-up days of 2026, provisional 2027 until imported.

Expected dates come from the State Council's 2026 notice as chinesecalendar 1.11 carries it:
Spring Festival off Sun 02-15 .. Mon 02-23, make-up working Saturdays 02-14 and 02-28;
Mid-Autumn off Fri 09-25 .. Sun 09-27; National Day off Thu 10-01 .. Wed 10-07, make-up working Sun 09-20 and
Sat 10-10. 2027 comes from tests/data/calendar-2027-sample.csv once imported.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.workdays.calendar import SHANGHAI
from tests.integration import chain

SAMPLE_2027 = Path(__file__).resolve().parent.parent / "data" / "calendar-2027-sample.csv"


def add_workdays(user, start: str, days: int) -> dict:
    response = user.get(f"/calendar/add-workdays?start={start}&days={days}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def import_calendar(app, path: Path):
    """Run ``pressflow calendar import PATH`` against the test app."""
    from flask.cli import ScriptInfo

    from webapp.cli import main

    return CliRunner().invoke(main, ["calendar", "import", str(path)], obj=ScriptInfo(create_app=lambda: app))


@pytest.mark.parametrize(("start", "days", "expected"), [
    # Spring Festival 2026
    ("2026-02-13", 1, "2026-02-14"),   # Friday -> the make-up Saturday
    ("2026-02-13", 2, "2026-02-24"),   # then nine days off
    ("2026-02-14", 0, "2026-02-14"),
    ("2026-02-27", 1, "2026-02-28"),   # the second make-up Saturday
    ("2026-02-27", 2, "2026-03-02"),   # Sunday 03-01 is an ordinary day off
    ("2026-02-10", 9, "2026-02-28"),
    ("2026-02-10", 10, "2026-03-02"),  # plain weekday counting would say 2026-02-24
    ("2026-02-06", 5, "2026-02-13"),   # the weekend before the festival is an ordinary one
    # Mid-Autumn and National Day 2026
    ("2026-09-18", 1, "2026-09-20"),   # the make-up Sunday
    ("2026-09-24", 1, "2026-09-28"),   # Mid-Autumn Friday to Sunday off
    ("2026-09-30", 1, "2026-10-08"),
    ("2026-09-28", 3, "2026-10-08"),
    ("2026-09-18", 10, "2026-10-09"),
    ("2026-09-18", 11, "2026-10-10"),  # the make-up Saturday after the holiday
    ("2026-10-09", 2, "2026-10-12"),
])
def test_add_workdays_skips_2026_holidays_and_counts_make_up_days(login, start, days, expected):
    assert add_workdays(login("yz_clerk"), start, days) == {"date": expected, "provisional": False}


@pytest.mark.parametrize(("start", "days", "guess"), [
    ("2027-02-04", 3, "2027-02-09"),
    ("2027-09-30", 1, "2027-10-01"),
    ("2026-12-30", 3, "2027-01-04"),  # starts in a known year, ends in an unknown one
])
def test_dates_in_2027_are_provisional_weekday_guesses(login, start, days, guess):
    assert add_workdays(login("yz_clerk"), start, days) == {"date": guess, "provisional": True}


@pytest.mark.parametrize(("start", "days", "expected"), [
    ("2027-02-04", 3, "2027-02-17"),   # Spring Festival 02-05, 02-08 .. 02-12 off
    ("2027-02-19", 1, "2027-02-20"),   # make-up Saturday
    ("2027-09-24", 5, "2027-09-30"),   # make-up Sunday 09-26 counts
    ("2027-09-30", 1, "2027-10-08"),   # National Day off; an unlisted Friday is an ordinary working day
    ("2026-12-30", 3, "2027-01-05"),   # New Year's Day off
])
def test_an_imported_2027_notice_makes_2027_dates_certain_and_honours_its_holidays(app, login, start, days,
                                                                                   expected):
    clerk = login("yz_clerk")
    assert add_workdays(clerk, start, days)["provisional"] is True

    result = import_calendar(app, SAMPLE_2027)
    assert result.exit_code == 0, result.output
    assert "2027" in result.output

    assert add_workdays(clerk, start, days) == {"date": expected, "provisional": False}


def test_a_malformed_notice_is_refused_and_2027_stays_provisional(app, login, tmp_path):
    bad = tmp_path / "calendar-2027-bad.csv"
    bad.write_text("date,type,note\n2027-02-05,holiday,春节\n2027-02-30,holiday,无此日\n", encoding="utf-8")

    result = import_calendar(app, bad)

    assert result.exit_code != 0
    assert "第 3 行" in result.output
    assert add_workdays(login("yz_clerk"), "2027-02-04", 3) == {"date": "2027-02-09", "provisional": True}


def test_an_application_filed_just_before_the_spring_festival_is_told_the_right_earliest_date(login, frozen_clock):
    frozen_clock.set(dt.datetime(2026, 2, 10, 9, 0, tzinfo=SHANGHAI))
    instance_id = chain.start(login)
    clerk = login("yz_clerk")
    task_id = clerk.task_at(instance_id, "topic_application")["id"]

    # Ten plain weekdays would allow 02-24; the festival pushes the earliest date to 03-02.
    response = clerk.post(f"/tasks/{task_id}/complete",
                          json={"data": chain.application(conference_date="2026-02-27")})
    assert response.status_code == 422
    message = response.get_json()["error"]["fields"]["conference_date"][0]
    assert "2026-03-02" in message
    assert "仅供参考" not in message  # 2026 is known, not a guess

    response = clerk.post(f"/tasks/{task_id}/complete",
                          json={"data": chain.application(conference_date="2026-03-02")})
    assert response.status_code == 200, response.get_json()


def test_the_notice_period_counts_from_the_chongqing_date_not_the_utc_one(login, frozen_clock):
    # 00:30 on the make-up Saturday in Chongqing is still Friday 02-13 in UTC.
    frozen_clock.set(dt.datetime(2026, 2, 14, 0, 30, tzinfo=SHANGHAI))
    instance_id = chain.start(login)
    clerk = login("yz_clerk")
    task_id = clerk.task_at(instance_id, "topic_application")["id"]

    response = clerk.post(f"/tasks/{task_id}/complete",
                          json={"data": chain.application(conference_date="2026-03-05")})

    assert response.status_code == 422
    assert "2026-03-06" in response.get_json()["error"]["fields"]["conference_date"][0]


def test_an_application_for_a_2027_date_is_measured_against_the_provisional_calendar(login, frozen_clock):
    frozen_clock.set(dt.datetime(2026, 12, 24, 9, 0, tzinfo=SHANGHAI))
    instance_id = chain.start(login)
    clerk = login("yz_clerk")
    task_id = clerk.task_at(instance_id, "topic_application")["id"]

    response = clerk.post(f"/tasks/{task_id}/complete",
                          json={"data": chain.application(conference_date="2027-01-06")})

    assert response.status_code == 422
    message = response.get_json()["error"]["fields"]["conference_date"][0]
    assert "2027-01-07" in message
    assert "仅供参考" in message


@pytest.mark.parametrize(("query", "field"), [
    ("days=10", "start"),
    ("start=2026-02-10", "days"),
    ("start=2026-02-30&days=1", "start"),
    ("start=2026/02/10&days=1", "start"),
    ("start=20260210&days=1", "start"),
    ("start=yesterday&days=1", "start"),
    ("start=2026-02-10&days=-1", "days"),
    ("start=2026-02-10&days=abc", "days"),
    ("start=2026-02-10&days=1.5", "days"),
    ("start=2026-02-10&days=100000", "days"),
    ("start=2026-02-10&days=1&unit=yuzhong", "unit"),
])
def test_bad_calendar_queries_are_refused_by_name(login, query, field):
    response = login("yz_clerk").get(f"/calendar/add-workdays?{query}")

    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]


def test_the_calendar_needs_a_token(client):
    assert client.get("/api/v1/calendar/add-workdays?start=2026-02-10&days=10").status_code == 401
