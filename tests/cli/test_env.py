"""`infnminio-boto env`: variables for the AWS CLI, s5cmd, rclone and mc."""

from __future__ import annotations

import json
import subprocess
from urllib.parse import unquote, urlsplit

import pytest
from support.cli import COMMAND, clean_environment, run_cli


def test_json_format_has_every_tool(cli_env, rgw_sts):
    done = run_cli("env", "--format", "json", env=cli_env)
    assert done.returncode == 0, done.stderr
    values = json.loads(done.stdout)
    issued = rgw_sts.issued[values["AWS_ACCESS_KEY_ID"]]
    assert values["AWS_SECRET_ACCESS_KEY"] == issued.secret_key
    assert values["AWS_SESSION_TOKEN"] == issued.session_token
    assert values["AWS_ENDPOINT_URL_S3"] == values["S3_ENDPOINT_URL"] == rgw_sts.url
    assert values["RCLONE_S3_ENV_AUTH"] == "true" and values["RCLONE_S3_ENDPOINT"] == rgw_sts.url
    assert values["AWS_REQUEST_CHECKSUM_CALCULATION"] == "WHEN_REQUIRED"
    assert "AWS_CA_BUNDLE" not in values  # none configured: the tools keep their own
    mc = urlsplit(values["MC_HOST_infn"])
    assert unquote(mc.username) == issued.access_key
    assert [unquote(p) for p in mc.password.split(":")] == [issued.secret_key, issued.session_token]


@pytest.mark.parametrize("style", ["sh", "fish", "dotenv"])
def test_shell_formats_round_trip(cli_env, style):
    done = run_cli("env", "--format", style, env=cli_env)
    assert done.returncode == 0, done.stderr
    if style == "sh":
        shown = subprocess.run(
            ["sh", "-c", 'eval "$1"; printf %s "$AWS_SESSION_TOKEN"', "sh", done.stdout],
            capture_output=True,
            text=True,
        )
        assert shown.stdout and shown.stdout in done.stdout
    elif style == "dotenv":
        pairs = dict(line.split("=", 1) for line in done.stdout.splitlines())
        assert json.loads(pairs["AWS_REGION"]) == "us-east-1"
    else:
        assert done.stdout.startswith("set -gx AWS_ACCESS_KEY_ID ")


def test_a_shell_that_chose_its_checksums_keeps_them(cli_env):
    done = run_cli(
        "env", "--format", "json", env=dict(cli_env, AWS_REQUEST_CHECKSUM_CALCULATION="X")
    )
    values = json.loads(done.stdout)
    assert "AWS_REQUEST_CHECKSUM_CALCULATION" not in values
    assert values["AWS_RESPONSE_CHECKSUM_VALIDATION"] == "WHEN_REQUIRED"


@pytest.mark.sandbox
def test_eval_then_aws_cli(infnminio_sandbox, tmp_path):
    env = clean_environment(
        HOME=str(tmp_path),
        INFNMINIO_CACHE_DIR=str(tmp_path / "c"),
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        **infnminio_sandbox.environment(),
    )
    script = f'eval "$({" ".join(COMMAND)} env)"\naws s3 mb s3://from-env\naws s3 ls\n'
    done = subprocess.run(
        ["bash", "-euc", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "from-env" in done.stdout
    exported = json.loads(run_cli("env", "--format", "json", env=env).stdout)
    assert exported["AWS_CA_BUNDLE"] == exported["RCLONE_CA_CERT"] == infnminio_sandbox.ca_bundle
