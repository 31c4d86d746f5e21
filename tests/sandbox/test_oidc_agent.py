"""A real oidc-agent (Debian's oidc-agent-cli) on the sandbox issuer, and RGW taking its tokens.

The ``infnminio_oidc_agent`` fixture comes from the package's pytest plugin; these
tests use it as a user's suite would, through ``OIDC_SOCK`` and the ``oidc-token``
command.
"""

from __future__ import annotations

import os
import subprocess

import boto3
import pytest
from support import secret_registry

import infnminio_boto
from infnminio_boto.errors import SandboxError, StsError
from infnminio_boto.sandbox import SandboxStartError, oidc_agent, write_in_place
from infnminio_boto.sandbox.oidc_agent import start_oidc_agent, stop_agents_of
from infnminio_boto.sandbox.processes import alive
from infnminio_boto.sources.jwt import parse_jwt_claims

pytestmark = pytest.mark.sandbox


@pytest.fixture(autouse=True)
def _register_client_secret(infnminio_sandbox):
    secret_registry.register(infnminio_sandbox.oidc_client.client_secret)


def oidc_token(agent, *args: str) -> str:
    done = subprocess.run(
        ["oidc-token", *args, agent.account],
        env={**os.environ, **agent.environment},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    secret_registry.register(token)
    return token


def token_file_with(tmp_path, token: str) -> str:
    path = str(tmp_path / "token")
    write_in_place(path, token + "\n")
    return path


def test_oidc_token_for_audience_object_buys_working_s3_keys(
    infnminio_oidc_agent, infnminio_sandbox, sandbox_settings, tmp_path
):
    token = oidc_token(infnminio_oidc_agent, "--aud", "object")
    claims = parse_jwt_claims(token)
    assert claims["iss"] == infnminio_sandbox.issuer_url == infnminio_oidc_agent.issuer
    assert claims["aud"] == "object"
    assert claims["sub"] == infnminio_sandbox.subject

    settings = dict(sandbox_settings, token_file=token_file_with(tmp_path, token), cache=False)
    keys = infnminio_boto.credentials(**settings)
    s3 = boto3.client(
        "s3",
        endpoint_url=infnminio_sandbox.endpoint,
        region_name=infnminio_sandbox.region,
        aws_access_key_id=keys.access_key,
        aws_secret_access_key=keys.secret_key,
        aws_session_token=keys.token,
        verify=infnminio_sandbox.ca_bundle,
    )
    assert "Buckets" in s3.list_buckets()


def test_a_token_without_audience_object_is_refused_like_infns(
    infnminio_oidc_agent, sandbox_settings, tmp_path
):
    """Without --aud the audience is the client id, which RGW (like INFN's) refuses."""
    token = oidc_token(infnminio_oidc_agent)
    assert parse_jwt_claims(token)["aud"] != "object"
    settings = dict(sandbox_settings, token_file=token_file_with(tmp_path, token), cache=False)
    with pytest.raises(StsError, match="AccessDenied"):
        infnminio_boto.credentials(**settings)


def test_a_revoked_refresh_token_is_reported_and_the_account_stays_loaded(infnminio_sandbox):
    refresh = infnminio_sandbox.refresh_token()
    secret_registry.register(refresh)
    with start_oidc_agent(infnminio_sandbox, "revoked", refresh_token=refresh) as agent:
        assert agent.token().count(".") == 2
        infnminio_sandbox.revoke_refresh_token(refresh)
        with pytest.raises(SandboxError, match="invalid_grant"):
            agent.token()
        loaded = subprocess.run(
            ["oidc-add", "-a"],
            env={**os.environ, **agent.environment},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert "revoked" in loaded.stdout  # --no-autoreauthenticate: not unloaded


def test_a_stopped_agent_is_gone_with_its_private_folder(infnminio_sandbox):
    with start_oidc_agent(infnminio_sandbox) as agent:
        pid, folder = agent.pid, os.path.dirname(agent.socket)
        assert alive(pid) and os.path.exists(agent.socket)
    assert not alive(pid)  # a zombie left to an init that does not reap counts as gone
    assert not os.path.exists(folder)
    assert not os.path.exists(infnminio_sandbox.directory / "oidc-agents" / str(pid))


def test_stopping_the_sandbox_stops_the_agents_started_for_it(infnminio_sandbox):
    """What the sandbox's stop and its watchdog (the test process died) run."""
    agent = start_oidc_agent(infnminio_sandbox)
    stop_agents_of(infnminio_sandbox.directory)
    assert not alive(agent.pid)
    assert not os.path.exists(agent.socket)


def test_a_refused_refresh_token_fails_the_start_and_leaves_nothing_running(
    infnminio_sandbox, monkeypatch
):
    started = []
    record = oidc_agent._record
    monkeypatch.setattr(
        oidc_agent, "_record", lambda *args: started.append(args[1:]) or record(*args)
    )
    refused = "never-issued-refresh-token"
    secret_registry.register(refused)
    with pytest.raises(SandboxStartError, match="oidc-gen.*invalid_grant") as info:
        start_oidc_agent(infnminio_sandbox, refresh_token=refused)
    assert refused not in str(info.value)
    ((pid, folder),) = started
    assert not alive(pid)
    assert not folder.exists()


def test_the_library_asks_the_real_agent_and_renews_through_it(
    infnminio_oidc_agent, infnminio_sandbox, tmp_path, monkeypatch
):
    """oidc_agent_account: the library asks the agent (audience from the settings) at
    each exchange; the keys list buckets; no token file anywhere."""
    for name, value in infnminio_oidc_agent.environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = dict(infnminio_sandbox.settings(), cache=False)
    del settings["token_file"]
    settings["oidc_agent_account"] = infnminio_oidc_agent.account
    s3 = infnminio_boto.session(**settings).client("s3")
    assert isinstance(s3.list_buckets()["Buckets"], list)
    first = infnminio_boto.credentials(**settings)
    second = infnminio_boto.credentials(**settings)  # cache off: a second exchange
    assert first.access_key != second.access_key


def test_doctor_says_ok_end_to_end_where_only_the_agent_holds_the_identity(
    infnminio_oidc_agent, infnminio_sandbox, tmp_path
):
    from support.cli import clean_environment, run_cli

    env = clean_environment(
        HOME=str(tmp_path),
        **infnminio_oidc_agent.environment,
        **{k: v for k, v in infnminio_sandbox.environment().items() if k != "INFNMINIO_TOKEN_FILE"},
        INFNMINIO_OIDC_AGENT_ACCOUNT=infnminio_oidc_agent.account,
    )
    done = run_cli("doctor", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"oidc-agent's account '{infnminio_oidc_agent.account}'" in done.stdout
    assert "set by INFNMINIO_OIDC_AGENT_ACCOUNT" in done.stdout
    assert all(line.startswith(("OK", "WARN")) for line in done.stdout.splitlines())
    assert "OK    exchange" in done.stdout and "OK    s3" in done.stdout
    profile = run_cli("configure", "--profile", "agent", env=env)
    assert profile.returncode == 0, profile.stderr
    listed = subprocess.run(
        ["aws", "--profile", "agent", "s3", "ls"], env=env, capture_output=True, text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
