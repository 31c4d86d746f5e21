"""`infnminio-boto exec`: a command with the keys in its environment, or served renewed."""

from __future__ import annotations

import json
import subprocess
import sys

from support import secret_registry
from support.cli import run_cli
from support.fake_sts import FakeSts, Fault, rgw_error_xml

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


# The command: asks the endpoint until it has had three failures (or 60 s), as an SDK
# that polls and retries would, and prints the failed answers.
POLL = """
import json, os, time, urllib.error, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
failed, give_up = [], time.monotonic() + 60
while len(failed) < 3 and time.monotonic() < give_up:
    request = urllib.request.Request(
        os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
        headers={"Authorization": os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]},
    )
    try:
        opener.open(request, timeout=60).close()
        time.sleep(0.2)
    except urllib.error.HTTPError as error:
        failed.append([error.code, json.load(error)])
print(json.dumps(failed))
"""


def _warnings_of_the_endpoint(stderr: str) -> list:
    return [line for line in stderr.splitlines() if "credentials endpoint" in line]


def test_a_refused_renewal_reaches_the_command_as_an_answer(cli_env):
    with FakeSts("rgw", credential_lifetime=4) as sts:  # keys renewed after a few seconds
        refused = Fault(status=403, body=rgw_error_xml("AccessDenied"))
        sts.script(Fault(), *[refused] * 10)  # keys for the start, then the STS refuses
        env = dict(cli_env, INFNMINIO_ENDPOINT=sts.url)
        done = run_cli("exec", "--server", "--", sys.executable, "-c", POLL, env=env)
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout)
    assert [status for status, _ in answers] == [503, 503, 503]
    assert answers[0][1]["Code"] == "StsError" and "AccessDenied" in answers[0][1]["Message"]
    assert "Traceback" not in done.stderr
    assert len(_warnings_of_the_endpoint(done.stderr)) == 1  # once, not once per request


# exec --server whose renewals fail with an error that is not ours (a bug): a fault no
# server can produce on demand, so the fetch is replaced in the command's process.
BROKEN_FETCH = """
import sys
import infnminio_boto.keys.fetch as fetch
from infnminio_boto.cli import main
real, calls = fetch.fetch_credentials, []
def fetch_credentials(*args, **kwargs):
    calls.append(1)
    if len(calls) == 1:  # the keys checked before the command starts
        return real(*args, **kwargs)
    with open(sys.argv[1]) as token:
        raise RuntimeError("cannot use " + token.read().strip())
fetch.fetch_credentials = fetch_credentials
sys.exit(main(["exec", "--server", "--", sys.executable, "-c", sys.argv[2]]))
"""


def test_a_failing_renewal_leaves_no_traceback_and_no_secret(cli_env, token_file):
    done = subprocess.run(
        [sys.executable, "-I", "-c", BROKEN_FETCH, token_file, POLL],
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout)
    assert [status for status, _ in answers] == [500, 500, 500]
    assert "RuntimeError" in answers[0][1]["Message"]
    with open(token_file) as token:
        assert token.read().strip() not in done.stdout + done.stderr
    assert not secret_registry.leaked(done.stderr)
    assert "Traceback" not in done.stderr
    assert len(_warnings_of_the_endpoint(done.stderr)) == 1


WHOSE_KEYS = (
    "import botocore.session; "
    "print(botocore.session.Session().get_credentials().get_frozen_credentials().access_key)"
)


def test_the_served_keys_win_over_a_default_profile_of_another_account(cli_env, rgw_sts, tmp_path):
    """A [default] profile with keys (or a credential_process) came before the local
    endpoint in the SDKs' chain: the command got the other account's keys."""
    credentials = tmp_path / "credentials"
    credentials.write_text("[default]\naws_access_key_id = AKIAOTHERACCOUNT\n"
                           "aws_secret_access_key = other\n")
    config = tmp_path / "config"
    config.write_text("[default]\ncredential_process = /bin/false\n")
    env = dict(cli_env, AWS_SHARED_CREDENTIALS_FILE=str(credentials), AWS_CONFIG_FILE=str(config))
    done = run_cli("exec", "--server", "--", sys.executable, "-c", WHOSE_KEYS, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() in rgw_sts.issued  # ours, not AKIAOTHERACCOUNT
    assert "AWS_SHARED_CREDENTIALS_FILE" in done.stderr and "note:" in done.stderr
