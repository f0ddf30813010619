"""Races against a real server: two leaders of one unit complete the same task at the same moment, round after
round, through gunicorn with two worker processes. Each round: exactly one success and one clean 409."""

from __future__ import annotations

import threading
from typing import Any

from tests.hardening.figures import FIGURES
from tests.hardening.live import SECOND_LEADER, STRESS, Answer, Stack, backend

ROUNDS = 100 if STRESS else 8
APPROVE = {"data": {"decision": "approve", "comment": "同意"}}


def race(stack: Stack, task_id: str) -> list[Answer]:
    barrier = threading.Barrier(2)
    answers: list[Any] = [None, None]

    def complete(index: int, user: str) -> None:
        try:
            barrier.wait(30)
            answers[index] = stack.call("POST", f"/api/v1/tasks/{task_id}/complete", APPROVE, user=user)
        except BaseException as exc:  # reported by the test, never swallowed
            answers[index] = exc

    threads = [threading.Thread(target=complete, args=(i, u)) for i, u in enumerate(("yz_leader", SECOND_LEADER))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    for answer in answers:
        if isinstance(answer, BaseException):
            raise answer
    return answers


def test_two_leaders_completing_one_task_at_once_give_one_success_and_one_clean_409_every_round(stack):
    stack.start_server(workers=2)
    for user in ("yz_clerk", "yz_leader", SECOND_LEADER):
        stack.token(user)
    instances, outcomes = [], []

    for _round in range(ROUNDS):
        instance_id, task_id = stack.start_quick_timer()
        answers = race(stack, task_id)
        instances.append(instance_id)
        outcomes.append(sorted(a.status for a in answers))
        refused = next(a for a in answers if a.status != 200)
        assert refused.body["error"]["code"] == "conflict", refused.body
        assert "message" in refused.body["error"]

    held = sum(outcome == [200, 409] for outcome in outcomes)
    FIGURES.append(f"races ({backend(stack)}): {held} of {ROUNDS} rounds held (one 200, one 409)")
    assert held == ROUNDS, outcomes
    completions = dict(stack.rows(
        "SELECT instance_id, count(*) FROM audit_entries WHERE action = 'complete' AND bpmn_id = 'budget_review'"
        " GROUP BY instance_id"))
    assert completions == {instance_id: 1 for instance_id in instances}  # no duplicate audit rows
    for instance_id in instances:  # every instance loads and stands at the timer after its one review
        loaded = stack.call("GET", f"/api/v1/instances/{instance_id}", user="yz_leader")
        assert loaded.status == 200 and loaded.body["status"] == "waiting", loaded.body
    assert "审计记录校验通过" in stack.pressflow("audit", "verify")
