"""The supervisor's instance page: diagram markers, holders, the trail, the data, the incident and the action forms."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.models import Notification, User
from engine.org.units import create_user, grant, unit_by_code
from engine.workdays.calendar import SHANGHAI
from engine.workflow.deploy import deploy
from tests.conftest import WebUser
from tests.integration import chain

DATA = Path(__file__).resolve().parent.parent / "data"
TITLE = chain.application()["title"]


def page_of(instance_id: int) -> str:
    return f"/supervise/instances/{instance_id}"


def text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def section(page: str, heading_id: str) -> str:
    start = page.index(f'id="{heading_id}"')
    return page[start:page.index("</section>", start)]


def flashes(page: str) -> list[str]:
    return [text(m) for m in re.findall(r'<p class="alert alert-\w+" role="status">(.*?)</p>', page, re.S)]


def act(user: WebUser, instance_id: int, action: str, data: dict[str, Any]) -> str:
    """Post one action form the way the browser does and return the page it redirects to."""
    response = user.post_form(f"{page_of(instance_id)}/{action}", data, page=page_of(instance_id))
    assert response.status_code == 302, response.text
    assert response.headers["Location"].endswith(page_of(instance_id))
    return user.get(page_of(instance_id)).text


def failed_budget(app: Any, login: Any) -> int:
    """An instance of tests/data/guest_budget.bpmn whose per-guest script divided by zero."""
    from webapp.extensions import db

    with app.app_context():
        key = deploy(db.session, app.extensions["pressflow_runtime"],
                     (DATA / "guest_budget.bpmn").read_text(encoding="utf-8"), [], "tests").version.process_key
        db.session.remove()
    leader = login("yz_leader")
    instance_id = leader.post("/instances", json={"process": key}).get_json()["id"]
    assert leader.complete(instance_id, "budget_review", {"decision": "approve", "comment": ""})["status"] == "error"
    return instance_id


# --- the page --------------------------------------------------------------------------------------


def test_supervisor_sees_holders_data_trail_and_the_diagram_hook_of_an_application(web, login):
    instance_id = chain.apply(login)

    response = web("supervisor").get(page_of(instance_id))

    assert response.status_code == 200
    page = response.text
    assert TITLE in page
    steps = text(section(page, "sv-open-title"))
    assert "主要负责人审核" in steps and "主要负责人@渝中区人民政府" in steps and "2026-03-04 23:59" in steps
    trail = text(section(page, "sv-trail-title"))
    assert "渝中区经办人 王敏 发起" in trail and "渝中区经办人 王敏 提交 · 选题申报" in trail
    data = text(section(page, "sv-data-title"))
    assert "conference_date" in data and "2026-03-20" in data and TITLE in data
    assert f'data-diagram-url="/supervise/instances/{instance_id}/diagram.json"' in page
    assert "vendor/bpmn-js/bpmn-navigated-viewer.production.min.js" in page and "js/supervise-diagram.js" in page
    task_id = login("yz_leader").task_at(instance_id, "leader_review")["id"]
    for action in ("urge", "suspend", "terminate", "move-back", f"tasks/{task_id}/reassign"):
        assert f'action="/supervise/instances/{instance_id}/{action}"' in page
    assert f'action="/supervise/instances/{instance_id}/resume"' not in page
    assert page.count('name="reason"') == page.count('name="csrf_token" value') - 2  # minus language and sign-out
    for asset in ("/static/js/supervise-diagram.js", "/static/css/supervise.css"):
        served = web("supervisor").get(asset)
        served.close()
        assert served.status_code == 200


def test_diagram_json_marks_done_and_active_steps_and_the_overdue_one_in_working_days(app, login, frozen_clock):
    instance_id = chain.apply(login)
    fresh = WebUser(app, "supervisor").get(f"{page_of(instance_id)}/diagram.json").get_json()
    assert fresh["bpmn_xml"].startswith("<?xml") and 'id="leader_review"' in fresh["bpmn_xml"]
    assert {"start", "topic_application"} <= set(fresh["done"]) and "leader_review" not in fresh["done"]
    assert fresh["active"] == [{"id": "leader_review", "holder": "主要负责人@渝中区人民政府", "due": "2026-03-04 23:59",
                                "overdue": False, "overdue_workdays": 0}]
    assert (fresh["overdue"], fresh["error"]) == ([], [])

    frozen_clock.set(dt.datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI))  # Thu, Fri and Mon after a Wednesday deadline
    supervisor = WebUser(app, "supervisor")
    late = supervisor.get(f"{page_of(instance_id)}/diagram.json").get_json()
    assert late["overdue"] == ["leader_review"]
    assert late["active"][0]["overdue_workdays"] == 3
    row = section(supervisor.get(page_of(instance_id)).text, "sv-open-title")
    assert "sv-overdue" in row and "逾期 3 个工作日" in text(row)


def test_diagram_json_names_the_claimant_and_a_waiting_timer(app, web, login):
    instance_id = chain.apply(login)
    leader = login("yz_leader")
    assert leader.post(f"/tasks/{leader.task_at(instance_id, 'leader_review')['id']}/claim").status_code == 200
    claimed = web("supervisor").get(f"{page_of(instance_id)}/diagram.json").get_json()
    assert claimed["active"][0]["holder"] == "渝中区主要负责人 李强"

    waiting = chain.to_conference_timer(login)
    timer = web("supervisor").get(f"{page_of(waiting)}/diagram.json").get_json()
    assert timer["active"] == [{"id": "wait_conference_start", "holder": "定时器", "due": "2026-03-20 10:00",
                                "overdue": False, "overdue_workdays": 0}]
    assert {"host_speaker_selection", "venue_preparation", "pre_announcement"} <= set(timer["done"])


def test_an_application_in_error_shows_its_incident_the_purple_step_and_the_retry_form(app, web, login):
    instance_id = failed_budget(app, login)
    supervisor = web("supervisor")

    states = supervisor.get(f"{page_of(instance_id)}/diagram.json").get_json()
    assert states["error"] == ["tally_budget"]
    assert "budget_review" in states["done"] and states["active"] == []
    page = supervisor.get(page_of(instance_id)).text
    incident = text(section(page, "sv-incident-title"))
    assert "tally_budget" in incident and "ZeroDivisionError" in incident and "division by zero" in incident
    assert "per_guest = budget / guests" in incident
    retry = section(page, "sv-actions-title")
    assert 'name="value.guests" value="0"' in retry and 'name="value.budget" value="12000"' in retry


# --- the actions -----------------------------------------------------------------------------------


def test_supervisor_suspends_and_resumes_through_the_forms(web, login):
    instance_id = chain.apply(login)
    supervisor = web("supervisor")

    page = act(supervisor, instance_id, "suspend", {"reason": "核查申报材料"})
    assert flashes(page) == ["已挂起：定时器暂停，待办暂不能办理"]
    assert "已挂起" in text(section(page, "sv-title")) and "/resume" in page and "/suspend" not in page
    assert login("supervisor").instance(instance_id)["status"] == "suspended"

    page = act(supervisor, instance_id, "resume", {"reason": "材料无误"})
    assert flashes(page) == ["已恢复办理"]
    assert login("supervisor").instance(instance_id)["status"] == "running"
    trail = text(section(page, "sv-trail-title"))
    assert "督办人员 邓华 挂起" in trail and "挂起：核查申报材料" in trail and "恢复：材料无误" in trail


def test_an_action_without_a_reason_or_refused_by_the_engine_is_a_flash_and_changes_nothing(web, login):
    instance_id = chain.apply(login)
    supervisor = web("supervisor")

    page = act(supervisor, instance_id, "suspend", {"reason": "  "})
    assert flashes(page) == ["挂起须填写理由：请填写挂起理由"]
    page = act(supervisor, instance_id, "resume", {"reason": "恢复"})
    assert flashes(page) == ["只有已挂起的申请可以恢复"]
    page = act(supervisor, instance_id, "retry", {"reason": "重试", "value.guests": "1"})
    assert flashes(page) == ["只有异常状态的申请可以修复重试"]
    assert login("supervisor").instance(instance_id)["status"] == "running"
    assert [h["actor"] for h in login("supervisor").get(f"/instances/{instance_id}/history").get_json()].count(
        "supervisor") == 0


def test_supervisor_reassigns_a_review_to_an_eligible_colleague_through_the_form(app, web, login):
    from webapp.extensions import db

    with app.app_context():
        deputy = create_user(db.session, "yz_deputy", "渝中区副主任 黄敏", "pressflow-demo")
        grant(db.session, deputy, "unit_leader", unit_by_code(db.session, "yuzhong"))
        db.session.commit()
        db.session.remove()
    instance_id = chain.apply(login)
    task_id = login("yz_leader").task_at(instance_id, "leader_review")["id"]
    supervisor = web("supervisor")
    choices = section(supervisor.get(page_of(instance_id)).text, "sv-open-title")
    assert 'value="yz_deputy"' in choices and 'value="yz_leader"' in choices and 'value="yz_spokes"' not in choices

    page = act(supervisor, instance_id, f"tasks/{task_id}/reassign", {"to": "yz_deputy", "reason": "李强出差"})

    assert flashes(page) == ["已改派给 渝中区副主任 黄敏"]
    assert login("yz_deputy").task_at(instance_id, "leader_review")["assignee"] == "yz_deputy"
    assert "改派 · 主要负责人审核 → 渝中区副主任 黄敏" in text(section(page, "sv-trail-title"))
    page = act(supervisor, instance_id, f"tasks/{task_id}/reassign", {"to": "jb_leader", "reason": "试试"})
    assert flashes(page) == ["不能改派给该用户：只能改派给在该单位具有此环节角色的其他人员"]


def test_supervisor_fixes_the_data_and_retries_the_failed_script_through_the_form(app, web, login):
    instance_id = failed_budget(app, login)
    supervisor = web("supervisor")

    page = act(supervisor, instance_id, "retry", {"value.guests": "0", "value.budget": "12000", "value.per_guest": "",
                                                  "reason": "先原样重试"})
    [still_failing] = flashes(page)
    assert still_failing.startswith("重试后仍出错：") and "division by zero" in still_failing
    page = act(supervisor, instance_id, "retry", {"value.guests": "40", "value.budget": "12000",
                                                  "extra_name": "budget_review_comment", "extra_value": "已核",
                                                  "reason": "来宾 40 人"})

    assert flashes(page) == ["重试成功，申请已继续办理"]
    done = login("supervisor").instance(instance_id)
    assert (done["status"], done["data"]["per_guest"]) == ("completed", 300)
    assert done["data"]["budget_review_comment"] == "已核"
    assert 'id="sv-incident-title"' not in page and 'id="sv-actions-title"' not in page
    assert "修复数据并重试 · 核算人均经费" in text(section(page, "sv-trail-title"))


def test_supervisor_moves_the_application_back_and_terminates_it_through_the_forms(web, login):
    instance_id = chain.apply(login)
    chain.through_unit(login, instance_id)
    supervisor = web("supervisor")
    form = section(supervisor.get(page_of(instance_id)).text, "sv-actions-title")
    targets = dict(re.findall(r'<option value="([0-9a-f-]{36})">([^<·]+)', form))
    leader_row = next(row for row, label in targets.items() if "主要负责人审核" in label)

    page = act(supervisor, instance_id, "move-back", {"target": leader_row, "reason": "请补充审核意见"})
    assert flashes(page) == ["已回退，该环节办理人将收到通知"]
    assert chain.open_steps(login("supervisor"), instance_id) == ["leader_review"]
    assert "回退至「主要负责人审核」：请补充审核意见" in text(section(page, "sv-trail-title"))

    page = act(supervisor, instance_id, "terminate", {"reason": "申报单位撤回"})
    assert flashes(page) == ["已终止，申请人已收到通知"]
    assert "已终止" in text(section(page, "sv-title")) and 'id="sv-actions-title"' not in page
    assert login("supervisor").instance(instance_id)["status"] == "terminated"


def test_supervisor_urges_the_holder_who_is_notified_with_the_reason(app, web, login):
    instance_id = chain.apply(login)

    page = act(web("supervisor"), instance_id, "urge", {"reason": "请今日办结"})

    assert flashes(page) == ["已催办 1 个待办环节"]
    from webapp.extensions import db

    with app.app_context():
        messages = db.session.scalars(select(Notification.message).join(Notification.user).where(
            User.username == "yz_leader", Notification.kind == "urge")).all()
        db.session.remove()
    assert len(messages) == 1 and "请今日办结" in messages[0]
    page = act(web("supervisor"), instance_id, "urge", {"reason": "再催"})
    assert flashes(page) == ["一小时内已催办过，请稍后再试"]


def test_an_action_post_without_the_csrf_token_is_refused(web, login):
    instance_id = chain.apply(login)
    response = web("supervisor").client.post(f"{page_of(instance_id)}/suspend", data={"reason": "停"})
    assert response.status_code == 400
    assert login("supervisor").instance(instance_id)["status"] == "running"


# --- who may see it --------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["yz_clerk", "yz_leader", "jb_leader", "office_reviewer"])
def test_only_supervisors_and_admins_may_open_the_page_or_act(web, login, username):
    instance_id = chain.apply(login)
    task_id = login("yz_leader").task_at(instance_id, "leader_review")["id"]
    user = web(username)

    assert user.get(page_of(instance_id)).status_code == 403
    assert user.get(f"{page_of(instance_id)}/diagram.json").status_code == 403
    for action in ("urge", "suspend", "resume", "terminate", "retry", "move-back", f"tasks/{task_id}/reassign"):
        response = user.post_form(f"{page_of(instance_id)}/{action}", {"reason": "试图操作", "to": username})
        assert response.status_code == 403, action
    assert login("supervisor").instance(instance_id)["status"] == "running"


def test_admin_opens_the_page_and_strangers_are_sent_to_sign_in(web, login, client):
    instance_id = chain.apply(login)
    assert web("admin").get(page_of(instance_id)).status_code == 200
    assert web("supervisor").get(page_of(instance_id + 999)).status_code == 404
    response = client.get(page_of(instance_id))
    assert response.status_code == 302 and "/login" in response.headers["Location"]
