"""加签 (前 / 后 / 并, 会签 / 或签), 减签 and 委派 through the API: rows in the database, the model unchanged."""

from __future__ import annotations

from tests.integration import chain


def _history(login, instance_id: int) -> list[dict]:
    return login("supervisor").get(f"/instances/{instance_id}/history").get_json()


def _open(login, instance_id: int) -> list[tuple[str, str | None]]:
    return sorted((t["bpmn_id"], t["assignee"]) for t in login("supervisor").instance(instance_id)["tasks"])


def _add(login, instance_id: int, mode: str, signers: list[str], rule: str = "all", status: int = 201) -> dict:
    leader = login("yz_leader")
    task = leader.task_at(instance_id, "leader_review")
    response = leader.post(f"/tasks/{task['id']}/add-signers",
                           json={"mode": mode, "rule": rule, "signers": signers, "comment": "请一并把关口径"})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _opinion(login, username: str, instance_id: int, decision: str, comment: str = "") -> None:
    login(username).complete(instance_id, "leader_review", {"decision": decision, "comment": comment})


def test_before_sign_makes_the_leader_wait_until_both_added_approvers_agree_then_it_is_his_again(login):
    instance_id = chain.apply(login)
    group = _add(login, instance_id, "before", ["yz_spokes", "office_spokes"])
    assert group["holder_waiting"] is True
    assert [s["state"] for s in group["signers"]] == ["open", "open"]

    leader_task = login("yz_leader").task_at(instance_id, "leader_review")
    blocked = login("yz_leader").post(f"/tasks/{leader_task['id']}/complete",
                                      json={"data": {"decision": "approve", "comment": ""}})
    assert blocked.status_code == 409
    assert "等待加签人审批" in blocked.get_json()["error"]["message"]
    spokes_task = login("yz_spokes").task_at(instance_id, "leader_review")
    assert spokes_task["form"] == "sign_opinion" and spokes_task["sign_group_id"] == group["id"]

    _opinion(login, "yz_spokes", instance_id, "agree", "口径无误")
    assert login("yz_leader").post(f"/tasks/{leader_task['id']}/complete",
                                   json={"data": {"decision": "approve"}}).status_code == 409
    _opinion(login, "office_spokes", instance_id, "agree")

    assert _open(login, instance_id) == [("leader_review", "yz_leader")]
    login("yz_leader").complete(instance_id, "leader_review", {"decision": "approve", "comment": "同意"})
    assert _open(login, instance_id) == [("secrecy_review", None)]
    actions = [(h["action"], h["actor"]) for h in _history(login, instance_id)][-5:]
    assert actions == [("add_sign", "yz_leader"), ("sign_opinion", "yz_spokes"), ("sign_opinion", "office_spokes"),
                       ("sign_done", "system"), ("complete", "yz_leader")]
    added = next(h for h in _history(login, instance_id) if h["action"] == "add_sign")
    assert added["comment"] == "请一并把关口径"
    assert added["data"] == {"mode": "before", "rule": "all", "signers": ["yz_spokes", "office_spokes"]}


def test_after_sign_keeps_the_leaders_decision_and_completes_the_step_with_it_once_the_signer_agrees(login):
    instance_id = chain.apply(login)
    group = _add(login, instance_id, "after", ["yz_spokes"])
    assert [s["state"] for s in group["signers"]] == ["planned"]
    assert not [t for t in login("yz_spokes").tasks() if t["instance_id"] == instance_id]

    login("yz_leader").complete(instance_id, "leader_review", {"decision": "approve", "comment": "拟同意"})
    assert _open(login, instance_id) == [("leader_review", "yz_leader"), ("leader_review", "yz_spokes")]
    _opinion(login, "yz_spokes", instance_id, "agree")

    assert _open(login, instance_id) == [("secrecy_review", None)]
    done = [h for h in _history(login, instance_id) if h["action"] == "complete" and h["bpmn_id"] == "leader_review"]
    assert [(h["actor"], h["data"]["decision"], h["comment"]) for h in done] == [
        ("yz_leader", "approve", "拟同意")]


def test_an_after_signer_who_disagrees_brings_the_step_back_to_the_leader_to_decide_again(login):
    instance_id = chain.apply(login)
    _add(login, instance_id, "after", ["yz_spokes"])
    login("yz_leader").complete(instance_id, "leader_review", {"decision": "approve", "comment": ""})
    _opinion(login, "yz_spokes", instance_id, "disagree", "发布时间与全市会议冲突")

    assert _open(login, instance_id) == [("leader_review", "yz_leader")]
    opinions = [h for h in _history(login, instance_id) if h["action"] == "sign_opinion"]
    assert opinions[0]["comment"] == "发布时间与全市会议冲突"
    login("yz_leader").complete(instance_id, "leader_review", {"decision": "approve", "comment": "已协调时间"})
    assert _open(login, instance_id) == [("secrecy_review", None)]


