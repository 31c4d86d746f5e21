"""The refresh object: lifetime-sized windows, backoff after failures, threads."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from infnminio_boto.errors import StsError
from infnminio_boto.keys.refresh import RefreshingCredentials
from infnminio_boto.sts.temporary_credentials import TemporaryCredentials

START = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc).timestamp()


class Clock:
    """Seconds since the epoch, moved by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Source:
    """A fetch callable handing out keys that live ``lifetime`` seconds on ``clock``."""

    def __init__(self, clock: Clock, lifetime: float) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.calls = 0
        self.called_at: list = []
        self.fail_with = None
        self.gate = None  # a threading.Event the fetch waits for, when set

    def __call__(self) -> TemporaryCredentials:
        if self.gate is not None:
            self.gate.wait(5)
        self.calls += 1
        self.called_at.append(self.clock())
        if self.fail_with is not None:
            raise self.fail_with
        issued = datetime.fromtimestamp(self.clock(), tz=timezone.utc)
        return TemporaryCredentials(
            f"AKEY{self.calls:04d}",
            f"secret{self.calls}",
            f"session{self.calls}",
            issued + timedelta(seconds=self.lifetime),
            issued_at=issued,
        )


def make(lifetime: float):
    clock = Clock()
    source = Source(clock, lifetime)
    return clock, source, RefreshingCredentials(source, clock=clock)


def test_nothing_is_fetched_until_needed():
    _, source, creds = make(900)
    assert source.calls == 0 and creds.expiration is None and creds.next_refresh is None
    assert creds.get().access_key == "AKEY0001"
    assert source.calls == 1 and creds.renewals == 1


def test_900_second_credentials_do_not_refresh_on_every_call():
    """1000 calls over 900 s: botocore's fixed 15/10 min windows would exchange each time."""
    clock, source, creds = make(900)
    for _ in range(1000):
        creds.get()
        clock.advance(0.9)
    # the first fetch, then one renewal 600 s in (a third of the lifetime left)
    assert source.calls == 2


def test_renewal_happens_at_the_advisory_window():
    clock, _, creds = make(900)
    first = creds.get()
    assert creds.next_refresh == first.expiration - timedelta(seconds=300)
    clock.advance(599)
    assert creds.get() == first and not creds.due()
    clock.advance(2)
    assert creds.due()
    assert creds.get().access_key == "AKEY0002"
    assert creds.expiration == datetime.fromtimestamp(START + 601 + 900, tz=timezone.utc)


def test_failed_early_refresh_keeps_valid_keys_and_backs_off(caplog):
    clock, source, creds = make(900)
    first = creds.get()
    clock.advance(700)  # 200 s left: advisory window
    source.fail_with = StsError("STS is down")
    for _ in range(100):
        assert creds.get() == first
    assert source.calls == 2  # one failed attempt, then backoff
    clock.advance(120)  # 80 s left: mandatory window, still above the keep margin
    for _ in range(100):
        assert creds.get() == first
    assert "keeping the current ones" in caplog.text


def test_backoff_grows_to_a_twentieth_of_the_lifetime():
    """3600-second keys: waits double from about 1 s up to between 30 and 60 s."""
    clock, source, creds = make(3600)
    creds.get()
    source.fail_with = StsError("STS is down")
    clock.advance(2701)  # just inside the 900-second advisory window
    while clock() < START + 3600 - 61:  # until the keys are within their keep margin
        creds.get()
        clock.advance(0.25)
    gaps = [b - a for a, b in zip(source.called_at[1:], source.called_at[2:])]
    assert gaps[0] <= 1.25
    assert all(later >= earlier * 0.9 or later >= 29 for earlier, later in zip(gaps, gaps[1:]))
    assert 29.5 <= max(gaps) <= 60.25
    assert sum(1 for gap in gaps if gap > 30) >= 3


def test_failure_reaches_the_caller_only_when_keys_are_about_to_expire():
    clock, source, creds = make(900)
    creds.get()
    source.fail_with = StsError("STS is down")
    clock.advance(900 - 30)  # 30 s left, below the 60 s keep margin
    with pytest.raises(StsError, match="STS is down"):
        creds.get()


def test_recovery_after_outage():
    clock, source, creds = make(900)
    creds.get()
    source.fail_with = StsError("down")
    clock.advance(650)
    assert creds.get().access_key == "AKEY0001"
    source.fail_with = None
    clock.advance(5)  # past the first backoff delay (at most 1 s)
    assert creds.get().access_key == "AKEY0003"  # AK2 was the failed attempt


