"""Races through the API: two people acting on one application at the same moment, each on their own connection.

Each thread has its own test client, token and therefore its own database session. A barrier releases both
requests together, so they really overlap: on SQLite one waits for the write lock (BEGIN IMMEDIATE and the busy
timeout), on PostgreSQL for the instance row (SELECT ... FOR UPDATE).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from tests.conftest import ApiUser
from tests.integration import chain

TIMEOUT_SECONDS = 60


def race(app: Any, *moves: tuple[str, Callable[[ApiUser], Any]]) -> list[tuple[str, int, dict]]:
    """Run each ``(username, move)`` in its own thread with its own client, all released at once."""
    users = [(ApiUser(app.test_client(), username), move) for username, move in moves]
    barrier = threading.Barrier(len(users))
    results: list[Any] = [None] * len(users)

    def run(index: int, user: ApiUser, move: Callable[[ApiUser], Any]) -> None:
        try:
            barrier.wait(TIMEOUT_SECONDS)
            response = move(user)
            results[index] = (user.username, response.status_code, response.get_json())
        except BaseException as exc:  # reported to the test below, never swallowed
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, user, move)) for i, (user, move) in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a racing request never answered"
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def complete(task_id: str, data: dict[str, Any]) -> Callable[[ApiUser], Any]:
    return lambda user: user.post(f"/tasks/{task_id}/complete", json={"data": data})


def claim(task_id: str) -> Callable[[ApiUser], Any]:
    return lambda user: user.post(f"/tasks/{task_id}/claim")


def history(user: ApiUser, instance_id: int, action: str, bpmn_id: str) -> list[dict[str, Any]]:
    response = user.get(f"/instances/{instance_id}/history")
    assert response.status_code == 200, response.get_json()
    return [h for h in response.get_json() if h["action"] == action and h["bpmn_id"] == bpmn_id]


def test_two_simultaneous_completions_of_one_task_give_one_success_one_conflict_and_one_audit_row(app, login):
    instance_id = chain.apply(login)
    task_id = login("yz_leader").task_at(instance_id, "leader_review")["id"]
    approve = complete(task_id, {"decision": "approve", "comment": "同意"})

    results = race(app, ("yz_leader", approve), ("yz_leader", approve))

    assert sorted(status for _, status, _ in results) == [200, 409]
    loser = next(body for _, status, body in results if status == 409)
    assert loser["error"]["code"] == "conflict"
    assert len(history(login("supervisor"), instance_id, "complete", "leader_review")) == 1
    assert chain.open_steps(login("yz_secrecy"), instance_id) == ["secrecy_review"]
    login("yz_secrecy").complete(instance_id, "secrecy_review", {"decision": "pass", "comment": ""})
    assert chain.open_steps(login("office_reviewer"), instance_id) == ["office_topic_review"]


def test_leader_and_spokesperson_deciding_the_same_content_approval_at_once_leave_one_decision(app, login):
    instance_id = chain.apply(login)
    chain.through_unit(login, instance_id)
    chain.office_accepts(login, instance_id)
    task_id = login("yz_leader").task_at(instance_id, "content_approval_district")["id"]

    results = race(app, ("yz_leader", complete(task_id, {"decision": "approve", "comment": "内容审定同意"})),
                   ("yz_spokes", complete(task_id, {"decision": "reject", "comment": "口径不宜发布"})))

    assert sorted(status for _, status, _ in results) == [200, 409]
    winner = next(username for username, status, _ in results if status == 200)
    supervisor = login("supervisor")
    decided = history(supervisor, instance_id, "complete", "content_approval_district")
    assert [h["actor"] for h in decided] == [winner]
    instance = supervisor.instance(instance_id)
    if winner == "yz_leader":
        assert [t["bpmn_id"] for t in instance["tasks"]] == ["host_speaker_selection"]
    else:
        assert (instance["status"], instance["outcome"], instance["tasks"]) == ("completed", "rejected", [])


def test_two_simultaneous_claims_of_one_group_task_leave_it_with_exactly_one_of_them(app, login):
    instance_id = chain.apply(login)
    chain.through_unit(login, instance_id)
    chain.office_accepts(login, instance_id)
    task_id = login("yz_leader").task_at(instance_id, "content_approval_district")["id"]

    results = race(app, ("yz_leader", claim(task_id)), ("yz_spokes", claim(task_id)))

    statuses = sorted(status for _, status, _ in results)
    assert statuses[0] == 200 and statuses[1] in (403, 409), results
    winner, loser = (r[0] for r in sorted(results, key=lambda r: r[1]))
    assert login(winner).task_at(instance_id, "content_approval_district")["assignee"] == winner
    assert task_id not in [t["id"] for t in login(loser).tasks()]
    assert [h["actor"] for h in history(login("supervisor"), instance_id, "claim", "content_approval_district")] \
        == [winner]


def test_parallel_steps_completed_at_the_same_moment_both_count(app, login):
    instance_id = chain.apply(login)
    chain.through_unit(login, instance_id)
    chain.office_accepts(login, instance_id)
    chain.content_approved(login, instance_id)
    chain.select_host_speaker(login, instance_id)
    venue = login("onsite").task_at(instance_id, "venue_preparation")["id"]
    notice = login("office_reviewer").task_at(instance_id, "pre_announcement")["id"]

    results = race(
        app,
        ("onsite", complete(venue, {"venue_confirmed": True, "venue_name": "市新闻发布中心",
                                    "live_stream_ready": True, "notes": ""})),
        ("office_reviewer", complete(notice, {"published": True, "published_on": "2026-03-18",
                                              "announcement_url": "https://www.cq.gov.cn/cqfb/notice"})),
    )

    # Both are different tasks: the loser of the lock waits its turn instead of being refused or lost.
    assert [status for _, status, _ in results] == [200, 200], results
    supervisor = login("supervisor")
    assert len(history(supervisor, instance_id, "complete", "venue_preparation")) == 1
    assert len(history(supervisor, instance_id, "complete", "pre_announcement")) == 1
    instance = supervisor.instance(instance_id)
    assert (instance["status"], instance["tasks"]) == ("waiting", [])
    assert instance["next_timer_at"] is not None
