"""Notifications: written in the same unit of work as the change they announce, e-mailed later by the worker."""

from __future__ import annotations

import datetime as dt
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, lazyload, selectinload

from engine import clock
from engine.models import (
    AuditEntry,
    Delegation,
    HumanTask,
    Instance,
    Notification,
    RoleGrant,
    User,
    Webhook,
    WebhookDelivery,
)
from engine.review.notice_texts import OUTCOME_EVENTS, Translate, notice_text
from engine.workflow.scripting import shanghai_today

#: A notice needs the user's id and address, not their grants (loaded on first use instead of with every user).
_NO_GRANTS = lazyload(User.grants)

KINDS = {
    "new_task": "新待办",
    "returned": "退回",
    "withdrawn": "撤回",
    "transferred": "转办",
    "overdue": "逾期",
    "urge": "催办",
    "comment": "评论",
    "ended": "办结",
    "escalation": "督办升级",
    "cc": "抄送",
}


@dataclass(frozen=True)
class SmtpSettings:
    """Where to send e-mail; ``host`` empty means e-mail is off."""

    host: str
    port: int = 25
    sender: str = "pressflow@localhost"
    username: str = ""
    password: str = ""
    starttls: bool = False
    base_url: str = "http://127.0.0.1:8000"


def notify(session: Session, users: list[User], kind: str, message: str = "", instance: Instance | None = None,
           task: HumanTask | None = None, *, event: str | None = None, params: dict[str, Any] | None = None,
           actor: User | str | None = None) -> list[Notification]:
    """Tell each user (once) about something, never the ``actor`` about their own action; queue e-mail and webhooks.

    With ``event`` (a key of ``notice_texts.TEXTS``) and its ``params`` the sentence is put into words when read,
    in the reader's language and with the application's title of that moment; ``message`` is then only what a
    person wrote (a reason, a comment). Without ``event`` the message is shown as it is.
    """
    me = actor.username if isinstance(actor, User) else actor
    hooks = list(session.scalars(select(Webhook).order_by(Webhook.id))) if users else []
    rows = []
    for user in {u.id: u for u in users if u.username != me}.values():
        row = Notification(user_id=user.id, user=user, kind=kind, message=message, event=event, params=params,
                           created_at=clock.now(), instance_id=instance.id if instance else None,
                           task_id=task.id if task else None, email_status=_email_status(user))
        session.add(row)
        for hook in hooks:
            session.add(WebhookDelivery(webhook=hook, notification=row, status="pending", attempts=0,
                                        next_attempt_at=row.created_at))
        rows.append(row)
    return rows


def _email_status(user: User) -> str | None:
    if not user.email:
        return None
    return "digest" if user.email_digest else "pending"


def text_of(row: Notification, translate: Translate | None = None) -> str:
    """The notification in words, with the application's current title (Chinese unless ``translate`` is given)."""
    title = row.instance.title if row.instance is not None else None
    if translate is None:
        return notice_text(row.event, row.params, title, row.message)
    return notice_text(row.event, row.params, title, row.message, translate)


def task_audience(session: Session, task: HumanTask) -> list[User]:
    """Who should hear about a task: its assignee, or everyone holding a candidate role in its unit, plus delegates."""
    if task.assignee:
        people = select(User.id).where(User.username == task.assignee)
    else:
        people = select(User.id).join(RoleGrant).where(
            RoleGrant.unit_id == task.unit_id, RoleGrant.role.in_(task.candidate_roles), User.active.is_(True))
    today = shanghai_today()
    delegates = select(Delegation.delegate_id).where(
        Delegation.principal_id.in_(people), Delegation.revoked_at.is_(None),
        Delegation.starts_on <= today, Delegation.ends_on >= today)
    # One query for both: the people themselves and whoever stands in for them today.
    return list(session.scalars(select(User).where(or_(User.id.in_(people), User.id.in_(delegates)))
                                .order_by(User.id).options(_NO_GRANTS)))


def notify_new_task(session: Session, instance: Instance, task: HumanTask, actor: str | None = None) -> None:
    """Announce a task that has just become ready (to everyone but the person whose action made it)."""
    params = {"step": task.name}
    if task.withdrawn:
        others = [u for u in task_audience(session, task) if u.username != task.returned_by]
        notify(session, others, "withdrawn", "", instance, task, event="withdrawn", params=params, actor=actor)
    elif task.returned_by:
        notify(session, task_audience(session, task), "returned", task.returned_comment or "", instance, task,
               event="returned", params=params, actor=actor)
    else:
        notify(session, task_audience(session, task), "new_task", "", instance, task, event="new_task",
               params=params, actor=actor)


