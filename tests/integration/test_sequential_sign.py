"""依次审批: a sequential multi-instance user task gives the approvers their task one after another, in list order."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.workflow.deploy import deploy

SEQUENTIAL = Path(__file__).resolve().parent.parent / "data" / "sequential_sign.bpmn"


@pytest.fixture
def instance_id(app, login) -> int:
    from webapp.extensions import db

    with app.app_context():
        deploy(db.session, app.extensions["pressflow_runtime"], SEQUENTIAL.read_text(encoding="utf-8"), [], "tests")
    clerk = login("yz_clerk")
    response = clerk.post("/instances", json={"process": "sequential_sign"})
    assert response.status_code == 201, response.get_json()
    instance_id = response.get_json()["id"]
    clerk.complete(instance_id, "draft", {"measures": "拟依次审批"})
    return instance_id


def _open(login, instance_id: int) -> list[tuple[str, str]]:
    return sorted((t["bpmn_id"], t["assignee"]) for t in login("supervisor").instance(instance_id)["tasks"])


def test_sequential_approval_reaches_the_second_approver_only_after_the_first_has_signed(login, instance_id):
    assert _open(login, instance_id) == [("seq_review", "yz_spokes")]
    assert not [t for t in login("yz_leader").tasks() if t["instance_id"] == instance_id]

    login("yz_spokes").complete(instance_id, "seq_review", {"decision": "approve", "comment": "口径无误"})
    assert _open(login, instance_id) == [("seq_review", "yz_leader")]
    login("yz_leader").complete(instance_id, "seq_review", {"decision": "approve", "comment": "同意"})

    instance = login("supervisor").instance(instance_id)
    assert (instance["status"], instance["outcome"]) == ("completed", "completed")
    history = login("supervisor").get(f"/instances/{instance_id}/history").get_json()
    assert [h["actor"] for h in history if h["action"] == "complete" and h["bpmn_id"] == "seq_review"] == [
        "yz_spokes", "yz_leader"]


def test_a_disagreement_in_sequential_approval_rejects_after_everyone_has_signed(login, instance_id):
    login("yz_spokes").complete(instance_id, "seq_review", {"decision": "reject", "comment": "数据待核实"})
    login("yz_leader").complete(instance_id, "seq_review", {"decision": "approve", "comment": ""})
    assert login("supervisor").instance(instance_id)["outcome"] == "rejected"
