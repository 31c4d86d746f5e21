"""The rclone remote configure writes, and the real rclone binary using it."""

from __future__ import annotations

import configparser
import subprocess

import pytest
from support.cli import clean_environment, run_cli

from infnminio_boto.profiles.ini_file import set_section
from infnminio_boto.profiles.rclone import remote_values
from infnminio_boto.settings import Settings

OTHER = """\
# my remotes
[gdrive]
type = drive
scope = drive

[infn]
type = s3
provider = Other
acl = private
"""


def test_the_remote_keeps_other_remotes_and_keys():
    values = remote_values(Settings.resolve(environ={}), "infn")
    text = set_section(OTHER, "infn", values)
    assert "# my remotes" in text
    parser = configparser.ConfigParser()
    parser.read_string(text)
    assert parser["gdrive"]["type"] == "drive"
    remote = parser["infn"]
    assert remote["provider"] == "Ceph" and remote["env_auth"] == "true"
    assert remote["profile"] == "infn" and remote["endpoint"] == "https://rgw.cloud.infn.it"
    assert remote["acl"] == "private"  # the user's own key stays
    assert set_section(text, "infn", values) == text


def test_minio_endpoints_get_the_minio_provider():
    values = remote_values(Settings.resolve(endpoint="minio.cloud.infn.it", environ={}), "x")
    assert values["provider"] == "Minio"


def test_configure_print_writes_nothing(tmp_path, token_file):
    env = clean_environment(
        HOME=str(tmp_path),
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        RCLONE_CONFIG=str(tmp_path / "rclone.conf"),
    )
    done = run_cli("configure", "--rclone", "infn", "--print", "--token-file", token_file, env=env)
    assert done.returncode == 0, done.stderr
    assert "[profile infnminio-boto]" in done.stdout and "credential_process = " in done.stdout
    assert "[infn]\ntype = s3" in done.stdout
    assert not (tmp_path / "config").exists() and not (tmp_path / "rclone.conf").exists()


@pytest.mark.sandbox
def test_rclone_lists_copies_up_and_back(infnminio_sandbox, tmp_path, bucket):
    env = clean_environment(
        HOME=str(tmp_path),
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        RCLONE_CONFIG=str(tmp_path / "rclone.conf"),
        INFNMINIO_CACHE_DIR=str(tmp_path / "cache"),
        **infnminio_sandbox.environment(),
    )
    done = run_cli("configure", "--profile", "sbx", "--rclone", "sbx", env=env)
    assert done.returncode == 0, done.stderr
    # From here on the shell knows only the CA (rclone reads none from the profile).
    bare = clean_environment(
        HOME=str(tmp_path),
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        RCLONE_CONFIG=str(tmp_path / "rclone.conf"),
        RCLONE_CA_CERT=infnminio_sandbox.ca_bundle,
    )
    # Only RCLONE_CA_CERT may make rclone trust the sandbox (rclone before 1.68.1 ignores
    # it for S3; a bundle in SSL_CERT_FILE would hide that).
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        bare.pop(name, None)

    def rclone(*args):
        result = subprocess.run(
            ["rclone", *args], env=bare, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    source = tmp_path / "up"
    source.mkdir()
    (source / "a.txt").write_text("through rclone\n")
    rclone("copy", str(source), f"sbx:{bucket}/rclone/")
    assert bucket in rclone("lsd", "sbx:")
    back = tmp_path / "back"
    rclone("copy", f"sbx:{bucket}/rclone/", str(back))
    assert (back / "a.txt").read_text() == "through rclone\n"
