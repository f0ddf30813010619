"""The reviewers' pages: 待办 / 已办, the task page with its form, 认领 / 释放, 退回, 转办 and the instance diagram."""

from __future__ import annotations

import datetime as dt
import html
import re

from engine.org.units import create_user, grant, unit_by_code
from engine.workdays.calendar import SHANGHAI
from tests.conftest import WebUser
from tests.integration import chain

YZ_TITLE = chain.application()["title"]
JB_TITLE = "2026年江北区文化旅游发展新闻发布会"


def _count(page: str, which: str) -> int:
    match = re.search(rf'data-count="{which}">(\d+)<', page)
    assert match, f"no {which} count on the page"
    return int(match.group(1))


def _section(page: str, heading_id: str) -> str:
    """The HTML of the card whose heading has this id."""
    start = page.index(f'id="{heading_id}"')
    return page[start:page.index("</section>", start)]


def _banner(page: str) -> str:
    """The text of the "sent back" banner of a task page."""
    start = page.index("returned-banner")
    return _text(page[start:page.index("</div>", start)])


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _task_id(login, instance_id: int, bpmn_id: str, user: str = "supervisor") -> str:
    tasks = [t for t in login(user).instance(instance_id)["tasks"] if t["bpmn_id"] == bpmn_id]
    assert tasks, f"instance {instance_id} is not at {bpmn_id}"
    return tasks[0]["id"]


def _history(login, instance_id: int) -> list[dict]:
    return login("supervisor").get(f"/instances/{instance_id}/history").get_json()


def _second_leader(app) -> None:
    from webapp.extensions import db

    with app.app_context():
        user = create_user(db.session, "yz_leader2", "渝中区副职负责人 钱程", "pressflow-demo")
        grant(db.session, user, "unit_leader", unit_by_code(db.session, "yuzhong"))
        db.session.commit()


def _review(web_user, task_id: str, decision: str, comment: str):
    page = f"/tasks/{task_id}"
    return web_user.post_form(f"/tasks/{task_id}/complete", {"decision": decision, "comment": comment}, page=page)


# --- 待办 / 已办 --------------------------------------------------------------------------------


def test_inbox_lists_the_role_queue_with_counts_and_working_days_left_and_hides_other_units(web, login):
    first = chain.apply(login)
    second = chain.apply(login, title="2026年渝中区城市更新新闻发布会")
    chain.apply(login, "jiangbei", title=JB_TITLE)

    page = web("yz_leader").get("/tasks")
    assert page.status_code == 200
    assert (_count(page.text, "mine"), _count(page.text, "queue")) == (0, 2)
    queue = _text(_section(page.text, "queue-heading"))
    assert YZ_TITLE in queue and "2026年渝中区城市更新新闻发布会" in queue
    assert "主要负责人审核" in queue
    assert "剩余 2 个工作日" in queue  # created Monday, due Wednesday
    assert JB_TITLE not in page.text

    jb_page = web("jb_leader").get("/tasks").text
    assert (_count(jb_page, "mine"), _count(jb_page, "queue")) == (0, 1)
    assert JB_TITLE in jb_page and YZ_TITLE not in jb_page
    assert _count(web("yz_clerk").get("/tasks").text, "queue") == 0
    assert {first, second} == {int(i) for i in re.findall(r"data-instance=\"(\d+)\"", page.text)}


def test_claiming_moves_a_task_to_my_list_and_away_from_colleagues_until_released(app, web, login):
    _second_leader(app)
    instance_id = chain.apply(login)
    task_id = _task_id(login, instance_id, "leader_review")
    leader, colleague = web("yz_leader"), web("yz_leader2")

    response = leader.post_form(f"/tasks/{task_id}/claim", {"next": "/tasks"}, page="/tasks")
    assert response.status_code == 302 and response.headers["Location"].endswith("/tasks")
    page = leader.get("/tasks").text
    assert (_count(page, "mine"), _count(page, "queue")) == (1, 0)
    assert "已认领" in page
    assert 'action="/tasks/' + task_id + '/release"' in _section(page, "mine-heading")
    colleague_page = colleague.get("/tasks").text
    assert (_count(colleague_page, "mine"), _count(colleague_page, "queue")) == (0, 0)
    assert "您可以查看此任务，但不能办理" in colleague.get(f"/tasks/{task_id}").text

    assert leader.post_form(f"/tasks/{task_id}/release", page="/tasks").status_code == 302
    assert (_count(leader.get("/tasks").text, "queue"), _count(colleague.get("/tasks").text, "queue")) == (1, 1)
    actions = [h["action"] for h in _history(login, instance_id)]
    assert actions[-2:] == ["claim", "release"]


