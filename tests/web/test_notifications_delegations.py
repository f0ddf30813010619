"""Notifications (in the app and by e-mail through a local SMTP sink) and 委托 from the delegate's side."""

from __future__ import annotations

import asyncio
import dataclasses
import email
import html
import re
import signal
import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import create_engine, event, select, text

from engine import clock
from engine.models import Notification, User
from tests.conftest import WebUser
from tests.integration import chain
from webapp.cli import main

YZ_TITLE = chain.application()["title"]
JB_TITLE = "2026年江北区文化旅游发展新闻发布会"


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return _text(page[start:page.index("</section>", start)])


def _item(page: str, notification_id: int) -> str:
    """The text of one notification in the list."""
    start = page.index(">", page.index(f'id="notification-{notification_id}"')) + 1
    return _text(page[start:page.index("</li>", start)]).strip()


def _badge(page: str) -> int:
    """The unread count in the page header (0 when the badge is absent)."""
    match = re.search(r'class="badge"[^>]*>(\d+)<', page)
    return int(match.group(1)) if match else 0


def _notification_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="notification-(\d+)"', page)]


def _task_id(login, instance_id: int, bpmn_id: str) -> str:
    tasks = [t for t in login("supervisor").instance(instance_id)["tasks"] if t["bpmn_id"] == bpmn_id]
    assert tasks, f"instance {instance_id} is not at {bpmn_id}"
    return tasks[0]["id"]


# --- 通知 ----------------------------------------------------------------------------------------


def test_notifications_list_newest_first_with_kind_in_chinese_and_links(web, login, frozen_clock):
    instance_id = chain.apply(login)
    frozen_clock.advance(minutes=5)
    login("yz_clerk").post(f"/instances/{instance_id}/urge", json={"comment": "请今天审核"})
    leader = web("yz_leader")

    page = leader.get("/notifications")

    assert page.status_code == 200
    items = [_item(page.text, i) for i in _notification_ids(page.text)]
    assert len(items) == 2
    assert items[0].startswith("催办 未读 2026-03-02 09:05") and "请今天审核" in items[0]
    assert items[1].startswith("新待办 未读 2026-03-02 09:00") and f"《{YZ_TITLE}》主要负责人审核" in items[1]
    task_id = _task_id(login, instance_id, "leader_review")
    assert f'href="/tasks/{task_id}"' in page.text
    assert f'href="/applications/{instance_id}"' in page.text
    assert _badge(page.text) == 2


def test_marking_one_then_all_notifications_read_updates_the_header_count(web, login):
    chain.apply(login)
    chain.apply(login, title="2026年渝中区城市更新新闻发布会")
    leader = web("yz_leader")
    page = leader.get("/applications/mine").text  # any page shows the count
    assert _badge(page) == 2
    newest, oldest = _notification_ids(leader.get("/notifications").text)

    leader.post_form(f"/notifications/{newest}/read", page="/notifications")
    listing = leader.get("/notifications").text
    assert _badge(listing) == 1
    assert "未读" not in _item(listing, newest)
    assert "未读" in _item(listing, oldest)

    web("jb_leader").post_form(f"/notifications/{oldest}/read", page="/notifications")  # not theirs
    assert _badge(leader.get("/notifications").text) == 1

    response = leader.post_form("/notifications/read-all", page="/notifications")
    assert response.status_code == 302
    listing = leader.get("/notifications").text
    assert _badge(listing) == 0 and "全部通知已标为已读" in listing
    assert "全部标为已读" not in listing


def test_a_jiangbei_user_never_sees_a_yuzhong_notification(web, login):
    chain.apply(login)
    chain.apply(login, "jiangbei", title=JB_TITLE)

    jiangbei = web("jb_leader").get("/notifications").text
    yuzhong = web("yz_leader").get("/notifications").text

    assert JB_TITLE in jiangbei and YZ_TITLE not in jiangbei
    assert YZ_TITLE in yuzhong and JB_TITLE not in yuzhong
    assert _badge(jiangbei) == 1


# --- 委托 ----------------------------------------------------------------------------------------


