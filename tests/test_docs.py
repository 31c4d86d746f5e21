"""Every example script and every code block of the README and of docs/ runs against
the sandbox.

Blocks: every ```python block runs (after `infnminio-boto configure`, as the text
assumes, with a bucket `analysis` holding `runs.parquet`, as a user's store has their
data); ```sh blocks marked `<!-- test: sh -->` run in a fresh shell that starts its own
sandbox; blocks marked `<!-- test: sh-sandbox -->` run in a shell configured for the
session's sandbox, trusting its authority as docs/sandbox.md says. ```text blocks are
commands the suite cannot run here (a notebook's %pip, apt, make, a real INFN account)
and say so by their fence; `<!-- test: install -->` blocks run in
tests/test_packaging.py; any other block is an error.
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
# The README and the documentation pages, each with its text.
DOCUMENTS = {
    path.relative_to(ROOT).as_posix(): path.read_text()
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
}
EXAMPLES = sorted(
    p for p in (ROOT / "examples").iterdir() if p.suffix in (".py", ".sh") and p.name != "demo.py"
)
BLOCK = re.compile(
    r"(<!-- test: (?P<marker>[\w-]+) -->\n)?```(?P<lang>\w*)\n(?P<code>.*?)```", re.S
)

pytestmark = pytest.mark.sandbox


def blocks(kind: str) -> list:
    """(id, code) of every block of ``kind`` ("python", or an sh marker), in page order."""
    found = []
    for name, text in DOCUMENTS.items():
        for number, match in enumerate(BLOCK.finditer(text)):
            language, marker = match["lang"], match["marker"]
            if (kind == "python" and language == "python") or (
                language == "sh" and marker == kind
            ):
                found.append((f"{name}-{number}", match["code"]))
    return found


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_every_block_is_run_or_declared_unrunnable(name):
    for match in BLOCK.finditer(DOCUMENTS[name]):
        language, marker = match["lang"], match["marker"]
        # `install` blocks run in tests/test_packaging.py, into an empty virtualenv.
        runnable = language == "python" or (
            language == "sh" and marker in ("sh", "sh-sandbox", "install")
        )
        assert runnable or language == "text", match.group(0)[:200]


def test_the_readme_links_only_to_the_docs_and_the_web():
    """On GitHub and on the site (docs/hooks.py rewrites docs/ links) alike; the site's
    strict build (tests/test_docs_site.py) checks the anchors."""
    targets = re.findall(r"\]\(([^)]+)\)", README)
    assert targets, "the README links into the documentation"
    for target in targets:
        page = target.split("#", 1)[0]
        if target.startswith(("#", "https://")):
            continue
        assert page.startswith("docs/") and (ROOT / page).is_file(), target


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
    seed = (
        "import io, infnminio_boto, pyarrow as pa, pyarrow.parquet as pq\n"
        "s3 = infnminio_boto.session().client('s3')\n"
        "if 'analysis' not in {b['Name'] for b in s3.list_buckets()['Buckets']}:\n"
        "    s3.create_bucket(Bucket='analysis')\n"
        "body = io.BytesIO(); pq.write_table(pa.table({'run': [1, 2, 3]}), body)\n"
        "s3.put_object(Bucket='analysis', Key='runs.parquet', Body=body.getvalue())\n"
    )
    run([sys.executable, "-c", seed], env)
    return env


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script, infnminio_sandbox):
    command = [sys.executable] if script.suffix == ".py" else ["sh"]
    run([*command, str(script)], environment(infnminio_sandbox.environment()))


def test_demo_runs_end_to_end_and_leaves_no_trace(tmp_path):
    """`make demo` on a user's machine: their home (~/.aws, ~/.duckdb, caches) is left as
    it was, the output ends with what to do next, and nothing in it looks like theirs to
    fix (a traceback, a warning)."""
    home = tmp_path / "home"
    home.mkdir()
    env = environment({"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")})
    done = run([sys.executable, str(ROOT / "examples" / "demo.py")], env, 900)
    assert "Demo finished: every step worked." in done.stdout
    assert "radosgw at https://127.0.0.1:" in done.stdout
    assert done.stdout.rstrip().splitlines()[-1].startswith("  - the documentation: make docs")
    assert sorted(p.relative_to(home).as_posix() for p in home.rglob("*")) == []
    for alarming in ("Traceback", "WARNING", "Warning:", "!!"):
        assert alarming not in done.stdout + done.stderr, alarming


PYTHON_BLOCKS = blocks("python")


@pytest.mark.parametrize(
    "code", [code for _, code in PYTHON_BLOCKS], ids=[name for name, _ in PYTHON_BLOCKS]
)
def test_python_block(code, configured, tmp_path):
    if "def test_" in code:
        test_file = tmp_path / "test_readme_block.py"
        test_file.write_text(code)
        run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
            configured)
    else:
        run([sys.executable, "-c", code], configured)


SANDBOX_SHELL_BLOCKS = blocks("sh-sandbox")


@pytest.mark.parametrize(
    "code", [code for _, code in SANDBOX_SHELL_BLOCKS], ids=[n for n, _ in SANDBOX_SHELL_BLOCKS]
)
def test_shell_block_on_the_sandbox(code, configured):
    run(["bash", "-euo", "pipefail", "-c", code], configured)


OWN_SANDBOX_BLOCKS = blocks("sh")


@pytest.mark.parametrize(
    "code", [code for _, code in OWN_SANDBOX_BLOCKS], ids=[n for n, _ in OWN_SANDBOX_BLOCKS]
)
def test_shell_block_with_its_own_sandbox(code, tmp_path):
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
        laptop = next(code for name, code in OWN_SANDBOX_BLOCKS if "aws --profile" in code)
        run(["bash", "-euo", "pipefail", "-c", laptop], env)
    finally:
        subprocess.run(
            [sys.executable, "-m", "infnminio_boto.cli", "sandbox", "stop"],
            env=env,
            capture_output=True,
            timeout=60,
        )
    with open(system, "rb") as handle:
        assert handle.read() == before  # the shell's bundle is read, never written