def test_an_overdue_task_shows_its_working_days_overdue_in_red(app, login, frozen_clock):
    instance_id = chain.apply(login)  # Monday 2026-03-02: the leader's review is due Wednesday 2026-03-04
    task_id = _task_id(login, instance_id, "leader_review")
    frozen_clock.set(dt.datetime(2026, 3, 3, 10, 0, tzinfo=SHANGHAI))
    tuesday = _section(WebUser(app, "yz_leader").get("/tasks").text, "queue-heading")
    assert "剩余 1 个工作日" in tuesday and "逾期" not in tuesday

    # Thursday, Friday and Monday are working days; the weekend in between is not. (A fresh sign-in each time:
    # a session left idle for days has expired.)
    frozen_clock.set(dt.datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI))
    leader = WebUser(app, "yz_leader")
    overdue = re.compile(r'<span class="overdue">\s*逾期 3 个工作日\s*</span>')
    assert overdue.search(_section(leader.get("/tasks").text, "queue-heading"))
    assert overdue.search(leader.get(f"/tasks/{task_id}").text)


def test_office_inbox_filters_by_unit_step_and_process_and_searches_titles(web, login):
    ahead = chain.apply(login)
    chain.through_unit(login, ahead)
    chain.office_accepts(login, ahead)
    chain.content_approved(login, ahead)  # now at host_speaker_selection
    behind = chain.apply(login, "jiangbei", title=JB_TITLE)
    chain.through_unit(login, behind, "jiangbei")  # now at office_topic_review
    office = web("office_reviewer")

    everything = office.get("/tasks").text
    assert _count(everything, "mine") + _count(everything, "queue") == 2
    by_unit = _text(office.get("/tasks?unit=jiangbei").text)
    assert JB_TITLE in by_unit and YZ_TITLE not in by_unit
    by_step = _text(office.get("/tasks?step=host_speaker_selection").text)
    assert YZ_TITLE in by_step and JB_TITLE not in by_step
    by_search = _text(office.get("/tasks?q=文化旅游").text)
    assert JB_TITLE in by_search and YZ_TITLE not in by_search
    by_process = office.get("/tasks?process=press_conference").text
    assert _count(by_process, "mine") + _count(by_process, "queue") == 2
    nothing = office.get("/tasks?unit=health").text
    assert _count(nothing, "mine") + _count(nothing, "queue") == 0
    assert '<option value="jiangbei" selected>' in office.get("/tasks?unit=jiangbei").text


def test_bad_filters_are_explained_on_the_page_not_a_server_error(web, login):
    chain.apply(login)
    leader = web("yz_leader")
    for query, message in (("unit=nowhere", "没有代码为 “nowhere” 的单位"),
                           ("process=no_such_process", "没有标识为 “no_such_process” 的流程"),
                           ("step=%3Cscript%3E", "环节标识无效"),
                           ("q=" + "长" * 101, "搜索词不能超过 100 个字符")):
        response = leader.get(f"/tasks?{query}")
        assert response.status_code == 400, query
        assert message in html.unescape(response.text), query
        assert "<script>" not in response.text
        assert _count(response.text, "queue") == 0


