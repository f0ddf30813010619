"""The English catalogue covers every text the web front end can show.

The catalogue is extracted here in-process, the way ``make i18n-update`` does it (babel.cfg, plus the
``lazy_gettext`` keyword), so a text wrapped in ``_()`` but never translated fails this test, not a reviewer.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
ENGLISH = ROOT / "webapp" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
#: The keywords of `make i18n-update`: babel's defaults and ``-k lazy_gettext``.
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None}
SKIPPED_DIRS = {"node_modules", "instance", "test-artifacts", "tests", "bench", "docker"}
PLACEHOLDER = re.compile(r"%(?:\([A-Za-z_]+\))?[sd]")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _walk_here(dirpath: str) -> bool:
    name = os.path.basename(dirpath)
    return not name.startswith((".", "_")) and name not in SKIPPED_DIRS


@pytest.fixture(scope="module")
def extracted() -> dict[str, list[str]]:
    """Every msgid that pybabel would extract, with the files it comes from."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, str(ROOT / "babel.cfg"))
    found: dict[str, list[str]] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=_walk_here):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                found.setdefault(msgid, []).append(filename)
    return found


@pytest.fixture(scope="module")
def english():
    with ENGLISH.open("rb") as po:
        return read_po(po)


def test_the_catalogue_extraction_finds_templates_views_and_model_texts(extracted):
    # Guards the test itself: if extraction silently found nothing, every other check here would pass.
    assert "跳到正文" in extracted, "base.html texts missing"
    assert "用户名或密码错误" in extracted, "view texts (gettext in Python) missing"
    assert "办理中" in extracted, "lazy_gettext texts missing"
    assert "主要负责人审核" in extracted and "申报单位经办人" in extracted, "model texts (BPMN, roles) missing"


def test_every_extracted_text_has_an_english_translation(extracted, english):
    untranslated = {msgid: files for msgid, files in extracted.items()
                    if english.get(msgid) is None or not english.get(msgid).string}
    listing = "\n".join(f"  {msgid!r}  (from {', '.join(sorted(set(files)))})"
                        for msgid, files in sorted(untranslated.items()))
    assert not untranslated, (
        f"{len(untranslated)} text(s) have no English translation; run `make i18n-update` and translate them in "
        f"{ENGLISH.relative_to(ROOT)}:\n{listing}")


def test_english_translations_keep_the_placeholders_of_the_chinese_text(english):
    wrong = [(m.id, m.string) for m in english if m.id and m.string
             and sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string))]
    assert not wrong, "placeholders differ:\n" + "\n".join(f"  {i!r} -> {s!r}" for i, s in wrong)


def test_english_catalogue_has_no_fuzzy_or_chinese_translations(english):
    fuzzy = [m.id for m in english if m.id and "fuzzy" in m.flags]
    chinese = [(m.id, m.string) for m in english if m.id and CJK.search(m.string or "")]
    assert not fuzzy, f"fuzzy entries (review them and drop the flag): {fuzzy}"
    assert not chinese, f"translations that still contain Chinese: {chinese}"
