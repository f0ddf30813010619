"""Backup and restore drill: ``pressflow backup`` while the application is in use, later work, ``pressflow restore``
into an empty database, then the whole application runs on the restored copy: the state of the backup moment, the
audit chain intact, and the application continues from there."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import make_url

from tests.conftest import ApiUser
from tests.integration.chain import apply
from webapp.cli import main

APPROVE = {"decision": "approve", "comment": "同意"}


def pressflow(app: Any, *args: str) -> str:
    result = CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def empty_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """Where the backup is restored to: a new SQLite file, or a new database on the same PostgreSQL server."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    import psycopg
    from psycopg import sql

    name = f"pf_restore_{secrets.token_hex(4)}"
    admin = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_a_restored_backup_holds_the_backup_moment_verifies_and_the_application_continues_on_it(
        app, login, tmp_path, empty_database):
    from webapp import create_app
    from webapp.extensions import db

    instance_id = apply(login)
    backup = tmp_path / "pressflow.backup"
    assert "已备份" in pressflow(app, "backup", str(backup))
    login("yz_leader").complete(instance_id, "leader_review", APPROVE)  # after the backup: not in it

    restored = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "TESTING": True,
                           "SECRET_KEY": "test-secret-key-not-for-production"})
    restored.config["PRESSFLOW"] = app.config["PRESSFLOW"]
    assert "已从" in pressflow(restored, "restore", str(backup), "--yes")
    assert "审计记录校验通过" in pressflow(restored, "audit", "verify")

    client = restored.test_client()
    leader = ApiUser(client, "yz_leader")
    assert [t["bpmn_id"] for t in leader.instance(instance_id)["tasks"]] == ["leader_review"]
    leader.complete(instance_id, "leader_review", APPROVE)
    assert [t["bpmn_id"] for t in leader.instance(instance_id)["tasks"]] == ["secrecy_review"]
    assert ApiUser(client, "yz_secrecy").tasks()  # and the next reviewer finds it in the inbox
    assert "审计记录校验通过" in pressflow(restored, "audit", "verify")
    with restored.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_backup_of_a_missing_sqlite_file_fails_with_a_clear_message(tmp_path):
    from engine.maintenance.backup import BackupError, backup_database

    with pytest.raises(BackupError, match="数据库文件不存在"):
        backup_database(f"sqlite:///{tmp_path / 'missing.db'}", tmp_path / "out.db")

