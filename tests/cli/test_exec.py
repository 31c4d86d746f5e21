"""`infnminio-boto exec`: a command with the keys in its environment, or served renewed."""

from __future__ import annotations

import json
import sys

from support.cli import run_cli
from support.fake_sts import FakeSts

SHOW = (
    "import json, os; print(json.dumps({k: os.environ.get(k) for k in ("
    "'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', "
    "'AWS_CREDENTIAL_EXPIRATION', 'AWS_ENDPOINT_URL_S3', 'AWS_PROFILE', "
    "'AWS_REQUEST_CHECKSUM_CALCULATION', 'AWS_CONTAINER_CREDENTIALS_FULL_URI')}))"
)


def test_a_fresh_set_of_keys_and_the_endpoint(cli_env, rgw_sts):
    env = dict(cli_env, AWS_PROFILE="someone-else", AWS_ACCESS_KEY_ID="AKIASTALE")
    done = run_cli("exec", "--", sys.executable, "-c", SHOW, env=env)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    issued = rgw_sts.issued[seen["AWS_ACCESS_KEY_ID"]]
    assert seen["AWS_SECRET_ACCESS_KEY"] == issued.secret_key
    assert seen["AWS_SESSION_TOKEN"] == issued.session_token
    assert seen["AWS_CREDENTIAL_EXPIRATION"] == issued.expiration.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert seen["AWS_ENDPOINT_URL_S3"] == rgw_sts.url
    assert seen["AWS_REQUEST_CHECKSUM_CALCULATION"] == "WHEN_REQUIRED"
    assert seen["AWS_PROFILE"] is None  # it would compete with the keys given


def test_the_exit_status_is_passed_through(cli_env):
    assert run_cli("exec", "--", "sh", "-c", "exit 7", env=cli_env).returncode == 7
    missing = run_cli("exec", "--", "no-such-command-here", env=cli_env)
    assert missing.returncode == 127 and "no-such-command-here" in missing.stderr
    assert run_cli("exec", env=cli_env).returncode == 2


LOOP = """
import os, time, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"],
                  config=Config(retries={"max_attempts": 1}))
deadline = time.monotonic() + 10
calls = 0
while time.monotonic() < deadline:
    s3.list_buckets()
    calls += 1
    time.sleep(0.05)
print(calls, "AWS_ACCESS_KEY_ID" in os.environ)
"""


def test_the_server_renews_keys_for_a_long_command(cli_env):
    with FakeSts("rgw", credential_lifetime=4) as short_lived:
        env = dict(cli_env, INFNMINIO_ENDPOINT=short_lived.url)
        done = run_cli("exec", "--server", "--", sys.executable, "-c", LOOP, env=env)
        assert done.returncode == 0, done.stderr
        calls, has_static_keys = done.stdout.split()
        assert int(calls) > 20 and has_static_keys == "False"
        assert short_lived.s3_failures == 0
        assert short_lived.successful_exchanges >= 3  # keys of 4 s, over 10 s


def test_the_server_answers_only_the_command():
    from infnminio_boto.integrations.key_server import CredentialServer

    def must_not_be_called():
        raise AssertionError("keys fetched for a stranger")

    with CredentialServer(must_not_be_called) as server:
        status, body = server.answer("not the token")
        assert status == 403 and "AccessKeyId" not in body
        assert server.url.startswith("http://127.0.0.1:")
