"""A token printed by a command (token_command), and oidc-agent's oidc-token.

The commands here are small scripts written by the tests: what matters is how the
library runs them (no shell, once per exchange, bounded) and what it says when they
fail. The real oidc-agent is tested in tests/sandbox/test_oidc_agent.py.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from support import secret_registry
from support.jwt_helpers import make_jwt

import infnminio_boto
from infnminio_boto.errors import TokenExpiredError, TokenSourceError
from infnminio_boto.settings import Settings
from infnminio_boto.sources import token_source
from infnminio_boto.sources.command import CommandSource
from infnminio_boto.sources.oidc_agent import OidcAgentSource


def script(folder: Path, name: str, body: str) -> str:
    """An executable Python script (run with this interpreter, isolated)."""
    path = folder / name
    path.write_text(f"#!{sys.executable} -I\nimport sys, os, time, json\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.fixture
def printer(tmp_path):
    """A command printing a fresh token and counting its runs in runs.log."""
    token = make_jwt(sub="from-command")
    log = tmp_path / "runs.log"
    path = script(
        tmp_path,
        "print-token",
        f"open({str(log)!r}, 'a').write('run\\n')\n"
        f"print(json.dumps({{'access_token': {token!r}}}))",
    )
    return path, log, token


def runs(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_the_token_is_what_the_command_prints_raw_or_as_json(tmp_path, printer):
    path, _, token = printer
    assert CommandSource([path]).read().value == token
    raw = script(tmp_path, "raw", f"sys.stdout.write({token!r} + '\\n')")
    read = CommandSource([raw]).read()
    assert read.value == token and read.kind == "command" and read.subject == "from-command"


def test_it_runs_once_per_exchange_never_per_s3_request(rgw_sts, printer, tmp_path):
    path, log, _ = printer
    session = infnminio_boto.session(
        endpoint=rgw_sts.url,
        token_command=[path],
        role_arn="arn:aws:iam:::role/IAMaccess",
        cache_dir=str(tmp_path / "cache"),
    )
    s3 = session.client("s3")
    for _ in range(5):
        s3.list_buckets()
    assert rgw_sts.exchanges == 1 and runs(log) == 1


def test_the_words_are_not_given_to_a_shell(tmp_path):
    marker = tmp_path / "marker"
    echo = script(tmp_path, "echo-args", "print(json.dumps(sys.argv[1:]))")
    settings = Settings.resolve(token_command=f"{echo} $(touch {marker}) '*' ;", environ={})
    assert settings.token.value == (echo, "$(touch", f"{marker})", "*", ";")
    with pytest.raises(TokenSourceError, match="not a JWT"):
        token_source(settings).read()
    assert not marker.exists()


def test_a_failure_says_the_status_and_what_the_command_said_without_tokens(tmp_path):
    leaked = make_jwt()
    opaque = "rt-" + "a1B2" * 12  # an opaque refresh token, not JWT-shaped
    secret_registry.register(opaque)
    failing = script(
        tmp_path,
        "fail",
        f"sys.stderr.write('Error: account not loaded ({leaked} {opaque})\\n'); sys.exit(3)",
    )
    with pytest.raises(TokenSourceError) as info:
        CommandSource([failing]).read()
    message = str(info.value)
    assert info.value.status == 3 and "exited with status 3" in message
    assert "account not loaded" in message
    assert leaked not in message and leaked.split(".")[1] not in message
    assert opaque not in message
    assert isinstance(info.value, infnminio_boto.InfnMinioError)


@pytest.mark.parametrize(
    "body, words",
    [
        ("time.sleep(30)", "did not finish within 1 s"),
        ("sys.stdout.write('x' * (1 << 20))", "more than 64 KiB"),
        ("pass", "printed nothing"),
        ("print('not a token')", "not a JWT"),
    ],
)
def test_a_command_that_hangs_floods_or_prints_no_token(tmp_path, body, words):
    with pytest.raises(TokenSourceError, match=words):
        CommandSource([script(tmp_path, "odd", body)], timeout=1).read()


def test_a_missing_program_is_named(tmp_path):
    with pytest.raises(TokenSourceError, match="no-such-token-program was not found"):
        CommandSource(["no-such-token-program", "x"]).read()


def test_an_expired_token_from_the_command_is_never_sent(rgw_sts, tmp_path):
    expired = script(tmp_path, "expired", f"print({make_jwt(lifetime=-60)!r})")
    with pytest.raises(TokenExpiredError, match="not sent"):
        infnminio_boto.credentials(
            endpoint=rgw_sts.url, token_command=expired, role_arn="arn:r", cache=False
        )
    assert rgw_sts.exchanges == 0


@pytest.fixture
def fake_oidc_token(tmp_path, monkeypatch):
    """An `oidc-token` on PATH that records its arguments (the real one: sandbox tests)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    record = tmp_path / "oidc-token.args"
    token = make_jwt(sub="agent-user")
    script(
        folder,
        "oidc-token",
        f"open({str(record)!r}, 'w').write(json.dumps(sys.argv[1:]))\nprint({token!r})",
    )
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("OIDC_SOCK", str(tmp_path / "agent.sock"))
    return record


def test_the_agent_is_asked_for_the_presets_audience_and_a_minimum_validity(fake_oidc_token):
    import json

    settings = Settings.resolve(oidc_agent_account="infncloud", environ={})  # rgw preset
    token = token_source(settings).read()
    assert token.subject == "agent-user" and token.kind == "oidc-agent"
    argv = json.loads(fake_oidc_token.read_text())
    assert argv[-1] == "infncloud"
    assert argv[argv.index("--aud") + 1] == "object"
    assert int(argv[argv.index("--time") + 1]) >= 60
    other = Settings.resolve(oidc_agent_account="x", endpoint="s3.example.org", environ={})
    token_source(other).read()
    assert "--aud" not in json.loads(fake_oidc_token.read_text())  # no preset, no audience


def test_no_running_agent_is_said_plainly(monkeypatch):
    monkeypatch.delenv("OIDC_SOCK", raising=False)
    with pytest.raises(TokenSourceError, match="OIDC_SOCK is not set"):
        OidcAgentSource("infncloud").read()
