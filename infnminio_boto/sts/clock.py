"""An STS answer's ``Expiration`` put on this machine's clock, once, where the answer is
read: by the skew measured from it (``Expiration - DurationSeconds`` when it agrees with
``Date``, else ``Date``), never past what was asked. Why and what was measured:
docs/servers.md.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta, timezone
from typing import Mapping, NamedTuple, Optional

from .._log import warn, warn_once
from .temporary_credentials import TemporaryCredentials, format_timestamp

__all__ = [
    "ClockReading", "measure", "on_local_clock", "warn_if_skewed", "describe_skew",
    "skew_advice", "expired_on_arrival", "TOLERANCE_SECONDS", "WARN_SECONDS", "RGW_GRACE_SECONDS",
]

TOLERANCE_SECONDS = 2.0  # a smaller skew is not applied: every margin downstream is larger
WARN_SECONDS = 60.0  # a larger one is told once per process (and by doctor)
RGW_GRACE_SECONDS = 15 * 60.0  # RGW_AUTH_GRACE_MINS: signed requests further off are refused


class ClockReading(NamedTuple):
    """The server's clock against this machine's at one answer: ``skew`` seconds ahead
    (negative: behind), good to ``uncertainty`` either way, read from ``source``
    (``"expiration"``: Expiration - DurationSeconds; ``"date"``: the Date header;
    ``"local"``: the Date header was off and Expiration agreed with this clock)."""

    skew: float
    uncertainty: float
    source: str


def _date_seconds(headers: Optional[Mapping[str, str]]) -> Optional[float]:
    """Epoch seconds of the ``Date`` header, or None when absent or unreadable."""
    value = next((v for k, v in (headers or {}).items() if k.lower() == "date"), None)
    if not value:
        return None
    from email.utils import parsedate_to_datetime

    try:
        moment = parsedate_to_datetime(value)
        return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError, OSError, AttributeError):
        return None


def measure(
    credentials: TemporaryCredentials, headers: Optional[Mapping[str, str]],
    duration_seconds: Optional[int], sent_at: float, received_at: float,
) -> Optional[ClockReading]:
    """The server's clock against this machine's, from a successful answer: keys as sent
    (on the server's clock), the DurationSeconds sent, and this machine's epoch seconds
    around the attempt. None without a usable ``Date`` header."""
    date = _date_seconds(headers)
    if date is None:
        return None
    local = (sent_at + received_at) / 2
    half_trip = max(0.0, received_at - sent_at) / 2
    if duration_seconds:
        issued = credentials.expires_at - duration_seconds
        if date - 1.0 <= issued <= date + 1.0:
            return ClockReading(issued - local, half_trip, "expiration")
        if abs(issued - local) <= half_trip + TOLERANCE_SECONDS:
            return ClockReading(0.0, half_trip, "local")  # the Date header is the odd one
    return ClockReading(date + 0.5 - local, half_trip + 0.5, "date")


def on_local_clock(
    credentials: TemporaryCredentials, reading: Optional[ClockReading], answered_at: float,
    asked: Optional[int] = None, endpoint: str = "",
) -> TemporaryCredentials:
    """``credentials`` with ``expiration`` on this machine's clock, never later than
    ``asked`` seconds after ``answered_at`` (the middle of the attempt); ``clock_skew`` is
    the correction applied (0.0 below the tolerance, None when unknown or not trusted).
    A ``Date`` that would stretch the keys past that, or under which they had expired
    when sent, is distrusted, with a warning."""
    issued_at = datetime.fromtimestamp(answered_at, tz=timezone.utc)
    skew: Optional[float] = None
    expiration = credentials.expiration
    if reading is not None and reading.source == "date" and (
        credentials.expires_at <= answered_at + reading.skew
    ):  # no server hands out keys past their expiry by its own clock: the Date is off
        reading = reading._replace(skew=0.0, source="local")
    if reading is not None and reading.source == "local":
        _warn_date(endpoint, credentials, answered_at)
    elif reading is not None:
        skew = 0.0
        if abs(reading.skew) > max(TOLERANCE_SECONDS, reading.uncertainty):
            skew = round(reading.skew, 3)
            with suppress(OverflowError):  # far beyond any real lifetime: refused later
                expiration = expiration - timedelta(seconds=skew)
    margin = TOLERANCE_SECONDS + (reading.uncertainty if reading is not None else 0.0)
    if asked and skew and expiration.timestamp() > answered_at + asked + margin:
        _warn_date(endpoint, credentials, answered_at)  # the correction would stretch them
        skew = None
        longest = datetime.fromtimestamp(answered_at + asked, tz=timezone.utc)
        expiration = min(credentials.expiration, longest)
    return TemporaryCredentials(
        credentials.access_key, credentials.secret_key, credentials.token, expiration,
        issued_at=issued_at, clock_skew=skew,
    )


def _warn_date(endpoint: str, credentials: TemporaryCredentials, answered_at: float) -> None:
    warn_once(
        ("date", endpoint), __name__,
        "The STS at %s sent a Date header that disagrees with its keys' Expiration (%s) "
        "and with this machine's clock: the Date was not trusted, and the keys are taken "
        "to last no longer than was asked. A proxy or load balancer in between may be "
        "rewriting it; tell the storage administrators if this repeats.",
        endpoint, format_timestamp(credentials.expiration),
    )


def describe_skew(skew: float) -> str:
    """``"20 min behind"``-style words for a skew (server minus this machine)."""
    seconds = round(abs(skew))
    hours, minutes = divmod(round(seconds / 60), 60)
    words = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return (f"{seconds} s" if seconds < 120 else words) + (" behind" if skew > 0 else " ahead of")


def skew_advice(skew: float, endpoint: str) -> str:
    """What a skew beyond :data:`WARN_SECONDS` means and what to do (warnings, doctor)."""
    text = (
        f"This machine's clock is {describe_skew(skew)} the clock of the object store at "
        f"{endpoint} (read from its STS answer). infnminio-boto judges the keys' expiry by "
        "the store's clock, so its own renewals are right; other tools on this machine are "
        "not corrected."
    )
    if abs(skew) > RGW_GRACE_SECONDS:
        text += (
            " Ceph RGW refuses every signed S3 request more than 15 minutes off its clock "
            "(403 RequestTimeTooSkewed), whatever this library does."
        )
    return text + " Set this machine's clock right (NTP: timedatectl, chronyc or ntpd)."


_warned = False


def warn_if_skewed(credentials: TemporaryCredentials, endpoint: str) -> None:
    """Warn once per process when the keys' measured skew exceeds :data:`WARN_SECONDS`."""
    global _warned
    skew = credentials.clock_skew
    if not _warned and skew is not None and abs(skew) > WARN_SECONDS:
        _warned = True
        warn(__name__, "%s", skew_advice(skew, endpoint))


def expired_on_arrival(
    credentials: TemporaryCredentials, reading: Optional[ClockReading], endpoint: str
) -> str:
    """The message refusing keys that had already expired when they arrived."""
    stamp = format_timestamp(credentials.expiration)
    if reading is None:
        return (
            f"The STS at {endpoint} handed out keys that expire at {stamp}, which is already "
            "past by this machine's clock, and its answer had no Date header to compare "
            "clocks with. Check this machine's clock (NTP: timedatectl, chronyc), then retry; "
            "if it is right, tell the storage administrators that the server's clock or "
            "its key lifetime is wrong. The keys were not used or cached."
        )
    relation = "in step with this machine's"
    if abs(reading.skew) > TOLERANCE_SECONDS:
        relation = f"{describe_skew(-reading.skew)} this machine's"
    return (
        f"The STS at {endpoint} handed out keys that had already expired when it answered "
        f"(they expire at {stamp} on this machine's clock; the server's clock is "
        f"{relation}). The server issued keys past their own expiry: its clock, or the "
        "token's exp it caps them at (MinIO), is wrong. Check this machine's clock and the "
        "token's expiry (infnminio-boto status), then tell the storage administrators. The "
        "keys were not used or cached."
    )