def test_delegate_completes_the_principals_review_and_the_history_names_both(web, login):
    principal = web("yz_leader")
    options = principal.get("/delegations").text
    assert 'value="yz_spokes"' in options and 'value="jb_leader"' not in options
    created = principal.post_form("/delegations", {"delegate": "yz_spokes", "starts_on": "2026-03-02",
                                                   "ends_on": "2026-03-04", "reason": "赴京参会"}, page="/delegations")
    assert created.status_code == 302
    given = _section(principal.get("/delegations").text, "given-title")
    assert "渝中区新闻发言人 陈静" in given and "2026-03-02 — 2026-03-04" in given and "生效中" in given
    delegate = web("yz_spokes")
    assert "渝中区主要负责人 李强" in _section(delegate.get("/delegations").text, "received-title")

    instance_id = chain.apply(login)
    assert YZ_TITLE in delegate.get("/tasks").text
    task_id = _task_id(login, instance_id, "leader_review")
    completed = delegate.post_form(f"/tasks/{task_id}/complete", {"decision": "approve", "comment": "代为审核同意"},
                                   page=f"/tasks/{task_id}")
    assert completed.status_code == 302

    history = [h for h in login("supervisor").get(f"/instances/{instance_id}/history").get_json()
               if h["action"] == "complete" and h["task"] == "主要负责人审核"]
    assert [(h["actor"], h["on_behalf_of"]) for h in history] == [("yz_spokes", "yz_leader")]
    timeline = _section(principal.get(f"/applications/{instance_id}").text, "timeline-title")
    assert "渝中区新闻发言人 陈静 代 渝中区主要负责人 李强 办理 同意 · 主要负责人审核" in timeline
    assert "代为审核同意" in timeline


def test_a_revoked_delegation_no_longer_shows_the_principals_tasks(web, login):
    principal = web("yz_leader")
    principal.post_form("/delegations", {"delegate": "yz_spokes", "starts_on": "2026-03-02",
                                         "ends_on": "2026-03-06", "reason": "休假"}, page="/delegations")
    chain.apply(login)
    delegate = web("yz_spokes")
    assert YZ_TITLE in delegate.get("/tasks").text
    delegation_id = login("yz_leader").get("/delegations").get_json()[0]["id"]

    assert web("yz_spokes").post_form(f"/delegations/{delegation_id}/revoke", page="/delegations").status_code == 404
    revoked = principal.post_form(f"/delegations/{delegation_id}/revoke", page="/delegations")

    assert revoked.status_code == 302
    assert "已撤销" in _section(principal.get("/delegations").text, "given-title")
    assert YZ_TITLE not in delegate.get("/tasks").text
    assert login("yz_leader").get("/delegations").get_json()[0]["revoked"] is True


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"delegate": "jb_leader"}, "delegate", "只能委托给本单位的人员"),
    ({"delegate": ""}, "delegate", "用户不存在"),
    ({"ends_on": "2026-03-01"}, "ends_on", "结束日期不能早于开始日期"),
    ({"reason": "  "}, "reason", "请填写委托事由"),
    ({"starts_on": "2026-13-01"}, "starts_on", "请按 年-月-日 填写日期"),
])
def test_a_wrong_delegation_is_explained_next_to_its_field_and_nothing_is_saved(web, login, form, field, message):
    valid = {"delegate": "yz_spokes", "starts_on": "2026-03-02", "ends_on": "2026-03-04", "reason": "赴京参会"}

    response = web("yz_leader").post_form("/delegations", valid | form, page="/delegations")

    assert response.status_code == 422
    error = re.search(rf'<p class="field-error" id="{field}-error" role="alert">([^<]+)</p>', response.text)
    assert error and message in error.group(1)
    assert f'id="{field}" name="{field}"' in response.text and 'aria-invalid="true"' in response.text
    if field != "reason":
        assert 'value="赴京参会"' in response.text  # what was typed is kept
    assert login("yz_leader").get("/delegations").get_json() == []


# --- e-mail -----------------------------------------------------------------------------------------


