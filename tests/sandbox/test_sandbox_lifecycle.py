"""The sandbox itself: issuer documents, token file rewriting, status and cleanup."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from infnminio_boto.sandbox import Sandbox, SandboxStartError
from infnminio_boto.sandbox.ceph import CephCluster
from infnminio_boto.sandbox.processes import alive, pid_command_line
from infnminio_boto.sources.file import FileSource

pytestmark = pytest.mark.sandbox


def test_issuer_publishes_discovery_and_jwks_with_x5c(infnminio_sandbox):
    base = infnminio_sandbox.issuer_url
    with urllib.request.urlopen(base + "/.well-known/openid-configuration") as answer:
        discovery = json.load(answer)
    assert discovery["issuer"] == base
    with urllib.request.urlopen(discovery["jwks_uri"]) as answer:
        key = json.load(answer)["keys"][0]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["x5c"]


def test_token_file_holds_a_fresh_token_of_the_sandbox(infnminio_sandbox):
    token = FileSource(infnminio_sandbox.token_file).read()
    assert token.issuer == infnminio_sandbox.issuer_url
    assert token.audience == ("object",)
    assert token.seconds_left() > 0
    assert oct(os.stat(infnminio_sandbox.token_file).st_mode & 0o777) == "0o600"


def test_status_reports_every_process(infnminio_sandbox):
    status = Sandbox.attach(infnminio_sandbox.directory).status()
    assert status["rgw_answers"]
    assert set(status["processes"]) == {"agent", "mon.a", "osd.0", "client.rgw.sandbox"}
    assert all(status["processes"].values())


def test_state_and_directory_are_private(infnminio_sandbox):
    assert oct(os.stat(infnminio_sandbox.directory).st_mode & 0o777) == "0o700"
    assert oct(os.stat(infnminio_sandbox.directory / "sandbox.json").st_mode & 0o777) == "0o600"


def test_refuses_to_wipe_a_directory_that_is_not_a_sandbox(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(SandboxStartError, match="not a sandbox directory"):
        Sandbox(tmp_path).start()
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_missing_ceph_names_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no ceph programs on PATH
    cluster = CephCluster(tmp_path / "c")
    with pytest.raises(SandboxStartError, match="apt-get install"):
        cluster.start()


def test_crashed_owner_leaves_nothing_running(tmp_path):
    """A process that dies holding a sandbox: the agent's watchdog stops everything."""
    directory = f"/tmp/imb-crash-{os.getpid()}"
    code = (
        "import os; from infnminio_boto.sandbox import Sandbox; "
        f"s = Sandbox({directory!r}).start(); print('started', flush=True); os._exit(9)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert "started" in done.stdout, done.stderr
    deadline = time.monotonic() + 30
    while os.path.exists(directory) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not os.path.exists(directory)
    # The watchdog removes the directory, then exits itself: give it a moment.
    while processes_mentioning(directory) and time.monotonic() < deadline + 10:
        time.sleep(0.2)
    assert processes_mentioning(directory) == []


def processes_mentioning(text):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and text in pid_command_line(int(entry)) and alive(int(entry)):
            found.append(int(entry))
    return found
