"""Timestamps as the STS servers write them and as credential_process wants them.

Standard library only (the credential-process command reads cache entries with these).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

__all__ = ["parse_timestamp", "format_timestamp"]

# 2019-08-08T20:26:12Z (MinIO, AWS), 2026-11-23T21:28:43.179525185Z (RGW: nanoseconds,
# which datetime.fromisoformat before 3.11 and minio-py reject), or with an offset.
_TIMESTAMP = (
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?"
    r"\s*(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$"
)


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO 8601 timestamp with 0 to 9 fractional digits into aware UTC (no zone:
    UTC, as STS servers mean it). Raises ValueError naming the text, and only ValueError,
    also for a moment outside datetime's range once in UTC (``9999-12-31T23:59:59-01:00``)."""
    match = re.match(_TIMESTAMP, text.strip())
    if not match:
        raise ValueError(f"not an ISO 8601 timestamp: {text[:40]!r}")
    y, mo, d, h, mi, s, fraction, _z, sign, off_h, off_m = match.groups()
    microsecond = int((fraction or "0")[:6].ljust(6, "0"))
    moment = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), microsecond, timezone.utc)
    if sign:
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        try:
            moment = moment - offset if sign == "+" else moment + offset
        except OverflowError:
            raise ValueError(f"timestamp out of range: {text[:40]!r}") from None
    return moment


def format_timestamp(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``, as credential_process and botocore expect. Field by field:
    ``strftime("%Y")`` gives ``1``, not ``0001``, before year 1000 (glibc)."""
    m = moment.astimezone(timezone.utc)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"