def test_forced_refresh_renews_at_once():
    _, source, creds = make(900)
    creds.get()
    assert creds.refresh().access_key == "AKEY0002"
    assert source.calls == 2 and creds.renewals == 2


def test_first_fetch_failure_is_raised_and_shared_by_waiting_threads():
    _, source, creds = make(900)
    source.fail_with = StsError("token rejected")
    errors = []
    barrier = threading.Barrier(32)

    def use():
        barrier.wait()
        try:
            creds.get()
        except StsError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=use) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 32
    assert source.calls == 1


def test_threads_in_the_mandatory_window_wait_for_one_renewal():
    clock, source, creds = make(900)
    creds.get()
    clock.advance(850)  # 50 s left: mandatory window
    release = source.gate = threading.Event()
    got = []
    threads = [threading.Thread(target=lambda: got.append(creds.get())) for _ in range(16)]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join()
    assert {keys.access_key for keys in got} == {"AKEY0002"}
    assert source.calls == 2


def test_credentials_already_expired_on_arrival_say_check_the_clock():
    _, _, creds = make(-10)
    with pytest.raises(StsError, match="clock"):
        creds.get()


def test_repr_masks_keys():
    _, _, creds = make(900)
    assert "not fetched" in repr(creds)
    creds.get()
    shown = repr(creds)
    assert "AKEY0001" not in shown and "secret1" not in shown and "session1" not in shown
    assert "AKEY***" in shown


def test_after_the_keys_expired_a_failing_token_is_not_fetched_on_every_call():
    """The token keeps failing once the keys have expired: 1,100 calls in a minute must
    not mean 1,100 fetches (they were 1,101), and each call gets our error."""
    clock, source, refresher = make(900)
    refresher.get()
    clock.advance(901)  # expired
    source.fail_with = StsError("the STS refused the token")
    errors = 0
    for _ in range(1100):
        clock.advance(60 / 1100)
        with pytest.raises(StsError):
            refresher.get()
        errors += 1
    # exponential backoff from 1 s, capped at 45 s (a twentieth of 900 s), with jitter:
    # a handful of fetches in that minute, whatever the jitter
    assert errors == 1100 and 2 <= source.calls - 1 <= 12


def test_thousands_of_failures_raise_our_error_never_an_overflow():
    clock, source, refresher = make(900)
    source.fail_with = StsError("still refused")
    for _ in range(2000):
        with pytest.raises(StsError):
            refresher.get()
        clock.advance(120)  # past any backoff: every call fetches and fails
    assert source.calls == 2000


def test_keys_the_store_refused_are_replaced_once_whatever_the_windows_say():
    _, source, creds = make(3600)
    first = creds.get()
    fresh = creds.replace_refused(first.access_key)  # an hour left by our clock
    assert fresh is not None and fresh.access_key != first.access_key
    assert creds.get() == fresh and source.calls == 2
    # A request signed with the old keys, refused after the renewal: no new fetch.
    assert creds.replace_refused(first.access_key) == fresh and source.calls == 2
    assert creds.replace_refused("SOMEONE-ELSES") is None and source.calls == 2


def test_a_failed_replacement_raises_and_backs_off():
    _, source, creds = make(3600)
    first = creds.get()
    source.fail_with = StsError("the STS is down")
    with pytest.raises(StsError):
        creds.replace_refused(first.access_key)
    with pytest.raises(StsError):  # during the backoff: the same error, no fetch
        creds.replace_refused(first.access_key)
    assert source.calls == 2


def test_a_token_put_right_is_seen_at_once_not_after_the_backoff():
    """After a failed %load_ext the user starts sts-wire and re-runs the cell: the next
    call read the token again only after up to a minute of the same stale error."""
    from infnminio_boto.errors import TokenFileError
    from infnminio_boto.keys.refresh import TOKEN_RETRY_SECONDS

    clock, source, creds = make(3600)
    source.fail_with = TokenFileError("No access token found")
    for _ in range(6):  # failed cells, each a real try: the backoff's exponent grows
        with pytest.raises(TokenFileError):
            creds.get()
        clock.advance(200)
    with pytest.raises(TokenFileError):
        creds.get()
    source.fail_with = None
    clock.advance(TOKEN_RETRY_SECONDS)
    assert creds.get().access_key.startswith("AKEY")


def test_a_failing_exchange_still_backs_off():
    clock, source, creds = make(3600)
    source.fail_with = StsError("refused")
    with pytest.raises(StsError):
        creds.get()
    calls = source.calls
    clock.advance(0.5)
    with pytest.raises(StsError):
        creds.get()
    assert source.calls == calls  # the same error, no new request to the STS
