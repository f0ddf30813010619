"""The inbox reads an emergency step's deadline in hours."""

from __future__ import annotations

from tests.conftest import WebUser
from tests.integration.test_emergency_release import report


def test_the_inbox_shows_an_hour_deadline_in_hours_left_then_hours_overdue(app, login, frozen_clock):
    report(login)
    assert "剩余 1 小时" in WebUser(app, "yz_leader").get("/tasks").text
    frozen_clock.advance(minutes=100)
    # A fresh sign-in: the first session has been idle longer than the idle limit by now.
    assert "逾期 1 小时" in WebUser(app, "yz_leader").get("/tasks").text
