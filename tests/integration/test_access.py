"""Who sees and does what through the API: units keep their work to themselves, roles decide who acts."""

from __future__ import annotations

import datetime as dt

import pytest
from itsdangerous import URLSafeSerializer

from tests.integration import chain
from webapp.api.tokens import SALT


def _completions(user, instance_id: int, bpmn_id: str) -> list[dict]:
    history = user.get(f"/instances/{instance_id}/history")
    assert history.status_code == 200, history.get_json()
    return [h for h in history.get_json() if h["action"] == "complete" and h["bpmn_id"] == bpmn_id]


@pytest.fixture
def yuzhong_at_leader_review(app, login):
    """A yuzhong application submitted by yz_clerk, waiting for its leader's review."""
    return chain.apply(login)


@pytest.mark.parametrize("username", ["jb_clerk", "jb_leader"])
def test_jiangbei_users_get_not_found_for_every_yuzhong_resource(yuzhong_at_leader_review, login, username):
    instance_id = yuzhong_at_leader_review
    attachment_id = login("yz_clerk").get(f"/instances/{instance_id}/attachments").get_json()[0]["id"]
    outsider = login(username)

    for path in (f"/instances/{instance_id}", f"/instances/{instance_id}/history",
                 f"/instances/{instance_id}/attachments", f"/instances/{instance_id}/attachments/{attachment_id}"):
        response = outsider.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "not_found"


def test_an_invisible_application_answers_exactly_like_one_that_does_not_exist(yuzhong_at_leader_review, login):
    jb_leader = login("jb_leader")

    hidden = jb_leader.get(f"/instances/{yuzhong_at_leader_review}")
    missing = jb_leader.get("/instances/999999")

    assert (hidden.status_code, hidden.get_json()) == (missing.status_code, missing.get_json())


def test_jiangbei_lists_leave_out_yuzhong_applications_and_tasks(yuzhong_at_leader_review, login):
    jiangbei_id = chain.apply(login, "jiangbei", title="2026年江北区文旅发布会")
    jb_clerk, jb_leader = login("jb_clerk"), login("jb_leader")

    listed = jb_clerk.get("/instances").get_json()
    assert [i["id"] for i in listed["items"]] == [jiangbei_id]
    assert listed["total"] == 1
    assert jb_clerk.get("/instances?unit=yuzhong").get_json() == {"items": [], "total": 0, "page": 1}
    assert [(t["instance_id"], t["bpmn_id"]) for t in jb_leader.tasks()] == [(jiangbei_id, "leader_review")]
    assert yuzhong_at_leader_review in [t["instance_id"] for t in login("yz_leader").tasks()]


def test_jiangbei_leader_cannot_read_claim_or_complete_a_yuzhong_task(yuzhong_at_leader_review, login):
    instance_id = yuzhong_at_leader_review
    task_id = login("yz_leader").task_at(instance_id, "leader_review")["id"]
    jb_leader = login("jb_leader")

    assert jb_leader.get(f"/tasks/{task_id}").status_code == 404
    assert jb_leader.post(f"/tasks/{task_id}/claim").status_code == 404
    response = jb_leader.post(f"/tasks/{task_id}/complete", json={"data": {"decision": "approve", "comment": "同意"}})
    assert response.status_code == 404

    yz_leader = login("yz_leader")
    assert yz_leader.task_at(instance_id, "leader_review")["assignee"] is None
    assert _completions(yz_leader, instance_id, "leader_review") == []


def test_jiangbei_clerk_cannot_attach_files_to_a_yuzhong_application(yuzhong_at_leader_review, login):
    response = chain.upload(login("jb_clerk"), yuzhong_at_leader_review, "other", "补充材料.pdf")

    assert response.status_code == 404
    assert len(login("yz_clerk").get(f"/instances/{yuzhong_at_leader_review}/attachments").get_json()) == 2


def test_clerk_cannot_complete_the_leaders_review_of_her_own_application(yuzhong_at_leader_review, login):
    instance_id = yuzhong_at_leader_review
    task_id = login("yz_leader").task_at(instance_id, "leader_review")["id"]
    clerk = login("yz_clerk")

    assert task_id not in [t["id"] for t in clerk.tasks()]
    response = clerk.post(f"/tasks/{task_id}/complete", json={"data": {"decision": "approve", "comment": "同意"}})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert clerk.post(f"/tasks/{task_id}/claim").status_code == 403

    assert chain.open_steps(clerk, instance_id) == ["leader_review"]
    assert _completions(clerk, instance_id, "leader_review") == []


def test_supervisor_sees_every_application_of_every_unit(app, login):
    ids = {unit: chain.apply(login, unit) for unit in ("yuzhong", "jiangbei", "health")}
    supervisor = login("supervisor")

    listed = supervisor.get("/instances").get_json()
    assert listed["total"] == 3
    assert {i["id"]: i["unit"] for i in listed["items"]} == {v: k for k, v in ids.items()}
    assert [i["id"] for i in supervisor.get("/instances?unit=health").get_json()["items"]] == [ids["health"]]
    for instance_id in ids.values():
        assert supervisor.instance(instance_id)["tasks"][0]["bpmn_id"] == "leader_review"
        assert supervisor.get(f"/instances/{instance_id}/history").status_code == 200
        assert supervisor.get(f"/instances/{instance_id}/attachments").status_code == 200


