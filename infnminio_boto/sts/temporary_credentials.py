"""The frozen set of temporary S3 credentials an exchange hands out.

Standard library only: the credential-process command builds these from its cache.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Dict, Optional, Tuple, Union

from .._timestamps import format_timestamp, parse_timestamp

__all__ = ["TemporaryCredentials", "parse_timestamp", "format_timestamp", "mask"]

_FIELDS = ("access_key", "secret_key", "token", "expiration", "issued_at", "clock_skew")


def mask(value: Optional[str], keep: int = 4) -> str:
    """Show only the first characters of an identifier, for logs."""
    return value[:keep] + "***" if value else "-"


class TemporaryCredentials:
    """Immutable temporary S3 keys; ``expiration`` is aware UTC **on this machine's clock**,
    ``issued_at`` None if unknown, ``clock_skew`` the seconds the server's clock was ahead
    (applied; 0.0 within the tolerance, None when unknown). ``repr`` masks the keys."""

    __slots__ = ("access_key", "clock_skew", "expiration", "issued_at", "secret_key", "token")

    access_key: str
    secret_key: str
    token: str
    expiration: datetime
    issued_at: Optional[datetime]
    clock_skew: Optional[float]

    def __init__(
        self, access_key: str, secret_key: str, token: str, expiration: datetime,
        issued_at: Optional[datetime] = None, clock_skew: Optional[float] = None,
    ) -> None:
        if expiration.tzinfo is None:
            raise ValueError("expiration must be timezone-aware")
        values = (access_key, secret_key, token, expiration, issued_at, clock_skew)
        for name, value in zip(_FIELDS, values):
            object.__setattr__(self, name, value)

    def __reduce__(self) -> Tuple[type, Tuple[object, ...]]:
        # Through __init__ (Dask sends keys to its workers pickled): __setattr__ refuses.
        return (TemporaryCredentials, tuple(getattr(self, name) for name in _FIELDS))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"TemporaryCredentials is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"TemporaryCredentials is immutable: cannot delete {name!r}")

    def _key(self) -> Tuple[str, str, str, datetime]:
        return (self.access_key, self.secret_key, self.token, self.expiration)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TemporaryCredentials):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def lifetime(self) -> Optional[float]:
        """Seconds from issue to expiry, when the issue time is known."""
        if self.issued_at is None:
            return None
        return (self.expiration - self.issued_at).total_seconds()

    @property
    def expires_at(self) -> float:
        """The expiration in seconds since the epoch."""
        return self.expiration.timestamp()

    def seconds_left(self, now: Union[float, datetime, None] = None) -> float:
        """Seconds until expiry at ``now`` (epoch seconds or an aware datetime; default: now)."""
        if isinstance(now, datetime):
            now = now.timestamp()
        return self.expires_at - (time.time() if now is None else now)

    def __repr__(self) -> str:
        return (
            f"TemporaryCredentials(access_key={mask(self.access_key)!r}, secret_key='***', "
            f"token='***', expiration={format_timestamp(self.expiration)!r})"
        )

    __str__ = __repr__

    def to_botocore_metadata(self) -> Dict[str, str]:
        """The dict botocore's RefreshableCredentials refresh function returns."""
        return {
            "access_key": self.access_key, "secret_key": self.secret_key, "token": self.token,
            "expiry_time": self.expiration.isoformat(),
        }

    def to_credential_process(self) -> Dict[str, object]:
        """The JSON document the AWS ``credential_process`` protocol expects."""
        return {
            "Version": 1, "AccessKeyId": self.access_key, "SecretAccessKey": self.secret_key,
            "SessionToken": self.token, "Expiration": format_timestamp(self.expiration),
        }
