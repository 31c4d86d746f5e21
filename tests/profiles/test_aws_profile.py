"""The AWS profile: what it holds, and editing the config file without losing anything."""

from __future__ import annotations

import configparser
import shlex

import pytest

from infnminio_boto.cli.credential_process import fast_parse
from infnminio_boto.profiles.aws import CHECKSUM_SETTINGS, profile_values, update_config
from infnminio_boto.settings import TOKEN_SETTINGS, Settings

VALUES = {
    "credential_process": "/opt/bin/infnminio-boto credential-process --endpoint https://x",
    "endpoint_url": "https://x",
    "region": "us-east-1",
}

EXISTING = """\
# my AWS settings; keep this comment
[default]
region = eu-west-1

[profile work]
# the work account
aws_access_key_id = AKIAEXAMPLE
s3 =
    max_concurrent_requests = 20

[profile infn]
region = old-region
output = json
s3 =
    addressing_style = virtual
    signature_version = s3v4
endpoint_url = https://old.example.org
"""


def test_new_profile_in_an_empty_file():
    text = update_config("", "infn", VALUES)
    parser = configparser.ConfigParser()
    parser.read_string(text)
    section = parser["profile infn"]
    assert section["credential_process"] == VALUES["credential_process"]
    assert section["endpoint_url"] == "https://x"
    assert section["region"] == "us-east-1"
    assert "addressing_style = path" in section["s3"]


def test_other_profiles_keys_and_comments_are_kept():
    text = update_config(EXISTING, "infn", VALUES)
    assert "# my AWS settings; keep this comment" in text
    assert "# the work account" in text
    parser = configparser.ConfigParser()
    parser.read_string(text)
    assert parser["default"]["region"] == "eu-west-1"
    assert parser["profile work"]["aws_access_key_id"] == "AKIAEXAMPLE"
    assert "max_concurrent_requests = 20" in parser["profile work"]["s3"]
    infn = parser["profile infn"]
    assert infn["region"] == "us-east-1" and infn["output"] == "json"
    assert infn["endpoint_url"] == "https://x"
    assert "signature_version = s3v4" in infn["s3"]
    assert "addressing_style = path" in infn["s3"] and "virtual" not in infn["s3"]


def test_running_twice_changes_nothing():
    once = update_config(EXISTING, "infn", VALUES)
    assert update_config(once, "infn", VALUES) == once
    fresh = update_config("", "infn", VALUES)
    assert update_config(fresh, "infn", VALUES) == fresh


def test_default_profile_uses_the_default_section():
    text = update_config(EXISTING, "default", VALUES)
    parser = configparser.ConfigParser()
    parser.read_string(text)
    assert parser["default"]["credential_process"] == VALUES["credential_process"]
    assert "profile default" not in parser




def test_checksum_settings_are_added_but_a_users_choice_wins():
    fresh = configparser.ConfigParser()
    fresh.read_string(update_config("", "infn", VALUES))
    for key, value in CHECKSUM_SETTINGS.items():
        assert fresh["profile infn"][key] == value == "when_required"
    own = "[profile infn]\nrequest_checksum_calculation = when_supported\n"
    kept = configparser.ConfigParser()
    kept.read_string(update_config(own, "infn", VALUES))
    assert kept["profile infn"]["request_checksum_calculation"] == "when_supported"
    assert kept["profile infn"]["response_checksum_validation"] == "when_required"


def _command_settings(command: str, environ: dict) -> Settings:
    """The settings the profile's credential_process line resolves to in ``environ``."""
    words = shlex.split(command)
    assert words[1:3] == ["-I", "-S"] and words[3].endswith("fast_credential_process.py")
    args = fast_parse(words[4:])
    assert args is not None, command
    flags = {k: v for k, v in vars(args).items() if k != "verbose" and v is not None}
    return Settings.resolve(environ=environ, **flags)


def test_every_given_setting_survives_a_clean_shell(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    environ = {
        "HOME": str(tmp_path),
        "INFNMINIO_ALLOW_INSECURE_HTTP": "1",
        "INFNMINIO_TIMEOUT": "7.5",
        "INFNMINIO_MAX_ATTEMPTS": "5",
        "INFNMINIO_CACHE": "0",
        "INFNMINIO_CACHE_DIR": str(tmp_path / "cache"),
    }
    settings = Settings.resolve(
        environ=environ,
        endpoint="http://s3.example.org:8080",
        token_file=str(tmp_path / "token"),
        role_arn="arn:aws:iam:::role/Other",
        role_session_name="job-7",
        duration_seconds=1800,
        region="eu-south-1",
        ca_bundle=str(ca),
    )
    written = profile_values(settings)
    again = _command_settings(written["credential_process"], {"HOME": "/elsewhere"})
    for name in settings.given():
        field = "token" if name in TOKEN_SETTINGS else name
        assert getattr(again, field) == getattr(settings, field), name
    assert set(settings.given()) == set(again.given())
    assert written["ca_bundle"] == str(ca)


@pytest.mark.parametrize(
    "setting, value",
    [
        ("token_command", "oidc-token --aud object 'my account'"),
        ("oidc_agent_account", "infncloud"),
    ],
)
def test_the_chosen_token_source_is_written_into_the_profile(tmp_path, setting, value):
    settings = Settings.resolve(environ={"HOME": str(tmp_path)}, **{setting: value})
    command = profile_values(settings)["credential_process"]
    again = _command_settings(command, {"HOME": "/elsewhere"})
    assert again.token == settings.token and again.token.setting == setting


def test_defaults_are_left_to_the_shell_that_runs_the_profile(tmp_path):
    settings = Settings.resolve(environ={"HOME": str(tmp_path)}, endpoint="s3.example.org")
    command = profile_values(settings)["credential_process"]
    assert shlex.split(command)[-2:] == ["--endpoint", "https://s3.example.org"]


def test_no_role_arn_against_a_preset_that_has_one_is_written_as_empty(tmp_path):
    settings = Settings.resolve(environ={"HOME": str(tmp_path)}, role_arn="")
    command = profile_values(settings)["credential_process"]
    assert _command_settings(command, {"HOME": str(tmp_path)}).role_arn is None
    assert "--role-arn ''" in command
