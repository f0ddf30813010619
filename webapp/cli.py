"""The ``pressflow`` command: set-up, serving, timers, deployment, calendar and users (a Flask CLI group)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import sys
import threading
from contextlib import nullcontext, suppress
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from engine import clock
from engine.errors import PressflowError

ROOT = Path(__file__).resolve().parent.parent


def _create_app() -> Any:
    from webapp import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, help="PressFlow 新闻发布审批流程平台", add_version_option=False)


def _settings() -> Any:
    return current_app.config["PRESSFLOW"]


def _runtime() -> Any:
    return current_app.extensions["pressflow_runtime"]


def _fail(exc: PressflowError) -> None:
    click.secho(f"错误：{exc.message}", fg="red", err=True)
    for name, messages in (exc.fields or {}).items():
        click.secho(f"  {name}: {'; '.join(map(str, messages))}", fg="red", err=True)
    for problem in getattr(exc, "problems", []) or []:
        click.secho(f"  [{problem.get('element_id') or '-'}] {problem.get('message')}", fg="red", err=True)
    raise SystemExit(1)


@main.command("init")
@click.option("--demo", is_flag=True, help="同时创建演示单位和用户")
@click.option("--samples", is_flag=True, help="与 --demo 一起：数据库中还没有申请时，创建几份处于不同环节的示例申请")
@with_appcontext
def init_command(demo: bool, samples: bool) -> None:
    """Migrate the database, deploy processes/ and optionally seed the demo organisation (idempotent)."""
    import flask_migrate

    if samples and not demo:
        raise click.UsageError("--samples 须与 --demo 一起使用（示例申请由演示用户办理）")

    from engine.org.units import DEMO_USERS, seed_demo
    from engine.workflow.deploy import deploy_directory
    from webapp.extensions import db

    flask_migrate.upgrade()
    try:
        deployments = deploy_directory(db.session, _runtime(), Path(_settings().processes_dir), "pressflow init")
    except PressflowError as exc:
        _fail(exc)
    for d in deployments:
        state = "新部署" if d.created else "已是最新"
        click.echo(f"流程 {d.version.process_key} v{d.version.version}（{d.version.name}）：{state}")
    if demo:
        added = seed_demo(db.session, _settings().demo_password)
        click.echo(f"演示组织就绪（新增用户 {added} 个）。演示账号，密码均为 {_settings().demo_password}：")
        for username, display_name, grants in DEMO_USERS:
            roles = ", ".join(f"{role}@{unit}" for role, unit in grants)
            click.echo(f"  {username:<17} {display_name}  [{roles}]")
    if samples:
        _seed_samples()


def _seed_samples() -> None:
    from engine.samples import seed_sample_applications
    from webapp.extensions import db

    try:
        made = seed_sample_applications(db.session, _runtime())
    except PressflowError as exc:  # a changed process must not stop `make run` from serving
        click.secho(f"示例申请未创建：{exc.message}", fg="yellow", err=True)
        return
    click.echo(f"示例申请：新建 {made} 份" if made else "示例申请：数据库中已有申请，未新建")


@main.command("serve")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="端口（默认 $PORT 或 8000）")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="gunicorn 进程数")
@click.option("--with-worker", is_flag=True, help="同时运行一个定时任务进程（pressflow worker），随服务一起停止")
@with_appcontext
def serve_command(port: int | None, host: str, workers: int | None, with_worker: bool) -> None:
    """Serve the web application with gunicorn, and with one timer worker beside it when asked."""
    settings = _settings()
    gunicorn = shutil.which("gunicorn") or str(Path(sys.executable).parent / "gunicorn")
    bind = f"{host}:{port or settings.port}"
    click.echo(f"PressFlow 在 http://{bind} 提供服务（Ctrl+C 停止）")
    argv = [gunicorn, "--bind", bind, "--workers", str(workers or settings.web_workers),
            "--chdir", str(ROOT), "--access-logfile", "-", "webapp.wsgi:app"]
    if with_worker:
        click.echo("定时任务进程随服务启动（生产环境请单独运行 pressflow worker）")
        argv[1:1] = ["--config", "python:webapp.serve_hooks"]
    os.execv(gunicorn, argv)  # noqa: S606 - become gunicorn; every argument is ours


@main.command("run-timers")
@click.option("--now", "now_text", default=None, metavar="ISO",
              help="以此时刻为当前时间（ISO 8601，无时区按北京时间），用于测试与补跑")
@with_appcontext
def run_timers_command(now_text: str | None) -> None:
    """Advance every instance whose timer is due and start due timed-release rounds (one pass)."""
    from engine.worker.timed_releases import run_timed_releases
    from engine.worker.timers import run_due_timers
    from webapp.extensions import db

    total: list[int] = []
    with clock.frozen_at(_parse_now(now_text)) if now_text else nullcontext():
        while batch := run_due_timers(db.session, _runtime(), _settings().timer_batch_size):
            total.extend(batch)
        while batch := run_timed_releases(db.session, _runtime(), _settings().timer_batch_size):
            total.extend(batch)
        opened = _open_annual_evaluations()
        chased, sent = _deliver_notifications()
    click.echo(f"已推进 {len(total)} 个实例" + (f"：{', '.join(map(str, total))}" if total else ""))
    if opened:
        click.echo(f"已启动年度考评 {len(opened)} 个：{', '.join(map(str, opened))}")
    click.echo(f"逾期提醒 {chased.reminded} 个任务，督办升级 {chased.escalated} 个任务，发送邮件 {sent} 封")


def _open_annual_evaluations() -> list[int]:
    """Start the year's annual evaluations (年度考评) that are due and not yet started; return the instance ids."""
    from engine.worker.annual import start_annual_evaluations
    from webapp.extensions import db

    settings = _settings()
    return start_annual_evaluations(db.session, _runtime(), clock.now(), settings.annual_evaluation_month,
                                    settings.annual_evaluation_window_days)


