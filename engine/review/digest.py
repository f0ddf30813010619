"""每日汇总: one e-mail a Beijing day listing a user's unread notices, for those who chose it over one e-mail each.

A user with ``email_digest`` gets notices queued as ``digest`` instead of ``pending``. From ``digest_hour`` (Beijing
time) on, the worker sends each such user one e-mail of the queued notices still unread; those read meanwhile are
``skipped``. Whether today's digest went out is decided by a row of ``email_digests`` (unique per user and day),
never by counting passes, so however many workers run and however often, a user gets at most one digest a day.
Notices that arrive after the day's digest wait for the next day's. As with single e-mails, the rows are claimed
and committed before the SMTP server is contacted.
"""

from __future__ import annotations

import datetime as dt
import smtplib
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import clock
from engine.models import EmailDigest, Notification, User
from engine.review.notify import KINDS, SmtpSettings, smtp_client, text_of
from engine.workdays.calendar import SHANGHAI


def send_digests(session: Session, smtp: SmtpSettings, digest_hour: int = 17) -> int:
    """Send today's digest to each user who has one due; return how many digests went out."""
    if not smtp.host:
        return 0
    now = clock.now()
    local = now.astimezone(SHANGHAI)
    if local.hour < digest_hour:
        return 0
    waiting = list(session.scalars(select(Notification.user_id).where(Notification.email_status == "digest")
                                   .distinct()))
    session.rollback()
    sent = 0
    for user_id in waiting:
        claimed = _claim(session, smtp, user_id, local.date(), now)
        if claimed is not None:
            sent += _send(session, smtp, *claimed)
    return sent


Claimed = tuple[int, list[int], EmailMessage]


def _claim(session: Session, smtp: SmtpSettings, user_id: int, day: dt.date, now: dt.datetime) -> Claimed | None:
    """Take the user's queued notices and today's digest row, commit, and return the e-mail; None if not due."""
    if session.scalar(select(EmailDigest.id).where(EmailDigest.user_id == user_id, EmailDigest.day == day)):
        session.rollback()
        return None
    rows = list(session.scalars(select(Notification).where(
        Notification.user_id == user_id, Notification.email_status == "digest")
        .order_by(Notification.created_at, Notification.id).with_for_update(skip_locked=True, of=Notification)))
    for row in rows:
        if row.read_at is not None:
            row.email_status = "skipped"  # read in the app already: no need to mail it
    unread = [row for row in rows if row.read_at is None]
    if not unread:
        session.commit()
        return None
    digest = EmailDigest(user_id=user_id, day=day, status="sending", notices=len(unread), claimed_at=now)
    try:
        with session.begin_nested():
            session.add(digest)
    except IntegrityError:  # another worker took today's digest a moment ago
        session.rollback()
        return None
    for row in unread:
        row.email_status, row.emailed_at = "sending", now
    message = _email(smtp, unread[0].user, unread, day)
    session.commit()
    return digest.id, [row.id for row in unread], message


def _send(session: Session, smtp: SmtpSettings, digest_id: int, notice_ids: list[int], message: EmailMessage) -> int:
    try:
        with smtp_client(smtp) as client:
            client.send_message(message)
        ok = True
    except (OSError, smtplib.SMTPException):
        ok = False
    digest = session.get(EmailDigest, digest_id)
    assert digest is not None  # noqa: S101 - claimed and committed a moment ago
    digest.status, digest.sent_at = ("sent", clock.now()) if ok else ("failed", None)
    for row in session.scalars(select(Notification).where(Notification.id.in_(notice_ids))):
        row.email_status = "sent" if ok else "failed"
        if ok:
            row.emailed_at = digest.sent_at
    session.commit()
    return int(ok)


def _email(smtp: SmtpSettings, user: User, rows: list[Notification], day: dt.date) -> EmailMessage:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = user.email or ""
    message["Subject"] = f"[PressFlow] 每日汇总：{len(rows)} 条未读通知（{day.isoformat()}）"
    lines = [f"- {row.created_at.astimezone(SHANGHAI):%m-%d %H:%M} 【{KINDS.get(row.kind, row.kind)}】{text_of(row)}"
             for row in rows]
    body = "\n".join(lines)
    message.set_content(f"{user.display_name}，您好：\n\n以下通知尚未阅读：\n\n{body}\n\n"
                        f"查看：{smtp.base_url.rstrip('/')}/notifications\n\n（此邮件由系统自动发送）")
    return message