def notify_ended(session: Session, instance: Instance, actor: str | None = None) -> None:
    """Tell the applicant that the application has ended: completed, not approved (不同意) or declined."""
    event = OUTCOME_EVENTS.get(instance.outcome or "")
    if event is None:
        return
    applicant = list(session.scalars(select(User).where(User.username == instance.started_by)))
    # Not approved or declined: the applicant is told the reason the reviewer gave with that decision.
    reason = "" if event == "completed" else session.scalar(
        select(AuditEntry.comment).where(AuditEntry.instance_id == instance.id, AuditEntry.action == "complete")
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(1)) or ""
    notify(session, applicant, "ended", reason, instance, event=event, params={"outcome": instance.outcome},
           actor=actor)


def unread_count(session: Session, user: User) -> int:
    """Count the user's unread notifications."""
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def notifications_of(session: Session, user: User, limit: int = 100) -> list[Notification]:
    """Return the user's newest notifications."""
    # The titles shown are the applications' current ones: load just those, not each instance's workflow state.
    titles = selectinload(Notification.instance).load_only(Instance.id, Instance.title)
    return list(session.scalars(select(Notification).where(Notification.user_id == user.id).options(titles)
                                .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def mark_read(session: Session, user: User, notification_id: int | None = None) -> None:
    """Mark one of the user's notifications read, or all of them. Commits."""
    query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    session.execute(query.values(read_at=clock.now()))
    session.commit()


def mark_task_notices_read(session: Session, user: User, task_id: str) -> None:
    """Mark the user's notices about one task read (they opened it); the caller's unit of work commits."""
    session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.task_id == task_id, Notification.read_at.is_(None))
        .values(read_at=clock.now()))


def set_email_digest(session: Session, user: User, on: bool) -> None:
    """Choose one daily digest e-mail (每日汇总) instead of one e-mail per notice. Commits."""
    user.email_digest = on
    session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.email_status == ("pending" if on else "digest"))
        .values(email_status="digest" if on else "pending"))
    session.commit()


#: A claim older than this belongs to a pass that died mid-send; it is given up as failed (never sent twice).
STALE_CLAIM = dt.timedelta(minutes=10)


def send_pending_emails(session: Session, smtp: SmtpSettings, limit: int = 100) -> int:
    """E-mail queued notifications; return how many were sent. Failures are marked, never retried in a loop.

    No transaction stays open while the SMTP server is talked to: on SQLite that would hold the database's one
    write lock, and every reviewer's action would wait for a slow mail server.
    """
    if not smtp.host:
        return 0
    messages = _claim(session, smtp, limit)
    if not messages:
        return 0
    sent: list[int] = []
    try:
        with smtp_client(smtp) as client:
            for notification_id, message in messages.items():
                client.send_message(message)
                sent.append(notification_id)
    except (OSError, smtplib.SMTPException):
        pass  # what was not sent is marked failed below
    _settle(session, sent, sorted(messages.keys() - set(sent)))
    return len(sent)


@contextmanager
def smtp_client(smtp: SmtpSettings) -> Iterator[smtplib.SMTP]:
    """A connection to the mail server, signed in when configured; raises OSError or SMTPException."""
    with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
        if smtp.starttls:
            client.starttls()
        if smtp.username:
            client.login(smtp.username, smtp.password)
        yield client


def _claim(session: Session, smtp: SmtpSettings, limit: int) -> dict[int, EmailMessage]:
    """Mark up to ``limit`` pending notifications as being sent, commit, and return their messages."""
    now = clock.now()
    session.execute(update(Notification).where(Notification.email_status == "sending",
                                               Notification.emailed_at < now - STALE_CLAIM)
                    .values(email_status="failed"))
    rows = list(session.scalars(select(Notification).where(Notification.email_status == "pending")
                                .order_by(Notification.id).limit(limit)
                                .with_for_update(skip_locked=True, of=Notification)))
    messages = {row.id: _email(row, smtp) for row in rows}
    for row in rows:
        row.email_status, row.emailed_at = "sending", now  # emailed_at: when the claim was made, until sent
    session.commit()
    return messages


def _settle(session: Session, sent: list[int], failed: list[int]) -> None:
    now = clock.now()
    if sent:
        session.execute(update(Notification).where(Notification.id.in_(sent))
                        .values(email_status="sent", emailed_at=now))
    if failed:
        session.execute(update(Notification).where(Notification.id.in_(failed)).values(email_status="failed"))
    session.commit()


def _email(row: Notification, smtp: SmtpSettings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = row.user.email or ""
    text = text_of(row)  # Chinese, with the title the application has now
    message["Subject"] = f"[PressFlow] {KINDS.get(row.kind, row.kind)}：{text[:60]}"
    link = f"{smtp.base_url.rstrip('/')}/applications/{row.instance_id}" if row.instance_id else smtp.base_url
    message.set_content(f"{row.user.display_name}，您好：\n\n{text}\n\n查看：{link}\n\n（此邮件由系统自动发送）")
    return message
