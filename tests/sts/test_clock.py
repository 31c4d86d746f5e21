"""The store's clock, not ours: the keys' expiry converted where the answer is read."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta, timezone
from email.utils import formatdate

import pytest
from support.cli import run_cli
from support.fake_sts import FakeSts, Issued, success_xml

import infnminio_boto
from infnminio_boto.errors import StsError
from infnminio_boto.keys.fetch import read_settings_token
from infnminio_boto.settings import Settings
from infnminio_boto.sts import HttpResponse, exchange

NOW = 1_800_000_000.25  # this machine's clock during the exchange (epoch seconds)


def answer(server_now: float, lifetime: float, dialect: str = "rgw", date: bool = True):
    """A send() whose answer was issued at ``server_now`` (the server's clock) for
    ``lifetime`` seconds, with that moment's Date header."""
    issued = Issued(
        access_key="AKIDCLOCKTEST",
        secret_key="secretclocktest",
        session_token="sessionclocktest",
        expiration=datetime.fromtimestamp(server_now, timezone.utc) + timedelta(seconds=lifetime),
    )
    headers = {"Date": formatdate(int(server_now), usegmt=True)} if date else {}

    def send(_request):
        return HttpResponse(200, headers, success_xml(issued, dialect))

    return send, issued


@pytest.fixture
def run(token_file):
    """Exchange through ``send`` on a machine whose clock says NOW."""

    def exchange_with(send):
        settings = Settings.resolve(
            endpoint="http://127.0.0.1:9",  # never reached: send() answers
            token_file=token_file,
            role_arn="arn:aws:iam:::role/IAMaccess",
        )
        token = read_settings_token(settings)
        return exchange(settings, token, send=send, clock=lambda: NOW, sleep=lambda _s: None)

    return exchange_with


@pytest.mark.parametrize("offset", [20 * 60, -20 * 60])
def test_the_servers_clock_is_read_from_the_lifetime_it_honoured(run, offset):
    # Ceph RGW honours DurationSeconds to the nanosecond: Expiration - 3600 is its time.
    send, _ = answer(NOW + offset + 0.3, 3600)
    keys = run(send)
    assert keys.clock_skew == pytest.approx(offset + 0.3, abs=0.01)
    assert keys.expires_at == pytest.approx(NOW + 3600, abs=0.01)
    assert keys.lifetime == pytest.approx(3600, abs=0.01)


def test_keys_cut_short_are_placed_by_the_date_header(run):
    # MinIO caps the keys at the token's exp: Expiration - DurationSeconds is not the
    # server's time, the Date header (to the second) is.
    send, _ = answer(NOW + 1200, 1000, dialect="minio")
    keys = run(send)
    assert keys.clock_skew == pytest.approx(1200, abs=1.0)
    assert keys.expires_at == pytest.approx(NOW + 1000, abs=1.0)


def test_a_skew_within_the_tolerance_leaves_the_expiration_as_sent(run):
    send, issued = answer(NOW + 0.9, 3600)
    keys = run(send)
    assert keys.clock_skew == 0.0
    assert keys.expiration == issued.expiration


def test_without_a_date_header_nothing_is_corrected(run):
    send, issued = answer(NOW + 1200, 3600, date=False)
    keys = run(send)
    assert keys.clock_skew is None
    assert keys.expiration == issued.expiration


@pytest.mark.parametrize(
    ("offset", "grace_exceeded"), [(20 * 60, True), (-2 * 60, False), (30, None)]
)
def test_a_skew_over_a_minute_is_warned_about_once(
    run, monkeypatch, caplog, offset, grace_exceeded
):
    monkeypatch.setattr("infnminio_boto.sts.clock._warned", False)  # once per process
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        send, _ = answer(NOW + offset, 3600)
        run(send)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    if grace_exceeded is None:
        assert warnings == []
        return
    assert len(warnings) == 1
    said = warnings[0]
    assert ("behind" if offset > 0 else "ahead of") in said
    assert "NTP" in said
    assert ("RequestTimeTooSkewed" in said) is grace_exceeded


@pytest.fixture
def expired_on_arrival():
    """An STS handing out keys that expired a minute before it answered."""
    with FakeSts("rgw", credential_lifetime=-60) as server:
        yield server


def test_keys_expired_on_arrival_are_refused_by_the_exchange(expired_on_arrival, settings_for):
    settings = Settings.resolve(**settings_for(expired_on_arrival))
    with pytest.raises(StsError) as info:
        exchange(settings, read_settings_token(settings))
    text = str(info.value)
    assert "already expired" in text and "clock" in text and "not used or cached" in text


def test_keys_expired_on_arrival_reach_no_command_and_no_cache(
    expired_on_arrival, cli_env, tmp_path
):
    env = dict(cli_env, INFNMINIO_ENDPOINT=expired_on_arrival.url)
    for command in (
        ["credential-process"],
        ["env"],
        ["exec", "--", "python", "-c", "pass"],
    ):
        done = run_cli(*command, env=env)
        assert done.returncode == 5, (command, done.stdout, done.stderr)
        assert done.stdout == "", command
        assert "already expired" in done.stderr and "clock" in done.stderr, command
    cache = tmp_path / "cache"
    kept = os.listdir(cache) if cache.exists() else []
    assert not [name for name in kept if name.endswith(".json") or name.startswith("fast-")]
    assert expired_on_arrival.successful_exchanges == 3  # each asked again: nothing kept


def test_keys_expired_on_arrival_fail_a_session_with_the_same_advice(
    expired_on_arrival, settings_for, tmp_path
):
    session = infnminio_boto.session(
        **settings_for(expired_on_arrival, cache_dir=str(tmp_path / "cache"))
    )
    with pytest.raises(StsError, match="already expired"):
        session.client("s3").list_buckets()
    assert not any(name.endswith(".json") for name in os.listdir(tmp_path / "cache"))


def wrong_date(server_now: float, lifetime: float, date_off: float, dialect: str = "rgw"):
    """An honest answer whose Date header is ``date_off`` seconds off (a proxy rewriting it)."""
    _send, issued = answer(server_now, lifetime, dialect)
    headers = {"Date": formatdate(int(server_now + date_off), usegmt=True)}

    def with_date(_request):
        return HttpResponse(200, headers, success_xml(issued, dialect))

    return with_date, issued


@pytest.mark.parametrize("date_off", [-86400, 86400])
def test_a_date_a_day_off_an_honest_expiration_is_distrusted(run, date_off, caplog):
    """It turned 1-hour keys into a 25-hour Expiration (or keys already expired)."""
    caplog.set_level(logging.WARNING)
    send, issued = wrong_date(NOW, 3600, date_off)
    keys = run(send)
    assert keys.expiration == issued.expiration  # what was asked, as sent
    assert keys.clock_skew is None
    assert any("Date header" in r.getMessage() for r in caplog.records)


def test_a_correction_never_stretches_keys_past_what_was_asked(run, caplog):
    # MinIO capped the keys (so Expiration - DurationSeconds says nothing) and the Date
    # header is a day behind: the correction would make 20-minute keys last a day.
    caplog.set_level(logging.WARNING)
    send, issued = wrong_date(NOW, 1200, -86400, dialect="minio")
    keys = run(send)
    assert keys.expires_at <= NOW + 3600  # at most the DurationSeconds sent
    assert keys.expires_at == pytest.approx(issued.expiration.timestamp(), abs=1)
    assert any("Date header" in r.getMessage() for r in caplog.records)


def test_a_date_under_which_the_keys_had_already_expired_is_not_the_servers_clock(run, caplog):
    # MinIO capped the keys at the token's exp (20 minutes), and the Date header is a day
    # ahead: no server hands out keys past their expiry by its own clock, so the Date is
    # the odd one, and the keys are good for their 20 minutes on this machine's clock.
    caplog.set_level(logging.WARNING)
    send, issued = wrong_date(NOW, 1200, 86400, dialect="minio")
    keys = run(send)
    assert keys.expires_at == pytest.approx(issued.expiration.timestamp(), abs=1)
    assert keys.clock_skew is None
    assert any("Date header" in r.getMessage() for r in caplog.records)