def test_done_lists_what_i_completed_including_as_a_delegate(web, login):
    first = chain.apply(login)
    second = chain.apply(login, title="2026年渝中区城市更新新闻发布会")
    leader = web("yz_leader")
    assert _review(leader, _task_id(login, first, "leader_review"), "approve", "同意上报").status_code == 302
    response = login("yz_leader").post("/delegations", json={
        "delegate": "yz_spokes", "starts_on": "2026-03-02", "ends_on": "2026-03-06", "reason": "出差"})
    assert response.status_code == 201, response.get_json()
    spokes = web("yz_spokes")
    task_id = _task_id(login, second, "leader_review")
    assert task_id in spokes.get("/tasks").text
    assert _review(spokes, task_id, "approve", "代为审核同意").status_code == 302

    done = _text(leader.get("/tasks/done").text)
    assert YZ_TITLE in done and "同意" in done and "城市更新" not in done
    delegate_done = _text(spokes.get("/tasks/done").text)
    assert "城市更新" in delegate_done and "代 渝中区主要负责人 李强 办理" in delegate_done
    secrecy_page = _text(web("yz_secrecy").get(f"/tasks/{_task_id(login, second, 'secrecy_review')}").text)
    assert "代为审核同意" in secrecy_page and "代 渝中区主要负责人 李强 办理" in secrecy_page


# --- the task page and its form ------------------------------------------------------------------


def test_task_page_shows_the_application_its_attachments_and_one_button_per_decision(web, login):
    instance_id = chain.apply(login)
    task_id = _task_id(login, instance_id, "leader_review")
    page = web("yz_leader").get(f"/tasks/{task_id}").text
    application = _text(_section(page, "application-heading"))
    assert "发布主题" in application and YZ_TITLE in application
    assert "以市政府名义" in application and "新闻发布会" in application and "2026-03-20" in application
    files = _section(page, "files-heading")
    attachments = login("yz_leader").get(f"/instances/{instance_id}/attachments").get_json()
    for attachment in attachments:
        assert f'href="/applications/{instance_id}/attachments/{attachment["id"]}"' in files
    assert "工作方案.pdf" in files and "发布文稿.pdf" in files
    buttons = re.findall(r'<button type="submit" name="decision" value="(\w+)"[^>]*>([^<]+)</button>', page)
    assert buttons == [("approve", "同意"), ("return", "退回修改"), ("reject", "不同意")]
    assert login("supervisor").get(f"/tasks/{task_id}").get_json()["opened_at"] is not None


def test_leader_approves_through_the_form_and_the_next_reviewer_sees_the_opinion(web, login):
    instance_id = chain.apply(login)
    task_id = _task_id(login, instance_id, "leader_review")
    response = _review(web("yz_leader"), task_id, "approve", "材料齐全，同意上报")
    assert response.status_code == 302 and response.headers["Location"].endswith("/tasks")
    assert "已办理：主要负责人审核" in web("yz_leader").get("/tasks").text

    assert chain.open_steps(login("supervisor"), instance_id) == ["secrecy_review"]
    secrecy_page = web("yz_secrecy").get(f"/tasks/{_task_id(login, instance_id, 'secrecy_review')}").text
    opinions = _text(_section(secrecy_page, "opinions-heading"))
    assert "主要负责人审核" in opinions and "同意" in opinions and "材料齐全，同意上报" in opinions
    assert "渝中区主要负责人 李强" in opinions


def test_a_negative_decision_without_a_comment_is_shown_inline_and_changes_nothing(web, login):
    instance_id = chain.apply(login)
    task_id = _task_id(login, instance_id, "leader_review")
    response = _review(web("yz_leader"), task_id, "reject", "  ")
    assert response.status_code == 422
    assert '<p class="field-error" id="f-comment-error-1">退回或不同意时须填写审批意见</p>' in response.text
    assert 'aria-invalid="true"' in response.text
    assert chain.open_steps(login("supervisor"), instance_id) == ["leader_review"]
    assert "complete" not in [h["action"] for h in _history(login, instance_id) if h["task"] == "主要负责人审核"]


