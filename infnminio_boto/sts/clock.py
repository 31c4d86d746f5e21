"""The store's clock, not ours: an STS answer's ``Expiration`` on this machine's clock.

Ceph RGW judges session keys by its own clock (``now >= Expiration`` in
``rgw::auth::s3::STSEngine::authenticate``, ``src/rgw/rgw_rest_s3.cc``; measured on the
sandbox's 16.2.15: the first request at ``Expiration + 1 s`` is refused, whatever time
the request was signed with). Every expiry decision of this library is made with this
machine's clock: the refresh windows, the cache, the fast ``credential_process``
entry, and the ``Expiration`` handed to the AWS SDKs, which compare it with theirs. So
the ``Expiration`` is converted once, where the answer is read::

    local expiration = Expiration - skew,  skew = server clock - this clock, at the answer

and every later decision is right by construction. The skew stays on the keys
(:attr:`TemporaryCredentials.clock_skew`, and in the cache entry) for diagnostics.

Where the server's clock is read from (:func:`measure`):

1. ``Expiration - DurationSeconds``: the server's time at issuance, to the nanosecond
   on RGW (measured over 10 exchanges: always inside this side's [send, receive]
   window, and the ``Date`` header always its floor). Precise, but only when the server
   honoured the duration exactly: MinIO caps keys at the token's ``exp``, a proxy may
   rewrite them. So it is used only when it agrees with the ``Date`` header, i.e. lies
   within [Date - 1 s, Date + 1 s] (``Date`` is the second of issuance, or the next if
   the second turned before the headers were written).
2. Else the ``Date`` header (RFC 7231 IMF-fixdate, one-second resolution; RGW, MinIO
   and AWS all send it): the server's time was in [Date, Date + 1 s), taken as its
   middle.
3. No usable ``Date``: the skew is unknown (None) and nothing is corrected.

This machine's time of the answer is the middle of the attempt's send and receive, so
the reading is good to half the round trip plus the source's resolution. A skew within
:data:`TOLERANCE_SECONDS`, or within that uncertainty, is not applied (``clock_skew``
is then 0.0): every margin downstream is larger (the smallest, for keys still worth
using, is 30 s), and the server's ``Expiration`` is kept exactly as it was sent.

Beyond 15 minutes of skew, Ceph RGW refuses every signed S3 request with 403
``RequestTimeTooSkewed`` (``RGW_AUTH_GRACE_MINS`` in ``src/rgw/rgw_auth_s3.cc``,
measured: 14.5 min accepted, 15.5 min refused), whatever this library does: the
warning says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Mapping, NamedTuple, Optional

from .temporary_credentials import TemporaryCredentials, format_timestamp

__all__ = [
    "ClockReading",
    "measure",
    "on_local_clock",
    "warn_if_skewed",
    "describe_skew",
    "skew_advice",
    "expired_on_arrival",
    "TOLERANCE_SECONDS",
    "WARN_SECONDS",
    "RGW_GRACE_SECONDS",
]

# Below this the skew is not applied (see the module's help).
TOLERANCE_SECONDS = 2.0
# Above this the user is told once per process (and by doctor).
WARN_SECONDS = 60.0
# Ceph RGW's RGW_AUTH_GRACE_MINS: signed requests further off are refused.
RGW_GRACE_SECONDS = 15 * 60.0


class ClockReading(NamedTuple):
    """The server's clock against this machine's, at one answer.

    ``skew``: seconds the server's clock is ahead of this machine's (negative: behind);
    ``uncertainty``: seconds either way; ``source``: ``"expiration"`` (Expiration -
    DurationSeconds) or ``"date"`` (the Date header).
    """

    skew: float
    uncertainty: float
    source: str


def _header(headers: Optional[Mapping[str, str]], name: str) -> Optional[str]:
    """A header's value, whatever the case of its name (test doubles pass plain dicts)."""
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, found in headers.items():
            if key.lower() == lowered:
                return found
    return value


def _date_seconds(value: Optional[str]) -> Optional[float]:
    """Epoch seconds of an HTTP ``Date`` value, or None when absent or unreadable."""
    if not value:
        return None
    from email.utils import parsedate_to_datetime

    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment is None:  # pragma: no cover - older Pythons returned None for garbage
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return moment.timestamp()
    except (OverflowError, OSError, ValueError):
        return None


