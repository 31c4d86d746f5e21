"""When to refresh and when keys are fresh enough, for every lifetime."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Optional

import pytest

from infnminio_boto.keys.timing import (
    SDK_ADVISORY_SECONDS,
    SDK_MANDATORY_SECONDS,
    backoff_cap,
    fresh_for_library,
    fresh_for_sdk,
    keep_margin,
    refresh_windows,
)
from infnminio_boto.sts.temporary_credentials import TemporaryCredentials

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def keys(left: float, lifetime: Optional[float] = None) -> TemporaryCredentials:
    issued = NOW - timedelta(seconds=(lifetime - left)) if lifetime else None
    return TemporaryCredentials("AK", "SK", "ST", NOW + timedelta(seconds=left), issued_at=issued)


@pytest.mark.parametrize(
    "lifetime, advisory, mandatory",
    [(60, 20, 10), (900, 300, 150), (2700, 900, 450), (3600, 900, 600), (43200, 900, 600)],
)
def test_windows_fit_the_lifetime(lifetime, advisory, mandatory):
    assert refresh_windows(lifetime) == (advisory, mandatory)


def test_both_windows_equal_the_sdks_only_from_sixty_minute_keys():
    assert refresh_windows(3599) != (SDK_ADVISORY_SECONDS, SDK_MANDATORY_SECONDS)
    assert refresh_windows(3600) == (SDK_ADVISORY_SECONDS, SDK_MANDATORY_SECONDS)
    assert refresh_windows(2700)[0] == SDK_ADVISORY_SECONDS


@pytest.mark.parametrize("lifetime", [12, 60, 900, 3600, 43200])
def test_kept_keys_are_inside_the_mandatory_window_and_backoff_is_bounded(lifetime):
    assert 0 < keep_margin(lifetime) < refresh_windows(lifetime)[1]
    assert 1 <= backoff_cap(lifetime) <= 60
    assert backoff_cap(3600) == 60 and backoff_cap(600) == 30 and backoff_cap(12) == 1


def test_sdks_get_keys_with_more_than_sixteen_minutes_left():
    now = NOW.timestamp()
    assert fresh_for_sdk(keys(961), now)
    assert not fresh_for_sdk(keys(959), now)


def test_library_freshness_follows_the_lifetime_of_the_keys():
    now = NOW.timestamp()
    # 900-second keys: advisory window 300 s, slack 45 s
    assert fresh_for_library(keys(346, lifetime=900), 3600, now)
    assert not fresh_for_library(keys(344, lifetime=900), 3600, now)
    # unknown issue time: the lifetime asked for decides (3600 s: 900 + 60)
    assert fresh_for_library(keys(961), 3600, now)
    assert not fresh_for_library(keys(959), 3600, now)