def test_parallel_or_sign_ends_with_the_first_opinion_and_the_leader_completes_as_usual(login):
    instance_id = chain.apply(login)
    _add(login, instance_id, "parallel", ["yz_spokes", "yz_secrecy"], rule="any")
    secrecy_task = login("yz_secrecy").task_at(instance_id, "leader_review")
    _opinion(login, "yz_spokes", instance_id, "agree")

    late = login("yz_secrecy").post(f"/tasks/{secrecy_task['id']}/complete",
                                    json={"data": {"decision": "agree"}})
    assert late.status_code == 409
    login("yz_leader").complete(instance_id, "leader_review", {"decision": "approve", "comment": ""})
    assert _open(login, instance_id) == [("secrecy_review", None)]


def test_parallel_sign_holds_the_leaders_decision_until_the_countersign_is_complete(login):
    instance_id = chain.apply(login)
    _add(login, instance_id, "parallel", ["yz_spokes", "office_spokes"])
    login("yz_leader").complete(instance_id, "leader_review", {"decision": "approve", "comment": ""})
    _opinion(login, "yz_spokes", instance_id, "agree")
    assert ("leader_review", "office_spokes") in _open(login, instance_id)
    _opinion(login, "office_spokes", instance_id, "agree")
    assert _open(login, instance_id) == [("secrecy_review", None)]


def test_remove_sign_takes_back_an_approver_who_has_not_acted_but_not_one_who_has(login):
    instance_id = chain.apply(login)
    _add(login, instance_id, "before", ["yz_spokes", "office_spokes"])
    leader = login("yz_leader")
    task = leader.task_at(instance_id, "leader_review")
    _opinion(login, "yz_spokes", instance_id, "agree")

    acted = leader.post(f"/tasks/{task['id']}/remove-signer", json={"username": "yz_spokes"})
    assert acted.status_code == 409
    stranger = leader.post(f"/tasks/{task['id']}/remove-signer", json={"username": "monitor"})
    assert stranger.status_code == 422
    removed = leader.post(f"/tasks/{task['id']}/remove-signer", json={"username": "office_spokes",
                                                                       "comment": "无需市级把关"})
    assert removed.status_code == 200, removed.get_json()
    assert removed.get_json()["outcome"] == "agreed"
    assert not [t for t in login("office_spokes").tasks() if t["instance_id"] == instance_id]
    entry = next(h for h in _history(login, instance_id) if h["action"] == "remove_sign")
    assert entry["comment"] == "无需市级把关" and entry["data"]["signer"] == "office_spokes"
    leader.complete(instance_id, "leader_review", {"decision": "approve", "comment": ""})


def test_added_approvers_must_be_able_to_see_the_application_and_bad_requests_change_nothing(login):
    instance_id = chain.apply(login)
    leader = login("yz_leader")
    task = leader.task_at(instance_id, "leader_review")

    def add(**body):
        return leader.post(f"/tasks/{task['id']}/add-signers", json={"mode": "before", "signers": ["yz_spokes"]}
                           | body)

    foreign = add(signers=["jb_leader"])
    assert foreign.status_code == 422
    assert "须在本环节所在单位或市政府新闻办具有审批角色" in foreign.get_json()["error"]["fields"]["signers"][0]
    assert add(signers=["yz_leader"]).status_code == 422
    assert add(signers=["nobody"]).status_code == 422
    assert add(signers=["yz_clerk"]).status_code == 422
    assert add(mode="sideways").status_code == 422
    assert add(signers=[]).status_code == 422
    assert login("yz_spokes").post(f"/tasks/{task['id']}/add-signers",
                                   json={"mode": "before", "signers": ["office_spokes"]}).status_code == 403
    assert not [h for h in _history(login, instance_id) if h["action"] == "add_sign"]

    assert add().status_code == 201
    assert add(signers=["office_spokes"]).status_code == 409
    assert leader.post(f"/tasks/{task['id']}/release").status_code == 409


def test_an_added_approver_can_neither_send_back_nor_transfer_the_step(login):
    instance_id = chain.apply(login)
    _add(login, instance_id, "before", ["yz_spokes"])
    spokes = login("yz_spokes")
    row = spokes.task_at(instance_id, "leader_review")
    assert spokes.post(f"/tasks/{row['id']}/return", json={"comment": "不行"}).status_code == 403
    assert spokes.post(f"/tasks/{row['id']}/transfer", json={"to": "yz_leader", "reason": "x"}).status_code == 403
    assert spokes.post(f"/tasks/{row['id']}/add-signers",
                       json={"mode": "before", "signers": ["office_spokes"]}).status_code == 403
    assert _open(login, instance_id) == [("leader_review", "yz_leader"), ("leader_review", "yz_spokes")]