def _deliver_notifications() -> tuple[Any, int]:
    """Remind and escalate late tasks, then e-mail queued notifications when SMTP is configured."""
    from engine.review.digest import send_digests
    from engine.review.notify import SmtpSettings, send_pending_emails
    from engine.review.webhooks import deliver_webhooks
    from engine.worker.reminders import chase_late_tasks
    from webapp.extensions import db

    settings = _settings()
    chased = chase_late_tasks(db.session, clock.now())
    smtp = SmtpSettings(host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_sender,
                        username=settings.smtp_username, password=settings.smtp_password,
                        starttls=bool(settings.smtp_starttls), base_url=settings.base_url)
    sent = 0
    while batch := send_pending_emails(db.session, smtp):
        sent += batch
    sent += send_digests(db.session, smtp, settings.digest_hour)
    while deliver_webhooks(db.session, settings.base_url):
        pass  # a failed delivery waits for its next attempt, so this ends
    return chased, sent


def _parse_now(text: str) -> dt.datetime:
    from engine.workdays.calendar import SHANGHAI

    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"无法解析时间 {text!r}，请用 ISO 8601，如 2026-12-01T10:00") from exc
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


@main.command("worker")
@click.option("--once", is_flag=True, help="只运行一轮后退出")
@with_appcontext
def worker_command(once: bool) -> None:
    """Run timers, reminders, escalations and e-mail in a loop until SIGTERM/SIGINT (safe to start on many hosts)."""
    from engine.worker import heartbeat
    from engine.worker.timed_releases import run_timed_releases
    from engine.worker.timers import run_due_timers
    from webapp.extensions import db

    # An Event, not a flag and time.sleep: the signal handler's set() ends the wait at once, so `docker stop`
    # (10 s grace) never has to kill a worker that polls less often than that.
    stopping = threading.Event()

    def _stop(_signum: int, _frame: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    settings = _settings()
    me = heartbeat.worker_id()
    heartbeat.register(db.session, me, clock.now())
    click.echo(f"定时任务进程已启动（{me}，每 {settings.worker_poll_seconds}s 检查一次）")
    while not stopping.is_set():
        advanced = _worker_pass(me, lambda: run_due_timers(db.session, _runtime(), settings.timer_batch_size)
                                + run_timed_releases(db.session, _runtime(), settings.timer_batch_size))
        if once:
            break
        if not advanced:
            stopping.wait(settings.worker_poll_seconds)
    with suppress(Exception):  # unreachable database: the row goes stale, which says the same
        heartbeat.retire(db.session, me)
    db.session.remove()
    click.echo("定时任务进程已停止")


def _worker_pass(me: str, fire_timers: Any) -> list[int]:
    """One pass of the worker; a failure is logged and kept on the heartbeat row, and the worker carries on."""
    from engine.worker import heartbeat
    from webapp.extensions import db

    try:
        advanced = fire_timers()
        opened = _open_annual_evaluations()
        chased, sent = _deliver_notifications()
        heartbeat.beat(db.session, me, clock.now())
    except Exception as exc:  # noqa: BLE001 - a lost connection or a bad row must not end the worker
        db.session.rollback()
        click.secho(f"{clock.now().isoformat()} 本轮出错：{exc!r}", fg="red", err=True)
        with suppress(Exception):  # the database may be what failed
            heartbeat.beat(db.session, me, clock.now(), error=repr(exc))
        return []
    finally:
        db.session.remove()
    if advanced:
        click.echo(f"{clock.now().isoformat()} 已推进实例 {', '.join(map(str, advanced))}")
    if opened:
        click.echo(f"{clock.now().isoformat()} 已启动年度考评 {', '.join(map(str, opened))}")
    if chased.reminded or chased.escalated or sent:
        click.echo(f"{clock.now().isoformat()} 逾期提醒 {chased.reminded} 个任务，"
                   f"督办升级 {chased.escalated} 个任务，发送邮件 {sent} 封")
    return advanced


@main.command("deploy")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--note", default="", help="版本说明")
@click.option("--by", "deployed_by", default="cli", show_default=True, help="部署人")
@with_appcontext
def deploy_command(files: tuple[Path, ...], note: str, deployed_by: str) -> None:
    """Validate and deploy BPMN files (with the DMN files given) as new versions."""
    from engine.workflow.deploy import deploy_files
    from webapp.extensions import db

    try:
        deployments = deploy_files(db.session, _runtime(), list(files), deployed_by, note)
    except PressflowError as exc:
        _fail(exc)
    for d in deployments:
        state = "已部署新版本" if d.created else "内容未变化，保持"
        click.echo(f"{state}：{d.version.process_key} v{d.version.version}")


@main.group("calendar")
def calendar_group() -> None:
    """Working-day calendar."""


@calendar_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def calendar_import_command(file: Path) -> None:
    """Load a year's holidays and make-up working days (CSV: date,type,note) from the State Council notice."""
    from engine.workdays.calendar import CalendarImportError
    from engine.workdays.store import import_overrides
    from webapp.extensions import db

    try:
        count, years = import_overrides(db.session, file.read_text(encoding="utf-8"), file.name)
    except UnicodeDecodeError as exc:
        # Excel on Chinese Windows saves plain "CSV" as GBK: say how to fix it, not which byte failed.
        click.secho(f"错误：{file.name} 不是 UTF-8 编码，请另存为“CSV UTF-8（逗号分隔）”后再导入", fg="red", err=True)
        raise SystemExit(1) from exc
    except CalendarImportError as exc:
        click.secho(f"错误：{exc}", fg="red", err=True)
        raise SystemExit(1) from exc
    click.echo(f"已导入 {count} 个调整日，年份：{', '.join(map(str, years))}")


@main.group("user")
def user_group() -> None:
    """Users and role grants."""


@user_group.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="显示名称")
@click.option("--email", default=None, help="电子邮箱（用于邮件通知，可选）")
@click.password_option(help="密码（至少 8 位）")
@with_appcontext
def user_create_command(username: str, display_name: str, email: str | None, password: str) -> None:
    """Create a user."""
    from engine.org.units import create_user
    from webapp.extensions import db

    try:
        create_user(db.session, username, display_name, password, email=email)
    except PressflowError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"已创建用户 {username}")


