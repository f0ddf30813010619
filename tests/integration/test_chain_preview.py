"""Approval-chain preview: the steps ahead of an open task with the people who will hold them; nothing is saved."""

from __future__ import annotations

from tests.integration.chain import application, apply, start

DISTRICT_CHAIN = [
    ("leader_review", ["yz_leader"]), ("secrecy_review", ["yz_secrecy"]), ("office_topic_review", ["office_reviewer"]),
    ("content_approval_district", ["yz_leader", "yz_spokes"]), ("host_speaker_selection", ["office_reviewer"]),
    ("pre_announcement", ["office_reviewer"]), ("venue_preparation", ["onsite"]), ("conference_record", ["onsite"]),
    ("monitoring_report", ["monitor"]),
]


def _preview(user, instance_id: int, bpmn_id: str) -> dict:
    task = user.task_at(instance_id, bpmn_id)
    response = user.get(f"/tasks/{task['id']}/preview")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_clerk_sees_every_step_ahead_with_its_holders_before_submitting(login):
    instance_id = start(login)
    clerk = login("yz_clerk")
    before = clerk.instance(instance_id)
    preview = _preview(clerk, instance_id, "topic_application")
    assert [(s["bpmn_id"], s["holders"]) for s in preview["steps"]] == DISTRICT_CHAIN
    assert (preview["stopped"], preview["outcome"]) == ("end", "completed")
    office = next(s for s in preview["steps"] if s["bpmn_id"] == "office_topic_review")
    assert (office["roles"], office["unit"]) == (["office_reviewer"], "office")
    # The leader's step follows the submission whatever it holds; after it, the path assumes approvals.
    assert [s["assumed"] for s in preview["steps"]] == [False] + [True] * (len(DISTRICT_CHAIN) - 1)
    assert preview["assumed"] is True
    # Nothing was saved and nobody was told.
    assert clerk.instance(instance_id) == before
    assert login("yz_leader").get("/notifications").get_json()["unread"] == 0


def test_a_leaders_preview_rests_on_his_own_decision_and_follows_the_departments_path(login):
    instance_id = apply(login, "health")
    preview = _preview(login("wjw_leader"), instance_id, "leader_review")
    steps = [(s["bpmn_id"], s["holders"], s["assumed"]) for s in preview["steps"]]
    assert steps[:3] == [("secrecy_review", ["wjw_secrecy"], True),
                         ("office_topic_review", ["office_reviewer"], True),
                         ("content_approval_department", ["wjw_leader"], True)]


def test_the_preview_of_another_districts_application_is_not_found(login):
    instance_id = start(login)
    task = login("yz_clerk").task_at(instance_id, "topic_application")
    assert login("jb_clerk").get(f"/tasks/{task['id']}/preview").status_code == 404


def test_a_completed_step_has_nothing_ahead_to_preview(login):
    instance_id = start(login)
    clerk = login("yz_clerk")
    task_id = clerk.task_at(instance_id, "topic_application")["id"]
    clerk.complete(instance_id, "topic_application", application())
    preview = clerk.get(f"/tasks/{task_id}/preview").get_json()
    assert (preview["stopped"], preview["steps"]) == ("closed", [])