def test_sending_the_step_back_cancels_the_added_approvers_rows(login):
    instance_id = chain.apply(login)
    _add(login, instance_id, "before", ["yz_spokes"])
    leader = login("yz_leader")
    task = leader.task_at(instance_id, "leader_review")
    response = leader.post(f"/tasks/{task['id']}/return", json={"comment": "请补充材料"})
    assert response.status_code == 200, response.get_json()

    assert _open(login, instance_id) == [("topic_application", "yz_clerk")]
    assert not [t for t in login("yz_spokes").tasks() if t["instance_id"] == instance_id]
    groups = leader.get(f"/tasks/{task['id']}/sign-groups").get_json()
    assert groups[0]["outcome"] == "cancelled"
    login("yz_clerk").complete(instance_id, "topic_application", chain.application())
    leader.complete(instance_id, "leader_review", {"decision": "approve", "comment": ""})


def test_delegation_lets_a_colleague_fill_in_the_step_and_returns_it_to_the_leader_to_finish(login):
    instance_id = chain.apply(login)
    leader = login("yz_leader")
    task = leader.task_at(instance_id, "leader_review")
    assert leader.post(f"/tasks/{task['id']}/delegate", json={"to": "yz_spokes", "comment": ""}).status_code == 422
    response = leader.post(f"/tasks/{task['id']}/delegate", json={"to": "yz_spokes", "comment": "请先核实数据"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["mode"] == "delegate"

    row = login("yz_spokes").task_at(instance_id, "leader_review")
    assert row["form"] == "leader_review"
    assert login("yz_leader").post(f"/tasks/{task['id']}/complete",
                                   json={"data": {"decision": "approve"}}).status_code == 409
    _opinion(login, "yz_spokes", instance_id, "approve", "数据已核实")

    detail = leader.get(f"/tasks/{task['id']}").get_json()
    assert detail["data"] == {"decision": "approve", "comment": "数据已核实"}
    leader.complete(instance_id, "leader_review", {"decision": "approve", "comment": "同意"})
    assert _open(login, instance_id) == [("secrecy_review", None)]
    actions = [h["action"] for h in _history(login, instance_id)]
    assert actions[-4:] == ["delegate", "delegate_done", "sign_done", "complete"]


def test_the_new_actions_are_in_the_openapi_description(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/tasks/{task_id}/add-signers", "/tasks/{task_id}/remove-signer", "/tasks/{task_id}/delegate"} <= set(
        paths)


def test_adding_signers_while_the_leader_completes_the_step_lets_exactly_one_of_them_happen(app, login):
    from tests.integration.test_concurrency import complete, race

    instance_id = chain.apply(login)
    task_id = login("yz_leader").task_at(instance_id, "leader_review")["id"]

    def add(user):
        return user.post(f"/tasks/{task_id}/add-signers", json={"mode": "before", "signers": ["yz_spokes"]})

    results = race(app, ("yz_leader", add), ("yz_leader", complete(task_id, {"decision": "approve"})))

    statuses = sorted(status for _, status, _ in results)
    assert statuses in ([200, 409], [201, 409])
    assert next(body for _, status, body in results if status == 409)["error"]["code"] == "conflict"
    if statuses == [201, 409]:
        assert _open(login, instance_id) == [("leader_review", "yz_leader"), ("leader_review", "yz_spokes")]
    else:
        assert _open(login, instance_id) == [("secrecy_review", None)]


def test_two_or_sign_approvers_answering_at_once_give_one_opinion_and_one_conflict(app, login):
    from tests.integration.test_concurrency import complete, race

    instance_id = chain.apply(login)
    _add(login, instance_id, "before", ["yz_spokes", "office_spokes"], rule="any")
    rows = {u: login(u).task_at(instance_id, "leader_review")["id"] for u in ("yz_spokes", "office_spokes")}

    results = race(app, *((u, complete(rows[u], {"decision": "agree"})) for u in rows))

    assert sorted(status for _, status, _ in results) == [200, 409]
    assert len([h for h in _history(login, instance_id) if h["action"] == "sign_opinion"]) == 1
    assert _open(login, instance_id) == [("leader_review", "yz_leader")]


def test_once_signers_are_added_the_applicant_can_no_longer_withdraw(login):
    instance_id = chain.apply(login)
    _add(login, instance_id, "before", ["yz_spokes"])
    response = login("yz_clerk").post(f"/instances/{instance_id}/withdraw", json={"comment": "改一下"})
    assert response.status_code == 409
    assert _open(login, instance_id) == [("leader_review", "yz_leader"), ("leader_review", "yz_spokes")]


def test_an_added_approver_who_lets_the_deadline_pass_is_told_like_any_holder(app, login, frozen_clock):
    from engine import clock
    from engine.worker.reminders import chase_late_tasks
    from webapp.extensions import db

    instance_id = chain.apply(login)
    _add(login, instance_id, "before", ["yz_spokes"])
    row = login("yz_spokes").task_at(instance_id, "leader_review")
    assert row["due_at"] == login("yz_leader").task_at(instance_id, "leader_review")["due_at"]

    frozen_clock.advance(days=10)
    with app.app_context():
        chase_late_tasks(db.session, clock.now())
    notices = login("yz_spokes").get("/notifications").get_json()["items"]
    assert [n["task_id"] for n in notices if n["kind"] == "overdue"] == [row["id"]]
