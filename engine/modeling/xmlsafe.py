"""Parse untrusted BPMN/DMN XML with entity resolution and network access off and a size cap."""

from __future__ import annotations

from lxml import etree

from engine.errors import ModelError

MAX_MODEL_BYTES = 2 * 1024 * 1024
DOCTYPE_REFUSED = "不允许包含 DOCTYPE 或实体声明（BPMN/DMN 文件不需要，可能是 XXE 攻击）"


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
    upper = _as_utf8(raw).upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        # BPMN and DMN never need a DTD; refusing it outright defeats XXE and entity expansion bombs.
        raise ModelError(f"{filename}：{DOCTYPE_REFUSED}")
    try:
        tree = etree.ElementTree(etree.fromstring(raw, safe_parser()))
    except etree.XMLSyntaxError as exc:
        raise ModelError(f"{filename}：XML 格式错误（{exc}）") from exc
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        # An encoding the byte check does not decode (EBCDIC …): the parser resolved nothing, refuse all the same.
        raise ModelError(f"{filename}：{DOCTYPE_REFUSED}")
    return tree


_WIDE_ENCODINGS = (
    (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"), (b"\xfe\xff", "utf-16"), (b"\xff\xfe", "utf-16"), (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)


def _as_utf8(raw: bytes) -> bytes:
    """The bytes to scan for a DTD: UTF-16/32 files are re-encoded so that ``<!DOCTYPE`` shows in them too."""
    for mark, encoding in _WIDE_ENCODINGS:
        if raw.startswith(mark):
            return raw.decode(encoding, errors="ignore").encode("utf-8")
    return raw
