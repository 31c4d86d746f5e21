"""What `%load_ext infnminio_boto` costs a notebook beyond importing the libraries it
sets up (boto3, pandas, pyarrow, polars, DuckDB, s3fs), against the fake STS.

Warm: a home where it ran before (the AWS profile, DuckDB's extensions and persistent
secret are there, the keys are in the cache), the case of every kernel start after the
first; target: under 150 ms. First time: an empty home each run (DuckDB installs its
extensions for autoloading and writes its secret), reported beside it.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from measure import base_env, difference_row, paired, rows
from support.fake_sts import FakeSts
from support.jwt_helpers import make_jwt

IMPORTS = "import boto3, pandas, pyarrow.parquet, pyarrow.fs, polars, duckdb, s3fs"
LOAD_EXT = (
    IMPORTS + "; from infnminio_boto.adapters.ipython import load_ipython_extension; "
    "load_ipython_extension()"
)
TARGET_MS = 150


def _home(work: Path, name: str, sts_url: str) -> dict:
    home = work / name
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir()
    token = home / "token"
    token.write_text(make_jwt())
    return base_env(
        str(home), INFNMINIO_ENDPOINT=sts_url, INFNMINIO_TOKEN_FILE=str(token),
        INFNMINIO_SERVER_KIND="rgw", INFNMINIO_ROLE_ARN="arn:aws:iam:::role/IAMaccess",
    )


def _wall(code: str, env: dict) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def load_ext(work: Path, runs: int) -> None:
    print("%load_ext infnminio_boto beyond the imports", flush=True)
    with FakeSts("rgw") as sts:
        env = _home(work, "notebook-warm", sts.url)
        result = paired([sys.executable, "-c", LOAD_EXT], [sys.executable, "-c", IMPORTS],
                        runs, env)
        first = []
        for index in range(3):
            fresh = _home(work, f"notebook-first-{index}", sts.url)
            imports = _wall(IMPORTS, fresh)
            first.append(_wall(LOAD_EXT, fresh) - imports)
    difference_row(
        "`%load_ext infnminio_boto` beyond importing boto3, pandas, pyarrow, polars, DuckDB "
        f"and s3fs, in a home where it ran before (target: under {TARGET_MS} ms)",
        result, "the imports alone", TARGET_MS,
    )
    print(f"  first time in an empty home: {statistics.median(first) * 1000:.0f} ms beyond "
          "the imports", flush=True)
    rows[-1]["first_time_ms"] = round(statistics.median(first) * 1000)
    rows[-1]["comparison"] += (
        f"; the first time in an empty home: +{statistics.median(first) * 1000:.0f} ms"
    )



