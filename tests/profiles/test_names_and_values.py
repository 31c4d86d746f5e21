"""Which profile names, remote names and values go into a config file, checked by the
tools that read the file: the AWS CLI and rclone."""

from __future__ import annotations

import os
import subprocess

import pytest
from support.cli import clean_environment

from infnminio_boto.errors import ConfigurationError
from infnminio_boto.profiles.aws import ensure_profile
from infnminio_boto.profiles.ini_file import check_value
from infnminio_boto.profiles.rclone import remote_values, write_remote
from infnminio_boto.settings import Settings

# Every character the AWS SDKs accept in a profile name, in one name.
AWS_NAME = "Team-2_prod.eu/a%b:c@d+e"
# Every character rclone accepts in a remote name except space (and letters beyond ASCII).
RCLONE_NAME = "Team-2_prod.eu+me@infn"


def test_every_character_the_aws_sdks_allow_works_with_the_aws_cli(
    tmp_path, token_file, monkeypatch
):
    config = tmp_path / "config"
    settings = Settings.resolve(token_file=token_file, region="eu-south-7", environ={})
    env = clean_environment(HOME=str(tmp_path), AWS_CONFIG_FILE=str(config))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))

    ensure_profile(AWS_NAME, settings)

    done = subprocess.run(
        ["aws", "--profile", AWS_NAME, "configure", "get", "region"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "eu-south-7"


def test_every_character_allowed_in_a_remote_name_works_with_rclone(tmp_path, monkeypatch):
    remotes = tmp_path / "rclone.conf"
    monkeypatch.setenv("RCLONE_CONFIG", str(remotes))

    write_remote(RCLONE_NAME, remote_values(Settings.resolve(environ={}), "infn"))

    env = clean_environment(HOME=str(tmp_path), RCLONE_CONFIG=str(remotes))
    done = subprocess.run(
        ["rclone", "listremotes"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [f"{RCLONE_NAME}:"]


@pytest.mark.parametrize("name", ["naïve", "a b", "a]", "a\nb", "a#b", "a=b", "a;b", ""])
def test_a_profile_name_outside_the_aws_sdks_rule_is_refused(
    tmp_path, token_file, monkeypatch, name
):
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))

    with pytest.raises(ConfigurationError, match="profile name"):
        ensure_profile(name, Settings.resolve(token_file=token_file, environ={}))

    assert config.read_text() == "[default]\nregion = eu-west-1\n"


@pytest.mark.parametrize("name", ["naïve", "a b", "-a", "a:b", "a/b", "a%b", "a]", ""])
def test_a_remote_name_outside_the_safe_rclone_rule_is_refused(tmp_path, monkeypatch, name):
    monkeypatch.setenv("RCLONE_CONFIG", str(tmp_path / "rclone.conf"))
    with pytest.raises(ConfigurationError, match="rclone remote name"):
        write_remote(name, remote_values(Settings.resolve(environ={}), "infn"))
    assert not (tmp_path / "rclone.conf").exists()


CONTROLS = [chr(code) for code in [*range(0x20), 0x7F, *range(0x80, 0xA0)]] + ["\u2028", "\u2029"]


@pytest.mark.parametrize("character", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_every_control_character_in_a_value_is_refused_and_shown_escaped(character):
    with pytest.raises(ConfigurationError) as error:
        check_value("cache_dir", f"/tmp/a{character}b")
    message = str(error.value)
    assert "cache_dir" in message
    assert character not in message  # shown escaped, so that it is visible
    assert repr(character)[1:-1] in message


def test_ordinary_values_pass_unchanged():
    for value in ["/home/josé/my tokens/token", "arn:aws:iam:::role/IAMaccess", "eu-west-1",
                  "https://rgw.cloud.infn.it:8443", "a;b#c=d"]:
        check_value("token_file", value)


def test_a_path_that_is_not_utf8_is_refused_before_the_file_is_written(
    tmp_path, token_file, monkeypatch
):
    # os.fsdecode keeps undecodable bytes as surrogates; written back they would make
    # the whole config file unreadable to the AWS CLI under a UTF-8 locale.
    config = tmp_path / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    bad = os.fsdecode(str(tmp_path).encode() + b"/cach\xe9")
    with pytest.raises(ConfigurationError, match="cache_dir"):
        ensure_profile("infn", Settings.resolve(token_file=token_file, cache_dir=bad, environ={}))
    assert not config.exists()
