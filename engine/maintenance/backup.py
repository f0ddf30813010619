"""Backup and restore of the whole database: SQLite's online backup API, PostgreSQL's pg_dump / pg_restore.

SQLite: ``sqlite3.Connection.backup`` copies a consistent snapshot page by page while the server keeps running (WAL
readers and writers carry on). PostgreSQL: ``pg_dump --format=custom`` takes a consistent snapshot in one transaction;
``pg_restore --clean --if-exists --single-transaction`` puts it back all or nothing.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess  # noqa: S404 - pg_dump / pg_restore are the documented PostgreSQL tools
from pathlib import Path

from sqlalchemy.engine import make_url

from engine.errors import PressflowError


class BackupError(PressflowError):
    """A backup or restore could not be made."""


def backup_database(database_url: str, target: Path) -> Path:
    """Write a consistent copy of the database to ``target`` while it stays in use."""
    url = make_url(database_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        source_path = _sqlite_path(database_url)
        if not Path(source_path).exists():
            raise BackupError(f"数据库文件不存在：{source_path}")
        with sqlite3.connect(source_path) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        copy.close()
        return target
    _run_pg_tool("pg_dump", ["--format=custom", "--no-owner", f"--file={target}", _libpq_url(database_url)])
    return target


def restore_database(database_url: str, source: Path) -> None:
    """Replace the database's content with a backup (stop the server and workers first)."""
    if not source.is_file():
        raise BackupError(f"备份文件不存在：{source}")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(source) as check:
            if check.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                raise BackupError(f"备份文件已损坏：{source}")
        check.close()
        with sqlite3.connect(source) as backup, sqlite3.connect(_sqlite_path(database_url)) as live:
            backup.backup(live)
        live.close()
        return
    _run_pg_tool("pg_restore", ["--clean", "--if-exists", "--no-owner", "--single-transaction",
                                f"--dbname={_libpq_url(database_url)}", str(source)])


def _sqlite_path(database_url: str) -> str:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("内存数据库无法备份")
    return database


def _libpq_url(database_url: str) -> str:
    # pg_dump speaks libpq URLs: the SQLAlchemy driver suffix (postgresql+psycopg) has to go.
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run_pg_tool(tool: str, args: list[str]) -> None:
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(f"找不到 {tool}：请安装与服务器同版本的 PostgreSQL 客户端工具")
    done = subprocess.run([executable, *args], capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{tool} 失败：{done.stderr.strip()[:2000]}")
