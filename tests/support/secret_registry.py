"""Every secret the test suite creates, so that its output can be scanned for them.

The fake STS, the expiring proxy and the token helpers register tokens, secret keys and
session tokens here; conftest fails any test whose captured output or log contains
one, and the command-line helper checks every subprocess's stderr.
"""

from __future__ import annotations

import threading
from typing import Iterable, List, Optional, Set

_lock = threading.Lock()
_secrets: Set[str] = set()


def register(*values: Optional[str]) -> None:
    with _lock:
        _secrets.update(v for v in values if v and len(v) >= 12)


def leaked(text: str, extra: Iterable[str] = ()) -> List[str]:
    """The registered secrets found in ``text``, masked for the failure message."""
    with _lock:
        candidates = list(_secrets)
    found = [s for s in [*candidates, *extra] if s and s in text]
    return [s[:4] + "***" for s in found]
