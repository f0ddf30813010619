"""The supervisors' pages: dashboard, filtered list with CSV / Excel export, heatmap and charts (督办)."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re

import openpyxl
import pytest
from sqlalchemy import select

from engine.models import User
from engine.workdays.calendar import SHANGHAI
from tests.integration import chain
from tests.integration.test_incidents import PROBE, review
from tests.integration.test_supervision import SEEDED_HOURS, audit_durations, seed_timed_applications

YZ_TITLE = chain.application()["title"]
JB_TITLE = "2026年江北区文化旅游发展新闻发布会"
PAGES = ["/supervise/", "/supervise/instances", "/supervise/instances.csv", "/supervise/instances.xlsx",
         "/supervise/heatmap", "/supervise/charts.json", "/supervise/processes/press_conference/diagram.bpmn"]


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _row(page: str, instance_id: int) -> str:
    """The text of the table row of this application."""
    start = page.index(f'<tr data-instance="{instance_id}"')
    return _text(page[start:page.index("</tr>", start)])


def _listed(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-instance="(\d+)"', page)]


def _total(page: str, name: str) -> int:
    match = re.search(rf'data-total="{name}">(\d+)<', page)
    assert match, f"no {name} total on the dashboard"
    return int(match.group(1))


def _set_user(app, username: str, **values) -> None:
    from webapp.extensions import db

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        for name, value in values.items():
            setattr(user, name, value)
        db.session.commit()
        db.session.remove()


def _deploy_probe(app) -> str:
    from engine.workflow.deploy import deploy
    from webapp.extensions import db

    with app.app_context():
        key = deploy(db.session, app.extensions["pressflow_runtime"], PROBE.read_text(encoding="utf-8"), [],
                     "tests").version.process_key
        db.session.remove()
    return key


def _csv_rows(response) -> list[list[str]]:
    assert response.data.startswith(b"\xef\xbb\xbf"), "the CSV must start with a UTF-8 BOM for Excel"
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def _xlsx_rows(response) -> list[tuple]:
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    return list(workbook.active.iter_rows(values_only=True))


# --- who may see it -------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["yz_clerk", "yz_leader", "office_reviewer", "owner", "jb_clerk", "jb_leader"])
def test_only_supervisors_and_admins_may_open_any_supervision_page(web, login, username):
    chain.apply(login)
    chain.apply(login, "jiangbei", title=JB_TITLE)
    user = web(username)

    for path in PAGES:
        response = user.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 403, path
        assert YZ_TITLE not in response.text and JB_TITLE not in response.text
    assert "/supervise/" not in user.get("/tasks").text  # no 督办 entry in their navigation


def test_supervisor_and_admin_open_every_supervision_page_and_anonymous_people_are_sent_to_sign_in(app, web):
    for username in ("supervisor", "admin"):
        for path in PAGES:
            assert web(username).get(path).status_code == 200, (username, path)
    assert 'href="/supervise/"' in web("supervisor").get("/supervise/").text
    anonymous = app.test_client().get("/supervise/instances")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


# --- dashboard ------------------------------------------------------------------------------------


def test_dashboard_counts_link_into_the_filtered_list(web, login, frozen_clock):
    late = chain.apply(login)  # Monday: leader_review due Wednesday
    frozen_clock.set(dt.datetime(2026, 3, 5, 9, 0, tzinfo=SHANGHAI))
    fresh = chain.apply(login, "jiangbei", title=JB_TITLE)
    supervisor = web("supervisor")

    page = supervisor.get("/supervise/").text

    assert (_total(page, "in_progress"), _total(page, "overdue"), _total(page, "stuck")) == (2, 1, 0)
    assert 'href="/supervise/instances?overdue=1"' in page
    by_unit = page[page.index('id="by-unit"'):]
    assert 'href="/supervise/instances?unit=jiangbei&amp;status=in_progress"' in by_unit
    assert "主要负责人审核" in page[page.index('id="by-stage"'):]
    overdue = supervisor.get("/supervise/instances?overdue=1").text
    assert _listed(overdue) == [late]
    assert "逾期 1 个工作日" in _row(overdue, late)
    assert _listed(supervisor.get("/supervise/instances?unit=jiangbei&status=in_progress").text) == [fresh]


@pytest.mark.leaves_stranded_tasks
def test_each_stuck_reason_is_shown_with_its_reason_on_the_dashboard_and_in_the_list(app, web, login, frozen_clock):
    idle = chain.apply(login)  # Monday 2 March, nobody acts on it afterwards
    timer = chain.to_conference_timer(login, title="2026年渝中区城市更新新闻发布会")  # fires 20 March 10:00
    frozen_clock.set(dt.datetime(2026, 3, 20, 10, 10, tzinfo=SHANGHAI))  # no worker ran it
    failed, _ = review(login, _deploy_probe(app), "approve")
    vacant = chain.apply(login, "jiangbei", title=JB_TITLE, conference_date="2026-04-20")
    _set_user(app, "jb_leader", active=False)
    supervisor = web("supervisor")

    listed = supervisor.get("/supervise/instances?stuck=1&sort=started_at&order=asc").text

    assert _listed(listed) == [idle, timer, failed, vacant]
    assert "长期无进展" in _row(listed, idle)
    assert "已连续 13 个工作日无进展（最后进展：2026-03-02 09:00）" in _row(listed, idle)
    assert "定时器未触发" in _row(listed, timer)
    assert "定时器应于 2026-03-20 10:00 触发，已超时 10 分钟仍未触发" in _row(listed, timer)
    assert "流程异常" in _row(listed, failed) and "division by zero" in _row(listed, failed)
    assert "岗位空缺" in _row(listed, vacant)
    assert "「主要负责人审核」无人可办：江北区人民政府没有在岗的主要负责人" in _row(listed, vacant)
    assert "无人可办" in _row(listed, vacant)  # and nobody is named as the holder
    dashboard = supervisor.get("/supervise/").text
    assert _total(dashboard, "stuck") == 4 and _total(dashboard, "error") == 1
    stuck_card = _text(dashboard[dashboard.index('id="stuck-list"'):dashboard.index("</table>",
                                                                                  dashboard.index('id="stuck-list"'))])
    for reason in ("长期无进展", "定时器未触发", "流程异常", "岗位空缺"):
        assert reason in stuck_card


# --- the list -------------------------------------------------------------------------------------


def test_list_filters_by_step_dates_and_text_and_sorts_by_the_clicked_column(web, login, frozen_clock):
    first = chain.apply(login)
    frozen_clock.set(dt.datetime(2026, 3, 3, 9, 0, tzinfo=SHANGHAI))
    second = chain.apply(login, "jiangbei", title=JB_TITLE)
    chain.through_unit(login, second, "jiangbei")
    supervisor = web("supervisor")

    assert _listed(supervisor.get("/supervise/instances?step=office_topic_review").text) == [second]
    assert _listed(supervisor.get("/supervise/instances?from=2026-03-02&to=2026-03-02").text) == [first]
    assert _listed(supervisor.get("/supervise/instances?q=文化旅游").text) == [second]
    page = supervisor.get("/supervise/instances?sort=title&order=asc&unit=").text
    assert _listed(page) == sorted([first, second], key=lambda i: {first: YZ_TITLE, second: JB_TITLE}[i])
    assert 'aria-sort="ascending"' in page
    assert 'href="/supervise/instances?sort=title&amp;order=desc"' in page  # a second click reverses
    assert "新闻办选题审核" in _row(page, second) and "市政府新闻办 新闻发布处 林峰" in _row(page, second)


def test_list_pages_through_many_applications(web, login):
    clerk = login("yz_clerk")
    ids = [clerk.post("/instances", json={"process": "press_conference"}).get_json()["id"] for _ in range(21)]
    supervisor = web("supervisor")

    first = supervisor.get("/supervise/instances?sort=started_at&order=asc").text
    second = supervisor.get("/supervise/instances?sort=started_at&order=asc&page=2").text

    assert _listed(first) == ids[:20] and _listed(second) == ids[20:]
    assert "共 21 件申请" in _text(first)
    assert 'rel="next"' in first and 'href="/supervise/instances?sort=started_at&amp;order=asc&amp;page=2"' in first
    assert 'rel="prev"' in second
    assert _listed(supervisor.get("/supervise/instances?per_page=50").text) == ids[::-1]


@pytest.mark.parametrize(("query", "message"), [
    ("page=abc", "页码须为正整数"),
    ("page=0", "页码须为正整数"),
    ("per_page=7", "每页条数只能为 20、50 或 100"),
    ("from=2026-02-30", "日期格式应为 YYYY-MM-DD，且须为真实日期"),
    ("from=2026-03-10&to=2026-03-01", "开始日期不能晚于结束日期"),
    ("status=bogus", "未知的状态"),
    ("unit=nowhere", "没有代码为 “nowhere” 的单位"),
    ("process=unknown_process", "没有标识为 “unknown_process” 的流程"),
    ("step=<script>", "标识无效"),
    ("overdue=maybe", "只能为 1（是）或 0（否）"),
    ("sort=password_hash", "不支持按此列排序"),
    ("q=" + "长" * 101, "标题关键词不能超过 100 个字符"),
])
def test_bad_filter_values_get_a_clear_chinese_message_and_400_never_500(web, query, message):
    supervisor = web("supervisor")

    page = supervisor.get(f"/supervise/instances?{query}")
    assert page.status_code == 400
    assert message in _text(page.text)
    assert 'id="instances"' not in page.text
    for export in ("csv", "xlsx"):
        response = supervisor.get(f"/supervise/instances.{export}?{query}", headers={"Accept": "text/html"})
        assert response.status_code == 400 and message in _text(response.text)


# --- exports --------------------------------------------------------------------------------------


def test_csv_and_excel_exports_open_and_hold_exactly_the_filtered_rows(web, login, frozen_clock):
    late = chain.apply(login)
    chain.apply(login, "jiangbei", title=JB_TITLE)
    frozen_clock.set(dt.datetime(2026, 3, 5, 9, 0, tzinfo=SHANGHAI))
    chain.apply(login, title="2026年渝中区城市更新新闻发布会")  # yuzhong too, but not overdue yet
    supervisor = web("supervisor")

    csv_response = supervisor.get("/supervise/instances.csv?unit=yuzhong&overdue=1")
    xlsx_response = supervisor.get("/supervise/instances.xlsx?unit=yuzhong&overdue=1")

    assert csv_response.status_code == xlsx_response.status_code == 200
    assert "attachment" in csv_response.headers["Content-Disposition"]
    assert csv_response.mimetype == "text/csv"
    rows = _csv_rows(csv_response)
    assert rows[0][:5] == ["编号", "标题", "申报单位", "流程", "状态"]
    assert [(r[0], r[1], r[2], r[5], r[8]) for r in rows[1:]] == [
        (str(late), YZ_TITLE, "渝中区人民政府", "主要负责人审核", "1")]
    sheet = _xlsx_rows(xlsx_response)
    assert sheet[0] == tuple(rows[0])
    assert [(r[0], r[1], r[2], r[5], r[8]) for r in sheet[1:]] == [
        (late, YZ_TITLE, "渝中区人民政府", "主要负责人审核", 1)]
    assert sheet[1][7] == dt.datetime(2026, 3, 4, 23, 59, 59)  # the deadline, in Beijing time


def test_exports_keep_every_row_beyond_the_first_page_and_defuse_spreadsheet_formulas(web, login):
    clerk = login("yz_clerk")
    ids = [clerk.post("/instances", json={"process": "press_conference"}).get_json()["id"] for _ in range(21)]
    formula = chain.apply(login, title="=HYPERLINK(\"http://evil.example\")发布会")
    supervisor = web("supervisor")

    rows = _csv_rows(supervisor.get("/supervise/instances.csv?sort=started_at&order=asc&page=2"))
    sheet = _xlsx_rows(supervisor.get("/supervise/instances.xlsx?sort=started_at&order=asc"))

    assert [int(r[0]) for r in rows[1:]] == [*ids, formula]
    assert [r[0] for r in sheet[1:]] == [*ids, formula]
    assert rows[-1][1] == sheet[-1][1] == "'=HYPERLINK(\"http://evil.example\")发布会"


# --- heatmap and charts ---------------------------------------------------------------------------


def test_heatmap_shows_median_and_p90_per_step_as_in_the_audit_trail_and_hands_them_to_the_diagram(
        web, login, frozen_clock):
    ids = seed_timed_applications(login, frozen_clock)
    leader_hours = audit_durations(login, ids)["leader_review"]
    assert sorted(leader_hours) == sorted(h[1] for h in SEEDED_HOURS)
    supervisor = web("supervisor")

    page = supervisor.get("/supervise/heatmap?from=2026-03-02&to=2026-03-08&process=press_conference").text

    start = page.index('<tr data-step="leader_review"')
    row = page[start:page.index("</tr>", start)]
    assert 'data-field="count">4<' in row
    assert 'data-field="median_hours">6.0<' in row and 'data-field="p90_hours">23.4<' in row
    figures = json.loads(html.unescape(re.search(r'id="heatmap-data">(.*?)</script>', page, re.S).group(1)))
    leader = next(s for s in figures["steps"] if s["bpmn_id"] == "leader_review")
    assert leader["median_hours"] == 6 and leader["p90_hours"] == pytest.approx(23.4)
    assert 'data-bpmn-url="/supervise/processes/press_conference/diagram.bpmn"' in page
    diagram = supervisor.get("/supervise/processes/press_conference/diagram.bpmn")
    assert diagram.mimetype == "application/xml" and 'id="leader_review"' in diagram.text
    assert supervisor.get("/supervise/processes/nothing_here/diagram.bpmn").status_code == 404


def test_charts_json_counts_weeks_cycle_times_and_overdue_rate_per_unit(web, login, frozen_clock):
    chain.apply(login)
    frozen_clock.set(dt.datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI))
    supervisor = web("supervisor")

    data = supervisor.get("/supervise/charts.json?from=2026-03-02&to=2026-03-15&process=press_conference").get_json()

    assert [(w["week"], w["count"]) for w in data["weeks"]] == [("2026-W10", 1), ("2026-W11", 0)]
    assert data["overdue_by_unit"] == [{"unit": "渝中区人民政府", "tasks": 2, "overdue": 1, "rate": 0.5}]
    assert len(data["cycle_times"]) == 6
    bad = supervisor.get("/supervise/charts.json?from=someday", headers={"Accept": "application/json"})
    assert bad.status_code == 400 and "日期格式" in bad.get_json()["error"]["fields"]["开始日期"][0]


def test_heatmap_with_a_bad_period_says_what_is_wrong(web):
    page = web("supervisor").get("/supervise/heatmap?from=2026-03-10&to=2026-03-01")

    assert page.status_code == 400
    assert "开始日期不能晚于结束日期" in _text(page.text)


def test_dashboard_says_whether_a_worker_is_alive(app, web, frozen_clock):
    from engine import clock
    from engine.worker.heartbeat import beat
    from webapp.extensions import db

    supervisor = web("supervisor")
    assert "没有运行中的定时任务进程" in supervisor.get("/supervise/").text
    with app.app_context():
        beat(db.session, "host-a:1234", clock.now())
    assert "定时任务进程运行中：1 个" in supervisor.get("/supervise/").text
