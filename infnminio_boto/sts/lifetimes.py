"""What the exchange remembers of a role's maximum lifetime.

Ceph RGW refuses a DurationSeconds above the role's MaxSessionDuration with 400
``InvalidArgument`` and an empty message: the maximum itself is only in ``GetRole``,
which needs IAM rights users do not have (measured on the sandbox's 16.2.15; see
``docs/faults.md``). Every role allows 3600 s (``CreateRole`` refuses a
MaxSessionDuration below it), so that is the lifetime to fall back to, unless a longer
one was seen accepted. :func:`~infnminio_boto.sts.exchange` asks a
:class:`LifetimeMemory` (the cache's record, ``keys/cache.py``) what it learnt for an
endpoint and role, so that one refusal is paid once, not at every exchange.
"""

from __future__ import annotations

from typing import Optional, Protocol, Tuple

__all__ = ["LifetimeMemory", "SAFE_DURATION_SECONDS"]

# The lifetime every Ceph RGW role allows: MaxSessionDuration is 3600 unless raised,
# and CreateRole refuses less (measured: 100 -> 400 InvalidInput).
SAFE_DURATION_SECONDS = 3600


class LifetimeMemory(Protocol):
    """What is known of the lifetimes a role allows, per endpoint and role."""

    def recall(self, endpoint: str, role: str) -> Tuple[Optional[int], Optional[int]]:
        """``(allowed, refused)``: the longest DurationSeconds seen accepted and the
        shortest seen refused for this endpoint and role, each None when unknown."""
        ...

    def store(
        self, endpoint: str, role: str, *, allowed: Optional[int], refused: Optional[int]
    ) -> None:
        """Remember ``allowed`` and ``refused`` (None: nothing known) for them."""
        ...
