"""Timestamps as the STS servers write them and as credential_process wants them.

Standard library only (the credential-process command reads cache entries with these),
and below every folder of the package: the token's expiry in messages and the keys'
Expiration are written by the same function.
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
    """Parse an ISO 8601 timestamp with 0 to 9 fractional digits into aware UTC.

    A timestamp without a zone is taken as UTC, as STS servers mean it. Raises
    ValueError naming the text (timestamps are not secret), and only ValueError: also
    for a moment that is valid in its own zone but outside datetime's range in UTC
    (``9999-12-31T23:59:59-01:00``), where the arithmetic raises OverflowError.
    """
    match = re.match(_TIMESTAMP, text.strip())  # re caches the compiled pattern
    if not match:
        raise ValueError(f"not an ISO 8601 timestamp: {text[:40]!r}")
    year, month, day, hour, minute, second, fraction, _z, sign, off_h, off_m = match.groups()
    microsecond = int((fraction or "0")[:6].ljust(6, "0"))
    moment = datetime(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        int(second),
        microsecond,
        tzinfo=timezone.utc,
    )
    if sign:
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        try:
            moment = moment - offset if sign == "+" else moment + offset
        except OverflowError:
            raise ValueError(f"timestamp out of range: {text[:40]!r}") from None
    return moment


def format_timestamp(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``, the form credential_process and botocore expect.

    Written field by field: ``strftime("%Y")`` gives ``1``, not ``0001``, for the
    years before 1000 (glibc), which no parser reads back.
    """
    m = moment.astimezone(timezone.utc)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"
