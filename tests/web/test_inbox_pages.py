"""The inbox (待办): sorting, filters, Beijing date ranges and pages done by the database, on the page and the API."""

from __future__ import annotations

import datetime as dt
import html
import re

from engine.models import HumanTask, User
from engine.org.access import actionable_filter, can_act
from engine.review.delegation import load_delegations
from engine.workdays.calendar import SHANGHAI
from tests.integration import chain

FIRST, SECOND, THIRD = "2026年渝中区甲项新闻发布会", "2026年渝中区乙项新闻发布会", "2026年渝中区丙项新闻发布会"


def _section(page: str, heading_id: str) -> str:
    start = page.index(f'id="{heading_id}"')
    return page[start:page.index("</section>", start)]


def _titles(page: str, heading_id: str = "queue-heading") -> list[str]:
    """The application titles listed in one inbox section, top to bottom."""
    rows = re.findall(r'<td class="cell-title"[^>]*><a href="[^"]+">([^<]+)</a>', _section(page, heading_id))
    return [html.unescape(r) for r in rows]


def _count(page: str, which: str) -> int:
    match = re.search(rf'data-count="{which}">(\d+)<', page)
    assert match
    return int(match.group(1))


def _three_applications(login, frozen_clock) -> list[int]:
    """乙 on Monday 09:00, 丙 an hour later, 甲 on Thursday 07:00 Beijing time (still Wednesday in UTC)."""
    ids = [chain.apply(login, title=SECOND)]
    frozen_clock.advance(hours=1)
    ids.append(chain.apply(login, title=THIRD))
    frozen_clock.set(dt.datetime(2026, 3, 5, 7, 0, tzinfo=SHANGHAI))
    ids.append(chain.apply(login, title=FIRST))
    return ids


def test_the_inbox_sorts_by_deadline_arrival_or_title_both_ways(web, login, frozen_clock):
    _three_applications(login, frozen_clock)
    leader = web("yz_leader")

    assert _titles(leader.get("/tasks").text) == [SECOND, THIRD, FIRST]  # earliest deadline first
    assert _titles(leader.get("/tasks?sort=due&order=desc").text) == [FIRST, THIRD, SECOND]
    assert _titles(leader.get("/tasks?sort=created&order=desc").text) == [FIRST, THIRD, SECOND]
    by_title = _titles(leader.get("/tasks?sort=title").text)
    assert by_title == sorted(by_title) and set(by_title) == {FIRST, SECOND, THIRD}
    assert _titles(leader.get("/tasks?sort=title&order=desc").text) == by_title[::-1]


def test_the_inbox_filters_by_beijing_arrival_dates_overdue_and_step(web, login, frozen_clock):
    _three_applications(login, frozen_clock)
    frozen_clock.set(dt.datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI))  # Monday: Monday's two are overdue
    leader = web("yz_leader")

    # 甲 arrived on Thursday 2026-03-05 07:00 Beijing time, which is Wednesday in UTC: the Beijing date counts.
    assert _titles(leader.get("/tasks?from=2026-03-05&to=2026-03-05").text) == [FIRST]
    assert _titles(leader.get("/tasks?to=2026-03-04").text) == [SECOND, THIRD]
    assert _titles(leader.get("/tasks?overdue=1").text) == [SECOND, THIRD]
    page = leader.get("/tasks?step=leader_review&process=press_conference&unit=yuzhong&q=乙项").text
    assert _titles(page) == [SECOND] and _count(page, "queue") == 1
    assert _titles(leader.get("/tasks?step=secrecy_review").text) == []


def test_the_inbox_pages_each_list_with_the_total_count_and_keeps_the_filters_in_the_links(web, login, frozen_clock):
    _three_applications(login, frozen_clock)
    leader = web("yz_leader")

    first = leader.get("/tasks?per_page=2&sort=created").text
    assert _titles(first) == [SECOND, THIRD] and _count(first, "queue") == 3
    pager = _section(first, "queue-heading")
    assert "共 3 条，第 1 / 2 页" in html.unescape(re.sub(r"<[^>]+>", "", pager))
    link = re.search(r'<a href="([^"]*queue_page=2[^"]*)">2</a>', pager)
    assert link and "per_page=2" in link.group(1) and "sort=created" in link.group(1)
    second = leader.get(html.unescape(link.group(1))).text
    assert _titles(second) == [FIRST] and _count(second, "queue") == 3


