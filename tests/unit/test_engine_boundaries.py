"""The engine stays free of the web, and the Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, make_url, text

from engine.models import Base

ROOT = Path(__file__).resolve().parent.parent.parent
MIGRATIONS = ROOT / "webapp" / "migrations"
PG_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])

# Imports every engine module in turn and reports the first one after which a web module is loaded.
IMPORT_EVERY_ENGINE_MODULE = """
import importlib, json, pkgutil, sys
import engine

def web_modules():
    return sorted(m for m in sys.modules if m == "flask" or m.startswith(("flask.", "flask_")))

names = ["engine"] + sorted(m.name for m in pkgutil.walk_packages(engine.__path__, "engine."))
for name in names:
    importlib.import_module(name)
    if web_modules():
        print(json.dumps({"culprit": name, "web": web_modules(), "imported": names}))
        break
else:
    print(json.dumps({"culprit": None, "web": [], "imported": names}))
"""

UPGRADE_TO_HEAD = """
import sys
import flask_migrate
from webapp import create_app

app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1]})
with app.app_context():
    flask_migrate.upgrade()
"""


def run_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter from the project root."""
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PRESSFLOW_SECRET_KEY": "boundary-test-key"},  # keep instance/secret_key untouched
    )


def test_no_engine_module_imports_flask():
    result = run_python(IMPORT_EVERY_ENGINE_MODULE)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])

    assert "engine.workflow.runtime" in report["imported"]
    assert "engine.review.applications" in report["imported"]
    assert report["culprit"] is None, f"{report['culprit']} pulls in {report['web']}"


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own: a new SQLite file, or a throwaway PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    name = f"pf_migrations_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migrations_build_the_schema_the_models_describe(empty_database):
    result = run_python(UPGRADE_TO_HEAD, empty_database)
    assert result.returncode == 0, result.stderr

    engine = create_engine(empty_database)
    try:
        with engine.connect() as conn:
            revision = conn.scalar(text("SELECT version_num FROM alembic_version"))
            differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    heads = ScriptDirectory(str(MIGRATIONS)).get_heads()

    assert [revision] == heads
    assert differences == [], "models and migrations disagree; add a migration:\n" + "\n".join(map(str, differences))
