"""Each token source against the sandbox's real Ceph RGW: a token from that source,
exchanged, and S3 keys that work. The real oidc-agent: tests/sandbox/test_oidc_agent.py."""

from __future__ import annotations

import json
import os
import stat
import sys

import pytest
from support import secret_registry
from support.cli import clean_environment, run_cli
from support.jwt_helpers import write_in_place

import infnminio_boto

pytestmark = pytest.mark.sandbox


@pytest.fixture
def fresh_token(infnminio_sandbox) -> str:
    token = infnminio_sandbox.mint_token(subject="source-user", lifetime=3600)
    secret_registry.register(token)
    return token


def settings_without_token(infnminio_sandbox, tmp_path) -> dict:
    values = dict(infnminio_sandbox.settings(), cache_dir=str(tmp_path / "cache"))
    del values["token_file"]
    return values


def buckets_with(**settings) -> list:
    return infnminio_boto.session(**settings).client("s3").list_buckets()["Buckets"]


def test_bearer_token_variable(infnminio_sandbox, fresh_token, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("BEARER_TOKEN", fresh_token)
    buckets_with(**settings_without_token(infnminio_sandbox, tmp_path))
    keys = infnminio_boto.credentials(**settings_without_token(infnminio_sandbox, tmp_path))
    assert keys.access_key


def test_token_command(infnminio_sandbox, fresh_token, tmp_path):
    command = tmp_path / "my-token"
    command.write_text(f"#!{sys.executable} -I\nprint({fresh_token!r})\n")
    command.chmod(command.stat().st_mode | stat.S_IXUSR)
    settings = dict(settings_without_token(infnminio_sandbox, tmp_path), token_command=str(command))
    assert isinstance(buckets_with(**settings), list)


def test_a_batch_job_with_htcondor_credentials_and_no_token_in_home(
    infnminio_sandbox, fresh_token, tmp_path
):
    """As HTCondor starts a job: $_CONDOR_CREDS holds <service>.use, HOME holds nothing,
    no INFNMINIO_* but the endpoint. The command line finds the token on its own."""
    creds = tmp_path / "creds"
    creds.mkdir(mode=0o700)
    write_in_place(str(creds / "infn.use"), fresh_token + "\n")
    os.chmod(creds / "infn.use", 0o600)
    home = tmp_path / "job-home"
    home.mkdir()
    env = clean_environment(
        HOME=str(home),
        _CONDOR_CREDS=str(creds),
        INFNMINIO_ENDPOINT=infnminio_sandbox.endpoint,
        INFNMINIO_ROLE_ARN=infnminio_sandbox.role_arn,
        INFNMINIO_CA_BUNDLE=infnminio_sandbox.ca_bundle,
    )
    env.pop("BEARER_TOKEN", None)
    env.pop("BEARER_TOKEN_FILE", None)
    done = run_cli("credential-process", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["AccessKeyId"]
    status = run_cli("status", env=env)
    assert "HTCondor's credentials ($_CONDOR_CREDS)" in status.stdout
    assert str(creds / "infn.use") in status.stdout
