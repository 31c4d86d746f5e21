"""pytest fixtures for the sandbox, registered automatically when infnminio-boto is installed.

* ``infnminio_sandbox`` (session scope): a running :class:`~infnminio_boto.sandbox.Sandbox`,
  started once per test session and stopped at its end.
* ``infnminio_sandbox_env``: the same sandbox with its ``INFNMINIO_*`` variables (and
  the CA bundle variables) set for one test, so that code under test works with no
  arguments.
* ``infnminio_oidc_agent`` (function scope): a real oidc-agent with an account on the
  sandbox issuer, an :class:`~infnminio_boto.sandbox.oidc_agent.OidcAgent`:
  ``agent.account``, ``agent.environment`` (``OIDC_SOCK``). A fresh agent and refresh
  token for every test (about 0.2 s), so a test that revokes the token, kills the
  agent or loads other accounts cannot affect the next one.

When Ceph, the ``sandbox`` extra or (for the agent) oidc-agent is not installed, the
tests that use them are skipped, except when the ``CI`` environment variable is set:
there a missing sandbox is a failure, never a skip.
"""

from __future__ import annotations

import os
from typing import Callable, Iterator

import pytest


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _require(what: str, check: Callable[[], None]) -> None:
    """Run ``check``; if something is not installed, skip (fail when CI is set)."""
    from . import SandboxUnavailableError

    try:
        check()
        return
    except SandboxUnavailableError as error:
        problem = str(error)
    if _in_ci():
        pytest.fail(f"CI is set and the {what} cannot start: {problem}", pytrace=False)
    pytest.skip(f"{what} unavailable: {problem}")


@pytest.fixture(scope="session")
def infnminio_sandbox() -> Iterator[object]:
    from . import Sandbox, require

    _require("sandbox", require)  # before a directory is made for a sandbox that cannot start
    sandbox = Sandbox(token_refresh_interval=60).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def infnminio_sandbox_env(infnminio_sandbox, monkeypatch: pytest.MonkeyPatch):
    for name, value in infnminio_sandbox.environment().items():
        monkeypatch.setenv(name, value)
    return infnminio_sandbox


@pytest.fixture
def infnminio_oidc_agent(request: pytest.FixtureRequest) -> Iterator[object]:
    from .oidc_agent import require_oidc_agent, start_oidc_agent

    _require("oidc-agent", require_oidc_agent)  # before a sandbox is started for nothing
    sandbox = request.getfixturevalue("infnminio_sandbox")
    with start_oidc_agent(sandbox) as agent:
        yield agent
