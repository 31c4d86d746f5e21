"""`infnminio-boto status`: the token and the cached keys, with nothing sent."""

from __future__ import annotations

import json

from support.cli import run_cli
from support.jwt_helpers import make_jwt, write_in_place


def test_the_token_and_cached_keys_without_an_exchange(cli_env, rgw_sts):
    before = run_cli("status", env=cli_env)
    assert before.returncode == 0, before.stderr
    assert "no keys for this identity yet" in before.stdout
    keys = json.loads(run_cli("credential-process", env=cli_env).stdout)
    after = run_cli("status", env=cli_env)
    assert f"keys {keys['AccessKeyId'][:4]}*** for this identity, fresh" in after.stdout
    assert "subject 8e5e3c2a" in after.stdout and "expires in" in after.stdout
    assert rgw_sts.exchanges == 1  # only credential-process's
    assert keys["SecretAccessKey"] not in after.stdout


def test_json_and_an_expired_token(cli_env):
    write_in_place(cli_env["INFNMINIO_TOKEN_FILE"], make_jwt(lifetime=-120) + "\n")
    done = run_cli("status", "--json", env=cli_env)
    lines = json.loads(done.stdout)
    token = next(line for line in lines if line["check"] == "token")
    assert token["status"] == "WARN" and "expired 2 minutes ago" in token["detail"]


def test_status_runs_no_token_command_and_asks_no_agent(cli_env, tmp_path):
    """status is offline: it ran the token command (or oidc-agent, which asks the
    identity provider)."""
    import stat
    import sys

    marker = tmp_path / "ran"
    command = tmp_path / "get-token"
    command.write_text(f"#!{sys.executable} -I\nopen({str(marker)!r}, 'w').close()\n")
    command.chmod(command.stat().st_mode | stat.S_IXUSR)
    env = dict(cli_env, INFNMINIO_TOKEN_COMMAND=str(command))
    del env["INFNMINIO_TOKEN_FILE"]
    done = run_cli("status", env=env)
    assert done.returncode == 0, done.stderr
    assert not marker.exists() and "not run" in done.stdout and "doctor" in done.stdout


def test_claims_with_terminal_sequences_are_shown_printable(cli_env, rgw_sts):
    """Token claims (sub, iss) reached status, the 403 explanation and activate()'s line raw."""
    import infnminio_boto

    hostile = make_jwt(
        sub="\x1b]0;owned\x07\x1b[2Jalice", iss="https://i/\x1b[31m", aud="wrong-audience"
    )
    write_in_place(cli_env["INFNMINIO_TOKEN_FILE"], hostile)
    status = run_cli("status", env=cli_env)
    assert "\x1b" not in status.stdout and "alice" in status.stdout
    doctor = run_cli("doctor", env=cli_env)
    assert "\x1b" not in doctor.stdout + doctor.stderr and "AccessDenied" in doctor.stdout
    try:
        infnminio_boto.credentials(token_file=cli_env["INFNMINIO_TOKEN_FILE"],
                                   endpoint=rgw_sts.url, role_arn="arn:aws:iam:::role/IAMaccess",
                                   cache=False)
    except infnminio_boto.StsError as error:
        assert "\x1b" not in str(error) and "\x07" not in str(error)
    else:
        raise AssertionError("the store accepted a token of the wrong audience")
