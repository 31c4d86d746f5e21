"""Warnings from the hot-path modules without importing logging until one is needed."""

from __future__ import annotations

# typing costs 3 ms of import time on the credential_process hot path: the annotations
# are strings (PEP 563), needed by type checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional, Set

# The command line sets this so that the first warning also sets up stderr logging.
on_first_use: Optional[Callable[[], None]] = None
_said: Set[object] = set()


def ensure_configured() -> None:
    """Run the command line's logging set-up now, if it is still pending."""
    global on_first_use
    if on_first_use is not None:
        setup, on_first_use = on_first_use, None
        setup()


def warn(name: str, message: str, *args: object) -> None:
    """``logging.getLogger(name).warning(message, *args)``, importing logging lazily."""
    import logging

    ensure_configured()
    logging.getLogger(name).warning(message, *args)


def warn_once(key: object, name: str, message: str, *args: object) -> None:
    """:func:`warn`, once per process for each ``key``."""
    if key not in _said:
        _said.add(key)
        warn(name, message, *args)