def measure(
    credentials: TemporaryCredentials,
    headers: Optional[Mapping[str, str]],
    duration_seconds: Optional[int],
    sent_at: float,
    received_at: float,
) -> Optional[ClockReading]:
    """The server's clock against this machine's, from a successful answer.

    ``credentials`` as the server sent them (``expiration`` on the server's clock),
    ``duration_seconds`` the DurationSeconds sent (None if none was), ``sent_at`` and
    ``received_at`` this machine's epoch seconds around the attempt that answered.
    None when the answer carries no usable ``Date`` header.
    """
    date = _date_seconds(_header(headers, "Date"))
    if date is None:
        return None
    local = (sent_at + received_at) / 2
    half_trip = max(0.0, received_at - sent_at) / 2
    if duration_seconds:
        issued = credentials.expires_at - duration_seconds
        if date - 1.0 <= issued <= date + 1.0:
            return ClockReading(issued - local, half_trip, "expiration")
    return ClockReading(date + 0.5 - local, half_trip + 0.5, "date")


def on_local_clock(
    credentials: TemporaryCredentials, reading: Optional[ClockReading], answered_at: float
) -> TemporaryCredentials:
    """``credentials`` with ``expiration`` on this machine's clock, ``issued_at`` the
    local time of the answer (``answered_at``, epoch seconds: the middle of the attempt)
    and ``clock_skew`` the correction applied (0.0 below the tolerance, None when it
    could not be measured)."""
    issued_at = datetime.fromtimestamp(answered_at, tz=timezone.utc)
    skew: Optional[float] = None
    expiration = credentials.expiration
    if reading is not None:
        skew = 0.0
        if abs(reading.skew) > max(TOLERANCE_SECONDS, reading.uncertainty):
            skew = round(reading.skew, 3)
            try:
                expiration = expiration - timedelta(seconds=skew)
            except OverflowError:
                pass  # far beyond any real key's lifetime: the expiry check refuses it
    return TemporaryCredentials(
        credentials.access_key,
        credentials.secret_key,
        credentials.token,
        expiration,
        issued_at=issued_at,
        clock_skew=skew,
    )


def describe_skew(skew: float) -> str:
    """``"20 min behind"``-style words for a skew (server minus this machine): seconds
    below two minutes, whole minutes above (the reading is good to about a second)."""
    seconds = round(abs(skew))
    if seconds < 120:
        words = f"{seconds} s"
    else:
        hours, minutes = divmod(round(seconds / 60), 60)
        words = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return words + (" behind" if skew > 0 else " ahead of")


def skew_advice(skew: float, endpoint: str) -> str:
    """What a skew beyond :data:`WARN_SECONDS` means and what to do (for warnings, doctor)."""
    text = (
        f"This machine's clock is {describe_skew(skew)} the clock of the object store at "
        f"{endpoint} (read from its STS answer). infnminio-boto judges the keys' expiry by "
        "the store's clock, so its own renewals are right; other tools on this machine are "
        "not corrected."
    )
    if abs(skew) > RGW_GRACE_SECONDS:
        return text + (
            " Ceph RGW refuses every signed S3 request more than 15 minutes off its clock "
            "(403 RequestTimeTooSkewed), whatever this library does: set this machine's "
            "clock right (NTP: timedatectl, chronyc or ntpd)."
        )
    return text + " Set this machine's clock right (NTP: timedatectl, chronyc or ntpd)."


_warned = False


def warn_if_skewed(credentials: TemporaryCredentials, endpoint: str) -> None:
    """Warn once per process when the keys' measured skew exceeds :data:`WARN_SECONDS`."""
    global _warned
    skew = credentials.clock_skew
    if _warned or skew is None or abs(skew) <= WARN_SECONDS:
        return
    _warned = True
    from .._log import warn

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
    return (
        f"The STS at {endpoint} handed out keys that had already expired when it answered "
        f"(they expire at {stamp} on this machine's clock; the server's clock is "
        f"{_server_relation(reading.skew)}). "
        "The server issued keys past their own expiry: its clock, or the token's exp it "
        "caps them at (MinIO), is wrong. Check this machine's clock and the token's expiry "
        "(infnminio-boto status), then tell the storage administrators. The keys were not "
        "used or cached."
    )


def _server_relation(skew: float) -> str:
    """The server's clock against this machine's, in words."""
    if abs(skew) <= TOLERANCE_SECONDS:
        return "in step with this machine's"
    return f"{describe_skew(-skew)} this machine's"  # the server relative to this machine
