"""What differs between the kinds of STS server: one :class:`Server` per kind.

The ``server_kind`` setting picks one (an endpoint's preset gives its own); every rule
that holds for one kind only is read from here. A new kind of server is one more
:class:`Server` in :data:`SERVERS` (docs/servers.md: what each server does, measured).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, NamedTuple, Optional, Tuple

from . import policy

__all__ = ["Server", "SERVERS", "GENERIC"]

YEAR = 365 * 24 * 3600


class Server(NamedTuple):
    """A kind of STS server: ``name`` (the setting's value), ``title`` (for messages), the
    longest DurationSeconds it may accept; ``lifetime_fallback``, the DurationSeconds every
    role allows, asked once when a longer one is refused (None: no retry);
    ``policy_problems``, what it refuses or ignores in a session policy beyond size and
    JSON; ``silent_refusals``: an empty 403 for every token problem (messages list the
    likely causes); rclone's ``provider``; the headers carrying a request id."""

    name: str
    title: str
    max_duration_seconds: int
    lifetime_fallback: Optional[int]
    policy_problems: Optional[Callable[[Any], Iterable[str]]]
    silent_refusals: bool
    rclone_provider: str
    request_id_headers: Tuple[str, ...]


# Ceph RGW (INFN's store): RoleArn required; DurationSeconds up to the role's
# MaxSessionDuration (3600 unless raised, at most 43200; CreateRole refuses less than
# 3600, so 3600 is always allowed); empty 403 AccessDenied for every token problem.
RGW = Server(
    "rgw", "Ceph RGW", 43200, 3600, policy.rgw_problems, True, "Ceph", ("x-amz-request-id",)
)
# MinIO: no RoleArn for claim-based policies; keys capped at the token's exp; errors say why.
MINIO = Server(
    "minio", "MinIO", YEAR, None, None, False, "Minio",
    ("x-amz-request-id", "x-minio-request-id"),
)
# Any other AWS-compatible STS: AWS's rules (roles allow 3600 s at least).
GENERIC = Server(
    "generic", "the STS", YEAR, 3600, None, False, "Other",
    ("x-amz-request-id", "x-amzn-requestid"),
)
SERVERS: Dict[str, Server] = {server.name: server for server in (RGW, MINIO, GENERIC)}
