"""The printable approval sheet (发布会申报表): the A4 print view and its PDF with the Chinese font embedded."""

from __future__ import annotations

import html
import io
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from pypdf import PdfReader

from tests.conftest import ROOT
from tests.integration import chain

TITLE = chain.application()["title"]
LEADER_OPINION = "同意举办，请做好口径准备"
SECRECY_OPINION = "经审查不涉密"


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _reviewed(login) -> int:
    """An application the leader approved and the secrecy reviewer passed, each with a 审批意见, at the Office."""
    instance_id = chain.apply(login)
    login("yz_leader").complete(instance_id, "leader_review", {"decision": "approve", "comment": LEADER_OPINION})
    login("yz_secrecy").complete(instance_id, "secrecy_review", {"decision": "pass", "comment": SECRECY_OPINION})
    return instance_id


def _pdf_fonts(reader: PdfReader) -> list[tuple[str, bool]]:
    """Every font the pages use: its name and whether its program is embedded in the file."""
    found = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            described = [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]
            for part in described:
                descriptor = part["/FontDescriptor"].get_object()
                embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                found.append((str(font["/BaseFont"]), embedded))
    return found


def test_the_print_view_shows_header_fields_every_step_with_opinion_and_beijing_time(web, login, frozen_clock):
    instance_id = _reviewed(login)

    response = web("yz_clerk").get(f"/applications/{instance_id}/sheet")

    assert response.status_code == 200
    page = _text(response.text)
    assert "发布会申报表" in page and TITLE in page and "渝中区人民政府" in page
    assert f"YUZHONG-2026-{instance_id:05d}" in page
    for field in ("新闻发布会", "2026-03-20", "10:00", "市新闻发布中心", "以市政府名义", "介绍渝中区优化营商环境"):
        assert field in page, field
    assert "选题申报 渝中区经办人" in page and "已提交" in page
    assert re.search("主要负责人审核 渝中区主要负责人 \\w+ 同意 " + LEADER_OPINION + " 2026-03-02 09:00", page)
    assert "保密审查 渝中区保密审查员" in page and "通过 " + SECRECY_OPINION in page
    assert "新闻办选题审核" in page and "待办理" in page
    assert "工作方案 工作方案.pdf 第 1 版" in page and "发布文稿 发布文稿.pdf 第 1 版" in page
    assert f'href="/applications/{instance_id}/sheet.pdf"' in response.text
    with web("yz_clerk").get("/static/css/sheet.css") as css:
        assert "size: A4" in css.text  # the print stylesheet


def test_the_application_and_task_pages_link_to_the_sheet(web, login):
    instance_id = _reviewed(login)
    task_id = login("office_reviewer").task_at(instance_id, "office_topic_review")["id"]

    assert f'href="/applications/{instance_id}/sheet"' in web("yz_clerk").get(f"/applications/{instance_id}").text
    assert f'href="/applications/{instance_id}/sheet"' in web("office_reviewer").get(f"/tasks/{task_id}").text


def test_the_sheet_lists_the_speakers_once_the_office_has_chosen_them(web, login):
    instance_id = chain.to_conference_timer(login)

    page = _text(web("office_reviewer").get(f"/applications/{instance_id}/sheet").text)

    assert "发布人 张副市长（副市长）" in page and "主持人 何平（市政府新闻发言人）" in page
    assert "出席嘉宾 王局长（区发展改革委主任）" in page


def test_the_pdf_holds_the_title_and_the_opinions_in_an_embedded_chinese_font(web, login):
    instance_id = _reviewed(login)

    response = web("yz_leader").get(f"/applications/{instance_id}/sheet.pdf")

    assert response.status_code == 200, response.text[:500]
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF-")
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    reader = PdfReader(io.BytesIO(response.data))
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))
    for expected in ("发布会申报表", TITLE, LEADER_OPINION, SECRECY_OPINION, "主要负责人审核", "渝中区人民政府"):
        assert expected in text, expected
    fonts = _pdf_fonts(reader)
    assert fonts and all(embedded for _name, embedded in fonts), fonts
    assert all("Noto" in name for name, _embedded in fonts), fonts  # ours, not a font the server happens to have


def test_nobody_who_cannot_see_the_application_gets_its_sheet_or_pdf(web, login):
    instance_id = _reviewed(login)

    for outsider in ("jb_clerk", "wjw_leader"):
        assert web(outsider).get(f"/applications/{instance_id}/sheet").status_code == 404
        assert web(outsider).get(f"/applications/{instance_id}/sheet.pdf").status_code == 404
    assert web("supervisor").get(f"/applications/{instance_id}/sheet").status_code == 200
    assert web("office_reviewer").get(f"/applications/{instance_id}/sheet.pdf").status_code == 200
    assert web("yz_clerk").get("/applications/999999/sheet.pdf").status_code == 404
    anonymous = web("yz_clerk").client.application.test_client()
    assert anonymous.get(f"/applications/{instance_id}/sheet").status_code in (302, 401)


def test_without_the_pdf_libraries_the_pdf_link_says_so_instead_of_failing(web, login, monkeypatch):
    instance_id = _reviewed(login)
    # What a server without Pango sees: importing WeasyPrint fails.
    monkeypatch.setitem(sys.modules, "weasyprint", None)

    sheet = web("yz_clerk").get(f"/applications/{instance_id}/sheet")
    pdf = web("yz_clerk").get(f"/applications/{instance_id}/sheet.pdf")

    assert sheet.status_code == 200 and TITLE in sheet.text
    assert "sheet.pdf" not in sheet.text and "PDF 不可用" in _text(sheet.text) and "Pango" in sheet.text
    assert pdf.status_code == 503 and "暂时无法生成 PDF" in _text(pdf.text) and "Pango" in pdf.text
    assert f'href="/applications/{instance_id}/sheet"' in pdf.text


def test_the_pdf_renders_chinese_with_no_font_installed_on_the_server_at_all(tmp_path: Path):
    # fontconfig told to know no fonts whatsoever: only the font the stylesheet embeds can draw the text.
    (tmp_path / "fonts.conf").write_text(
        f'<?xml version="1.0"?><fontconfig><cachedir>{tmp_path}/cache</cachedir></fontconfig>', encoding="utf-8")
    script = textwrap.dedent("""
        import sys
        from pathlib import Path
        from webapp.pdf import render_pdf
        html = '<link rel="stylesheet" href="css/sheet.css"><body class="sheet-page"><h1>发布会申报表</h1>' \\
               '<p>审批意见：同意举办</p></body>'
        sys.stdout.buffer.write(render_pdf(html, Path("webapp/static")))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, timeout=120, check=False,
                          env={"FONTCONFIG_FILE": str(tmp_path / "fonts.conf"), "PATH": "/usr/bin:/bin",
                               "HOME": str(tmp_path)})

    assert done.returncode == 0, done.stderr.decode()[-2000:]
    reader = PdfReader(io.BytesIO(done.stdout))
    text = re.sub(r"\s+", "", reader.pages[0].extract_text())
    assert "发布会申报表" in text and "审批意见：同意举办" in text
    fonts = _pdf_fonts(reader)
    assert fonts and all(embedded and "Noto" in name for name, embedded in fonts), fonts
