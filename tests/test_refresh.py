"""Refresh windows, backoff after failures, and thread safety of the credentials."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from infnminio_boto.errors import StsError
from infnminio_boto.refresh import StsWireCredentials, keep_margin, refresh_windows
from infnminio_boto.temporary_credentials import TemporaryCredentials


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Source:
    """A fetch callable handing out keys that live ``lifetime`` seconds on ``clock``."""

    def __init__(self, clock: Clock, lifetime: float) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.calls = 0
        self.fail_with = None

    def __call__(self) -> TemporaryCredentials:
        self.calls += 1
        if self.fail_with is not None:
            raise self.fail_with
        return TemporaryCredentials(
            f"AK{self.calls}",
            f"secret{self.calls}",
            f"session{self.calls}",
            self.clock() + timedelta(seconds=self.lifetime),
        )


@pytest.mark.parametrize(
    "lifetime, advisory, mandatory",
    [(900, 300, 150), (3600, 900, 600), (43200, 900, 600), (60, 20, 10)],
)
def test_windows_fit_the_lifetime(lifetime, advisory, mandatory):
    assert refresh_windows(lifetime) == (advisory, mandatory)
    assert 0 < keep_margin(lifetime) < mandatory


def test_nothing_is_fetched_until_needed():
    clock = Clock()
    source = Source(clock, 900)
    creds = StsWireCredentials(source, time_fetcher=clock)
    assert source.calls == 0
    assert creds.get_frozen_credentials().access_key == "AK1"
    assert source.calls == 1


def test_900_second_credentials_do_not_refresh_on_every_call():
    """1000 calls over 900 s: botocore's fixed 15/10 min windows would exchange each time."""
    clock = Clock()
    source = Source(clock, 900)
    creds = StsWireCredentials(source, time_fetcher=clock)
    for _ in range(1000):
        creds.get_frozen_credentials()
        clock.advance(0.9)
    # first fetch, then one refresh after 600 s (a third of the lifetime left)
    assert source.calls == 2


def test_refresh_happens_before_expiry():
    clock = Clock()
    source = Source(clock, 900)
    creds = StsWireCredentials(source, time_fetcher=clock)
    first = creds.get_frozen_credentials()
    clock.advance(599)
    assert creds.get_frozen_credentials() == first
    clock.advance(2)
    assert creds.get_frozen_credentials().access_key == "AK2"


def test_failed_early_refresh_keeps_valid_keys_and_backs_off(caplog):
    clock = Clock()
    source = Source(clock, 900)
    creds = StsWireCredentials(source, time_fetcher=clock)
    first = creds.get_frozen_credentials()
    clock.advance(700)  # 200 s left: advisory window
    source.fail_with = StsError("STS is down")
    for _ in range(100):
        assert creds.get_frozen_credentials() == first
    assert source.calls == 2  # one failed attempt, then backoff
    clock.advance(120)  # 80 s left: mandatory window, still above the keep margin
    for _ in range(100):
        assert creds.get_frozen_credentials() == first
    assert "keeping the current ones" in caplog.text


def test_failure_reaches_the_caller_only_when_keys_are_about_to_expire():
    clock = Clock()
    source = Source(clock, 900)
    creds = StsWireCredentials(source, time_fetcher=clock)
    creds.get_frozen_credentials()
    source.fail_with = StsError("STS is down")
    clock.advance(900 - 30)  # 30 s left, below the 60 s keep margin
    with pytest.raises(StsError, match="STS is down"):
        creds.get_frozen_credentials()


def test_recovery_after_outage():
    clock = Clock()
    source = Source(clock, 900)
    creds = StsWireCredentials(source, time_fetcher=clock)
    creds.get_frozen_credentials()
    source.fail_with = StsError("down")
    clock.advance(650)
    creds.get_frozen_credentials()
    source.fail_with = None
    creds._retry_not_before = 0  # the backoff delay has passed
    assert creds.get_frozen_credentials().access_key.startswith("AK")
    assert creds.get_frozen_credentials().access_key != "AK1"


def test_first_fetch_failure_is_raised_and_shared_by_waiting_threads():
    clock = Clock()
    source = Source(clock, 900)
    source.fail_with = StsError("token rejected")
    creds = StsWireCredentials(source, time_fetcher=clock)
    errors = []

    def use():
        try:
            creds.get_frozen_credentials()
        except StsError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=use) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 32
    assert source.calls == 1


def test_credentials_already_expired_on_arrival_say_check_the_clock():
    clock = Clock()
    source = Source(clock, -10)
    creds = StsWireCredentials(source, time_fetcher=clock)
    with pytest.raises(StsError, match="clock"):
        creds.get_frozen_credentials()


def test_repr_masks_keys():
    clock = Clock()
    creds = StsWireCredentials(Source(clock, 900), time_fetcher=clock)
    assert "not fetched" in repr(creds)
    creds.get_frozen_credentials()
    assert "secret1" not in repr(creds) and "session1" not in repr(creds)