@user_group.command("grant")
@click.argument("username")
@click.argument("role")
@click.argument("unit")
@with_appcontext
def user_grant_command(username: str, role: str, unit: str) -> None:
    """Give USERNAME the ROLE in UNIT (unit code)."""
    from sqlalchemy import select

    from engine.models import User
    from engine.org.units import grant, unit_by_code
    from webapp.extensions import db

    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        click.secho(f"错误：用户 {username} 不存在", fg="red", err=True)
        raise SystemExit(1)
    try:
        grant(db.session, user, role, unit_by_code(db.session, unit))
    except PressflowError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"已授予 {username} 在 {unit} 的角色 {role}")


@main.group("webhook")
def webhook_group() -> None:
    """Endpoints that receive every notification as signed JSON (政务钉钉, 渝快政, 企业微信 …)."""


@webhook_group.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--secret", prompt=True, hide_input=True, help="签名密钥（16–200 个字符，与接收方共享）")
@with_appcontext
def webhook_add_command(name: str, url: str, secret: str) -> None:
    """Forward every notification from now on to URL, signed with the secret."""
    from engine.review.webhooks import add_webhook
    from webapp.extensions import db

    try:
        add_webhook(db.session, name, url, secret)
    except PressflowError as exc:
        _fail(exc)
    click.echo(f"已添加 Webhook {name}：{url}")


@webhook_group.command("list")
@with_appcontext
def webhook_list_command() -> None:
    """List the endpoints with their queued, sent and failed deliveries."""
    from sqlalchemy import func, select

    from engine.models import WebhookDelivery
    from engine.review.webhooks import list_webhooks
    from webapp.extensions import db

    for hook in list_webhooks(db.session):
        counts = dict(db.session.execute(select(WebhookDelivery.status, func.count()).where(
            WebhookDelivery.webhook_id == hook.id).group_by(WebhookDelivery.status)).tuples().all())
        click.echo(f"{hook.name}\t{hook.url}\t待发送 {counts.get('pending', 0) + counts.get('sending', 0)}"
                   f"\t已送达 {counts.get('sent', 0)}\t失败 {counts.get('failed', 0)}")


@webhook_group.command("remove")
@click.argument("name")
@with_appcontext
def webhook_remove_command(name: str) -> None:
    """Stop forwarding to the endpoint NAME."""
    from engine.review.webhooks import remove_webhook
    from webapp.extensions import db

    try:
        remove_webhook(db.session, name)
    except PressflowError as exc:
        _fail(exc)
    click.echo(f"已删除 Webhook {name}")


from webapp import cli_ops  # noqa: E402, F401 - registers audit verify, backup and restore on the group