class Sink:
    """An aiosmtpd handler that keeps every message it receives; ``hold()`` makes it stall like a slow server."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.release = threading.Event()
        self.release.set()
        self.holding = threading.Event()

    def hold(self) -> None:
        self.release.clear()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        if not self.release.is_set():
            self.holding.set()
            for _ in range(100):  # at most 10 s, so a broken test cannot hang the suite
                if self.release.is_set():
                    break
                await asyncio.sleep(0.1)
            self.holding.clear()
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpts, m in self.messages if address in rcpts]


@pytest.fixture
def smtp_sink(app: Any) -> Iterator[Sink]:
    """A local SMTP server on a free port, and the app's settings pointing at it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    app.config["PRESSFLOW"] = dataclasses.replace(
        app.config["PRESSFLOW"], smtp_host="127.0.0.1", smtp_port=port, smtp_sender="pressflow@cq.gov.cn",
        base_url="https://pressflow.example.gov.cn")
    yield sink
    controller.stop()


@pytest.fixture
def signal_handlers_restored() -> Iterator[None]:
    """``pressflow worker`` installs SIGTERM/SIGINT handlers; give pytest its own back afterwards."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def _pressflow(app: Any, *args: str) -> str:
    result = CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    return result.output


def test_the_worker_emails_a_new_task_to_the_reviewer_with_the_title_and_a_link(
    app, login, smtp_sink, signal_handlers_restored
):
    instance_id = chain.apply(login)

    output = _pressflow(app, "worker", "--once")

    assert "发送邮件" in output
    to_leader = smtp_sink.to("yz_leader@pressflow.test")
    assert len(to_leader) == 1
    message = to_leader[0]
    assert message["From"] == "pressflow@cq.gov.cn"
    assert "新待办" in message["Subject"] and YZ_TITLE in message["Subject"]
    body = message.get_content()
    assert YZ_TITLE in body and "渝中区主要负责人 李强" in body
    assert f"https://pressflow.example.gov.cn/applications/{instance_id}" in body
    assert not smtp_sink.to("jb_leader@pressflow.test")

    _pressflow(app, "worker", "--once")
    assert len(smtp_sink.to("yz_leader@pressflow.test")) == 1  # sent once


def _smtp_of(app: Any) -> Any:
    """The SMTP settings the app was given (the sink's), as the worker builds them."""
    from engine.review.notify import SmtpSettings

    settings = app.config["PRESSFLOW"]
    return SmtpSettings(host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_sender,
                        username="", password="", starttls=False, base_url=settings.base_url)


def test_reviewers_can_act_while_the_mail_server_is_slow(app, login, smtp_sink):
    from engine.review.notify import send_pending_emails
    from webapp.extensions import db

    instance_id = chain.apply(login)  # queues the leader's new-task e-mail
    smtp = _smtp_of(app)
    sent: list[int] = []

    def worker_pass() -> None:
        with app.app_context():
            sent.append(send_pending_emails(db.session, smtp))
            db.session.remove()

    smtp_sink.hold()
    sender = threading.Thread(target=worker_pass)
    sender.start()
    assert smtp_sink.holding.wait(10), "the e-mail never reached the SMTP server"

    login("yz_leader").complete(instance_id, "leader_review", {"decision": "approve", "comment": "同意"})

    assert smtp_sink.holding.is_set(), "the leader's action had to wait for the mail server"
    smtp_sink.release.set()
    sender.join(15)
    assert sent and sent[0] >= 1
    with app.app_context():
        assert "sending" not in set(db.session.scalars(select(Notification.email_status)))
        db.session.remove()


def test_an_email_claimed_by_a_pass_that_died_is_given_up_not_sent_twice(app, login, smtp_sink, frozen_clock):
    from engine.review.notify import send_pending_emails
    from webapp.extensions import db

    chain.apply(login)
    smtp = _smtp_of(app)
    with app.app_context():
        db.session.execute(Notification.__table__.update().values(email_status="sending", emailed_at=clock.now()))
        db.session.commit()
        frozen_clock.advance(minutes=11)

        assert send_pending_emails(db.session, smtp) == 0
        assert set(db.session.scalars(select(Notification.email_status))) == {"failed"}
        db.session.remove()
    assert smtp_sink.messages == []


def test_overdue_tasks_are_announced_once_each_in_the_app_and_by_email(app, login, smtp_sink):
    first = chain.apply(login)
    second = chain.apply(login, title="2026年渝中区城市更新新闻发布会")
    chain.run_timers(app, "2026-03-03T10:00")  # both leader reviews are due on Wednesday 4 March
    smtp_sink.messages.clear()

    output = chain.run_timers(app, "2026-03-05T10:00")
    assert "逾期提醒 2 个任务" in output
    chain.run_timers(app, "2026-03-06T10:00")

    with app.app_context():
        from webapp.extensions import db

        leader = db.session.scalar(select(User).where(User.username == "yz_leader"))
        overdue = db.session.scalars(select(Notification).where(
            Notification.user_id == leader.id, Notification.kind == "overdue")).all()
        assert sorted(n.instance_id for n in overdue) == sorted([first, second])
        assert all(n.email_status == "sent" for n in overdue)
    mails = [m for m in smtp_sink.to("yz_leader@pressflow.test") if "逾期" in m["Subject"]]
    assert len(mails) == 2
    assert any(YZ_TITLE in m.get_content() for m in mails)
    assert "逾期" in WebUser(app, "yz_leader").get("/notifications").text


def _give_up_waiting_for_locks(app: Any) -> None:
    """Make the app's connections fail after a few seconds on a locked row instead of waiting for ever."""
    from webapp.extensions import db

    with app.app_context():
        def _lock_timeout(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("SET lock_timeout = '3s'")
            dbapi_connection.commit()

        event.listen(db.engine, "connect", _lock_timeout)
        db.engine.dispose()


def test_a_worker_skips_an_overdue_task_another_worker_is_announcing(app, login, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer at a time in: two workers can never overlap there")
    instance_id = chain.apply(login)
    task_id = _task_id(login, instance_id, "leader_review")
    _give_up_waiting_for_locks(app)
    other_worker = create_engine(database_url)
    with other_worker.connect() as connection:
        transaction = connection.begin()
        connection.execute(text("SELECT id FROM human_tasks WHERE id = :id FOR UPDATE"), {"id": task_id})

        assert "逾期提醒 0 个任务" in chain.run_timers(app, "2026-03-05T10:00")

        transaction.rollback()
    other_worker.dispose()
    assert "逾期提醒 1 个任务" in chain.run_timers(app, "2026-03-05T10:01")
    assert "逾期提醒 0 个任务" in chain.run_timers(app, "2026-03-05T10:02")


def test_without_smtp_nothing_is_sent_and_notifications_stay_queued(app, login):
    chain.apply(login)

    output = chain.run_timers(app, "2026-03-02T10:00")

    assert "发送邮件 0 封" in output
    with app.app_context():
        from webapp.extensions import db

        statuses = set(db.session.scalars(select(Notification.email_status)))
    assert statuses == {"pending"}


def test_user_create_takes_an_optional_email_address(app):
    _pressflow(app, "user", "create", "wjw_press", "--name", "市卫生健康委宣传处 钟晴", "--email",
               "zhongqing@wsjkw.cq.gov.cn", "--password", "long-enough-1")
    _pressflow(app, "user", "create", "wjw_temp", "--name", "临时人员", "--password", "long-enough-1")
    result = CliRunner().invoke(main, ["user", "create", "wjw_bad", "--name", "错误", "--email", "not-an-address",
                                       "--password", "long-enough-1"], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 1 and "电子邮箱无效" in result.output

    with app.app_context():
        from webapp.extensions import db

        emails = dict(db.session.execute(select(User.username, User.email).where(
            User.username.in_(["wjw_press", "wjw_temp", "wjw_bad", "yz_leader"]))).tuples().all())
    assert emails == {"wjw_press": "zhongqing@wsjkw.cq.gov.cn", "wjw_temp": None,
                      "yz_leader": "yz_leader@pressflow.test"}

