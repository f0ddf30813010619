"""Notices as people read them: the end of an application, current titles, their own language and Beijing time,
none for one's own actions, read once the task is opened, and old rows that still read."""

from __future__ import annotations

import datetime as dt
import html
import re

from sqlalchemy import select

from engine import clock
from engine.models import AuditEntry, Instance, Notification, User
from engine.workdays.calendar import SHANGHAI
from tests.integration import chain

TITLE = chain.application()["title"]


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _notices(user) -> str:
    page = user.get("/notifications").text
    start = page.index('<section class="card"')
    return _text(page[start:page.index("</section>", start)])


def _timeline(user, instance_id: int) -> str:
    page = user.get(f"/applications/{instance_id}").text
    start = page.index('id="timeline-title"')
    return _text(page[start:page.index("</section>", start)])


def _task_id(login, instance_id: int, bpmn_id: str) -> str:
    tasks = [t for t in login("supervisor").instance(instance_id)["tasks"] if t["bpmn_id"] == bpmn_id]
    assert tasks, f"instance {instance_id} is not at {bpmn_id}"
    return tasks[0]["id"]


def _decide(web_user, login, instance_id: int, bpmn_id: str, decision: str, comment: str):
    task_id = _task_id(login, instance_id, bpmn_id)
    page = f"/tasks/{task_id}"
    response = web_user.post_form(f"/tasks/{task_id}/complete", {"decision": decision, "comment": comment}, page=page)
    assert response.status_code == 302, response.text
    return response


def _badge(page: str) -> int:
    match = re.search(r'class="badge"[^>]*>(\d+)<', page)
    return int(match.group(1)) if match else 0


def _english(user, path: str) -> None:
    assert user.post_form("/language", {"lang": "en", "next": path}, page=path).status_code == 302


# --- 5: the applicant hears how it ended ------------------------------------------------------------


def test_the_applicant_is_told_when_the_leader_does_not_approve_and_the_leader_is_not(web, login):
    instance_id = chain.apply(login)
    leader = web("yz_leader")

    _decide(leader, login, instance_id, "leader_review", "reject", "不符合发布条件")

    assert f"《{TITLE}》未获同意（不予同意），流程结束：不符合发布条件" in _notices(web("yz_clerk"))
    assert "未获同意" not in _notices(leader)
    assert "流程结束：不予同意" in _timeline(web("yz_clerk"), instance_id)


def test_the_applicant_is_told_when_the_information_office_declines_the_topic(web, login):
    instance_id = chain.apply(login)
    chain.through_unit(login, instance_id)

    _decide(web("office_reviewer"), login, instance_id, "office_topic_review", "decline", "本月已有同类发布")

    assert f"《{TITLE}》不予受理，流程结束：本月已有同类发布" in _notices(web("yz_clerk"))
    assert "流程结束：不予受理" in _timeline(web("yz_clerk"), instance_id)


def test_the_applicant_is_told_when_the_application_is_completed(app, web, login, frozen_clock):
    instance_id = chain.to_conference_timer(login)
    frozen_clock.set(dt.datetime(2026, 3, 20, 10, 1, tzinfo=SHANGHAI))
    chain.run_timers(app, "2026-03-20T10:01")
    login("onsite").complete(instance_id, "conference_record", {
        "conference_status": "held", "questions_count": 6, "questions_summary": "记者提问 6 个"})
    task_id = _task_id(login, instance_id, "monitoring_report")
    response = web("monitor").post_form(f"/tasks/{task_id}/complete", {
        "coverage_summary": "40 家媒体报道", "public_reaction": "反响积极", "report": "无负面舆情"},
        page=f"/tasks/{task_id}")
    assert response.status_code == 302, response.text

    clerk = web("yz_clerk")
    assert f"《{TITLE}》已办结" in _notices(clerk)
    timeline = _timeline(clerk, instance_id)
    assert "流程结束：已完成" in timeline and "completed" not in timeline
    assert "定时器到期（2026-03-20 10:00）" in timeline and "+00:00" not in timeline


# --- 6: the title a notice shows is the application's title now -------------------------------------


def test_a_notice_sent_before_the_clerk_named_the_application_shows_its_title_now(web, login):
    instance_id = chain.start(login)
    urged = web("supervisor").post_form(f"/supervise/instances/{instance_id}/urge", {"reason": "请尽快提交"},
                                        page=f"/supervise/instances/{instance_id}")
    assert urged.status_code == 302
    login("yz_clerk").complete(instance_id, "topic_application", chain.application())

    notices = _notices(web("yz_clerk"))

    assert f"督办人员 邓华 催办《{TITLE}》选题申报：请尽快提交" in notices
    assert "《》" not in notices and "《申请》" not in notices


