"""The organisation: units, users and role grants, and the demo organisation that ``init --demo`` seeds."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from engine import clock
from engine.errors import AccountLocked, BadCredentials, InvalidInput, NotFound
from engine.models import RoleGrant, Unit, User
from engine.org.access import ROLES
from engine.workdays.calendar import SHANGHAI

USERNAME = re.compile(r"[A-Za-z0-9_.-]{2,60}")
#: A recipient named by role: ``role`` or ``role@unit`` (``@applying``, ``@office`` or a unit code).
UNIT_SPEC = r"[A-Za-z0-9_.-]{1,40}"
ROLE_SPEC = re.compile(rf"(?P<role>[a-z_]{{1,40}})(?:@(?P<unit>{UNIT_SPEC}))?")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
#: Demo users get an address here (a reserved domain, so nothing leaves a real SMTP server for them).
DEMO_EMAIL_DOMAIN = "pressflow.test"

DEMO_UNITS = (
    ("yuzhong", "渝中区人民政府", "district"),
    ("jiangbei", "江北区人民政府", "district"),
    ("health", "市卫生健康委", "department"),
    ("office", "市政府新闻办", "office"),
    # An incident command HQ (Art. 15(七)) is set up for an event: not a standing department, never evaluated.
    ("hq_health", "市公共卫生事件处置指挥部", "command"),
)

# username, display name, [(role, unit)]
DEMO_USERS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("yz_clerk", "渝中区经办人 王敏", (("applicant", "yuzhong"),)),
    ("yz_leader", "渝中区主要负责人 李强", (("unit_leader", "yuzhong"),)),
    ("yz_spokes", "渝中区新闻发言人 陈静", (("unit_spokesperson", "yuzhong"),)),
    ("yz_secrecy", "渝中区保密审查员 赵磊", (("secrecy_reviewer", "yuzhong"),)),
    ("jb_clerk", "江北区经办人 刘洋", (("applicant", "jiangbei"),)),
    ("jb_leader", "江北区主要负责人 周涛", (("unit_leader", "jiangbei"),)),
    ("jb_spokes", "江北区新闻发言人 吴芳", (("unit_spokesperson", "jiangbei"),)),
    ("jb_secrecy", "江北区保密审查员 郑凯", (("secrecy_reviewer", "jiangbei"),)),
    ("wjw_clerk", "市卫生健康委经办人 孙丽", (("applicant", "health"),)),
    ("wjw_leader", "市卫生健康委主要负责人 马骏", (("unit_leader", "health"),)),
    ("wjw_secrecy", "市卫生健康委保密审查员 胡斌", (("secrecy_reviewer", "health"),)),
    # Art. 8(三): every department appoints a spokesperson (the annual report of Art. 9(八) is theirs).
    ("wjw_spokes", "市卫生健康委新闻发言人 唐宁", (("unit_spokesperson", "health"),)),
    ("office_reviewer", "市政府新闻办 新闻发布处 林峰", (("office_reviewer", "office"),)),
    ("office_spokes", "市政府新闻发言人 何平", (("municipal_spokesperson", "office"),)),
    ("office_assistant", "发言人助理 高远", (("spokesperson_assistant", "office"),)),
    ("onsite", "市新闻发布中心 现场管理 罗刚", (("onsite_staff", "office"),)),
    ("monitor", "舆情监测 谢婷", (("opinion_monitor", "office"),)),
    ("supervisor", "督办人员 邓华", (("supervisor", "office"),)),
    ("mayor", "市政府领导 曹宁", (("municipal_leader", "office"),)),
    ("owner", "流程管理员 冯博", (("process_owner", "office"),)),
    ("admin", "系统管理员", (("admin", "office"),)),
    # 定时发布 (Art. 15(七)): the HQ's leader, the general office's liaison working in the HQ, the Health Commission's
    # release writer.
    ("hq_leader", "指挥部领导 黄志刚", (("hq_leader", "hq_health"),)),
    ("gov_office", "市政府办公厅联络员 许佳", (("general_office_clerk", "hq_health"),)),
    ("wjw_writer", "市卫生健康委发布文稿撰写人 程雪", (("release_writer", "health"),)),
)


def sign_in(session: Session, username: str, password: str, attempts: int = 5, lock_minutes: int = 15) -> User:
    """Check a password; after ``attempts`` wrong ones in a row the account is locked for a while. Commits."""
    user = session.scalar(select(User).where(User.username == username))
    now = clock.now()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        until = user.locked_until.astimezone(SHANGHAI).strftime("%H:%M")
        raise AccountLocked(f"密码错误次数过多，账户已锁定，请于 {until} 后重试")
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
        if user is not None:
            user.failed_logins = (user.failed_logins or 0) + 1
            if user.failed_logins >= attempts:
                user.locked_until, user.failed_logins = now + dt.timedelta(minutes=lock_minutes), 0
            session.commit()
        raise BadCredentials("用户名或密码错误")
    if user.failed_logins or user.locked_until:
        user.failed_logins, user.locked_until = 0, None
        session.commit()
    return user


def unit_by_code(session: Session, code: str) -> Unit:
    """Return the unit with this code, or raise NotFound."""
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(f"单位 {code} 不存在")
    return unit


def office_unit(session: Session) -> Unit:
    """Return the Information Office (the unit of kind ``office``)."""
    unit = session.scalar(select(Unit).where(Unit.kind == "office").order_by(Unit.id))
    if unit is None:
        raise NotFound("尚未配置市政府新闻办（类型为 office 的单位）")
    return unit


#: district 区县政府, department 市级部门, office 市政府新闻办, command 事件处置指挥部 (for the life of an event).
UNIT_KINDS = ("district", "department", "office", "command")


def ensure_unit(session: Session, code: str, name: str, kind: str) -> Unit:
    """Create the unit unless it exists; existing units are left as they are."""
    if kind not in UNIT_KINDS:
        raise InvalidInput(f"单位类型 {kind} 无效", fields={"kind": ["须为 district、department、office 或 command"]})
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        unit = Unit(code=code, name=name, kind=kind)
        session.add(unit)
        session.flush()
    return unit


def create_user(
    session: Session, username: str, display_name: str, password: str, *, password_hash: str | None = None,
    email: str | None = None,
) -> User:
    """Create a user with a hashed password (and an optional e-mail address); refuse a username that exists."""
    if not USERNAME.fullmatch(username):
        raise InvalidInput("用户名无效", fields={"username": ["用户名须为 2–60 位字母、数字、下划线、点或连字符"]})
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise InvalidInput(f"用户 {username} 已存在", fields={"username": ["用户名已存在"]})
    if len(password) < 8:
        raise InvalidInput("密码至少 8 位", fields={"password": ["密码至少 8 位"]})
    if not display_name.strip() or len(display_name) > 100:
        raise InvalidInput("显示名称无效", fields={"display_name": ["显示名称须为 1–100 个字符"]})
    if email is not None and (len(email) > 200 or not EMAIL.fullmatch(email)):
        raise InvalidInput("电子邮箱无效", fields={"email": ["请填写有效的电子邮箱地址，如 name@example.gov.cn"]})
    user = User(username=username, display_name=display_name, email=email or None,
                password_hash=password_hash or generate_password_hash(password))
    session.add(user)
    session.flush()
    return user


def grant(session: Session, user: User, role: str, unit: Unit) -> None:
    """Give the user a role in a unit (idempotent)."""
    if role not in ROLES:
        raise InvalidInput(f"未知角色 {role}", fields={"role": [f"须为 {', '.join(ROLES)} 之一"]})
    if not user.holds(role, unit.id):
        user.grants.append(RoleGrant(role=role, unit_id=unit.id, unit=unit))
        session.flush()


def seed_demo(session: Session, password: str, *, password_hash: str | None = None) -> int:
    """Create the demo organisation where missing; return how many users were added. Commits.

    ``password_hash`` (of ``password``) is given by tests, which hash once per run."""
    units = {code: ensure_unit(session, code, name, kind) for code, name, kind in DEMO_UNITS}
    added = 0
    shared_hash = password_hash or generate_password_hash(password)  # one slow hash for the whole organisation
    for username, display_name, grants in DEMO_USERS:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = create_user(session, username, display_name, password, password_hash=shared_hash)
            added += 1
        user.email = user.email or f"{username}@{DEMO_EMAIL_DOMAIN}"
        for role, unit_code in grants:
            grant(session, user, role, units[unit_code])
    session.commit()
    return added


def role_spec_problem(spec: str) -> str | None:
    """Say what is wrong with a ``role@unit`` recipient (None when it is well formed and names a known role)."""
    match = ROLE_SPEC.fullmatch(spec)
    if match is None:
        return f"“{spec}” 不是“角色@单位”的写法（如 opinion_monitor@office、unit_leader@applying）"
    if match["role"] not in ROLES:
        return f"“{spec}” 中的角色 “{match['role']}” 不是已知角色（可用：{', '.join(ROLES)}）"
    return None


def username_problem(username: str) -> str | None:
    """Say what is wrong with a username given as a recipient (None when it is well formed)."""
    return None if USERNAME.fullmatch(username) else f"“{username}” 不是有效的用户名"