def test_mine_and_the_role_queue_stay_apart_and_claiming_moves_a_task_between_them(web, login, frozen_clock):
    ids = _three_applications(login, frozen_clock)
    leader = web("yz_leader")
    task = login("yz_leader").task_at(ids[0], "leader_review")
    assert leader.post_form(f"/tasks/{task['id']}/claim", {"next": "/tasks"}, page="/tasks").status_code == 302

    page = leader.get("/tasks").text
    assert _titles(page, "mine-heading") == [SECOND] and _titles(page) == [THIRD, FIRST]
    assert (_count(page, "mine"), _count(page, "queue")) == (1, 2)


def test_bad_inbox_parameters_get_a_chinese_400_that_names_each_problem(web, login):
    chain.apply(login)
    leader = web("yz_leader")
    response = leader.get("/tasks?sort=fastest&order=up&page=0&per_page=abc&from=2026-02-30&to=yesterday&overdue=2")
    assert response.status_code == 400
    text = html.unescape(response.text)
    for message in ("排序方式只能是", "顺序只能是", "页码须为 1 到", "每页条数须为 1 到 100",
                    "“2026-02-30” 不是有效日期", "“yesterday” 不是有效日期", "取值只能是 1"):
        assert message in text, message
    assert _count(response.text, "queue") == 0  # nothing is listed from an unusable query
    reversed_range = leader.get("/tasks?from=2026-03-05&to=2026-03-01")
    assert reversed_range.status_code == 400 and "开始日期不能晚于结束日期" in reversed_range.text


def test_the_api_pages_tasks_with_a_total_count_and_page_links(login, frozen_clock):
    _three_applications(login, frozen_clock)
    leader = login("yz_leader")

    first = leader.get("/tasks?per_page=2&sort=title")
    assert first.status_code == 200 and first.headers["X-Total-Count"] == "3"
    assert len(first.get_json()) == 2
    assert 'rel="next"' in first.headers["Link"] and "page=2" in first.headers["Link"]
    last = leader.get("/tasks?per_page=2&sort=title&page=2")
    assert len(last.get_json()) == 1 and 'rel="prev"' in last.headers["Link"]
    titles = [t["instance_title"] for t in first.get_json() + last.get_json()]
    assert titles == sorted(titles)
    assert [t["instance_title"] for t in leader.get("/tasks?from=2026-03-05").get_json()] == [FIRST]


def test_bad_api_task_parameters_get_a_json_error_naming_them(login):
    leader = login("yz_leader")
    response = leader.get("/tasks?sort=fastest&per_page=1000&colour=red")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and error["message"] == "请求参数有误"
    assert set(error["fields"]) == {"sort", "per_page", "colour"}
    assert error["fields"]["per_page"] == ["每页条数须为 1 到 200 之间的整数"]
    assert list(leader.get("/tasks?scope=everyone").get_json()["error"]["fields"]) == ["scope"]


def test_the_sql_inbox_condition_agrees_with_can_act_for_every_user_and_open_task(app, login, web, frozen_clock):
    ids = _three_applications(login, frozen_clock)
    chain.through_unit(login, ids[0])
    login("yz_leader").post(f"/tasks/{login('yz_leader').task_at(ids[1], 'leader_review')['id']}/claim")
    spokes = web("yz_spokes")  # a delegate of the leader sees the leader's tasks
    window = {"delegate": "yz_spokes", "starts_on": "2026-03-05", "ends_on": "2026-03-06", "reason": "出差"}
    created = web("yz_leader").post_form("/delegations", window, page="/delegations")
    assert created.status_code == 302 and spokes.get("/tasks").status_code == 200
    from webapp.extensions import db

    with app.app_context():
        tasks = list(db.session.query(HumanTask).filter(HumanTask.completed_at.is_(None)))
        for user in db.session.query(User):
            load_delegations(db.session, user)
            expected = {t.id for t in tasks if can_act(user, t)}
            found = {t.id for t in db.session.query(HumanTask).filter(actionable_filter(user))}
            assert found == expected, user.username
