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
