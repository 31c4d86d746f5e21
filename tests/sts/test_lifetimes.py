"""A lifetime above the role's maximum: retried once at what the role allows, remembered."""

from __future__ import annotations

import logging
import os
import stat

import pytest
from support.fake_sts import FakeSts

from infnminio_boto.errors import StsError
from infnminio_boto.keys.fetch import fetch_credentials
from infnminio_boto.settings import Settings


@pytest.fixture(autouse=True)
def _warnings_anew(monkeypatch):
    monkeypatch.setattr("infnminio_boto.sts._warned_lifetimes", set(), raising=False)


def durations(server: FakeSts) -> list:
    return [int(recorded.form["DurationSeconds"]) for recorded in server.requests]


def fetch(settings: Settings):
    """A renewal that skips the cached keys (as at the end of their life)."""
    return fetch_credentials(settings, fresh_enough=lambda _keys: False)


def test_a_lifetime_above_the_roles_maximum_is_retried_at_3600_and_remembered(
    settings_for, tmp_path, caplog
):
    caplog.set_level(logging.WARNING)
    cache_dir = tmp_path / "cache"
    with FakeSts("rgw", max_duration=3600) as server:
        settings = Settings.resolve(
            **settings_for(server, duration_seconds=7200, cache_dir=str(cache_dir))
        )
        keys = fetch(settings)
        assert durations(server) == [7200, 3600]
        assert keys.lifetime == pytest.approx(3600, abs=2)
        fetch(settings)  # the next exchange asks what the role allows at once
        assert durations(server) == [7200, 3600, 3600]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "duration_seconds / INFNMINIO_DURATION_SECONDS" in warnings[0]
    assert "7200" in warnings[0] and "3600" in warnings[0]
    (record,) = [name for name in os.listdir(cache_dir) if name.startswith("limits-")]
    assert stat.S_IMODE(os.stat(cache_dir / record).st_mode) == 0o600


def test_a_role_that_allows_the_lifetime_gets_it_in_one_request(settings_for, tmp_path):
    with FakeSts("rgw", max_duration=43200) as server:
        settings = Settings.resolve(
            **settings_for(server, duration_seconds=7200, cache_dir=str(tmp_path / "c"))
        )
        assert fetch(settings).lifetime == pytest.approx(7200, abs=2)
        assert durations(server) == [7200]


def test_the_fallback_is_the_longest_lifetime_seen_accepted(settings_for, tmp_path):
    cache_dir = str(tmp_path / "cache")
    with FakeSts("rgw", max_duration=7200) as server:
        fetch(Settings.resolve(**settings_for(server, duration_seconds=7200, cache_dir=cache_dir)))
        longer = Settings.resolve(
            **settings_for(server, duration_seconds=43200, cache_dir=cache_dir)
        )
        assert fetch(longer).lifetime == pytest.approx(7200, abs=2)
        assert durations(server) == [7200, 43200, 7200]
        fetch(longer)
        assert durations(server)[-1] == 7200


def test_without_the_cache_each_exchange_is_retried_once_and_warned_about_once(
    settings_for, caplog
):
    caplog.set_level(logging.WARNING)
    with FakeSts("rgw") as server:
        settings = Settings.resolve(**settings_for(server, duration_seconds=7200, cache=False))
        fetch(settings)
        fetch(settings)
        assert durations(server) == [7200, 3600, 7200, 3600]
    assert len([r for r in caplog.records if "MaxSessionDuration" in r.getMessage()]) == 1


def test_an_invalid_argument_at_a_lifetime_every_role_allows_is_not_retried(settings_for):
    with FakeSts("rgw") as server:
        settings = Settings.resolve(**settings_for(server, role_arn="", cache=False))
        with pytest.raises(StsError, match="InvalidArgument"):
            fetch(settings)
        assert durations(server) == [3600]


def test_an_invalid_argument_after_the_retry_is_explained_with_the_lifetime_sent(
    settings_for,
):
    with FakeSts("rgw") as server:
        settings = Settings.resolve(
            **settings_for(server, role_arn="", duration_seconds=7200, cache=False)
        )
        with pytest.raises(StsError) as info:
            fetch(settings)
        assert durations(server) == [7200, 3600]  # once, never more
    text = str(info.value)
    assert "DurationSeconds=3600" in text and "duration_seconds=7200 was refused first" in text


def test_a_record_that_is_not_a_private_file_is_not_believed(settings_for, tmp_path):
    from infnminio_boto.keys.cache import CredentialCache, LifetimeRecord

    cache_dir = tmp_path / "cache"
    with FakeSts("rgw", max_duration=43200) as server:
        settings = Settings.resolve(
            **settings_for(server, duration_seconds=7200, cache_dir=str(cache_dir))
        )
        cache = CredentialCache(str(cache_dir))
        LifetimeRecord(cache).store(settings.endpoint.url, settings.role_arn, allowed=None,
                                    refused=3601)
        (record,) = [name for name in os.listdir(cache_dir) if name.startswith("limits-")]
        os.chmod(cache_dir / record, 0o666)  # planted, or opened to others
        assert fetch(settings).lifetime == pytest.approx(7200, abs=2)
        assert durations(server) == [7200]


@pytest.mark.parametrize(
    "content",
    [b"not json", b"[" * 100_000 + b"]" * 100_000, b'{"Version": 1, "Refused": 3601}'],
    ids=["garbage", "deeply-nested", "another-record"],
)
def test_a_record_that_is_not_ours_or_not_a_record_is_ignored(settings_for, tmp_path, content):
    from infnminio_boto.keys.cache import CredentialCache, LifetimeRecord

    cache_dir = tmp_path / "cache"
    with FakeSts("rgw", max_duration=43200) as server:
        settings = Settings.resolve(
            **settings_for(server, duration_seconds=7200, cache_dir=str(cache_dir))
        )
        CredentialCache(str(cache_dir)).check_directory()
        name = LifetimeRecord.name_for(settings.endpoint.url, settings.role_arn)
        (cache_dir / name).write_bytes(content)
        os.chmod(cache_dir / name, 0o600)
        assert fetch(settings).lifetime == pytest.approx(7200, abs=2)
        assert durations(server) == [7200]


def test_a_refused_lifetime_is_forgotten_after_a_day_so_a_raised_maximum_counts(
    settings_for, tmp_path, monkeypatch
):
    """The advice says to ask the administrators to raise the role's maximum: that must
    take effect. A refusal was remembered for ever."""
    import json
    import time as clock

    cache_dir = tmp_path / "cache"
    with FakeSts("rgw", max_duration=3600) as server:
        settings = Settings.resolve(
            **settings_for(server, duration_seconds=7200, cache_dir=str(cache_dir))
        )
        fetch(settings)
        assert durations(server) == [7200, 3600]
        server.max_duration = 7200  # the administrators raised it
        (record,) = [p for p in cache_dir.iterdir() if p.name.startswith("limits-")]
        document = json.loads(record.read_text())
        document["RefusedAt"] -= 86400 + 60  # a day later
        record.write_text(json.dumps(document))
        assert fetch(settings).lifetime == pytest.approx(7200, abs=2)
        assert durations(server)[-1] == 7200
        document = json.loads(record.read_text())
        document["Refused"], document["RefusedAt"] = 7200, int(clock.time()) + 10**9
        record.write_text(json.dumps(document))  # a refusal "in the future": not believed
        server.requests.clear()
        fetch(settings)
        assert durations(server) == [7200]
