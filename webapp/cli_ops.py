"""``pressflow audit verify``, ``pressflow backup`` and ``pressflow restore``: checking and keeping the record."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from engine.errors import PressflowError
from webapp.cli import _fail, main


@main.group("audit")
def audit_group() -> None:
    """The audit trail (留痕)."""


@audit_group.command("verify")
@with_appcontext
def audit_verify_command() -> None:
    """Recompute every trail's hash chain; list each row changed or removed and exit 1 if there is any."""
    from engine.workflow.audit_chain import verify_trails
    from webapp.extensions import db

    breaks = 0
    for found in verify_trails(db.session):
        breaks += 1
        click.secho(found.describe(), fg="red")
    db.session.remove()
    if breaks:
        click.secho(f"审计记录校验失败：发现 {breaks} 处被改动或删除", fg="red", err=True)
        raise SystemExit(1)
    click.echo("审计记录校验通过：所有留痕完整、未被改动")


@main.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(target: Path) -> None:
    """Write a consistent backup of the database to TARGET while the server keeps running."""
    from engine.maintenance.backup import backup_database

    try:
        backup_database(current_app.config["SQLALCHEMY_DATABASE_URI"], target)
    except PressflowError as exc:
        _fail(exc)
    click.echo(f"已备份到 {target}")


@main.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.confirmation_option(prompt="恢复将覆盖当前数据库的全部内容，继续吗？")
@with_appcontext
def restore_command(source: Path) -> None:
    """Replace the database with the backup SOURCE (stop the server and workers first)."""
    from engine.maintenance.backup import restore_database
    from webapp.extensions import db

    db.engine.dispose()  # our own pooled connections must not hold the file or the tables
    try:
        restore_database(current_app.config["SQLALCHEMY_DATABASE_URI"], source)
    except PressflowError as exc:
        _fail(exc)
    click.echo(f"已从 {source} 恢复；请运行 pressflow db upgrade 后再启动服务")