def test_renaming_an_application_after_a_return_renames_the_notices_about_it(web, login):
    instance_id = chain.apply(login)
    _decide(web("yz_leader"), login, instance_id, "leader_review", "return", "标题请写明年份")
    login("yz_clerk").complete(instance_id, "topic_application", chain.application(title="渝中区营商环境发布会"))

    notices = _notices(web("yz_leader"))

    assert "新待办：《渝中区营商环境发布会》主要负责人审核" in notices and TITLE not in notices


# --- 9: codes and facts, rendered in the reader's language ----------------------------------------


def test_english_pages_show_notices_and_the_timeline_in_english(web, login):
    instance_id = chain.apply(login)
    _decide(web("yz_leader"), login, instance_id, "leader_review", "reject", "不符合发布条件")
    clerk = web("yz_clerk")
    _english(clerk, "/notifications")

    notices = _notices(clerk)
    timeline = _timeline(clerk, instance_id)

    assert f"“{TITLE}” was not approved; the process has ended" in notices and "流程结束" not in notices
    assert "Process ended: " in timeline and "流程结束" not in timeline and "rejected" not in timeline
    assert "Started “" in timeline and "发起《" not in timeline


def test_the_supervisors_trail_says_timer_and_end_in_words_and_beijing_time(app, web, login, frozen_clock):
    instance_id = chain.to_conference_timer(login)
    frozen_clock.set(dt.datetime(2026, 3, 20, 10, 1, tzinfo=SHANGHAI))
    chain.run_timers(app, "2026-03-20T10:01")

    page = web("supervisor").get(f"/supervise/instances/{instance_id}").text
    start = page.index('id="sv-trail-title"')
    trail = _text(page[start:page.index("</section>", start)])

    assert "定时器到期（2026-03-20 10:00）" in trail and "T02:00" not in trail


def test_rows_written_before_notices_had_codes_still_read(app, web, login):
    instance_id = chain.apply(login)
    from webapp.extensions import db

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "yz_clerk"))
        instance = db.session.get(Instance, instance_id)
        assert user is not None and instance is not None
        db.session.add(Notification(user_id=user.id, kind="urge", message="旧消息：请尽快办理《旧标题》",
                                    instance_id=instance_id, created_at=clock.now()))
        db.session.add(AuditEntry(instance_id=instance_id, at=clock.now(), actor="system", action="end",
                                  comment="流程结束：completed"))
        db.session.add(AuditEntry(instance_id=instance_id, at=clock.now(), actor="system", action="timer",
                                  comment="定时器到期（2026-12-17T02:00:00+00:00）"))
        db.session.commit()
    clerk = web("yz_clerk")

    assert "旧消息：请尽快办理《旧标题》" in _notices(clerk)
    timeline = _timeline(clerk, instance_id)
    assert "流程结束：已完成" in timeline and "定时器到期（2026-12-17 10:00）" in timeline


# --- none for one's own actions; opening a task reads its notice -------------------------------------


def test_nobody_is_notified_of_what_they_did_themselves(web, login):
    instance_id = chain.apply(login)  # the clerk's own start and submission
    login("yz_leader").complete(instance_id, "leader_review", {"decision": "approve", "comment": "同意"})
    clerk = web("yz_clerk")
    clerk.post_form(f"/applications/{instance_id}/comments", {"body": "材料已补齐"},
                    page=f"/applications/{instance_id}")

    assert "暂无通知" in _notices(clerk)
    assert "材料已补齐" in _notices(web("yz_leader"))


def test_opening_the_task_marks_its_notice_read(web, login):
    instance_id = chain.apply(login)
    leader = web("yz_leader")
    assert _badge(leader.get("/notifications").text) == 1

    leader.get(f"/tasks/{_task_id(login, instance_id, 'leader_review')}")

    page = leader.get("/notifications").text
    assert _badge(page) == 0 and "未读 0 条" in _text(page)


def test_the_diagram_names_its_steps_in_english_on_english_pages(web, login):
    instance_id = chain.apply(login)
    leader = web("yz_leader")
    assert 'name="主要负责人审核"' in leader.get(f"/diagram/{instance_id}.bpmn?lang=zh").text
    _english(leader, f"/applications/{instance_id}")

    page = leader.get(f"/applications/{instance_id}").text
    xml = leader.get(f"/diagram/{instance_id}.bpmn?lang=en").text
    payload = web("supervisor")
    _english(payload, f"/supervise/instances/{instance_id}")
    supervised = payload.get(f"/supervise/instances/{instance_id}/diagram.json").get_json()["bpmn_xml"]

    assert f"/diagram/{instance_id}.bpmn?lang=en" in page
    assert 'name="Principal leader review"' in xml and 'name="主要负责人审核"' not in xml
    assert 'name="Principal leader review"' in supervised and 'name="District"' in supervised