def test_office_reviewer_picks_guests_through_the_list_rows_and_an_ineligible_role_keeps_them(web, login):
    instance_id = chain.apply(login)
    chain.through_unit(login, instance_id)
    chain.office_accepts(login, instance_id)
    chain.content_approved(login, instance_id)
    task_id = _task_id(login, instance_id, "host_speaker_selection")
    office = web("office_reviewer")
    page = office.get(f"/tasks/{task_id}").text
    assert 'name="guests-0-name"' in page and 'name="guests-1-title"' in page
    form = {"speaker_name": "张副市长", "speaker_role": "unit_spokesperson", "host_name": "何平",
            "host_role": "municipal_spokesperson", "guests-0-name": "王局长", "guests-0-title": "区发展改革委主任",
            "guests-1-name": "", "guests-1-title": ""}

    refused = office.post_form(f"/tasks/{task_id}/complete", form, page=f"/tasks/{task_id}")
    assert refused.status_code == 422
    assert "本次发布的发布人须为以下身份之一" in refused.text
    assert 'value="王局长"' in refused.text and 'value="区发展改革委主任"' in refused.text

    accepted = office.post_form(f"/tasks/{task_id}/complete", form | {"speaker_role": "vice_mayor"},
                                page=f"/tasks/{task_id}")
    assert accepted.status_code == 302
    guests = login("supervisor").instance(instance_id)["data"]["guests"]
    assert guests == [{"name": "王局长", "title": "区发展改革委主任"}]


def test_checkboxes_and_dates_are_read_from_the_form_and_an_unticked_confirmation_is_explained(web, login):
    instance_id = chain.apply(login)
    chain.through_unit(login, instance_id)
    chain.office_accepts(login, instance_id)
    chain.content_approved(login, instance_id)
    chain.select_host_speaker(login, instance_id)
    task_id = _task_id(login, instance_id, "venue_preparation")
    onsite = web("onsite")
    assert 'type="checkbox" id="f-venue_confirmed" name="venue_confirmed"' in onsite.get(f"/tasks/{task_id}").text

    form = {"venue_name": "市新闻发布中心", "live_stream_ready": "on", "notes": ""}
    refused = onsite.post_form(f"/tasks/{task_id}/complete", form, page=f"/tasks/{task_id}")
    assert refused.status_code == 422 and "须确认场地已落实" in refused.text
    assert 'value="市新闻发布中心"' in refused.text
    assert re.search(r'id="f-live_stream_ready" name="live_stream_ready" value="on" checked', refused.text)
    accepted = onsite.post_form(f"/tasks/{task_id}/complete", form | {"venue_confirmed": "on"},
                                page=f"/tasks/{task_id}")
    assert accepted.status_code == 302

    announce = _task_id(login, instance_id, "pre_announcement")
    office = web("office_reviewer")
    bad_date = {"published": "on", "announcement_url": "https://www.cq.gov.cn/cqfb/notice", "published_on": "3月18日"}
    refused = office.post_form(f"/tasks/{announce}/complete", bad_date, page=f"/tasks/{announce}")
    assert refused.status_code == 422 and "请输入有效日期，格式为 YYYY-MM-DD" in refused.text
    done = office.post_form(f"/tasks/{announce}/complete", bad_date | {"published_on": "2026-03-18"},
                            page=f"/tasks/{announce}")
    assert done.status_code == 302
    data = login("supervisor").instance(instance_id)["data"]
    assert (data["venue_confirmed"], data["live_stream_ready"], data["published_on"]) == (True, True, "2026-03-18")


# --- 退回 and 转办 -----------------------------------------------------------------------------


def test_leader_returns_the_application_to_the_applicant_who_sees_why_and_the_earlier_values(web, login):
    instance_id = chain.apply(login)
    task_id = _task_id(login, instance_id, "leader_review")
    leader = web("yz_leader")
    page = leader.get(f"/tasks/{task_id}").text
    assert re.search(r'<option value="[^"]+" selected>\s*选题申报', _section(page, "return-heading"))

    missing = leader.post_form(f"/tasks/{task_id}/return", {"comment": ""}, page=f"/tasks/{task_id}")
    assert missing.status_code == 422 and "请填写退回理由" in missing.text
    assert chain.open_steps(login("supervisor"), instance_id) == ["leader_review"]

    response = leader.post_form(f"/tasks/{task_id}/return", {"comment": "请补充区领导出席安排"},
                                page=f"/tasks/{task_id}")
    assert response.status_code == 302
    clerk_task = _task_id(login, instance_id, "topic_application")
    clerk_page = web("yz_clerk").get(f"/tasks/{clerk_task}").text
    banner = _banner(clerk_page)
    assert "渝中区主要负责人 李强" in banner and "请补充区领导出席安排" in banner
    assert f'value="{YZ_TITLE}"' in clerk_page
    assert "请补充区领导出席安排" in _text(_section(clerk_page, "opinions-heading"))


