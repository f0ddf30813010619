"""Moving running applications to a newer process version: candidates, preview, bulk migration, and what stays put.

Version 2 adds 保密复核 (secrecy_recheck) after a passed secrecy review. Applications are started and moved along
through the API; the migration itself is the engine call the modeler pages make.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from engine.errors import Forbidden
from engine.modeling import migration
from engine.models import Instance, User
from engine.supervision.actions import suspend
from engine.workflow.deploy import deploy
from tests.integration import chain
from tests.model_edits import BPMN, DMN, with_secrecy_recheck, without_step

V2 = with_secrecy_recheck()
V3 = without_step(V2, "secrecy_recheck", before="flow_secrecy_pass", after="office_topic_review")


@pytest.fixture
def engine_call(app: Any) -> Callable[..., Any]:
    """``engine_call(fn, *args)`` runs ``fn(session, runtime, *args)`` in an app context, as a view would."""
    from webapp.extensions import db

    def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with app.app_context():
            try:
                return fn(db.session, app.extensions["pressflow_runtime"], *args, **kwargs)
            finally:
                db.session.remove()

    return call


def user(session: Any, username: str) -> User:
    found = session.scalar(select(User).where(User.username == username))
    assert found is not None
    return found


def deploy_version(session: Any, runtime: Any, bpmn: str, note: str) -> int:
    return deploy(session, runtime, bpmn, [DMN], "owner", note).version.version


def candidates(session: Any, runtime: Any, **filters: Any) -> dict[int, list[str]]:
    found = migration.migration_candidates(session, runtime, "press_conference", **filters)
    return {c.instance_id: [s.bpmn_id for s in c.steps] for c in found}


def preview(session: Any, runtime: Any, ids: list[int], to_version: int | None = None) -> Any:
    return migration.preview_migration(session, runtime, user(session, "owner"), "press_conference", ids, to_version)


def migrate(session: Any, runtime: Any, ids: list[int], to_version: int | None = None) -> Any:
    return migration.migrate_instances(session, runtime, user(session, "owner"), "press_conference", ids,
                                       to_version, note="增设保密复核")


def state_of(session: Any, runtime: Any, instance_id: int) -> tuple[int, str, str]:
    instance = session.get(Instance, instance_id)
    return instance.version.version, instance.status, instance.state


@pytest.fixture
def in_flight(login: Any) -> dict[str, int]:
    """Four applications on version 1: before, at and after the point where version 2 adds a step, and at the timer."""
    at_leader = chain.apply(login)
    at_secrecy = chain.apply(login)
    login("yz_leader").complete(at_secrecy, "leader_review", {"decision": "approve", "comment": ""})
    at_office = chain.apply(login)
    chain.through_unit(login, at_office)
    at_timer = chain.to_conference_timer(login)
    return {"leader": at_leader, "secrecy": at_secrecy, "office": at_office, "timer": at_timer}


def test_instances_are_previewed_migrated_and_then_pass_through_the_added_step(engine_call, in_flight, login, app):
    assert engine_call(deploy_version, V2, "增设保密复核") == 2
    clerk = login("yz_clerk")
    secrecy_task_before = login("yz_secrecy").task_at(in_flight["secrecy"], "secrecy_review")["id"]
    timer_before = clerk.instance(in_flight["timer"])["next_timer_at"]

    found = engine_call(candidates)
    assert found == {in_flight["leader"]: ["leader_review"], in_flight["secrecy"]: ["secrecy_review"],
                     in_flight["office"]: ["office_topic_review"], in_flight["timer"]: ["wait_conference_start"]}
    assert list(engine_call(candidates, at_step="secrecy_review")) == [in_flight["secrecy"]]

    previews = engine_call(preview, list(found))
    assert all(p.can_migrate and (p.from_version, p.to_version) == (1, 2) for p in previews)
    assert all(p.steps_after == p.steps_before for p in previews)
    assert all("新增环节“保密复核”（之后可能经过）" in p.changes for p in previews)
    assert all(clerk.instance(i)["version"] == 1 for i in found), "a preview changes nothing"

    results = engine_call(migrate, list(found))

    assert [(r.instance_id, r.migrated, r.message) for r in results] == [
        (i, True, "从第 1 版迁移到第 2 版：增设保密复核") for i in found]
    assert all(clerk.instance(i)["version"] == 2 for i in found)
    history = clerk.get(f"/instances/{in_flight['secrecy']}/history").get_json()
    assert (history[-1]["action"], history[-1]["actor"], history[-1]["data"]["to_version"]) == ("migrate", "owner", 2)
    # The open step is the same task, so its inbox row (and any claim on it) carried over.
    assert login("yz_secrecy").task_at(in_flight["secrecy"], "secrecy_review")["id"] == secrecy_task_before
    assert clerk.instance(in_flight["timer"])["next_timer_at"] == timer_before

    # Before the new step: through it. After it: not again.
    secrecy = login("yz_secrecy")
    secrecy.complete(in_flight["secrecy"], "secrecy_review", {"decision": "pass", "comment": ""})
    assert chain.open_steps(clerk, in_flight["secrecy"]) == ["secrecy_recheck"]
    secrecy.complete(in_flight["secrecy"], "secrecy_recheck", {"decision": "pass", "comment": "复核通过"})
    assert chain.open_steps(clerk, in_flight["secrecy"]) == ["office_topic_review"]
    chain.through_unit(login, in_flight["leader"])
    assert chain.open_steps(clerk, in_flight["leader"]) == ["secrecy_recheck"]
    chain.office_accepts(login, in_flight["office"])
    assert chain.open_steps(clerk, in_flight["office"]) == ["content_approval_district"]
    chain.run_timers(app, "2026-03-20T10:01")
    assert chain.open_steps(login("yz_clerk"), in_flight["timer"]) == ["conference_record"]


def test_an_instance_that_cannot_move_is_reported_and_left_intact_while_the_others_move(
    engine_call, login, app
):
    engine_call(deploy_version, V2, "增设保密复核")
    at_recheck = chain.apply(login)
    chain.through_unit(login, at_recheck)
    past_recheck = chain.apply(login)
    chain.through_unit(login, past_recheck)
    login("yz_secrecy").complete(past_recheck, "secrecy_recheck", {"decision": "pass", "comment": ""})
    movable = chain.apply(login)
    assert engine_call(deploy_version, V3, "取消保密复核") == 3
    kept = {i: engine_call(state_of, i) for i in (at_recheck, past_recheck)}

    previews = {p.instance_id: p for p in engine_call(preview, [at_recheck, past_recheck, movable])}
    results = {r.instance_id: r for r in engine_call(migrate, [at_recheck, past_recheck, movable])}

    assert previews[at_recheck].reasons == ["当前环节“保密复核”在第 3 版中已删除"]
    assert previews[past_recheck].reasons == ["已办理的环节“保密复核”在第 3 版中已删除，办理记录无法对应"]
    assert previews[movable].can_migrate and not previews[at_recheck].can_migrate
    assert (results[at_recheck].migrated, results[at_recheck].message) == (False, "当前环节“保密复核”在第 3 版中已删除")
    assert not results[past_recheck].migrated and results[movable].migrated
    assert {i: engine_call(state_of, i) for i in (at_recheck, past_recheck)} == kept
    clerk = login("yz_clerk")
    assert [h["action"] for h in clerk.get(f"/instances/{at_recheck}/history").get_json()].count("migrate") == 0
    # Left on version 2, the application still works there.
    login("yz_secrecy").complete(at_recheck, "secrecy_recheck", {"decision": "pass", "comment": ""})
    assert chain.open_steps(clerk, at_recheck) == ["office_topic_review"]
    assert clerk.instance(movable)["version"] == 3


def test_suspended_and_ended_applications_are_not_moved_and_say_why(engine_call, login, app):
    from webapp.extensions import db

    suspended = chain.apply(login)
    rejected = chain.apply(login)
    login("yz_leader").complete(rejected, "leader_review", {"decision": "reject", "comment": "不同意举办"})
    with app.app_context():
        suspend(db.session, user(db.session, "supervisor"), suspended, "核实材料")
        db.session.remove()
    engine_call(deploy_version, V2, "增设保密复核")

    assert engine_call(candidates) == {suspended: ["leader_review"]}
    previews = engine_call(preview, [suspended, rejected])

    assert [p.reasons for p in previews] == [["申请已挂起：请先恢复再迁移"], ["申请已办结"]]
    assert [r.migrated for r in engine_call(migrate, [suspended, rejected])] == [False, False]


def test_only_process_owners_and_admins_may_migrate(engine_call, login):
    from webapp.extensions import db  # noqa: F401 - the app context comes from engine_call

    instance_id = chain.apply(login)
    engine_call(deploy_version, V2, "增设保密复核")

    def as_reviewer(session: Any, runtime: Any) -> Any:
        return migration.migrate_instances(session, runtime, user(session, "office_reviewer"), "press_conference",
                                           [instance_id])

    with pytest.raises(Forbidden):
        engine_call(as_reviewer)
    assert login("yz_clerk").instance(instance_id)["version"] == 1


def test_the_newest_version_is_the_default_target_and_older_targets_are_refused(engine_call, login):
    instance_id = chain.apply(login)
    engine_call(deploy_version, V2, "增设保密复核")
    engine_call(deploy_version, V3, "取消保密复核")

    assert engine_call(candidates, from_version=1) == {instance_id: ["leader_review"]}
    assert engine_call(candidates, to_version=1) == {}
    [to_newest] = engine_call(preview, [instance_id])
    assert (to_newest.to_version, to_newest.can_migrate) == (3, True)
    [to_same] = engine_call(preview, [instance_id], 1)
    assert to_same.reasons == ["申请已在第 1 版，只能迁移到更新的版本"]
    assert BPMN != V3
