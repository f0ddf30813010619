"""Translation support: texts that live in data (form labels, roles, step names) and the catalogue extractor for them.

Our msgids are the Simplified Chinese texts. Templates and views wrap their own texts in ``_()``; texts that come
from ``forms/``, the engine's label tables and the BPMN step names are translated at display time with the ``t``
filter, and :func:`extract_model_texts` puts them into the catalogue so ``pybabel extract`` sees them too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import get_locale, gettext

from engine.modeling.xmlsafe import parse_model_xml

ROOT = Path(__file__).resolve().parent.parent
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NAMED = ("userTask", "process", "endEvent", "startEvent", "intermediateCatchEvent", "exclusiveGateway", "lane",
         "businessRuleTask", "scriptTask", "serviceTask", "sequenceFlow", "parallelGateway", "boundaryEvent")


def translate(text: Any) -> Any:
    """Translate a data text when the catalogue knows it; anything else comes back unchanged."""
    return gettext(text) if isinstance(text, str) and text else text


def register_i18n(app: Flask) -> None:
    """Make ``|t``, ``audit_text(entry, names)`` and ``notice_text(notification)`` available in templates."""
    from webapp.audit_texts import audit_text

    app.add_template_filter(translate, "t")
    app.add_template_global(audit_text, "audit_text")
    app.add_template_global(notice_text, "notice_text")


def notice_text(row: Any) -> str:
    """A notification in the reader's language, with its application's current title."""
    from engine.review.notify import text_of

    return text_of(row, gettext)


def translated_bpmn(xml: str) -> str:
    """The diagram with its element names in the reader's language (unchanged on Chinese pages)."""
    if str(get_locale() or "zh").startswith("zh"):
        return xml
    from lxml import etree

    root = parse_model_xml(xml).getroot()
    for tag in NAMED:
        for element in root.iter(f"{{{BPMN_NS}}}{tag}"):
            if element.get("name"):
                element.set("name", gettext(element.get("name")))
    return etree.tostring(root, encoding="unicode")


def model_texts() -> list[str]:
    """Every displayable text that lives outside templates and views, in a stable order."""
    import forms
    from engine.org.access import ROLE_LABELS
    from engine.review.attachments import KINDS as ATTACHMENT_KINDS
    from engine.review.notice_texts import TEXTS as NOTICE_TEXTS
    from engine.review.notice_texts import WORDS as NOTICE_WORDS
    from engine.review.notify import KINDS as NOTIFICATION_KINDS
    from engine.review.phrases import SYSTEM_PHRASES

    texts: list[str] = []
    for key in forms.FORM_KEYS:
        texts.append(forms.form_title(key))
        texts.extend(_field_texts(forms.describe_form(key)))
    texts.extend(ROLE_LABELS.values())
    texts.extend(ATTACHMENT_KINDS.values())
    texts.extend(NOTIFICATION_KINDS.values())
    texts.extend(NOTICE_TEXTS.values())
    texts.extend(NOTICE_WORDS)
    texts.extend(SYSTEM_PHRASES)
    for path in sorted((ROOT / "processes").glob("*.bpmn")):
        root = parse_model_xml(path.read_text(encoding="utf-8")).getroot()
        texts.extend(el.get("name", "") for tag in NAMED for el in root.iter(f"{{{BPMN_NS}}}{tag}"))
    return list(dict.fromkeys(t for t in texts if t))


def _field_texts(described: list[dict[str, Any]]) -> Iterator[str]:
    for field in described:
        yield field["label"]
        if field.get("help"):
            yield field["help"]
        for choice in field.get("choices") or ():
            yield choice["label"]
        yield from _field_texts(field.get("item_fields") or [])


def extract_model_texts(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Iterator[tuple]:
    """Babel extraction method (see babel.cfg): yield the model texts as if they were ``_()`` calls."""
    for number, text in enumerate(model_texts(), start=1):
        yield number, "gettext", text, ["model text"]