def test_office_reviewer_returns_to_the_leader_who_gets_the_previous_values_and_the_reason(web, login):
    instance_id = chain.apply(login)
    assert _review(web("yz_leader"), _task_id(login, instance_id, "leader_review"), "approve",
                   "材料齐全，同意上报").status_code == 302
    login("yz_secrecy").complete(instance_id, "secrecy_review", {"decision": "pass", "comment": ""})
    office_task = _task_id(login, instance_id, "office_topic_review")
    office = web("office_reviewer")
    targets = _section(office.get(f"/tasks/{office_task}").text, "return-heading")
    options = re.findall(r'<option value="([^"]+)"[^>]*>\s*([^（<]+)', targets)
    assert [name.strip() for _, name in options] == ["选题申报", "主要负责人审核", "保密审查"]
    leader_step = next(value for value, name in options if name.strip() == "主要负责人审核")

    response = office.post_form(f"/tasks/{office_task}/return", {"target": leader_step, "comment": "请补充发布口径"},
                                page=f"/tasks/{office_task}")
    assert response.status_code == 302
    assert chain.open_steps(login("supervisor"), instance_id) == ["leader_review"]
    leader_page = web("yz_leader").get(f"/tasks/{_task_id(login, instance_id, 'leader_review')}").text
    assert "请补充发布口径" in _banner(leader_page)
    assert re.search(r'<textarea id="f-comment"[^>]*>材料齐全，同意上报</textarea>', leader_page)
    assert "上次结论：同意" in _text(leader_page)
    assert [h for h in _history(login, instance_id) if h["action"] == "return"][0]["actor"] == "office_reviewer"


def test_leader_transfers_the_task_to_a_colleague_with_the_same_role_and_it_is_recorded(app, web, login):
    _second_leader(app)
    instance_id = chain.apply(login)
    task_id = _task_id(login, instance_id, "leader_review")
    leader = web("yz_leader")
    transfer = _section(leader.get(f"/tasks/{task_id}").text, "transfer-heading")
    assert re.findall(r'<option value="([^"]+)"', transfer) == ["yz_leader2"]

    missing = leader.post_form(f"/tasks/{task_id}/transfer", {"to": "yz_leader2", "reason": ""},
                               page=f"/tasks/{task_id}")
    assert missing.status_code == 422 and "请填写转办理由" in missing.text
    response = leader.post_form(f"/tasks/{task_id}/transfer", {"to": "yz_leader2", "reason": "本人出差，请代为审核"},
                                page=f"/tasks/{task_id}")
    assert response.status_code == 302
    assert "已转办给 渝中区副职负责人 钱程" in leader.get("/tasks").text

    colleague = web("yz_leader2").get("/tasks").text
    assert _count(colleague, "mine") == 1 and task_id in _section(colleague, "mine-heading")
    assert task_id not in leader.get("/tasks").text
    opinions = _text(_section(web("yz_leader2").get(f"/tasks/{task_id}").text, "opinions-heading"))
    assert "转办" in opinions and "本人出差，请代为审核" in opinions
    transfers = [h for h in _history(login, instance_id) if h["action"] == "transfer"]
    assert transfers[0]["actor"] == "yz_leader" and transfers[0]["on_behalf_of"] == "yz_leader2"


# --- who sees what --------------------------------------------------------------------------


