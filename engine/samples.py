"""Sample applications for a demo database (``pressflow init --demo --samples``).

Six applications at telling points of the Article 15 chain, made through the engine's own units of work with the
clock set back to when each step happened, so that on first sign-in the inboxes hold work, the supervisor's
dashboard shows a late step, and the heatmap and charts have durations to draw. Nothing is written around the
engine: the history, task rows, deadlines and notifications are exactly what real use would have left.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import PressflowError
from engine.modeling.dry_run_samples import sample_form_data
from engine.models import HumanTask, Instance, User
from engine.org.access import can_act
from engine.review.applications import complete_task, start_application
from engine.review.attachments import Upload, add_attachment
from engine.review.reviewing import return_to
from engine.workdays.calendar import SHANGHAI, WorkCalendar
from engine.workdays.store import load_calendar
from engine.worker.timers import run_due_timers
from engine.workflow.deploy import latest_version, load_workflow
from engine.workflow.runtime import ProcessRuntime

PROCESS = "press_conference"
MAX_UPLOAD = 1024 * 1024
PLAN = b"%PDF-1.4\n% PressFlow sample: work plan\n%%EOF\n"
RELEASE = b"%PDF-1.4\n% PressFlow sample: release text\n%%EOF\n"


@dataclass(frozen=True)
class Moment:
    """A working day counted back from today, and a Beijing time of day."""

    workdays_ago: int
    time: str


#: The steps the samples pass through, as processes/press_conference.bpmn names them.
STEPS = ("topic_application", "leader_review", "secrecy_review", "office_topic_review", "content_approval_district",
         "host_speaker_selection", "pre_announcement", "venue_preparation", "wait_conference_start",
         "conference_record", "monitoring_report")


class SamplesDoNotFit(PressflowError):
    """The deployed press_conference is not the one the samples were written for."""

    code = "samples_do_not_fit"


def seed_sample_applications(session: Session, runtime: ProcessRuntime) -> int:
    """Create the sample applications unless the database holds any application; return how many were made."""
    if session.scalar(select(func.count(Instance.id))):
        return 0
    version = latest_version(session, PROCESS)
    missing = [step for step in STEPS if version is None or f'id="{step}"' not in version.bpmn_xml]
    if missing:
        raise SamplesDoNotFit(f"部署的 {PROCESS} 流程缺少示例申请要经过的环节：{'、'.join(missing)}")
    story = _Story(session, runtime, load_calendar(session), clock.now())
    story.completed_conference()
    story.overdue_briefing()
    story.returned_to_clerk()
    story.at_the_office()
    story.waiting_for_the_conference()
    story.rejected_by_the_leader()
    return len(story.started)


class _Story:
    """Drives sample applications step by step, each step at its own moment in the past."""

    def __init__(self, session: Session, runtime: ProcessRuntime, calendar: WorkCalendar, now: dt.datetime) -> None:
        self.session, self.runtime, self.calendar = session, runtime, calendar
        self.today = now.astimezone(SHANGHAI).date()
        self.started: list[int] = []

    # --- the six applications ------------------------------------------------------------------

    def completed_conference(self) -> None:
        """渝中: the whole chain, weeks ago, conference held and monitoring filed."""
        conference = self.workday(16)
        instance_id = self.apply("yz_clerk", Moment(30, "09:20"), "2026年渝中区优化营商环境新闻发布会", conference)
        self.approve_through_content(instance_id, [Moment(29, "15:40"), Moment(27, "10:05"), Moment(25, "16:30"),
                                                   Moment(24, "11:15")])
        self.onsite_ready(instance_id, Moment(23, "10:00"), Moment(20, "14:45"), Moment(18, "09:30"))
        self.fire_timers(conference, "10:05")
        self.step(instance_id, "conference_record", Moment(16, "12:10"))
        self.step(instance_id, "monitoring_report", Moment(14, "17:00"))

    def overdue_briefing(self) -> None:
        """江北: submitted a week ago; the leader has not reviewed it, so it is late and escalated."""
        self.apply("jb_clerk", Moment(5, "10:00"), "江北区今冬明春安全生产工作通报会", self.after(5, 12),
                   kind="briefing", name_holder="information_office")

    def returned_to_clerk(self) -> None:
        """渝中: the leader sent it back with a comment; it waits for the clerk to revise and resubmit."""
        instance_id = self.apply("yz_clerk", Moment(3, "09:45"), "渝中区老旧小区改造进展新闻发布会",
                                 self.after(3, 14))
        with clock.frozen_at(self.moment(Moment(2, "11:30"))):
            task = self.open_task(instance_id, "leader_review")
            return_to(self.session, self.runtime, self.user("yz_leader"), task.id,
                      "请补充发布文稿中的数据来源，并附上各街道进度表。")

    def at_the_office(self) -> None:
        """市卫生健康委: through its own leader and secrecy review, now with the Information Office."""
        instance_id = self.apply("wjw_clerk", Moment(2, "09:10"), "冬春季呼吸道传染病防控新闻发布会",
                                 self.after(2, 15), name_holder="information_office")
        self.step(instance_id, "leader_review", Moment(2, "16:20"))
        self.step(instance_id, "secrecy_review", Moment(1, "10:35"))

    def waiting_for_the_conference(self) -> None:
        """江北: approved, host and speaker chosen, venue and pre-announcement done; waits for the conference."""
        instance_id = self.apply("jb_clerk", Moment(12, "14:00"), "江北区重点项目建设新闻发布会", self.after(0, 4))
        self.approve_through_content(instance_id, [Moment(11, "09:50"), Moment(10, "15:10"), Moment(8, "10:20"),
                                                   Moment(7, "16:00")])
        self.onsite_ready(instance_id, Moment(6, "11:00"), Moment(4, "15:30"), Moment(2, "09:40"))

    def rejected_by_the_leader(self) -> None:
        """市卫生健康委: the leader did not agree, which ended the application."""
        instance_id = self.apply("wjw_clerk", Moment(22, "10:30"), "医疗服务价格调整情况通报会",
                                 self.after(22, 10), kind="briefing")
        self.step(instance_id, "leader_review", Moment(21, "17:05"),
                  {"decision": "reject", "comment": "调价方案尚未经市政府常务会议审定，暂不发布。"})

    # --- steps --------------------------------------------------------------------------------

    def apply(self, clerk: str, when: Moment, title: str, conference: dt.date, *, kind: str = "press_conference",
              name_holder: str = "municipal_government") -> int:
        """Start, attach the work plan and release text, and submit the topic application."""
        actor = self.user(clerk)
        with clock.frozen_at(self.moment(when)):
            instance_id = start_application(self.session, self.runtime, actor, PROCESS).id
            for upload in (Upload("工作方案.pdf", "work_plan", PLAN), Upload("发布文稿.pdf", "release_text", RELEASE)):
                add_attachment(self.session, actor, instance_id, upload, MAX_UPLOAD)
        self.started.append(instance_id)
        self.step(instance_id, "topic_application", when, {
            "title": title, "name_holder": name_holder, "kind": kind, "conference_date": conference.isoformat(),
            "start_time": "10:00", "summary": f"{title}：通报有关工作进展，回应社会关切。", "venue": "press_center",
            "venue_other_reason": "", "live_stream": "video",
        })
        return instance_id

    def approve_through_content(self, instance_id: int, moments: list[Moment]) -> None:
        for bpmn_id, when in zip(("leader_review", "secrecy_review", "office_topic_review", "content_approval"),
                                 moments, strict=True):
            self.step(instance_id, bpmn_id, when)

    def onsite_ready(self, instance_id: int, chosen: Moment, announced: Moment, prepared: Moment) -> None:
        self.step(instance_id, "host_speaker_selection", chosen)
        self.step(instance_id, "pre_announcement", announced)
        self.step(instance_id, "venue_preparation", prepared)

    def step(self, instance_id: int, bpmn_id: str, when: Moment, values: dict[str, Any] | None = None) -> None:
        """Complete the open step (``content_approval`` matches either kind of unit) as someone who may."""
        at = self.moment(when)
        with clock.frozen_at(at):
            task = self.open_task(instance_id, bpmn_id)
            data = values or sample_form_data(task.form_key, self.task_data(task), at.date())
            complete_task(self.session, self.runtime, self.holder(task), task.id, data)

    def fire_timers(self, day: dt.date, time: str) -> None:
        with clock.frozen_at(_beijing(day, time)):
            run_due_timers(self.session, self.runtime)

    # --- lookups ------------------------------------------------------------------------------

    def open_task(self, instance_id: int, bpmn_id: str) -> HumanTask:
        task = self.session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.completed_at.is_(None),
            HumanTask.bpmn_id.startswith(bpmn_id))).first()
        if task is None:  # the deployed model leads elsewhere: stop rather than guess
            raise SamplesDoNotFit(f"示例申请 {instance_id} 没有走到「{bpmn_id}」：部署的流程与内置示例不符")
        return task

    def holder(self, task: HumanTask) -> User:
        users = self.session.scalars(select(User).order_by(User.id))
        return next(user for user in users if can_act(user, task))

    def user(self, username: str) -> User:
        return self.session.scalars(select(User).where(User.username == username)).one()

    def task_data(self, task: HumanTask) -> dict[str, Any]:
        instance = task.instance
        workflow = load_workflow(self.runtime, instance, self.calendar)
        spiff_task = self.runtime.task(workflow, task.spiff_task_id)
        return dict(spiff_task.data) if spiff_task is not None else {}

    def workday(self, workdays_ago: int) -> dt.date:
        """The working day ``workdays_ago`` working days before today."""
        day, remaining = self.today, workdays_ago
        while remaining:
            day -= dt.timedelta(days=1)
            remaining -= self.calendar.is_workday(day)
        return day

    def after(self, workdays_ago: int, workdays: int) -> dt.date:
        """The working day ``workdays`` after the one ``workdays_ago`` before today (a conference date)."""
        return self.calendar.add_workdays(self.workday(workdays_ago), workdays).date

    def moment(self, when: Moment) -> dt.datetime:
        return _beijing(self.workday(when.workdays_ago), when.time)


def _beijing(day: dt.date, time: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(time), tzinfo=SHANGHAI)
