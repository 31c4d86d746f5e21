"""pytest fixtures for the sandbox, registered automatically when infnminio-boto is installed.

* ``infnminio_sandbox`` (session scope): a running :class:`~infnminio_boto.sandbox.Sandbox`,
  started once per test session and stopped at its end.
* ``infnminio_sandbox_env``: the same sandbox with its ``INFNMINIO_*`` variables set for
  one test, so that code under test works with no arguments.

When Ceph or the ``sandbox`` extra is not installed the tests that use them are
skipped, except when the ``CI`` environment variable is set: there a missing sandbox is
a failure, never a skip.
"""

from __future__ import annotations

import os
from typing import Iterator

import pytest


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def infnminio_sandbox() -> Iterator[object]:
    from . import Sandbox, SandboxUnavailableError, require

    try:
        require()  # before a directory is made for a sandbox that cannot start
    except SandboxUnavailableError as error:
        if _in_ci():
            pytest.fail(f"CI is set and the sandbox cannot start: {error}", pytrace=False)
        pytest.skip(f"sandbox unavailable: {error}")
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
