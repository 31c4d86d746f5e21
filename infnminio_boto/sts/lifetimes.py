"""What the exchange remembers of a role's maximum lifetime (a :class:`LifetimeMemory`):
refusals for a day, per endpoint and role, in the cache's ``limits-*`` records
(``keys/cache.py``). Why: docs/servers.md.
"""

from __future__ import annotations

from typing import Optional, Protocol, Tuple

__all__ = ["LifetimeMemory", "REFUSAL_MEMORY_SECONDS"]

# A day: the administrators may raise the role's maximum meanwhile.
REFUSAL_MEMORY_SECONDS = 24 * 3600


class LifetimeMemory(Protocol):
    """What is known of the lifetimes a role allows, per endpoint and role."""

    def recall(self, endpoint: str, role: str) -> Tuple[Optional[int], Optional[int]]:
        """``(allowed, refused)``: the longest DurationSeconds seen accepted and the
        shortest seen refused within :data:`REFUSAL_MEMORY_SECONDS`, each None if unknown."""

    def store(
        self, endpoint: str, role: str, *, allowed: Optional[int], refused: Optional[int]
    ) -> None:
        """Remember ``allowed`` and ``refused`` (None: nothing known) for them."""
