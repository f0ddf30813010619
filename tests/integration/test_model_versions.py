"""Versions of a deployed process: the list with running instances, the change summary, a decision table change that
the selection form follows for new applications only, and a dry run that leaves the database alone."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from engine import clock
from engine.modeling.dry_run import dry_run_version
from engine.modeling.versions import list_versions, version_changes
from engine.models import AuditEntry, HumanTask, Instance, Notification
from engine.workflow.deploy import deploy, latest_version
from tests.integration import chain
from tests.model_edits import BPMN, DMN, replaced, with_secrecy_recheck, with_vice_mayor_for_the_office


@pytest.fixture
def in_app(app: Any) -> Callable[..., Any]:
    """``in_app(fn, *args)`` runs ``fn(session, runtime, *args)`` in an app context."""
    from webapp.extensions import db

    def call(fn: Callable[..., Any], *args: Any) -> Any:
        with app.app_context():
            try:
                return fn(db.session, app.extensions["pressflow_runtime"], *args)
            finally:
                db.session.remove()

    return call


def deploy_as_owner(bpmn: str, dmn: str, note: str) -> Callable[..., Any]:
    return lambda session, runtime: deploy(session, runtime, bpmn, [dmn], "owner", note).version.version


# --- the version list -----------------------------------------------------------------------------------------


def test_versions_are_listed_newest_first_with_who_when_why_hash_and_running_instances(in_app, login, frozen_clock):
    running_on_v1 = chain.apply(login)
    rejected_on_v1 = chain.apply(login)
    login("yz_leader").complete(rejected_on_v1, "leader_review", {"decision": "reject", "comment": "不同意"})
    frozen_clock.advance(days=1)
    in_app(deploy_as_owner(with_secrecy_recheck(), DMN, "增设保密复核"))
    chain.apply(login)

    v2, v1 = in_app(lambda session, runtime: list_versions(session, "press_conference"))

    assert (v2.version, v2.deployed_by, v2.note, v2.running, v2.is_current) == (2, "owner", "增设保密复核", 1, True)
    assert (v1.version, v1.deployed_by, v1.running, v1.is_current) == (1, "tests", 1, False)
    assert v2.deployed_at == clock.now() and v1.deployed_at < v2.deployed_at
    assert re.fullmatch(r"[0-9a-f]{64}", v2.content_hash) and v2.content_hash != v1.content_hash
    assert login("yz_clerk").instance(running_on_v1)["version"] == 1


def test_the_change_summary_between_two_deployed_versions_names_each_change(in_app):
    in_app(deploy_as_owner(replaced(with_secrecy_recheck(), 'name="dueInWorkdays" value="5"',
                                    'name="dueInWorkdays" value="8"'), with_vice_mayor_for_the_office(), "v2"))

    forward = in_app(lambda session, runtime: version_changes(session, "press_conference", 1, 2))
    backward = in_app(lambda session, runtime: version_changes(session, "press_conference", 2, 1))

    assert {(e.id, e.type, e.name) for e in forward.added} == {
        ("secrecy_recheck", "userTask", "保密复核"), ("flow_recheck_office", "sequenceFlow", "")}
    changed = {e.id: {c.property: (c.old, c.new) for c in e.changes} for e in forward.changed}
    assert changed["topic_application"] == {"dueInWorkdays": ("5", "8")}
    assert changed["flow_secrecy_pass"] == {"target": ("office_topic_review", "secrecy_recheck")}
    assert changed["Rule_information_office"]["则 可选主要发布人"][1].endswith('"vice_mayor"]')
    assert forward.removed == [] and forward.layout_changed
    assert {e.id for e in backward.removed} == {"secrecy_recheck", "flow_recheck_office"}


# --- a decision table change ----------------------------------------------------------------------------------


def deploy_files(app: Any, tmp_path: Path, dmn: str) -> str:
    from webapp.cli import main

    (tmp_path / "press_conference.bpmn").write_text(BPMN, encoding="utf-8")
    (tmp_path / "host_speaker.dmn").write_text(dmn, encoding="utf-8")
    result = CliRunner().invoke(main, ["deploy", str(tmp_path / "press_conference.bpmn"),
                                       str(tmp_path / "host_speaker.dmn"), "--note", "副市长可作新闻办名义发布人",
                                       "--by", "owner"], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    return result.output


def at_host_speaker_selection(login: Any) -> int:
    instance_id = chain.apply(login, name_holder="information_office")
    chain.through_unit(login, instance_id)
    chain.office_accepts(login, instance_id)
    chain.content_approved(login, instance_id)
    return instance_id


VICE_MAYOR_SPEAKS = {"speaker_name": "张副市长", "speaker_role": "vice_mayor", "host_name": "何平",
                     "host_role": "spokesperson_assistant", "guests": []}


def test_a_deployed_decision_change_lets_the_selection_form_accept_a_new_speaker_for_new_applications_only(
    app, login, tmp_path
):
    office = login("office_reviewer")
    started_before = at_host_speaker_selection(login)
    refused = office.complete(started_before, "host_speaker_selection", VICE_MAYOR_SPEAKS, status=422)
    assert "speaker_role" in refused["error"]["fields"]

    assert "已部署新版本：press_conference v2" in deploy_files(app, tmp_path, with_vice_mayor_for_the_office())
    started_after = at_host_speaker_selection(login)

    accepted = office.complete(started_after, "host_speaker_selection", VICE_MAYOR_SPEAKS)
    assert accepted["version"] == 2
    assert [t["bpmn_id"] for t in accepted["tasks"]] == ["pre_announcement", "venue_preparation"]
    still_refused = office.complete(started_before, "host_speaker_selection", VICE_MAYOR_SPEAKS, status=422)
    assert still_refused["error"]["fields"]["speaker_role"] == refused["error"]["fields"]["speaker_role"]
    assert office.instance(started_before)["version"] == 1


# --- dry run --------------------------------------------------------------------------------------------------


def test_a_dry_run_of_the_deployed_version_writes_nothing_and_notifies_nobody(in_app, login):
    chain.apply(login)

    def counts(session: Any, runtime: Any) -> list[int]:
        return [session.scalar(select(func.count()).select_from(table))
                for table in (Instance, HumanTask, AuditEntry, Notification)]

    before = in_app(counts)
    result = in_app(lambda session, runtime: dry_run_version(latest_version(session, "press_conference")))

    assert result.outcome == "completed" and len(result.steps) > 10
    assert in_app(counts) == before
