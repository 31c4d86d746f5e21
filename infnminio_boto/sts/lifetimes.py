"""What the exchange remembers of a role's maximum lifetime (a :class:`LifetimeMemory`).

Ceph RGW refuses a DurationSeconds above the role's MaxSessionDuration with an empty
``400 InvalidArgument``, and only ``GetRole`` (which users may not call) says the maximum.
So a refusal is remembered, for a day (the administrators may raise it), per endpoint
and role, in the cache's ``limits-*`` records (``keys/cache.py``).
"""

from __future__ import annotations

from typing import Optional, Protocol, Tuple

__all__ = ["LifetimeMemory", "REFUSAL_MEMORY_SECONDS"]

# How long a refused lifetime is remembered: the advice says to ask the administrators
# to raise the role's maximum, which must then take effect.
REFUSAL_MEMORY_SECONDS = 24 * 3600


class LifetimeMemory(Protocol):
    """What is known of the lifetimes a role allows, per endpoint and role."""

    def recall(self, endpoint: str, role: str) -> Tuple[Optional[int], Optional[int]]:
        """``(allowed, refused)``: the longest DurationSeconds seen accepted and the
        shortest seen refused within :data:`REFUSAL_MEMORY_SECONDS` for this endpoint and
        role, each None when unknown."""
        ...

    def store(
        self, endpoint: str, role: str, *, allowed: Optional[int], refused: Optional[int]
    ) -> None:
        """Remember ``allowed`` and ``refused`` (None: nothing known) for them."""
        ...
