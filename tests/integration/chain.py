"""Drive an application along the Article 15 chain through the JSON API, one demo user per step."""

from __future__ import annotations

from typing import Any

CLERK_OF = {"yuzhong": "yz_clerk", "jiangbei": "jb_clerk", "health": "wjw_clerk"}
LEADER_OF = {"yuzhong": "yz_leader", "jiangbei": "jb_leader", "health": "wjw_leader"}
SECRECY_OF = {"yuzhong": "yz_secrecy", "jiangbei": "jb_secrecy", "health": "wjw_secrecy"}

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def application(**overrides: Any) -> dict[str, Any]:
    """A valid topic application for a conference on Friday 2026-03-20 at 10:00."""
    return {
        "title": "2026年渝中区优化营商环境新闻发布会",
        "name_holder": "municipal_government",
        "kind": "press_conference",
        "conference_date": "2026-03-20",
        "start_time": "10:00",
        "summary": "介绍渝中区优化营商环境的主要举措和成效。",
        "venue": "press_center",
        "venue_other_reason": "",
        "live_stream": "video",
    } | overrides


def upload(user: Any, instance_id: int, kind: str, name: str = "方案.pdf", content: bytes = PDF) -> Any:
    import io

    return user.post(f"/instances/{instance_id}/attachments",
                     data={"kind": kind, "file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def start(login: Any, unit: str = "yuzhong") -> int:
    """Start an application as the unit's clerk and attach the work plan and release text."""
    clerk = login(CLERK_OF[unit])
    response = clerk.post("/instances", json={"process": "press_conference"})
    assert response.status_code == 201, response.get_json()
    instance_id = response.get_json()["id"]
    assert upload(clerk, instance_id, "work_plan", "工作方案.pdf").status_code == 201
    assert upload(clerk, instance_id, "release_text", "发布文稿.pdf").status_code == 201
    return instance_id


def apply(login: Any, unit: str = "yuzhong", **overrides: Any) -> int:
    """Start and submit an application; return the instance id."""
    instance_id = start(login, unit)
    login(CLERK_OF[unit]).complete(instance_id, "topic_application", application(**overrides))
    return instance_id


def through_unit(login: Any, instance_id: int, unit: str = "yuzhong") -> None:
    """Leader approves, secrecy reviewer passes."""
    login(LEADER_OF[unit]).complete(instance_id, "leader_review", {"decision": "approve", "comment": "同意"})
    login(SECRECY_OF[unit]).complete(instance_id, "secrecy_review", {"decision": "pass", "comment": ""})


def office_accepts(login: Any, instance_id: int) -> None:
    login("office_reviewer").complete(instance_id, "office_topic_review", {"decision": "accept", "comment": "同意选题"})


def content_approved(login: Any, instance_id: int, unit: str = "yuzhong", by: str | None = None) -> None:
    bpmn_id = "content_approval_department" if unit == "health" else "content_approval_district"
    login(by or LEADER_OF[unit]).complete(instance_id, bpmn_id, {"decision": "approve", "comment": "内容审定同意"})


def select_host_speaker(login: Any, instance_id: int, name_holder: str = "municipal_government") -> None:
    speaker_role = "vice_mayor" if name_holder == "municipal_government" else "unit_spokesperson"
    host_role = "municipal_spokesperson" if name_holder == "municipal_government" else "spokesperson_assistant"
    login("office_reviewer").complete(instance_id, "host_speaker_selection", {
        "speaker_name": "张副市长", "speaker_role": speaker_role, "host_name": "何平", "host_role": host_role,
        "guests": [{"name": "王局长", "title": "区发展改革委主任"}],
    })


def onsite_ready(login: Any, instance_id: int) -> None:
    login("onsite").complete(instance_id, "venue_preparation", {
        "venue_confirmed": True, "venue_name": "市新闻发布中心", "live_stream_ready": True, "notes": "",
    })
    login("office_reviewer").complete(instance_id, "pre_announcement", {
        "published": True, "announcement_url": "https://www.cq.gov.cn/cqfb/notice", "published_on": "2026-03-18",
    })


def to_conference_timer(login: Any, unit: str = "yuzhong", **overrides: Any) -> int:
    """Run an application up to the wait for the conference start."""
    instance_id = apply(login, unit, **overrides)
    through_unit(login, instance_id, unit)
    office_accepts(login, instance_id)
    content_approved(login, instance_id, unit)
    select_host_speaker(login, instance_id, overrides.get("name_holder", "municipal_government"))
    onsite_ready(login, instance_id)
    return instance_id


def open_steps(user: Any, instance_id: int) -> list[str]:
    return sorted(t["bpmn_id"] for t in user.instance(instance_id)["tasks"])


def run_timers(app: Any, at: str) -> str:
    """Run one ``pressflow run-timers --now AT`` pass through the CLI and return what it printed."""
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from webapp.cli import main

    result = CliRunner().invoke(main, ["run-timers", "--now", at], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    return result.output
