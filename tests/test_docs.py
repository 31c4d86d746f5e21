"""Every example script and every README code block runs against the sandbox.

README blocks: every ```python block runs (after `infnminio-boto configure`, as its
text assumes); ```sh blocks marked `<!-- test: sh -->` run in a fresh shell that starts
its own sandbox; blocks marked `<!-- test: sh-sandbox -->` run in a shell configured for
the session's sandbox, trusting its authority as the README's sandbox section says.
```text blocks are commands the suite cannot run here (a notebook's %pip, apt, make) and
say so by their fence; `<!-- test: install -->` blocks run in tests/test_packaging.py;
any other block is an error.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
EXAMPLES = sorted(
    p for p in (ROOT / "examples").iterdir() if p.suffix in (".py", ".sh") and p.name != "demo.py"
)
BLOCK = re.compile(
    r"(<!-- test: (?P<marker>[\w-]+) -->\n)?```(?P<lang>\w*)\n(?P<code>.*?)```", re.S
)

pytestmark = pytest.mark.sandbox


def blocks(kind: str) -> list:
    found = []
    for match in BLOCK.finditer(README):
        language, marker = match["lang"], match["marker"]
        if kind == "python" and language == "python":
            found.append(match["code"])
        elif language == "sh" and marker == kind:
            found.append(match["code"])
    return found


def test_every_readme_block_is_run_or_declared_unrunnable():
    for match in BLOCK.finditer(README):
        language, marker = match["lang"], match["marker"]
        # `install` blocks run in tests/test_packaging.py, into an empty virtualenv.
        runnable = language == "python" or (
            language == "sh" and marker in ("sh", "sh-sandbox", "install")
        )
        assert runnable or language == "text", match.group(0)[:200]


def test_the_readme_links_only_to_pages_that_exist_everywhere():
    """The README is the package's long description: no link that breaks off GitHub."""
    targets = re.findall(r"\]\(([^)]+)\)", README)
    assert targets, "the README has in-page links"
    for target in targets:
        assert target.startswith(("#", "https://")), target


def environment(extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFNMINIO_")}
    env.update(extra)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def run(args, env, timeout=300):
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args[:3]} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture
def configured(infnminio_sandbox, tmp_path) -> dict:
    """A user's shell on the sandbox after `infnminio-boto configure`, trusting its CA."""
    env = environment(
        dict(
            infnminio_sandbox.environment(),
            HOME=str(tmp_path),
            AWS_CONFIG_FILE=str(tmp_path / "aws-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "aws-credentials"),
            RCLONE_CONFIG=str(tmp_path / "rclone.conf"),
            AWS_CA_BUNDLE=infnminio_sandbox.ca_bundle,
            RCLONE_CA_CERT=infnminio_sandbox.ca_bundle,
        )
    )
    run([sys.executable, "-m", "infnminio_boto", "configure"], env)
    return env


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script, infnminio_sandbox):
    command = [sys.executable] if script.suffix == ".py" else ["sh"]
    run([*command, str(script)], environment(infnminio_sandbox.environment()))


def test_demo_runs_end_to_end():
    done = run([sys.executable, str(ROOT / "examples" / "demo.py")], environment({}), 900)
    assert "Demo finished: every step worked." in done.stdout
    assert "radosgw at https://127.0.0.1:" in done.stdout


PYTHON_BLOCKS = blocks("python")


@pytest.mark.parametrize(
    "code", PYTHON_BLOCKS, ids=[f"python-{i}" for i in range(len(PYTHON_BLOCKS))]
)
def test_readme_python_block(code, configured, tmp_path):
    if "def test_" in code:
        test_file = tmp_path / "test_readme_block.py"
        test_file.write_text(code)
        run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
            configured)
    else:
        run([sys.executable, "-c", code], configured)


SANDBOX_SHELL_BLOCKS = blocks("sh-sandbox")


@pytest.mark.parametrize(
    "code", SANDBOX_SHELL_BLOCKS, ids=[f"sh-{i}" for i in range(len(SANDBOX_SHELL_BLOCKS))]
)
def test_readme_shell_block_on_the_sandbox(code, configured):
    run(["bash", "-euo", "pipefail", "-c", code], configured)


def test_readme_shell_blocks_with_their_own_sandbox(tmp_path):
    found = blocks("sh")
    assert found, "the README has shell blocks marked for testing"
    directory = f"/tmp/imb-readme-{os.getpid()}"
    env = environment(
        {
            "INFNMINIO_SANDBOX_DIR": directory,
            "HOME": str(tmp_path),  # configure writes ~/.aws/config
            "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials"),
        }
    )
    env = {k: v for k, v in env.items() if k not in ("AWS_PROFILE", "XDG_CACHE_HOME")}
    try:
        for code in found:
            run(["bash", "-euo", "pipefail", "-c", code], env)
    finally:
        subprocess.run(
            [sys.executable, "-m", "infnminio_boto.cli", "sandbox", "stop"],
            env=env,
            capture_output=True,
            timeout=60,
        )


def test_readme_quick_start_where_the_shell_names_the_system_ca_bundle(tmp_path):
    """Institutional shells set AWS_CA_BUNDLE and SSL_CERT_FILE to the system's bundle.

    The AWS tools prefer AWS_CA_BUNDLE to the profile's ca_bundle, so `aws --profile
    sandbox s3 ls` failed on the sandbox's certificate unless `sandbox start` points
    the variables at a bundle that also holds the sandbox's authority.
    """
    system = "/etc/ssl/certs/ca-certificates.crt"
    if not os.path.isfile(system):
        pytest.skip(f"no system bundle at {system}")
    with open(system, "rb") as handle:
        before = handle.read()
    directory = f"/tmp/imb-readme-ca-{os.getpid()}"
    env = environment(
        {
            "INFNMINIO_SANDBOX_DIR": directory,
            "HOME": str(tmp_path),
            "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials"),
            "AWS_CA_BUNDLE": system,
            "SSL_CERT_FILE": system,
        }
    )
    env = {k: v for k, v in env.items() if k not in ("AWS_PROFILE", "XDG_CACHE_HOME")}
    try:
        for code in blocks("sh"):
            run(["bash", "-euo", "pipefail", "-c", code], env)
    finally:
        subprocess.run(
            [sys.executable, "-m", "infnminio_boto.cli", "sandbox", "stop"],
            env=env,
            capture_output=True,
            timeout=60,
        )
    with open(system, "rb") as handle:
        assert handle.read() == before  # the shell's bundle is read, never written
