"""A timer is due strictly after its moment, as SpiffWorkflow fires it; ``run-timers --now`` at the very moment
used to count it as due without firing it and then loop on it forever."""

from __future__ import annotations

from tests.integration import chain


def test_run_timers_at_the_exact_conference_start_moves_nothing_and_a_minute_later_fires(app, login):
    instance_id = chain.to_conference_timer(login)

    assert "已推进 0 个实例" in chain.run_timers(app, "2026-03-20T10:00")
    assert chain.open_steps(login("yz_clerk"), instance_id) == []
    assert f"已推进 1 个实例：{instance_id}" in chain.run_timers(app, "2026-03-20T10:00:01")
    assert chain.open_steps(login("yz_clerk"), instance_id) == ["conference_record"]
