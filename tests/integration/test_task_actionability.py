"""Nothing is ever left where nobody can act on it: every reviewer action leaves each open task with someone who can.

``engine.org.actionability.stranded_tasks`` answers that for all open tasks at once; here it is checked after each
action against :func:`engine.org.access.can_act` asked user by user, and its findings are checked on tasks stranded
on purpose. (tests/conftest.py runs the same check after every database test of the suite.)
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine.models import HumanTask, Instance, User
from engine.org.access import can_act
from engine.org.actionability import stranded_tasks
from engine.org.units import create_user, grant, unit_by_code
from engine.review.delegation import load_delegations
from tests.integration import chain

WEEK = {"starts_on": "2026-03-02", "ends_on": "2026-03-06", "reason": "外出学习"}


def _assert_somebody_can_act_on_every_open_task(app: Any) -> None:
    """Ask can_act for every active user on every open task of a live application, and stranded_tasks too."""
    from webapp.extensions import db

    with app.app_context():
        users = [load_delegations(db.session, u) for u in db.session.scalars(select(User).where(User.active))]
        tasks = db.session.scalars(select(HumanTask).join(Instance).where(
            HumanTask.completed_at.is_(None), Instance.status.in_(("running", "waiting", "error"))))
        nobody = [(t.name, t.instance_id, t.assignee) for t in tasks if not any(can_act(u, t) for u in users)]
        found = stranded_tasks(db.session)
        db.session.remove()
    assert nobody == [], f"open tasks nobody can act on: {nobody}"
    assert found == [], [s.describe() for s in found]


def _add_user(app: Any, username: str, name: str, role: str, unit: str) -> None:
    from webapp.extensions import db

    with app.app_context():
        grant(db.session, create_user(db.session, username, name, "pressflow-demo"), role,
              unit_by_code(db.session, unit))
        db.session.commit()


def _set_active(app: Any, username: str, active: bool) -> None:
    from webapp.extensions import db

    with app.app_context():
        db.session.scalar(select(User).where(User.username == username)).active = active
        db.session.commit()


def _task(login: Any, instance_id: int, bpmn_id: str) -> dict[str, Any]:
    return next(t for t in login("supervisor").instance(instance_id)["tasks"] if t["bpmn_id"] == bpmn_id)


def _ok(response: Any) -> Any:
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def test_after_each_reviewer_action_somebody_can_act_on_every_open_task(app, login, web, frozen_clock):
    check = _assert_somebody_can_act_on_every_open_task
    _add_user(app, "yz_leader2", "渝中区副职负责人 钱程", "unit_leader", "yuzhong")
    _add_user(app, "office_reviewer2", "新闻发布处 周洁", "office_reviewer", "office")
    clerk, leader, spokes = login("yz_clerk"), login("yz_leader"), login("yz_spokes")
    instance_id = chain.start(login)
    check(app)

    clerk.complete(instance_id, "topic_application", chain.application())  # complete
    check(app)
    task_id = _task(login, instance_id, "leader_review")["id"]
    _ok(leader.post(f"/tasks/{task_id}/claim"))  # claim
    check(app)
    _ok(leader.post(f"/tasks/{task_id}/release"))  # release
    check(app)
    leader.complete(instance_id, "leader_review", {"decision": "return", "comment": "补充背景"})  # 退回 by decision
    check(app)
    clerk.complete(instance_id, "topic_application", chain.application())
    check(app)

    _ok(leader.post("/delegations", json={"delegate": "yz_spokes", **WEEK}))
    task_id = _task(login, instance_id, "leader_review")["id"]
    _ok(spokes.post(f"/tasks/{task_id}/claim"))  # a delegate claims
    check(app)
    spokes.complete(instance_id, "leader_review", {"decision": "approve", "comment": "同意"})  # … and completes
    check(app)
    secrecy_task = _task(login, instance_id, "secrecy_review")["id"]
    targets = _ok(login("yz_secrecy").get(f"/tasks/{secrecy_task}/return-targets"))
    target = next(t["id"] for t in targets if t["bpmn_id"] == "leader_review")
    # 退回 by the panel, to the step the delegate did
    _ok(login("yz_secrecy").post(f"/tasks/{secrecy_task}/return", json={"comment": "请领导复核", "target": target}))
    check(app)
    task_id = _task(login, instance_id, "leader_review")["id"]
    _ok(leader.post(f"/tasks/{task_id}/transfer", json={"to": "yz_leader2", "reason": "分管领导办理"}))  # 转办
    check(app)
    login("yz_leader2").complete(instance_id, "leader_review", {"decision": "approve", "comment": "同意"})
    login("yz_secrecy").complete(instance_id, "secrecy_review", {"decision": "pass", "comment": ""})
    check(app)
    _ok(login("yz_secrecy").post(f"/instances/{instance_id}/withdraw", json={"comment": "补充意见"}))  # 撤回
    check(app)
    login("yz_secrecy").complete(instance_id, "secrecy_review", {"decision": "pass", "comment": ""})
    check(app)

    office_task = _task(login, instance_id, "office_topic_review")["id"]
    page = f"/supervise/instances/{instance_id}"
    response = web("supervisor").post_form(f"{page}/tasks/{office_task}/reassign",
                                           {"to": "office_reviewer2", "reason": "原办理人出差"}, page=page)  # 改派
    assert response.status_code == 302
    check(app)
    login("office_reviewer2").complete(instance_id, "office_topic_review", {"decision": "accept", "comment": "同意"})
    check(app)

    frozen_clock.advance(days=7)  # the delegation is over: what the delegate touched is still someone's to do
    check(app)


def test_a_task_whose_holder_was_deactivated_is_found_and_named_with_its_application(app, login):
    from webapp.extensions import db

    instance_id = chain.apply(login)
    task = _task(login, instance_id, "leader_review")
    _ok(login("yz_leader").post(f"/tasks/{task['id']}/claim"))
    _set_active(app, "yz_leader", False)

    with app.app_context():
        found = stranded_tasks(db.session)
    assert [(s.task_id, s.instance_id, s.assignee) for s in found] == [(task["id"], instance_id, "yz_leader")]
    line = found[0].describe()
    assert task["id"] in line and f"#{instance_id}" in line and "yz_leader" in line and "主要负责人审核" in line
    assert "已停用" in line
    _set_active(app, "yz_leader", True)


def test_a_group_task_whose_role_has_no_active_holder_in_its_unit_is_found(app, login):
    from webapp.extensions import db

    instance_id = chain.apply(login)
    _set_active(app, "yz_leader", False)

    with app.app_context():
        found = stranded_tasks(db.session)
    assert [(s.step, s.assignee) for s in found] == [("主要负责人审核", None)]
    assert "没有在岗" in found[0].reason
    _set_active(app, "yz_leader", True)
    with app.app_context():
        assert stranded_tasks(db.session) == []
    assert instance_id


def test_a_principals_active_delegate_keeps_a_task_actionable_while_the_principal_is_away(app, login, web):
    from webapp.extensions import db

    instance_id = chain.apply(login)
    _ok(login("yz_leader").post("/delegations", json={"delegate": "yz_spokes", **WEEK}))
    _set_active(app, "yz_leader", False)  # gone, but the role's grant delegated for the week still works

    with app.app_context():
        assert stranded_tasks(db.session) == []
    login("yz_spokes").complete(instance_id, "leader_review", {"decision": "approve", "comment": "同意"})
    _set_active(app, "yz_leader", True)


@pytest.mark.leaves_stranded_tasks
def test_a_suspended_application_is_not_counted_as_stranded(app, login, web):
    from webapp.extensions import db

    instance_id = chain.apply(login)
    page = f"/supervise/instances/{instance_id}"
    assert web("supervisor").post_form(f"{page}/suspend", {"reason": "暂停核查"}, page=page).status_code == 302
    _set_active(app, "yz_leader", False)

    with app.app_context():
        assert stranded_tasks(db.session) == []
