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
