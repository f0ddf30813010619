"""会签 (every approver must agree) and 或签 (any one approver suffices) as BPMN multi-instance user tasks."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.workflow.deploy import deploy

COUNTERSIGN = Path(__file__).resolve().parent.parent / "data" / "countersign.bpmn"


@pytest.fixture
def instance_id(app, login) -> int:
    from webapp.extensions import db

    with app.app_context():
        deploy(db.session, app.extensions["pressflow_runtime"], COUNTERSIGN.read_text(encoding="utf-8"), [], "tests")
    clerk = login("yz_clerk")
    response = clerk.post("/instances", json={"process": "countersign"})
    assert response.status_code == 201, response.get_json()
    instance_id = response.get_json()["id"]
    clerk.complete(instance_id, "draft", {"measures": "拟联合发布"})
    return instance_id


def _open(user, instance_id: int) -> list[tuple[str, str]]:
    return sorted((t["bpmn_id"], t["assignee"]) for t in user.instance(instance_id)["tasks"])


def test_countersign_gives_each_approver_their_own_task_and_waits_for_all(login, instance_id):
    assert _open(login("supervisor"), instance_id) == [("joint_review", "yz_leader"), ("joint_review", "yz_spokes")]
    # Each approver sees only their own share, not the other's.
    assert [t["assignee"] for t in login("yz_leader").tasks() if t["bpmn_id"] == "joint_review"] == ["yz_leader"]
    leader_task = login("yz_leader").task_at(instance_id, "joint_review")
    assert login("yz_spokes").post(f"/tasks/{leader_task['id']}/complete",
                                   json={"data": {"decision": "approve"}}).status_code == 403

    login("yz_leader").complete(instance_id, "joint_review", {"decision": "approve", "comment": "同意"})
    assert _open(login("supervisor"), instance_id) == [("joint_review", "yz_spokes")]
    login("yz_spokes").complete(instance_id, "joint_review", {"decision": "approve", "comment": "同意"})

    assert _open(login("supervisor"), instance_id) == [("any_review", "yz_leader"), ("any_review", "yz_spokes")]


def test_countersign_fails_when_one_approver_disagrees(login, instance_id):
    login("yz_leader").complete(instance_id, "joint_review", {"decision": "approve", "comment": ""})
    login("yz_spokes").complete(instance_id, "joint_review", {"decision": "reject", "comment": "数据口径不一致"})
    instance = login("supervisor").instance(instance_id)
    assert instance["status"] == "completed"
    assert instance["outcome"] == "rejected"


def test_any_one_approval_ends_the_or_sign_step_and_withdraws_the_other_task(login, instance_id):
    login("yz_leader").complete(instance_id, "joint_review", {"decision": "approve", "comment": ""})
    login("yz_spokes").complete(instance_id, "joint_review", {"decision": "approve", "comment": ""})
    spokes_task = login("yz_spokes").task_at(instance_id, "any_review")
    leader_task = login("yz_leader").task_at(instance_id, "any_review")

    login("yz_spokes").complete(instance_id, "any_review", {"decision": "approve", "comment": "同意发布"})

    instance = login("supervisor").instance(instance_id)
    assert instance["status"] == "completed"
    assert instance["outcome"] == "completed"
    late = login("yz_leader").post(f"/tasks/{leader_task['id']}/complete", json={"data": {"decision": "approve"}})
    assert late.status_code == 409
    history = login("supervisor").get(f"/instances/{instance_id}/history").get_json()
    signed = [(h["bpmn_id"], h["actor"]) for h in history if h["action"] == "complete"]
    assert signed == [("draft", "yz_clerk"), ("joint_review", "yz_leader"), ("joint_review", "yz_spokes"),
                      ("any_review", "yz_spokes")]
    assert spokes_task["id"] != leader_task["id"]
