"""``s3_client_kwargs()`` for a session of yours: its profile's choices win over ours."""

from __future__ import annotations

import boto3
import pytest

import infnminio_boto
from infnminio_boto.settings.aws_variables import botocore_supports_them

NEEDS_CHECKSUM_SETTINGS = pytest.mark.skipif(
    not botocore_supports_them(),
    reason="botocore before 1.36 has no checksum settings (nor the checksums RGW refuses)",
)

CONFIG = """\
[default]
region = eu-west-1

[profile mine]
request_checksum_calculation = when_supported
"""


@pytest.fixture
def config(tmp_path, monkeypatch):
    path = tmp_path / "config"
    path.write_text(CONFIG)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
    return path


def _checksum_settings(kwargs):
    options = kwargs["config"]
    return options.request_checksum_calculation, options.response_checksum_validation


@NEEDS_CHECKSUM_SETTINGS
def test_the_profile_of_the_callers_session_wins(config):
    mine = boto3.Session(profile_name="mine")
    kwargs = infnminio_boto.s3_client_kwargs(mine)
    # The profile chose when_supported for requests: ours must not override it.
    assert _checksum_settings(kwargs) == (None, "when_required")
    client = mine.client("s3", **kwargs)
    assert client.meta.config.request_checksum_calculation == "when_supported"
    assert client.meta.config.response_checksum_validation == "when_required"


@NEEDS_CHECKSUM_SETTINGS
def test_a_profile_named_without_a_session_wins_too(config):
    assert _checksum_settings(infnminio_boto.s3_client_kwargs(profile="mine")) == (
        None,
        "when_required",
    )


@NEEDS_CHECKSUM_SETTINGS
def test_without_a_session_or_profile_the_default_profile_is_read(config):
    assert _checksum_settings(infnminio_boto.s3_client_kwargs()) == (
        "when_required",
        "when_required",
    )


def test_a_session_and_a_profile_together_are_refused(config):
    with pytest.raises(TypeError, match="session or a profile"):
        infnminio_boto.s3_client_kwargs(boto3.Session(), profile="mine")
