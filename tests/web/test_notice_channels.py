"""Where notices go besides the app: a daily digest e-mail for those who choose it, and signed webhooks."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from engine.models import EmailDigest, WebhookDelivery
from engine.workdays.calendar import SHANGHAI
from tests.conftest import WebUser
from tests.integration import chain
from tests.web import test_notifications_delegations as mail
from tests.web.test_notifications_delegations import Sink, _pressflow

smtp_sink = mail.smtp_sink  # the local SMTP server fixture, shared

TITLE = chain.application()["title"]
SECRET = "shared-secret-of-the-site-0123"  # noqa: S105 - a test secret


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


# --- 每日汇总 ----------------------------------------------------------------------------------------


def test_a_leader_who_chose_the_digest_gets_one_email_a_day_of_the_unread_notices(
        app, web, login, smtp_sink: Sink, frozen_clock):
    leader = web("yz_leader")
    saved = leader.post_form("/notifications/digest", {"email_digest": "on"}, page="/notifications")
    assert "已改为每日汇总一封邮件" in leader.get(saved.headers["Location"]).text
    first = chain.apply(login)
    frozen_clock.set(_at(2, 10))
    second = chain.apply(login, title="2026年渝中区城市更新新闻发布会")
    address = "yz_leader@pressflow.test"

    frozen_clock.set(_at(2, 16, 30))
    _pressflow(app, "run-timers", "--now", "2026-03-02T16:30")
    assert smtp_sink.to(address) == []  # neither one e-mail per notice nor the digest before 17:00

    frozen_clock.set(_at(2, 17, 5))
    _pressflow(app, "run-timers", "--now", "2026-03-02T17:05")
    frozen_clock.set(_at(2, 18, 0))
    _pressflow(app, "run-timers", "--now", "2026-03-02T18:00")  # a second pass, as a second worker would run

    mails = smtp_sink.to(address)
    assert len(mails) == 1
    assert mails[0]["Subject"] == "[PressFlow] 每日汇总：2 条未读通知（2026-03-02）"
    body = mails[0].get_content()
    assert f"新待办：《{TITLE}》主要负责人审核" in body and "新待办：《2026年渝中区城市更新新闻发布会》" in body
    assert first != second


def test_the_next_days_digest_holds_only_the_notices_still_unread(app, web, login, smtp_sink: Sink, frozen_clock):
    leader = web("yz_leader")
    leader.post_form("/notifications/digest", {"email_digest": "on"}, page="/notifications")
    chain.apply(login)
    frozen_clock.set(_at(2, 17, 30))
    _pressflow(app, "run-timers", "--now", "2026-03-02T17:30")
    frozen_clock.set(_at(2, 19, 0))
    chain.apply(login, title="2026年渝中区城市更新新闻发布会")
    chain.apply(login, title="2026年渝中区夜间经济新闻发布会")
    WebUser(app, "yz_leader").post_form("/notifications/read-all", page="/notifications")  # a new session
    chain.apply(login, title="2026年渝中区文旅融合新闻发布会")

    frozen_clock.set(_at(3, 17, 30))
    _pressflow(app, "run-timers", "--now", "2026-03-03T17:30")

    mails = smtp_sink.to("yz_leader@pressflow.test")
    assert [m["Subject"] for m in mails] == ["[PressFlow] 每日汇总：1 条未读通知（2026-03-02）",
                                             "[PressFlow] 每日汇总：1 条未读通知（2026-03-03）"]
    assert "文旅融合" in mails[1].get_content() and "夜间经济" not in mails[1].get_content()
    from webapp.extensions import db

    with app.app_context():
        assert len(db.session.scalars(select(EmailDigest)).all()) == 2


def test_a_second_worker_sends_no_second_digest_while_or_after_the_first_sends_it(
        app, web, login, smtp_sink: Sink, frozen_clock, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer at a time in: two workers can never overlap there")
    web("yz_leader").post_form("/notifications/digest", {"email_digest": "on"}, page="/notifications")
    chain.apply(login)
    frozen_clock.set(_at(2, 17, 30))
    other_worker = create_engine(database_url)
    with other_worker.connect() as connection:
        transaction = connection.begin()  # the other worker is claiming the leader's notices right now
        connection.execute(text("SELECT id FROM notifications WHERE email_status = 'digest' FOR UPDATE"))

        assert "发送邮件 0 封" in chain.run_timers(app, "2026-03-02T17:30")

        transaction.rollback()
    other_worker.dispose()
    assert "发送邮件 1 封" in chain.run_timers(app, "2026-03-02T17:31")
    assert "发送邮件 0 封" in chain.run_timers(app, "2026-03-02T17:32")
    assert len(smtp_sink.to("yz_leader@pressflow.test")) == 1


def test_without_the_digest_each_notice_is_mailed_at_once(app, login, smtp_sink: Sink):
    chain.apply(login)

    _pressflow(app, "run-timers")

    assert [m["Subject"] for m in smtp_sink.to("yz_leader@pressflow.test")] == [
        f"[PressFlow] 新待办：新待办：《{TITLE}》主要负责人审核"]


# --- webhooks ----------------------------------------------------------------------------------------


class Endpoint:
    """A site's receiving endpoint on a free local port: fails the first ``failures`` requests with 500."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[tuple[dict[str, str], bytes]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's hook
                body = self.rfile.read(int(self.headers["Content-Length"]))
                endpoint.received.append(({k: v for k, v in self.headers.items()}, body))
                failing = len(endpoint.received) <= endpoint.failures
                self.send_response(500 if failing else 200)
                self.end_headers()
                self.wfile.write(b"busy" if failing else b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/pressflow"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Endpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def flaky_endpoint() -> Iterator[Endpoint]:
    with Endpoint(failures=2) as endpoint:
        yield endpoint


def _deliveries(app: Any) -> list[tuple[str, int]]:
    from webapp.extensions import db

    with app.app_context():
        rows = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        return [(row.status, row.attempts) for row in rows]


def test_a_webhook_gets_each_notice_signed_and_is_retried_until_the_endpoint_accepts(
        app, login, flaky_endpoint: Endpoint, frozen_clock):
    _pressflow(app, "webhook", "add", "dingtalk", flaky_endpoint.url, "--secret", SECRET)
    chain.apply(login)  # the leader's new task: one notice, one delivery

    _pressflow(app, "run-timers", "--now", "2026-03-02T09:00")
    assert _deliveries(app) == [("pending", 1)]
    frozen_clock.advance(seconds=10)
    _pressflow(app, "run-timers")
    assert _deliveries(app) == [("pending", 1)]  # waits 30 s before trying again
    frozen_clock.advance(seconds=25)
    _pressflow(app, "run-timers")
    assert _deliveries(app) == [("pending", 2)]
    frozen_clock.advance(minutes=1, seconds=1)
    _pressflow(app, "run-timers")

    assert _deliveries(app) == [("sent", 3)]
    headers, body = flaky_endpoint.received[-1]
    stamp = headers["X-PressFlow-Timestamp"]
    expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-PressFlow-Signature"] == f"sha256={expected}"
    sent = json.loads(body)
    assert sent["text"] == f"新待办：《{TITLE}》主要负责人审核"
    assert (sent["event"], sent["recipient"]["username"]) == ("new_task", "yz_leader")
    assert "dingtalk" in _pressflow(app, "webhook", "list") and "已送达 1" in _pressflow(app, "webhook", "list")


def test_a_webhook_with_a_bad_address_or_short_secret_is_refused_and_nothing_is_saved(app):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from webapp.cli import main

    result = CliRunner().invoke(main, ["webhook", "add", "wx", "ftp://x", "--secret", "short"],
                                obj=ScriptInfo(create_app=lambda: app))

    assert result.exit_code == 1 and "http:// 或 https://" in result.output and "16–200" in result.output
    assert "wx" not in _pressflow(app, "webhook", "list")
