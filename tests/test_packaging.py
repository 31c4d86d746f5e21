"""The package as users get it: built, installed without extras into an empty virtualenv.

The install line is the README's (``pip install .`` in a copy of the checkout); the
wheel and sdist are built as a release would build them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def readme_install_line() -> str:
    """The README's command for a core install from a checkout (its `install` block)."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- test: install -->\n```sh\n(.*?)```", text, re.S)
    assert block, "the README has an install block marked for testing"
    first = block[1].splitlines()[0].split("#")[0].strip()
    assert first == "pip install .", first
    return first


def checkout_copy(destination: Path) -> Path:
    """The files git tracks (and new ones it does not ignore), as a fresh clone has them."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    checkout = checkout_copy(tmp_path_factory.mktemp("clone"))
    dist = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(checkout)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "deprecat" not in (done.stdout + done.stderr).lower()  # no licence deadline
    return dist


def test_the_sdist_ships_no_test_suite_and_the_wheel_is_typed(built):
    [sdist] = built.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    assert not [n for n in names if "/tests/" in n]
    assert any(n.endswith("/LICENSE") for n in names)
    [wheel] = built.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "infnminio_boto/py.typed" in names
    assert "infnminio_boto/keys/fast_credential_process.py" in names
    assert "License-Expression: Apache-2.0" in metadata
    assert "Classifier: Typing :: Typed" in metadata
    assert "Classifier: Operating System :: POSIX" in metadata
    assert "Provides-Extra: test" not in metadata and "Provides-Extra: bench" not in metadata


CORE_ONLY = """
import pydoc
from infnminio_boto import *
import infnminio_boto

assert "s3fs_filesystem" in dir(infnminio_boto)
assert hasattr(infnminio_boto, "InfnS3FileSystem") and hasattr(infnminio_boto, "InfnMinio")
pydoc.render_doc(infnminio_boto)  # help() without an extra
for call in (
    lambda: infnminio_boto.minio_client(),
    lambda: infnminio_boto.InfnS3FileSystem(),
    lambda: infnminio_boto.s3_filesystem(),
    lambda: infnminio_boto.obstore_store("bucket"),
):
    try:
        call()
    except infnminio_boto.MissingDependencyError as error:
        print("MISSING", error)
    else:
        raise AssertionError("an adapter worked without its library")
"""


@pytest.fixture(scope="module")
def core_install(tmp_path_factory) -> Path:
    """A virtualenv with only `pip install .` (the README's line) done in a checkout copy."""
    checkout = checkout_copy(tmp_path_factory.mktemp("clone"))
    environment = tmp_path_factory.mktemp("venv")
    venv.create(environment, with_pip=True)
    command = readme_install_line().split()
    done = subprocess.run(
        [str(environment / "bin" / "python"), "-m", *command, "--quiet"],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return environment


def test_a_core_install_imports_and_names_the_missing_extras(core_install, tmp_path):
    done = subprocess.run(
        [str(core_install / "bin" / "python"), "-c", CORE_ONLY],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    missing = [line for line in done.stdout.splitlines() if line.startswith("MISSING")]
    assert len(missing) == 4
    for extra in ("minio", "fsspec", "arrow", "obstore"):
        assert any(f"infnminio-boto[{extra}]" in line for line in missing), extra


def test_the_command_runs_and_the_sandbox_says_what_it_lacks(core_install, tmp_path):
    command = str(core_install / "bin" / "infnminio-boto")
    assert subprocess.run([command, "--help"], capture_output=True, timeout=60).returncode == 0
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "INFNMINIO_SANDBOX_DIR": str(tmp_path / "s"),
    }
    done = subprocess.run(
        [command, "sandbox", "start"], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 7
    assert "-m pip install 'infnminio-boto[sandbox] @ file://" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "s").exists()  # nothing was started or written


def test_a_missing_extras_command_works_where_the_package_came_from_a_path(core_install):
    """The package is on no index: `pip install 'infnminio-boto[extra]'` alone would fail
    with "No matching distribution" (with -U, or where it is not installed). The message
    names this environment's pip and the path it was installed from (PEP 610)."""
    python = str(core_install / "bin" / "python")
    done = subprocess.run(
        [python, "-m", "infnminio_boto", "completion", "bash"],
        capture_output=True, text=True, timeout=60, cwd=core_install,
    )
    assert done.returncode == 3, done.stderr
    command = done.stderr.split("is not installed: ", 1)[1].strip()
    assert command.startswith(f"{python} -m pip install") and " @ file://" in command
    installed = subprocess.run(
        ["sh", "-c", command + " --quiet --upgrade"], capture_output=True, text=True,
        timeout=600, cwd=core_install,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    check = [python, "-c", "import argcomplete, infnminio_boto.cli.completion"]
    assert subprocess.run(check, capture_output=True, timeout=60).returncode == 0


def test_a_git_url_install_and_its_missing_extras_command(tmp_path):
    """The README's install from a git URL (`pip install "infnminio-boto @ git+URL"`), here
    a file:// URL of a fresh repository of the checkout; a missing extra's message then
    names that URL (PEP 610's vcs_info), and the command it prints installs the extra."""
    repository = checkout_copy(tmp_path / "repository")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-C", str(repository)]
    for step in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "release"]):
        subprocess.run([*git, *step], check=True, capture_output=True, timeout=120)
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = str(environment / "bin" / "python")
    # pip before 24.1 reads "git+file:///..." (no host) as a path; https URLs work in all.
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
                   check=True, capture_output=True, timeout=300)
    url = f"git+{repository.as_uri()}"
    done = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", f"infnminio-boto @ {url}"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    done = subprocess.run(
        [python, "-m", "infnminio_boto", "completion", "bash"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert done.returncode == 3, done.stderr
    command = done.stderr.split("is not installed: ", 1)[1].strip()
    assert f"'infnminio-boto[completion] @ {url}'" in command, command
    installed = subprocess.run(
        ["sh", "-c", command + " --quiet --upgrade"], capture_output=True, text=True,
        timeout=600, cwd=tmp_path,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    check = [python, "-c", "import argcomplete, infnminio_boto.cli.completion"]
    assert subprocess.run(check, capture_output=True, timeout=60).returncode == 0
