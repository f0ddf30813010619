"""Parse untrusted BPMN/DMN XML with entity resolution and network access off and a size cap."""

from __future__ import annotations

from lxml import etree

from engine.errors import ModelError

MAX_MODEL_BYTES = 2 * 1024 * 1024


def safe_parser() -> etree.XMLParser:
    """Return an lxml parser that resolves no entities, fetches nothing and refuses huge trees."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
        remove_comments=False,
    )


def parse_model_xml(content: str | bytes, filename: str = "model") -> etree._ElementTree:
    """Parse a model file safely, or raise :class:`ModelError` with a message a process owner understands."""
    raw = content.encode("utf-8") if isinstance(content, str) else content
    if len(raw) > MAX_MODEL_BYTES:
        raise ModelError(f"{filename}：文件超过 {MAX_MODEL_BYTES // 1024 // 1024} MB 上限")
    if b"<!DOCTYPE" in raw[:4096].upper() or b"<!ENTITY" in raw.upper():
        # BPMN and DMN never need a DTD; refusing it outright defeats XXE and entity expansion bombs.
        raise ModelError(f"{filename}：不允许包含 DOCTYPE 或实体声明")
    try:
        return etree.ElementTree(etree.fromstring(raw, safe_parser()))
    except etree.XMLSyntaxError as exc:
        raise ModelError(f"{filename}：XML 格式错误（{exc}）") from exc
