"""加签 and 委派 on the task page: the forms, the waiting holder, the added approver's opinion, the timeline."""

from __future__ import annotations

from tests.integration import chain


def _leader_task(login, instance_id: int) -> str:
    return login("yz_leader").task_at(instance_id, "leader_review")["id"]


def test_leader_adds_the_spokesperson_before_him_waits_and_gets_the_step_back_after_her_opinion(login, web):
    instance_id = chain.apply(login)
    task_id = _leader_task(login, instance_id)
    leader = web("yz_leader")
    page = leader.get(f"/tasks/{task_id}").text
    assert f'action="/tasks/{task_id}/add-signers"' in page and "渝中区新闻发言人 陈静" in page

    response = leader.post_form(f"/tasks/{task_id}/add-signers", {"mode": "before", "rule": "all",
                                                                  "signers": ["yz_spokes"], "comment": "请把关口径"},
                                page=f"/tasks/{task_id}", follow_redirects=True)
    assert response.status_code == 200
    assert "等待加签人审批" in response.text
    assert f'action="/tasks/{task_id}/complete"' not in response.text
    states = leader.get(f"/diagram/{instance_id}/states.json").get_json()
    assert states["signers"] == {"leader_review": "前加签：渝中区新闻发言人 陈静（待审批）"}

    spokes = web("yz_spokes")
    inbox = spokes.get("/tasks").text
    row_id = login("yz_spokes").task_at(instance_id, "leader_review")["id"]
    assert f"/tasks/{row_id}" in inbox
    page = spokes.get(f"/tasks/{row_id}").text
    assert "请您对本环节前加签（会签）" in page and 'name="decision" value="agree"' in page
    assert f'action="/tasks/{row_id}/return"' not in page and 'id="transfer"' not in page
    spokes.post_form(f"/tasks/{row_id}/complete", {"decision": "agree", "comment": "口径准确"},
                     page=f"/tasks/{row_id}")

    page = leader.get(f"/tasks/{task_id}").text
    assert f'action="/tasks/{task_id}/complete"' in page and "等待加签人审批" not in page
    assert "加签意见：同意" in page and "口径准确" in page
    timeline = web("yz_clerk").get(f"/applications/{instance_id}").text
    assert "前加签（会签）：渝中区新闻发言人 陈静" in timeline and "请把关口径" in timeline


def test_a_bad_add_sign_form_comes_back_with_a_chinese_message_and_changes_nothing(login, web):
    instance_id = chain.apply(login)
    task_id = _leader_task(login, instance_id)
    leader = web("yz_leader")
    response = leader.post_form(f"/tasks/{task_id}/add-signers", {"mode": "before", "rule": "all"},
                                page=f"/tasks/{task_id}")
    assert response.status_code == 422
    assert "请至少选择一位加签人" in response.text and "加签未完成" in response.text
    response = leader.post_form(f"/tasks/{task_id}/delegate", {"to": "yz_spokes", "comment": ""},
                                page=f"/tasks/{task_id}")
    assert response.status_code == 422 and "请填写委派说明" in response.text
    assert not login("yz_leader").get(f"/tasks/{task_id}/sign-groups").get_json()


def test_leader_takes_back_a_planned_after_signer_from_the_page(login, web):
    instance_id = chain.apply(login)
    task_id = _leader_task(login, instance_id)
    leader = web("yz_leader")
    leader.post_form(f"/tasks/{task_id}/add-signers", {"mode": "after", "rule": "any",
                                                       "signers": ["yz_spokes", "office_spokes"]},
                     page=f"/tasks/{task_id}")
    page = leader.get(f"/tasks/{task_id}").text
    assert "后加签 · 或签" in page and "待办理人决定后审批" in page
    leader.post_form(f"/tasks/{task_id}/remove-signer", {"username": "office_spokes"}, page=f"/tasks/{task_id}")
    groups = login("yz_leader").get(f"/tasks/{task_id}/sign-groups").get_json()
    assert [s["username"] for s in groups[0]["signers"]] == ["yz_spokes"]
