"""The supervisors' pager asks only for the pages it shows, so a list of 5,000 pages renders as fast as one of 5."""

from __future__ import annotations

import pytest

from webapp.supervise.tables import page_numbers


def _shown(page: int, pages: int) -> list[int]:
    """What the pager showed when it walked every page: links near the ends and the current page, gaps at 3 and
    pages - 2."""
    return [n for n in range(1, pages + 1) if n == page or n <= 3 or n >= pages - 2 or abs(n - page) <= 2]


@pytest.mark.parametrize("pages", [*range(1, 13), 5000])
def test_pager_asks_for_every_page_it_shows_and_no_other(pages: int) -> None:
    for page in {*range(1, min(pages, 12) + 1), pages // 2 or 1, pages}:
        assert page_numbers(page, pages) == _shown(page, pages)


def test_pager_of_a_long_list_is_a_handful_of_pages() -> None:
    assert page_numbers(2500, 5000) == [1, 2, 3, 2498, 2499, 2500, 2501, 2502, 4998, 4999, 5000]
