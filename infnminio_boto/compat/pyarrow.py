"""pyarrow's private parts (read in pyarrow 21 to 26)."""

from __future__ import annotations

import sys


def filesystems_loaded() -> bool:
    """Whether ``pyarrow._fs`` (which reads the CA list once, at import) is loaded."""
    return "pyarrow._fs" in sys.modules
