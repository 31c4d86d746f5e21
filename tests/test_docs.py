"""Every example script and every README code block runs against the sandbox."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(
    p for p in (ROOT / "examples").iterdir() if p.suffix in (".py", ".sh") and p.name != "demo.py"
)
BLOCK = re.compile(r"(<!-- test: (?P<marker>\w+) -->\n)?```(?P<lang>\w+)\n(?P<code>.*?)```", re.S)

pytestmark = pytest.mark.sandbox


def readme_blocks(language):
    text = (ROOT / "README.md").read_text()
    blocks = []
    for match in BLOCK.finditer(text):
        if match["lang"] == language and (language == "python" or match["marker"] == "sh"):
            blocks.append(match["code"])
    return blocks


def environment(extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFNMINIO_")}
    env.update(extra)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def run(args, env, timeout=300):
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args[:3]} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script, infnminio_sandbox):
    command = [sys.executable] if script.suffix == ".py" else ["sh"]
    run([*command, str(script)], environment(infnminio_sandbox.environment()))


def test_demo_runs_end_to_end():
    done = run([sys.executable, str(ROOT / "examples" / "demo.py")], environment({}))
    assert "Demo finished: every step worked." in done.stdout


PYTHON_BLOCKS = readme_blocks("python")


@pytest.mark.parametrize(
    "code", PYTHON_BLOCKS, ids=[f"python-{i}" for i in range(len(PYTHON_BLOCKS))]
)
def test_readme_python_block(code, infnminio_sandbox, tmp_path):
    env = environment(infnminio_sandbox.environment())
    if "def test_" in code:
        test_file = tmp_path / "test_readme_block.py"
        test_file.write_text(code)
        run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)], env)
    else:
        run([sys.executable, "-c", code], env)


def test_readme_shell_blocks(tmp_path):
    blocks = readme_blocks("sh")
    assert blocks, "the README has shell blocks marked for testing"
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
        for code in blocks:
            run(["bash", "-euo", "pipefail", "-c", code], env)
    finally:
        subprocess.run(
            [sys.executable, "-m", "infnminio_boto.cli", "sandbox", "stop"],
            env=env,
            capture_output=True,
            timeout=60,
        )
