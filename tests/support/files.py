"""Comparing what went up with what came back."""

from __future__ import annotations

import filecmp


def same_content(first: str, second: str) -> bool:
    """Whether two files hold the same bytes (compared in full, not by size and time)."""
    return filecmp.cmp(first, second, shallow=False)