def test_supervisor_cannot_claim_or_complete_approval_tasks(yuzhong_at_leader_review, login):
    instance_id = yuzhong_at_leader_review
    supervisor = login("supervisor")
    assert supervisor.tasks() == []

    leader_task = login("yz_leader").task_at(instance_id, "leader_review")["id"]
    approve = {"data": {"decision": "approve", "comment": "督办同意"}}
    assert supervisor.post(f"/tasks/{leader_task}/complete", json=approve).status_code == 403
    assert supervisor.post(f"/tasks/{leader_task}/claim").status_code == 403

    chain.through_unit(login, instance_id)
    office_task = login("office_reviewer").task_at(instance_id, "office_topic_review")["id"]
    accept = {"data": {"decision": "accept", "comment": "督办同意"}}
    assert supervisor.post(f"/tasks/{office_task}/complete", json=accept).status_code == 403
    assert chain.open_steps(supervisor, instance_id) == ["office_topic_review"]
    assert all(h["actor"] != "supervisor" for h in supervisor.get(f"/instances/{instance_id}/history").get_json())


def test_supervisor_cannot_start_an_application(app, login):
    response = login("supervisor").post("/instances", json={"process": "press_conference"})

    assert response.status_code == 403
    assert login("supervisor").get("/instances").get_json()["total"] == 0


def test_office_reviewer_sees_every_application_but_acts_only_on_office_tasks(yuzhong_at_leader_review, login):
    instance_id = yuzhong_at_leader_review
    jiangbei_id = chain.apply(login, "jiangbei")
    reviewer = login("office_reviewer")

    assert {i["id"] for i in reviewer.get("/instances").get_json()["items"]} == {instance_id, jiangbei_id}
    assert reviewer.tasks() == []
    leader_task = login("yz_leader").task_at(instance_id, "leader_review")["id"]
    response = reviewer.post(f"/tasks/{leader_task}/complete", json={"data": {"decision": "approve", "comment": ""}})
    assert response.status_code == 403

    chain.through_unit(login, instance_id)
    assert [(t["instance_id"], t["bpmn_id"]) for t in reviewer.tasks()] == [(instance_id, "office_topic_review")]
    chain.office_accepts(login, instance_id)

    district_task = login("yz_leader").task_at(instance_id, "content_approval_district")["id"]
    response = reviewer.post(f"/tasks/{district_task}/complete", json={"data": {"decision": "approve", "comment": ""}})
    assert response.status_code == 403
    assert chain.open_steps(reviewer, instance_id) == ["content_approval_district"]


def test_requests_without_a_token_are_unauthorized(client):
    response = client.get("/api/v1/instances")

    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("header", [
    "Bearer not-a-token", "Bearer ", "Basic eXpfY2xlcms6cHJlc3NmbG93LWRlbW8=", "yz_clerk",
])
def test_requests_with_a_bad_token_are_unauthorized(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header})

    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_a_token_signed_with_another_key_is_unauthorized(app, client, frozen_clock):
    claims = {"u": "admin", "exp": int((frozen_clock() + dt.timedelta(hours=1)).timestamp())}
    forged = URLSafeSerializer("not-the-server-key", salt=SALT).dumps(claims)
    genuine = URLSafeSerializer(app.config["SECRET_KEY"], salt=SALT).dumps(claims)

    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {genuine}"}).status_code == 200


def test_a_token_stops_working_after_eight_hours(login, frozen_clock):
    clerk = login("yz_clerk")

    frozen_clock.advance(hours=7, minutes=59)
    assert clerk.get("/me").status_code == 200
    frozen_clock.advance(minutes=2)
    response = clerk.get("/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert login("yz_clerk").get("/me").status_code == 200


def test_a_wrong_password_gets_no_token(client):
    response = client.post("/api/v1/auth/token", json={"username": "yz_clerk", "password": "wrong-password"})

    assert response.status_code == 401
    assert "token" not in response.get_json()


def test_token_response_names_its_expiry_eight_hours_ahead(client, frozen_clock):
    response = client.post("/api/v1/auth/token", json={"username": "yz_clerk", "password": "pressflow-demo"})

    expires_at = dt.datetime.fromisoformat(response.get_json()["expires_at"])
    assert expires_at == frozen_clock() + dt.timedelta(hours=8)


def test_me_names_the_user_and_their_role_grants(login):
    assert login("yz_leader").get("/me").get_json() == {
        "username": "yz_leader", "display_name": "渝中区主要负责人 李强",
        "grants": [{"role": "unit_leader", "unit": "yuzhong"}],
    }
    assert login("supervisor").get("/me").get_json()["grants"] == [{"role": "supervisor", "unit": "office"}]


def test_processes_lists_the_deployed_press_conference_process(login):
    listed = login("jb_clerk").get("/processes").get_json()
    assert {"key": "press_conference", "name": "新闻发布会审批（第十五条）", "version": 1} in listed
    assert {p["key"] for p in listed} >= {"emergency_release", "spokesperson_appointment"}
