"""The processes the sandbox starts import only what is installed.

The agent is started as ``python -m``, which would put the working directory first on
``sys.path`` and honour ``PYTHONPATH``: a ``json.py`` or an ``infnminio_boto/`` folder
where the user happens to be, or a folder on their ``PYTHONPATH``, would run inside the
process that serves the sandbox's issuer. ``ceph`` is a Python script, which honours
``PYTHONPATH`` too.
"""

from __future__ import annotations

import os
import shutil

import pytest

from infnminio_boto.errors import SandboxError
from infnminio_boto.sandbox import Sandbox
from infnminio_boto.sandbox.agent import launch_agent
from infnminio_boto.sandbox.files import save_state
from infnminio_boto.sandbox.issuer import SigningKey
from infnminio_boto.sandbox.processes import free_port, stop_pid

# The sandbox extra: absent from the supported-range runs, which test the core only.
pytest.importorskip("jwt", reason="the sandbox extra (PyJWT) is not installed")
pytest.importorskip("cryptography", reason="the sandbox extra is not installed")


def plant(folder, module: str, markers) -> None:
    """A module that leaves a file in ``markers`` when it is imported."""
    path = folder / (module.replace(".", "/") + ".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    marker = markers / f"{folder.name}-{module}"
    path.write_text(f"open({str(marker)!r}, 'w').close()\n")


def plant_everywhere(tmp_path, monkeypatch):
    """Planted modules in a new working directory and on PYTHONPATH; their marker folder."""
    markers = tmp_path / "markers"
    markers.mkdir()
    here, hostile = tmp_path / "here", tmp_path / "hostile"
    for module in ("json", "infnminio_boto.__init__"):
        plant(here, module, markers)
    for module in ("json", "argparse", "jwt", "cryptography.__init__", "infnminio_boto.__init__"):
        plant(hostile, module, markers)
    monkeypatch.chdir(here)
    monkeypatch.setenv("PYTHONPATH", str(hostile))
    return markers


def test_planted_modules_in_the_working_directory_and_pythonpath_are_not_imported(
    tmp_path, monkeypatch
):
    directory = tmp_path / "sandbox"
    directory.mkdir(mode=0o700)
    SigningKey.generate().save(directory)
    save_state(directory, {"subject": "sandbox-user", "oidc_client_secret": "not-used-here"})

    markers = plant_everywhere(tmp_path, monkeypatch)

    pid, failure = None, None
    try:
        pid = launch_agent(directory, free_port(), interval=3600, lifetime=60, owner_pid=0)
    except SandboxError as error:
        failure = error
    finally:
        if pid:
            stop_pid(pid)
    assert sorted(os.listdir(markers)) == []
    assert failure is None


@pytest.mark.sandbox
def test_a_whole_sandbox_started_among_planted_modules_imports_none(tmp_path, monkeypatch):
    """The agent and Ceph's programs (``ceph`` is ``#!/usr/bin/python3``)."""
    if shutil.which("radosgw") is None and not os.environ.get("CI"):
        pytest.skip("Ceph is not installed")
    markers = plant_everywhere(tmp_path, monkeypatch)
    sandbox, failure = Sandbox(f"/tmp/imb-planted-{os.getpid()}"), None
    try:
        sandbox.start()
    except SandboxError as error:
        failure = error
    finally:
        sandbox.stop()
    assert sorted(os.listdir(markers)) == []
    assert failure is None
