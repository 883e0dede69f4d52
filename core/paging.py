"""The page window of every list: ``limit`` rows per page, ``page`` from 1."""
from __future__ import annotations

from core.errors import FieldError

# Far past any real list, and (page - 1) * limit stays well inside PostgreSQL's bigint
# OFFSET: a page number of 10**20 is refused by name instead of failing in SQL.
MAX_PAGE = 1_000_000


def check_page(page: int, limit: int, max_limit: int) -> int:
    """The OFFSET of ``page``; FieldError naming ``limit`` or ``page`` when out of range."""
    if not 1 <= limit <= max_limit:
        raise FieldError("limit", f"must be between 1 and {max_limit}")
    if not 1 <= page <= MAX_PAGE:
        raise FieldError("page", f"must be between 1 and {MAX_PAGE}")
    return (page - 1) * limit
