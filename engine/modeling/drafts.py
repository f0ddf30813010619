"""Drafts: what a process owner saved in the editor but has not deployed, kept per person and model."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import clock
from engine.modeling.xmlsafe import parse_model_xml
from engine.models import ProcessDraft


def draft_of(session: Session, username: str, model_key: str) -> ProcessDraft | None:
    """Return the user's draft of a model, if they saved one."""
    return session.scalar(
        select(ProcessDraft).where(ProcessDraft.username == username, ProcessDraft.process_key == model_key)
    )


def save_draft(session: Session, username: str, model_key: str, xml: str) -> ProcessDraft:
    """Keep the XML as the user's draft of the model, replacing their earlier draft. Commits.

    The XML must be well-formed and within the model size limit (no DOCTYPE), but it need not be valid yet:
    a draft is work in progress.
    """
    parse_model_xml(xml, "草稿")
    draft = draft_of(session, username, model_key)
    if draft is None:
        draft = ProcessDraft(username=username, process_key=model_key, xml=xml)
        session.add(draft)
    draft.xml, draft.saved_at = xml, clock.now()
    try:
        session.commit()
    except IntegrityError:
        # The same person saved from a second tab at the same moment: their newer save replaces that one.
        session.rollback()
        return save_draft(session, username, model_key, xml)
    return draft


def discard_draft(session: Session, username: str, model_key: str) -> bool:
    """Delete the user's draft of the model; tell whether there was one. Commits."""
    draft = draft_of(session, username, model_key)
    if draft is None:
        return False
    session.delete(draft)
    session.commit()
    return True
