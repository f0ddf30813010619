"""常用语: the 审批意见 a reviewer writes again and again, saved once and picked from a list."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import Conflict, InvalidInput, NotFound
from engine.models import ApprovalPhrase, User
from engine.workflow.uow import unit_of_work

#: Offered to everyone; not deletable.
SYSTEM_PHRASES = ("同意。", "拟同意，请领导审定。", "请修改后重新报送。", "材料不全，请补充后重新报送。")
PHRASE_MAX = 200
#: Enough for every habit, few enough that the picker stays a short list.
PHRASES_PER_USER = 50


@dataclass(frozen=True)
class Phrase:
    """One phrase of the picker: the user's own (with its id, deletable) or a system default (id None)."""

    text: str
    id: int | None = None

    @property
    def system(self) -> bool:
        """Tell whether this is one of the defaults everyone has."""
        return self.id is None


def phrases_of(session: Session, user: User) -> list[Phrase]:
    """The system defaults, then the user's own phrases, oldest first."""
    own = session.scalars(select(ApprovalPhrase).where(ApprovalPhrase.username == user.username)
                          .order_by(ApprovalPhrase.id))
    return [Phrase(text) for text in SYSTEM_PHRASES] + [Phrase(p.text, p.id) for p in own]


def save_phrase(session: Session, user: User, text: str) -> Phrase:
    """Save a phrase for the user; saving one they already have is refused with a clear message."""
    text = " ".join((text or "").split())
    if not text or len(text) > PHRASE_MAX:
        raise InvalidInput("常用语有误", fields={"text": [f"常用语须为 1–{PHRASE_MAX} 个字符"]})
    with unit_of_work(session):
        mine = select(ApprovalPhrase).where(ApprovalPhrase.username == user.username)
        if text in SYSTEM_PHRASES or session.scalar(mine.where(ApprovalPhrase.text == text)) is not None:
            raise Conflict("常用语已存在", fields={"text": ["这条常用语已经在列表中"]})
        if (session.scalar(select(func.count()).select_from(mine.subquery())) or 0) >= PHRASES_PER_USER:
            limit = f"每人最多保存 {PHRASES_PER_USER} 条常用语，请先删除不用的"
            raise Conflict("常用语已达上限", fields={"text": [limit]})
        phrase = ApprovalPhrase(username=user.username, text=text, created_at=clock.now())
        session.add(phrase)
        session.flush()
        saved = Phrase(phrase.text, phrase.id)
    return saved


def delete_phrase(session: Session, user: User, phrase_id: int) -> None:
    """Delete one of the user's own phrases (another user's is as unknown as a missing one)."""
    with unit_of_work(session):
        phrase = session.get(ApprovalPhrase, phrase_id)
        if phrase is None or phrase.username != user.username:
            raise NotFound("常用语不存在")
        session.delete(phrase)
