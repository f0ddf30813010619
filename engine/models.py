"""Database tables: organisation, process versions, instances, human tasks, audit trail, attachments, calendar.

Plain SQLAlchemy 2 declarative models; the web layer binds Flask-SQLAlchemy to :class:`Base`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry, relationship

from engine import clock


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Store aware datetimes as UTC and always hand back aware UTC datetimes (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    # On the registry, not the class: Flask-SQLAlchemy subclasses Base and refuses a per-class map.
    registry = registry(type_annotation_map={dt.datetime: UTCDateTime, dict[str, Any]: JSON})


# --- organisation -----------------------------------------------------------------------------


class Unit(Base):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # district | department | office


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[str | None] = mapped_column(String(200))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None]
    #: 每日汇总: e-mail one digest of the day's unread notices instead of one e-mail per notice.
    email_digest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    def holds(self, role: str, unit_id: int) -> bool:
        """Tell whether the user holds ``role`` in the unit."""
        return any(g.role == role and g.unit_id == unit_id for g in self.grants)

    def roles(self) -> set[str]:
        """Return every role the user holds, in any unit."""
        return {g.role for g in self.grants}


class RoleGrant(Base):
    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("user_id", "role", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    user: Mapped[User] = relationship(back_populates="grants")
    unit: Mapped[Unit] = relationship(lazy="joined")


# --- processes and instances -------------------------------------------------------------------


class ProcessVersion(Base):
    """One immutable deployment of a BPMN file (with the DMN files it uses)."""

    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("process_key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True)
    dmn_xml: Mapped[list[str]] = mapped_column(JSON, default=list)
    content_hash: Mapped[str] = mapped_column(String(64))
    deployed_by: Mapped[str] = mapped_column(String(60))
    deployed_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    note: Mapped[str] = mapped_column(Text, default="")


class ProcessDraft(Base):
    """A process owner's unsaved work on a model in the editor: one draft per person and model, never deployed."""

    __tablename__ = "process_drafts"
    __table_args__ = (UniqueConstraint("username", "process_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60))
    #: The process id, or ``dmn:<decision id>`` for a decision table.
    process_key: Mapped[str] = mapped_column(String(110))
    xml: Mapped[str] = mapped_column(Text)
    saved_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class Instance(Base):
    __tablename__ = "instances"
    #: The dashboard reads the open applications oldest first; the supervisors' list shows every one, newest first.
    __table_args__ = (Index("ix_instances_status_started", "status", "started_at"),
                      Index("ix_instances_started", "started_at", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(100), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    status: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    started_by: Mapped[str] = mapped_column(String(60))
    started_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    ended_at: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(40))
    next_timer_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    #: The workflow state (10–400 KiB of JSON): loaded only by the unit of work that runs the workflow, never by lists.
    state: Mapped[str] = mapped_column(Text, deferred=True)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    incident: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Hash of the newest audit row, so removing the last rows of the trail is noticed too (留痕).
    audit_head: Mapped[str | None] = mapped_column(String(64))
    #: A second unit that shares the instance (the incident command HQ of a timed-release round): sees it, gets the
    #: steps of its roles.
    joint_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    #: The instance this one was started from: a timed-release round's series instance.
    parent_instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"), index=True)
    version: Mapped[ProcessVersion] = relationship()
    unit: Mapped[Unit] = relationship(lazy="joined", innerjoin=True, foreign_keys=[unit_id])

    __mapper_args__ = {"version_id_col": lock_version}  # noqa: RUF012 - SQLAlchemy's own declaration


#: How a task's id is written (a UUID); routes and the API contract take nothing else as a task.
TASK_ID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class HumanTask(Base):
    """A user task as the inbox sees it, rewritten on every save so listing never loads a workflow."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        Index("ix_human_tasks_open", "unit_id", "completed_at"),
        # The inbox: a unit's open tasks by deadline, and the open tasks assigned to someone, of years of history.
        Index("ix_human_tasks_open_queue", "unit_id", "due_at", "created_at",
              postgresql_where=text("completed_at IS NULL"), sqlite_where=text("completed_at IS NULL")),
        Index("ix_human_tasks_open_assignee", "assignee",
              postgresql_where=text("completed_at IS NULL"), sqlite_where=text("completed_at IS NULL")),
        # The list's step filter offers every step ever open: read one step after the other, not every row.
        Index("ix_human_tasks_step_name", "bpmn_id", "name"),
    )

    #: Our id for this occurrence of the task. A send-back (退回) reopens the same SpiffWorkflow task, so one
    #: SpiffWorkflow task can have several rows over time, each with its own id and history.
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    spiff_task_id: Mapped[str] = mapped_column(String(36), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    bpmn_id: Mapped[str] = mapped_column(String(100))
    form_key: Mapped[str] = mapped_column(String(60))
    candidate_roles: Mapped[list[str]] = mapped_column(JSON)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    assignee: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    due_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Set when the diagram gives the deadline in wall-clock hours (dueInHours, emergencies), not working days.
    due_hours: Mapped[int | None]
    completed_at: Mapped[dt.datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(60))
    decision: Mapped[str | None] = mapped_column(String(40))
    closed_reason: Mapped[str | None] = mapped_column(String(40))  # completed | cancelled | returned | withdrawn
    #: First time someone who may act on it opened it: after that the applicant can no longer withdraw (撤回).
    opened_at: Mapped[dt.datetime | None]
    opened_by: Mapped[str | None] = mapped_column(String(60))
    #: Set when the task exists because a later step sent the application back (退回): who and why.
    returned_by: Mapped[str | None] = mapped_column(String(60))
    returned_comment: Mapped[str | None] = mapped_column(Text)
    #: How it was sent back: "returned" (退回 by a later step) or "withdrawn" (撤回 by whoever submitted it).
    sent_back_as: Mapped[str | None] = mapped_column(String(20))
    #: When a delegate completed the task, the user they acted for (代 X 办理).
    on_behalf_of: Mapped[str | None] = mapped_column(String(60))
    #: When the overdue notice went out, so each overdue task is announced once.
    overdue_notified_at: Mapped[dt.datetime | None]
    #: When the unit's leaders and the supervisors were told (督办升级), a working day after the deadline; once.
    escalated_at: Mapped[dt.datetime | None]
    #: Set on an added approver's row (加签 / 委派): the group it belongs to; the holder's own row has None.
    sign_group_id: Mapped[int | None] = mapped_column(ForeignKey("sign_groups.id", ondelete="CASCADE"), index=True)
    unit: Mapped[Unit] = relationship(lazy="joined", innerjoin=True)
    #: Joined: every list of tasks shows its application's title; one query, not one per task (state stays deferred).
    instance: Mapped[Instance] = relationship(lazy="joined", innerjoin=True)

    @property
    def is_open(self) -> bool:
        return self.completed_at is None

    @property
    def withdrawn(self) -> bool:
        """Tell whether the task exists because its own submitter took it back (撤回), not because of a 退回."""
        return self.returned_by is not None and self.sent_back_as == "withdrawn"


class SignGroup(Base):
    """加签 / 委派: people a task's holder added to his step; the process model stays as deployed.

    Each added person gets a ``HumanTask`` row on the same SpiffWorkflow task, which stays READY until the group is
    done. ``mode``: before (前加签) | after (后加签) | parallel (并加签) | delegate (委派);
    ``rule``: all (会签) | any (或签).
    """

    __tablename__ = "sign_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    #: The holder's row (no foreign key: human_tasks already points here, and a cycle would order DDL badly).
    task_id: Mapped[str] = mapped_column(String(36), index=True)
    mode: Mapped[str] = mapped_column(String(20))
    rule: Mapped[str] = mapped_column(String(10))
    added_by: Mapped[str] = mapped_column(String(60))
    #: Usernames added, in the order given (for 后加签 their rows appear only once the holder has decided).
    signers: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: The holder's validated form values, kept while the added approvers still have to agree (后加签 / 并加签).
    held_values: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    held_by: Mapped[str | None] = mapped_column(String(60))
    held_for: Mapped[str | None] = mapped_column(String(60))
    closed_at: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))  # agreed | disagreed | removed | cancelled


class Spokesperson(Base):
    """One filed spokesperson (新闻发言人备案, Art. 8) of a unit for a year; ending the filing frees the place."""

    __tablename__ = "spokespersons"
    __table_args__ = (Index("ix_spokespersons_unit_year", "unit_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    year: Mapped[int]
    name: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(100))
    contact: Mapped[str] = mapped_column(String(100))
    #: The user who holds the unit_spokesperson grant because of this filing, if one was named.
    username: Mapped[str | None] = mapped_column(String(60))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id", ondelete="SET NULL"))
    filed_at: Mapped[dt.datetime]
    filed_by: Mapped[str] = mapped_column(String(60))
    ended_at: Mapped[dt.datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(60))
    end_reason: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[Unit] = relationship(lazy="joined", innerjoin=True)


class AuditEntry(Base):
    """Append-only trail (留痕): every change to an instance, who made it and why."""

    __tablename__ = "audit_entries"
    #: An instance's trail in order, and its last progress (the dashboard's stuck rule).
    __table_args__ = (Index("ix_audit_entries_instance_at", "instance_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    actor: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(40))
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_name: Mapped[str | None] = mapped_column(String(200))
    bpmn_id: Mapped[str | None] = mapped_column(String(100))
    comment: Mapped[str | None] = mapped_column(Text)
    data_changed: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: The user a delegate acted for, or the user a task was transferred to.
    on_behalf_of: Mapped[str | None] = mapped_column(String(60))
    #: The hash chain (engine.workflow.audit_chain): the previous row's hash, and this row's over both.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_by: Mapped[str] = mapped_column(String(60))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    #: 1 for the first upload of a document; a new upload of the same document keeps the earlier ones.
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: Which document this is a version of (kind, plus the file name for kind ``other``).
    document: Mapped[str] = mapped_column(String(300), default="")


class Comment(Base):
    """A message in an application's discussion among its participants."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class ApprovalPhrase(Base):
    """常用语: a reviewer's own saved 审批意见 (the system defaults live in code, see engine.review.phrases)."""

    __tablename__ = "approval_phrases"
    __table_args__ = (UniqueConstraint("username", "text"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), index=True)
    text: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class Delegation(Base):
    """委托: during [starts_on, ends_on] (Beijing dates) the delegate sees and completes the principal's tasks."""

    __tablename__ = "delegations"

    id: Mapped[int] = mapped_column(primary_key=True)
    principal_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    delegate_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    revoked_at: Mapped[dt.datetime | None]
    principal: Mapped[User] = relationship(foreign_keys=[principal_id], lazy="joined")
    delegate: Mapped[User] = relationship(foreign_keys=[delegate_id], lazy="joined")


class Notification(Base):
    """An in-app message (new task, returned, overdue, 催办 …); e-mailed too when SMTP is configured."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    task_id: Mapped[str | None] = mapped_column(String(36))
    #: What a person wrote (a reason, a comment), or for rows older than ``event`` the whole composed sentence.
    message: Mapped[str] = mapped_column(Text)
    #: Which sentence to show (engine.review.notice_texts), rendered in the reader's language when shown.
    event: Mapped[str | None] = mapped_column(String(40))
    #: The facts the sentence names (step, actor's name, deadline …); the title is read from the instance.
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    read_at: Mapped[dt.datetime | None]
    #: pending → sent | failed; digest → sent | skipped (read before the digest went out); None: no address.
    email_status: Mapped[str | None] = mapped_column(String(20), index=True)
    emailed_at: Mapped[dt.datetime | None]
    user: Mapped[User] = relationship(lazy="joined")
    instance: Mapped[Instance | None] = relationship()


class EmailDigest(Base):
    """One user's daily digest e-mail (每日汇总): the row makes it once per Beijing day, however many workers run."""

    __tablename__ = "email_digests"
    __table_args__ = (UniqueConstraint("user_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    #: sending → sent | failed
    status: Mapped[str] = mapped_column(String(20))
    notices: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]


class Webhook(Base):
    """A site endpoint notifications are forwarded to (政务钉钉, 渝快政, 企业微信 …), signed with a shared secret."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class WebhookDelivery(Base):
    """One notification to one webhook: pending → sending → sent, or back to pending with a later attempt."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    #: pending | sending | sent | failed (given up after the last attempt)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime]
    claimed_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    webhook: Mapped[Webhook] = relationship(lazy="joined")
    notification: Mapped[Notification] = relationship(lazy="joined")



class CarbonCopy(Base):
    """抄送: an application copied to a person for information, from a step (by the model or by its reviewer).

    A copy lets its recipient read that one application (never act on it); ``read_at`` is the 已阅 receipt.
    """

    __tablename__ = "carbon_copies"
    __table_args__ = (Index("ix_carbon_copies_recipient", "recipient_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    sender: Mapped[str] = mapped_column(String(60))
    #: The task row the copy was sent from, and the step's name then.
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_name: Mapped[str | None] = mapped_column(String(200))
    #: "model" (the step's ccRoles/ccUsers, on completion) | "manual" (the reviewer chose the people)
    source: Mapped[str] = mapped_column(String(20))
    #: The role@unit that chose this recipient, when copied by role.
    via_role: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    read_at: Mapped[dt.datetime | None]
    recipient: Mapped[User] = relationship(lazy="joined")
    instance: Mapped[Instance] = relationship()


class TimedReleaseSeries(Base):
    """定时发布 (Art. 15(七)): a series of conferences at fixed times, owned by one ``timed_release_series`` instance.

    The worker starts one ``timed_release_round`` instance per slot; this row only says when the next slot is.
    """

    __tablename__ = "timed_release_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), unique=True)
    event: Mapped[str] = mapped_column(String(200))
    hq_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    release_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    #: daily | interval | times
    cadence: Mapped[str] = mapped_column(String(20))
    #: The times of day (HH:MM, Beijing time) of a daily or times cadence.
    times: Mapped[list[str]] = mapped_column(JSON, default=list)
    interval_hours: Mapped[int | None] = mapped_column(Integer)
    #: An interval cadence counts its slots from here.
    anchor_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime | None]
    #: The conference time of the next slot; None once the series has no more slots.
    next_slot_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    last_slot_at: Mapped[dt.datetime | None]
    rounds_started: Mapped[int] = mapped_column(Integer, default=0)
    slots_missed: Mapped[int] = mapped_column(Integer, default=0)
    ended_at: Mapped[dt.datetime | None]


# --- calendar ----------------------------------------------------------------------------------


class CalendarOverride(Base):
    """A day the State Council notice sets (holiday or make-up working day) for a year chinesecalendar lacks."""

    __tablename__ = "calendar_overrides"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")


class CalendarYear(Base):
    """A year whose notice has been imported in full: its plain weekdays are then no longer provisional."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(255))
    imported_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


# --- background worker -------------------------------------------------------------------------


class WorkerHeartbeat(Base):
    """A running ``pressflow worker``: written on every pass, removed when it stops cleanly."""

    __tablename__ = "worker_heartbeats"

    #: ``<hostname>:<pid>``, unique among the workers running at one time.
    id: Mapped[str] = mapped_column(String(300), primary_key=True)
    started_at: Mapped[dt.datetime]
    last_beat_at: Mapped[dt.datetime]
    passes: Mapped[int] = mapped_column(Integer, default=0)
    #: The latest pass that failed, and why; kept after later passes succeed, so an intermittent fault shows.
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[dt.datetime | None]


# --- web guard -----------------------------------------------------------------------------------


class RateLimitHit(Base):
    """Requests counted per key (route and client address) and fixed time window, shared by every web worker."""

    __tablename__ = "rate_limit_hits"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[int] = mapped_column(Integer, primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)


class AnnualEvaluation(Base):
    """One unit's annual evaluation (年度考评, Art. 13) of one year: the row makes the yearly start once per unit."""

    __tablename__ = "annual_evaluations"
    __table_args__ = (UniqueConstraint("year", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"))
    started_at: Mapped[dt.datetime]
    instance: Mapped[Instance | None] = relationship()
    unit: Mapped[Unit] = relationship()
