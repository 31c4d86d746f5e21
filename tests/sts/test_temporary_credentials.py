"""The frozen keys: timestamps, immutability, the two output formats, masking."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from infnminio_boto.sts.temporary_credentials import (
    TemporaryCredentials,
    format_timestamp,
    mask,
    parse_timestamp,
)

MOMENT = datetime(2026, 11, 23, 21, 28, 43, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-11-23T21:28:43Z", MOMENT),
        ("2026-11-23T21:28:43.179525185Z", MOMENT.replace(microsecond=179525)),
        ("2026-11-23 21:28:43", MOMENT),  # no zone: UTC, as STS servers mean it
        ("2026-11-23T22:28:43+01:00", MOMENT),
        ("2026-11-23T20:28:43-0100", MOMENT),
    ],
)
def test_timestamps(text, expected):
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "2026-11-23",
        "2026-13-01T00:00:00Z",
        # Valid fields whose offset carries the moment out of datetime's range.
        "9999-12-31T23:59:59-01:00",
        "0001-01-01T00:00:00+01:00",
    ],
)
def test_bad_timestamps_raise_value_error(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_format_is_the_credential_process_one():
    assert format_timestamp(MOMENT.replace(microsecond=5)) == "2026-11-23T21:28:43Z"


def test_keys_are_immutable_comparable_and_masked():
    keys = TemporaryCredentials("AKIDEXAMPLE", "SECRETVALUE", "SESSIONVALUE", MOMENT)
    same = TemporaryCredentials("AKIDEXAMPLE", "SECRETVALUE", "SESSIONVALUE", MOMENT)
    assert keys == same and hash(keys) == hash(same)
    with pytest.raises(AttributeError):
        keys.secret_key = "x"
    with pytest.raises(AttributeError):
        del keys.token
    shown = repr(keys) + str(keys)
    assert "SECRETVALUE" not in shown and "SESSIONVALUE" not in shown
    assert "AKID***" in shown and mask(None) == "-"


def test_naive_expiration_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        TemporaryCredentials("a", "b", "c", datetime(2026, 1, 1))


def test_lifetime_and_seconds_left():
    keys = TemporaryCredentials("a", "b", "c", MOMENT, issued_at=MOMENT - timedelta(hours=1))
    assert keys.lifetime == 3600
    assert keys.seconds_left(MOMENT - timedelta(seconds=90)) == 90
    assert keys.seconds_left(MOMENT.timestamp() - 30) == 30
    assert TemporaryCredentials("a", "b", "c", MOMENT).lifetime is None


def test_output_formats():
    keys = TemporaryCredentials("AK", "SK", "ST", MOMENT)
    assert keys.to_credential_process() == {
        "Version": 1,
        "AccessKeyId": "AK",
        "SecretAccessKey": "SK",
        "SessionToken": "ST",
        "Expiration": "2026-11-23T21:28:43Z",
    }
    metadata = keys.to_botocore_metadata()
    assert metadata["token"] == "ST" and parse_timestamp(metadata["expiry_time"]) == MOMENT
