"""The old InfnMinio README, block by block, with one import changed, against the sandbox.

``data/InfnMinio-README.md`` is the old library's README as its users read it
(github.com/landerlini/InfnMinio, MIT license). Each Python block runs with only the
import line changed and the store and token file pointed at the sandbox.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.sandbox

README = Path(__file__).with_name("data") / "InfnMinio-README.md"
OLD_IMPORT = "from InfnMinio import InfnMinio as Minio"
NEW_IMPORT = "from infnminio_boto import InfnMinio as Minio"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_the_old_readme_has_the_two_recipes():
    assert len(BLOCKS) == 2 and all(OLD_IMPORT in block for block in BLOCKS)


def pointed_at_the_sandbox(block: str, sandbox, token_file: str) -> str:
    host = sandbox.endpoint.split("://", 1)[1]
    return (
        block.replace(OLD_IMPORT, NEW_IMPORT)
        .replace("minio.cloud.infn.it", host)
        .replace("/home/.token", token_file)
    )


@pytest.mark.parametrize("index", [0, 1], ids=["minio-listing", "pyarrow-pandas-parquet"])
def test_an_old_readme_block_runs_unchanged(index, infnminio_sandbox, sandbox_token_file, tmp_path):
    bucket = f"old-readme-{index}"
    infnminio_sandbox.admin_client().create_bucket(Bucket=bucket)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INFNMINIO_", "AWS_"))}
    # The sandbox's role and authority, as `eval "$(infnminio-boto sandbox start)"` gives.
    env.update(
        INFNMINIO_ENDPOINT=infnminio_sandbox.endpoint,  # where the old default host was
        INFNMINIO_ROLE_ARN=infnminio_sandbox.role_arn,
        INFNMINIO_CA_BUNDLE=infnminio_sandbox.ca_bundle,
        INFNMINIO_CACHE_DIR=str(tmp_path / "cache"),
        JUPYTERHUB_USER=bucket,  # the bucket the recipe writes to
        HOME=str(tmp_path),
    )
    code = pointed_at_the_sandbox(BLOCKS[index], infnminio_sandbox, sandbox_token_file)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
