"""留痕 that shows tampering: every audit row is chained to the one before it, and ``pressflow audit verify`` says
which row of which application was changed or removed."""

from __future__ import annotations

import time
from typing import Any

from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import text

from tests.integration.chain import apply, through_unit
from webapp.cli import main


def verify(app: Any) -> Any:
    return CliRunner().invoke(main, ["audit", "verify"], obj=ScriptInfo(create_app=lambda: app))


def execute(app: Any, sql: str, **params: Any) -> None:
    from webapp.extensions import db

    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text(sql), params)


def trail_ids(app: Any, instance_id: int) -> list[int]:
    from webapp.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        return list(conn.execute(text("SELECT id FROM audit_entries WHERE instance_id = :i ORDER BY id"),
                                 {"i": instance_id}).scalars())


def test_an_untouched_trail_verifies_and_each_row_links_to_the_one_before(app, login):
    instance_id = apply(login)
    through_unit(login, instance_id)

    result = verify(app)

    assert result.exit_code == 0, result.output
    assert "审计记录校验通过" in result.output
    assert len(trail_ids(app, instance_id)) >= 4


def test_an_edited_comment_is_reported_with_its_application_and_row(app, login):
    instance_id = apply(login)
    through_unit(login, instance_id)
    row = trail_ids(app, instance_id)[2]
    execute(app, "UPDATE audit_entries SET comment = '同意（事后改写）' WHERE id = :id", id=row)

    result = verify(app)

    assert result.exit_code == 1
    assert f"申请 {instance_id} 记录 {row}：记录内容已被改动" in result.output


def test_a_removed_row_in_the_middle_and_a_removed_last_row_are_both_reported(app, login):
    first, second = apply(login), apply(login)
    through_unit(login, second)
    middle, last = trail_ids(app, first)[1], trail_ids(app, second)[-1]
    following = trail_ids(app, first)[2]
    execute(app, "DELETE FROM audit_entries WHERE id IN (:a, :b)", a=middle, b=last)

    result = verify(app)

    assert result.exit_code == 1
    assert f"申请 {first} 记录 {following}：前一条记录已被删除或改动" in result.output
    assert f"申请 {second}：最后的记录已被删除或改动" in result.output


def test_a_changed_actor_is_reported_even_when_its_hash_is_recomputed_without_the_chain(app, login):
    instance_id = apply(login)
    rows = trail_ids(app, instance_id)
    # A forger who rewrites the row and its own hash still breaks the link the next row holds.
    execute(app, "UPDATE audit_entries SET actor = 'yz_leader', row_hash = :h WHERE id = :id",
            h="0" * 64, id=rows[0])

    result = verify(app)

    assert result.exit_code == 1
    assert f"记录 {rows[1]}：前一条记录已被删除或改动" in result.output


def test_the_migration_gives_existing_rows_their_hashes_so_a_trail_from_before_verifies_and_shows_edits(
        tmp_path, frozen_clock):
    import flask_migrate

    from engine.org.units import seed_demo
    from engine.workflow.deploy import deploy_directory
    from tests.conftest import DEMO_PASSWORD, DEMO_PASSWORD_HASH, PROCESSES, ApiUser
    from webapp import create_app
    from webapp.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}", "TESTING": True,
                      "SECRET_KEY": "test-secret-key-not-for-production"})
    with app.app_context():
        flask_migrate.upgrade()
        deploy_directory(db.session, app.extensions["pressflow_runtime"], PROCESSES, "tests")
        seed_demo(db.session, DEMO_PASSWORD, password_hash=DEMO_PASSWORD_HASH)
        db.session.remove()
    client = app.test_client()
    instance_id = apply(lambda username: ApiUser(client, username))
    with app.app_context():
        flask_migrate.downgrade(revision="0004_process_drafts")  # the trail as it stood before the chain
        flask_migrate.upgrade()
        db.session.remove()

    assert verify(app).exit_code == 0
    execute(app, "UPDATE audit_entries SET actor = 'someone_else' WHERE id = :id", id=trail_ids(app, instance_id)[0])
    assert "记录内容已被改动" in verify(app).output
    with app.app_context():
        db.engine.dispose()


def test_rows_appended_while_the_check_runs_are_never_reported_as_tampering(app, login):
    """The check runs beside a working system: on PostgreSQL, read committed, a row committed between reading an
    application's newest hash and reading its rows used to be reported as a removed last row."""
    import threading

    from engine.workflow.audit_chain import verify_trails
    from engine.workflow.uow import audit, require_instance, unit_of_work
    from webapp.extensions import db

    instance_id = apply(login)
    stop = threading.Event()
    written = [0]

    def append_rows() -> None:
        with app.app_context():
            while not stop.is_set():
                with unit_of_work(db.session):
                    audit(db.session, require_instance(db.session, instance_id), "yz_clerk", "comment", comment="补充")
                written[0] += 1
            db.session.remove()

    writer = threading.Thread(target=append_rows)
    writer.start()
    try:
        with app.app_context():
            # At least 60 checks, and on until the writer has really written beside them (a busy machine can run
            # 60 checks of one short trail before SQLite's one writer gets its turn).
            found, checks, deadline = [], 0, time.monotonic() + 60
            while (checks < 60 or written[0] <= 10) and time.monotonic() < deadline:
                found += [b.describe() for b in verify_trails(db.session)]
                checks += 1
            db.session.remove()
    finally:
        stop.set()
        writer.join()

    assert found == []
    assert len(trail_ids(app, instance_id)) > 10  # the writer really wrote while the check ran
