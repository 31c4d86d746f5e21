"""The profile's credential_process where the package is installed with pip --user."""

# FOUND BY REVIEW

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import infnminio_boto
from infnminio_boto.keys import fastpath

ENTRY_SCRIPT = str(Path(fastpath.__file__).with_name("fast_credential_process.py"))


# FOUND BY REVIEW
def test_the_hand_over_works_for_a_package_installed_in_the_user_site(cli_env, tmp_path, rgw_sts):
    """`pip install --user infnminio-boto` (no virtualenv: batch nodes, a hub whose
    Python is read-only) puts the package in the user site-packages. `configure` writes
    `python3 -I -S .../fast_credential_process.py`, which on every miss execs
    `python3 -I -m infnminio_boto`: -I turns the user site off, so it answers "No
    module named infnminio_boto" and no call ever gets keys (measured with the system
    python3 and PYTHONUSERBASE). The user site stands in here as a .pth file naming
    where this checkout and its dependencies are."""
    base = getattr(sys, "_base_executable", sys.executable)
    if base == sys.executable:
        pytest.skip("needs an interpreter outside the test's virtualenv")
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    user_site = tmp_path / "userbase" / "lib" / version / "site-packages"
    user_site.mkdir(parents=True)
    package_parent = Path(infnminio_boto.__file__).parent.parent
    (user_site / "user-install.pth").write_text(
        f"{package_parent}\n{sysconfig.get_paths()['purelib']}\n"
    )
    env = dict(cli_env, PYTHONUSERBASE=str(tmp_path / "userbase"))
    found = subprocess.run([base, "-c", "import infnminio_boto"], env=env, capture_output=True)
    assert found.returncode == 0, "the user site does not hold the package: test set-up"
    done = subprocess.run(
        [base, "-I", "-S", ENTRY_SCRIPT, "--role-session-name", "user-site"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["AccessKeyId"] in rgw_sts.issued
