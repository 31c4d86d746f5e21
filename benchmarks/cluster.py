"""A Dask cluster whose workers are "other machines", for five lifetimes of short keys.

The sandbox's RGW sits behind the test suite's expiring proxy (keys live 10 s); eight
LocalCluster worker processes get no token file and a home of their own. Ours: the
client shares renewed keys (`infnminio_boto.dask.share_credentials`) and the tasks use
keyless `storage_options()`. Theirs: the static `storage_options()` of before, computed
once on the client. Counted: STS exchanges (at the proxy) and failed tasks.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Dict

from measure import count_row, start_sandbox

LIFETIME = 10.0
LIFETIMES = 5
WORKERS = 8


def _read(path: str, options: dict) -> int:
    import pandas as pd

    return len(pd.read_parquet(f"s3://{path}", storage_options=options))


def _run(sandbox, work: Path, share: bool) -> Dict[str, int]:
    import pandas as pd
    from distributed import Client, LocalCluster
    from support.expiring_proxy import ExpiringProxy

    import infnminio_boto
    from infnminio_boto.dask import share_credentials

    label = "ours" if share else "static"
    node = work / f"worker-node-{label}"
    node.mkdir()
    token = work / f"token-{label}"
    token.write_text(sandbox.mint_token(lifetime=3600) + "\n")
    env = {
        "INFNMINIO_TOKEN_FILE": str(node / "no-token-here"),
        "INFNMINIO_CACHE_DIR": str(node / "cache"),
        "HOME": str(node),
    }
    with ExpiringProxy(sandbox.endpoint, lifetime=LIFETIME, tls=sandbox.tls_files) as proxy:
        settings = dict(
            sandbox.settings(), endpoint=proxy.url, token_file=str(token), cache=False
        )
        bucket = f"bench-cluster-{label}"
        s3 = infnminio_boto.session(**dict(settings, endpoint=sandbox.endpoint)).client("s3")
        s3.create_bucket(Bucket=bucket)
        s3.put_object(
            Bucket=bucket,
            Key="data.parquet",
            Body=pd.DataFrame({"x": range(100)}).to_parquet(),
        )
        failed = tasks = 0
        with LocalCluster(
            n_workers=WORKERS,
            threads_per_worker=1,
            dashboard_address=None,
            env=env,
            silence_logs=logging.CRITICAL,  # the static run's failures are counted, not shown
        ) as cluster, Client(cluster) as client:
            if share:
                share_credentials(client, environ=None, **settings)
                options = infnminio_boto.storage_options(keys=False, **settings)
            else:
                options = infnminio_boto.storage_options(keys=True, **settings)
            deadline = time.monotonic() + LIFETIME * LIFETIMES
            while time.monotonic() < deadline:
                futures = client.map(
                    _read, [f"{bucket}/data.parquet"] * WORKERS, options=options, pure=False
                )
                for future in futures:
                    tasks += 1
                    try:
                        future.result(timeout=60)
                    except Exception:  # counted: that is the measurement
                        failed += 1
                time.sleep(0.5)
        return {"exchanges": proxy.exchanges, "failed": failed, "tasks": tasks}


def cluster_across_machines(work: Path) -> None:
    print(f"Dask: {WORKERS} workers on other machines, {LIFETIMES} key lifetimes", flush=True)
    sandbox = start_sandbox()
    if sandbox is None:
        return
    try:
        ours = _run(sandbox, work, share=True)
        static = _run(sandbox, work, share=False)
    finally:
        sandbox.stop()
    count_row(
        f"failed tasks, {WORKERS} Dask workers without the token file, {LIFETIMES} key "
        f"lifetimes ({ours['tasks']} and {static['tasks']} tasks)",
        ours["failed"],
        "static storage_options()",
        static["failed"],
        "failed tasks",
    )
    count_row(
        "STS exchanges in the same run (the static way exchanges once, then fails)",
        ours["exchanges"],
        "static storage_options()",
        static["exchanges"],
        "exchanges",
    )
