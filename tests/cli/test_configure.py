"""`infnminio-boto configure` as a user runs it, and the AWS CLI and boto3 using the profile."""

from __future__ import annotations

import configparser
import shlex
import subprocess

import boto3
import pytest
from support.cli import clean_environment, run_cli
from support.files import same_content

EXISTING = """\
# my AWS settings; keep this comment
[default]
region = eu-west-1

[profile infn]
region = old-region
"""


def test_command_writes_the_file_idempotently(tmp_path, token_file):
    config = tmp_path / "aws" / "config"
    config.parent.mkdir()
    config.write_text(EXISTING)
    env = clean_environment(HOME=str(tmp_path), AWS_CONFIG_FILE=str(config))
    args = (
        "configure",
        "--profile",
        "infn",
        "--endpoint",
        "s3.example.org",
        "--token-file",
        token_file,
    )
    first = run_cli(*args, env=env)
    assert first.returncode == 0, first.stderr
    assert "written" in first.stdout and "aws --profile infn s3 ls" in first.stdout
    written = config.read_text()
    second = run_cli(*args, env=env)
    assert "already up to date" in second.stdout
    assert config.read_text() == written
    parser = configparser.ConfigParser()
    parser.read_string(written)
    command = shlex.split(parser["profile infn"]["credential_process"])
    assert command[0].startswith("/")  # an absolute path, usable from any shell
    assert command[command.index("--endpoint") + 1] == "https://s3.example.org"
    assert command[command.index("--token-file") + 1] == token_file


def test_warns_when_static_keys_would_win(tmp_path):
    credentials = tmp_path / "credentials"
    credentials.write_text("[infn]\naws_access_key_id = X\naws_secret_access_key = Y\n")
    env = clean_environment(
        HOME=str(tmp_path),
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(credentials),
    )
    done = run_cli("configure", env=env)
    assert done.returncode == 0
    assert "take precedence" in done.stderr


@pytest.mark.sandbox
def test_aws_cli_and_boto3_through_the_profile(infnminio_sandbox, tmp_path, big_file):
    config = tmp_path / "config"
    env = clean_environment(
        HOME=str(tmp_path),
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        INFNMINIO_CACHE_DIR=str(tmp_path / "cache"),
        **infnminio_sandbox.environment(),
    )
    done = run_cli("configure", "--profile", "sbx", env=env)
    assert done.returncode == 0, done.stderr
    # From here on the shell has no INFNMINIO_* variables: the profile carries everything.
    bare = clean_environment(
        HOME=str(tmp_path),
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        INFNMINIO_CACHE_DIR=str(tmp_path / "cache"),
    )
    (tmp_path / "hello.txt").write_text("hello through the AWS CLI\n")

    def aws(*args):
        result = subprocess.run(
            ["aws", "--profile", "sbx", *args],
            capture_output=True,
            text=True,
            env=bare,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    aws("s3", "mb", "s3://from-aws-cli")
    aws("s3", "cp", str(tmp_path / "hello.txt"), "s3://from-aws-cli/hello.txt")
    assert "hello.txt" in aws("s3", "ls", "s3://from-aws-cli/")
    assert "from-aws-cli" in aws("s3", "ls")

    # 20 MB up in parts and back, over https, with the profile's CA bundle and checksums
    aws("s3", "cp", "--only-show-errors", big_file, "s3://from-aws-cli/big.bin")
    back = str(tmp_path / "back.bin")
    aws("s3", "cp", "--only-show-errors", "s3://from-aws-cli/big.bin", back)
    assert same_content(big_file, back)
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("a\n")
    (tree / "sub" / "b.txt").write_text("b\n")
    aws("s3", "sync", "--only-show-errors", str(tree), "s3://from-aws-cli/tree/")
    listed = aws("s3", "ls", "--recursive", "s3://from-aws-cli/tree/")
    assert "tree/a.txt" in listed and "tree/sub/b.txt" in listed

    with pytest.MonkeyPatch.context() as patch:
        for name, value in bare.items():
            patch.setenv(name, value)
        for name in list(infnminio_sandbox.environment()):
            patch.delenv(name, raising=False)
        s3 = boto3.Session(profile_name="sbx").client("s3")  # no endpoint_url passed
        body = s3.get_object(Bucket="from-aws-cli", Key="hello.txt")["Body"].read()
    assert body == b"hello through the AWS CLI\n"
