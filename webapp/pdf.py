"""PDF from our own HTML with WeasyPrint; the CJK font is ours (npm, built into static/vendor), never the system's.

WeasyPrint lays text out with Pango through cffi: without the system libraries (Debian: libpango-1.0-0,
libpangoft2-1.0-0, libharfbuzz-subset0; provisioned by ``make system-libs``, .ci/run and docker/Dockerfile) its
import fails with OSError. That, like a missing font, is a :class:`PdfUnavailable`, which the pages explain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

#: The font files the print stylesheet (static/css/sheet.css) embeds: Noto Sans SC from @fontsource/noto-sans-sc,
#: copied by scripts/build_assets.mjs. Its "chinese-simplified" subset holds the 7,300 characters of everyday
#: simplified Chinese, ASCII and the CJK punctuation.
FONT_DIR = "vendor/fonts/noto-sans-sc"
FONT_FILES = tuple(f"{FONT_DIR}/noto-sans-sc-chinese-simplified-{weight}-normal.woff" for weight in (400, 700))


class PdfUnavailable(Exception):
    """PDF rendering cannot work on this server: ``reason`` is "libraries" or "fonts", ``detail`` says what."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


def missing_fonts(static_folder: Path) -> list[str]:
    """The embedded font files that are not in the static folder (the front-end assets were not built)."""
    return [name for name in FONT_FILES if not (static_folder / name).is_file()]


def check_available(static_folder: Path) -> PdfUnavailable | None:
    """Say why PDFs cannot be made here (missing system libraries or fonts), or None when they can."""
    try:
        _ready(static_folder)
    except PdfUnavailable as exc:
        return exc
    return None


def render_pdf(html: str, static_folder: Path) -> bytes:
    """Render HTML whose relative URLs point into the static folder; nothing outside it is ever fetched."""
    weasyprint = _ready(static_folder)
    root = static_folder.resolve()
    fetcher = _static_only(weasyprint.URLFetcher, root)
    document = weasyprint.HTML(string=html, base_url=root.as_uri() + "/", url_fetcher=fetcher)
    return bytes(document.write_pdf())


def _ready(static_folder: Path) -> Any:
    missing = missing_fonts(static_folder)
    if missing:
        raise PdfUnavailable("fonts", ", ".join(missing))
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: cffi could not load Pango / HarfBuzz / fontconfig
        raise PdfUnavailable("libraries", str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    return weasyprint


def _static_only(base: type, root: Path) -> Any:
    class StaticOnly(base):  # type: ignore[misc, valid-type]
        """Serve files of the static folder and refuse any other URL (no network, no other file)."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            parsed = urlparse(url)
            path = Path(unquote(parsed.path)).resolve()
            if parsed.scheme != "file" or not path.is_relative_to(root):
                raise ValueError(f"not a static file: {url}")
            return super().fetch(url, headers)

    return StaticOnly(allowed_protocols={"file"})
