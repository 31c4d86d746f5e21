"""When to try again, and how long to wait first: the one backoff of the package.

The exchange retries what botocore's standard retry mode retries (connection failures,
5xx, throttling, ``IDPCommunicationError`` for STS) within ``max_attempts``; every wait
before another try (the exchange, a failed renewal) is :func:`backoff` (a busy lock is
polled, _files.py). See docs/design.md, "The exchange".
"""

from __future__ import annotations

import random
import time
from typing import Mapping, Optional

from .dialects import Problem

__all__ = [
    "backoff", "BACKOFF_BASE_SECONDS", "BACKOFF_CAP_SECONDS", "RETRY_AFTER_CAP_SECONDS",
    "THROTTLING_CODES", "TRANSIENT_CODES", "retryable", "retry_after", "delay_before",
]

BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
# botocore's cap on a retry delay (retries/standard.py, ExponentialBackoff).
RETRY_AFTER_CAP_SECONDS = 20.0
# botocore 1.43 retries/standard.py (_THROTTLED_ERROR_CODES, _TRANSIENT_ERROR_CODES), and
# for STS alone IDPCommunicationError (retries/special.py; data/_retry.json "sts").
THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
    "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
    "EC2ThrottledException",
})
TRANSIENT_CODES = frozenset({"RequestTimeout", "RequestTimeoutException", "IDPCommunicationError"})
# Past this many failures the exponent stops growing (2.0 ** 1024 would overflow).
MAX_COUNTED = 30


def backoff(
    attempt: int, base: float = BACKOFF_BASE_SECONDS, cap: float = BACKOFF_CAP_SECONDS
) -> float:
    """Seconds to wait after failure number ``attempt`` (1-based): ``base * 2**(attempt-1)``
    capped at ``cap``, jittered to between half and all of it."""
    exponent = min(max(attempt, 1), MAX_COUNTED) - 1
    return min(cap, base * 2.0**exponent) * random.uniform(0.5, 1.0)


def retryable(status: int, problem: Problem) -> bool:
    """Whether an error answer is worth another attempt, by botocore's standard rules."""
    code = problem.code
    return status >= 500 or status == 429 or code in THROTTLING_CODES or code in TRANSIENT_CODES


def retry_after(headers: Optional[Mapping[str, str]]) -> Optional[float]:
    """Seconds the server asked the client to wait, or None: ``x-amz-retry-after``
    (milliseconds, as botocore reads it) or ``Retry-After`` (seconds or an HTTP date,
    RFC 9110 10.2.3). Unreadable or negative values count as none."""
    if not headers:
        return None
    amazon, standard = headers.get("x-amz-retry-after"), headers.get("Retry-After")
    try:
        if amazon is not None:
            seconds = int(amazon.strip()) / 1000.0
        elif standard is None:
            return None
        elif standard.strip().isdigit():
            seconds = float(int(standard.strip()))
        else:
            from email.utils import parsedate_to_datetime

            seconds = parsedate_to_datetime(standard.strip()).timestamp() - time.time()
    except (ValueError, TypeError, OverflowError, IndexError):
        return None
    return seconds if seconds >= 0 else None


def delay_before(attempt: int, asked: Optional[float] = None) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based): the jittered backoff,
    or what the server ``asked`` for if longer, at most ``RETRY_AFTER_CAP_SECONDS``."""
    delay = backoff(attempt + 1)
    return delay if asked is None else min(max(delay, asked), RETRY_AFTER_CAP_SECONDS)