def test_a_jiangbei_user_never_sees_a_yuzhong_task_in_lists_or_by_url(web, login):
    instance_id = chain.apply(login)
    task_id = _task_id(login, instance_id, "leader_review")
    stranger = web("jb_leader")
    assert stranger.get(f"/tasks/{task_id}").status_code == 404
    assert YZ_TITLE not in stranger.get("/tasks").text and YZ_TITLE not in stranger.get("/tasks/done").text
    assert stranger.post_form(f"/tasks/{task_id}/claim", page="/tasks").status_code == 404
    assert stranger.post_form(f"/tasks/{task_id}/complete", {"decision": "approve"}, page="/tasks").status_code == 404
    assert stranger.get(f"/diagram/{instance_id}.bpmn").status_code == 404
    assert stranger.get(f"/diagram/{instance_id}/states.json").status_code == 404
    assert chain.open_steps(login("supervisor"), instance_id) == ["leader_review"]
    assert login("supervisor").get(f"/tasks/{task_id}").get_json()["opened_at"] is None


def test_the_supervisor_sees_the_task_read_only_and_does_not_block_withdrawal(web, login):
    instance_id = chain.apply(login)
    task_id = _task_id(login, instance_id, "leader_review")
    page = web("supervisor").get(f"/tasks/{task_id}")
    assert page.status_code == 200
    assert "您可以查看此任务，但不能办理" in page.text and YZ_TITLE in page.text
    assert f'action="/tasks/{task_id}/complete"' not in page.text
    assert f'action="/tasks/{task_id}/return"' not in page.text
    assert web("supervisor").post_form(f"/tasks/{task_id}/complete", {"decision": "approve"},
                                       page="/tasks").status_code == 403
    withdrawn = login("yz_clerk").post(f"/instances/{instance_id}/withdraw", json={"comment": "调整日期"})
    assert withdrawn.status_code == 200, withdrawn.get_json()


def test_a_form_post_without_the_csrf_token_is_refused(web, login):
    instance_id = chain.apply(login)
    task_id = _task_id(login, instance_id, "leader_review")
    leader = web("yz_leader")
    response = leader.client.post(f"/tasks/{task_id}/complete", data={"decision": "approve", "comment": ""})
    assert response.status_code == 400
    assert leader.client.post(f"/tasks/{task_id}/claim").status_code == 400
    assert chain.open_steps(login("supervisor"), instance_id) == ["leader_review"]
    assert _count(leader.get("/tasks").text, "queue") == 1


# --- the diagram -------------------------------------------------------------------------------


def test_diagram_endpoints_give_the_bpmn_and_the_step_states_to_those_who_may_see_them(web, login, client):
    instance_id = chain.apply(login)
    leader = web("yz_leader")
    bpmn = leader.get(f"/diagram/{instance_id}.bpmn")
    assert bpmn.status_code == 200 and bpmn.mimetype == "application/xml"
    assert 'id="leader_review"' in bpmn.text and "bpmndi:BPMNDiagram" in bpmn.text
    states = leader.get(f"/diagram/{instance_id}/states.json").get_json()
    assert states == {"completed": ["topic_application"], "current": ["leader_review"], "failed": []}

    chain.through_unit(login, instance_id)
    states = web("office_reviewer").get(f"/diagram/{instance_id}/states.json").get_json()
    assert states["completed"] == ["leader_review", "secrecy_review", "topic_application"]
    assert states["current"] == ["office_topic_review"]
    assert web("jb_clerk").get(f"/diagram/{instance_id}/states.json").status_code == 404
    assert client.get(f"/diagram/{instance_id}.bpmn").status_code == 302  # not signed in: to the sign-in page

    page = web("office_reviewer").get(f"/tasks/{_task_id(login, instance_id, 'office_topic_review')}").text
    assert f'data-bpmn-url="/diagram/{instance_id}.bpmn"' in page
    assert f'data-states-url="/diagram/{instance_id}/states.json"' in page
    assert "vendor/bpmn-js/bpmn-navigated-viewer.production.min.js" in page
    script = leader.get("/static/js/diagram.js")
    script.close()
    assert script.status_code == 200
