"""Dask across machines: workers without the token file keep reading for hours.

The client (the machine where sts-wire keeps the token file) renews the keys and sends
only those to the workers; the OIDC token never leaves it. Here a LocalCluster stands in
for workers on other nodes: they get no token file, a home and a cache of their own.
With dask-jobqueue, ``HTCondorCluster`` takes the LocalCluster's place, with Dask's TLS
(``security=Security.temporary()``): docs/dask.md, "HTCondor workers".
"""

import sys
import tempfile

import dask.dataframe as dd
import pandas as pd
from distributed import Client, LocalCluster

import infnminio_boto
from infnminio_boto.dask import share_credentials


def main(bucket: str = "infnminio-demo") -> None:
    with tempfile.TemporaryDirectory(prefix="worker-node-") as elsewhere:
        run(bucket, elsewhere)


def run(bucket: str, elsewhere: str) -> None:
    another_machine = {
        "INFNMINIO_TOKEN_FILE": f"{elsewhere}/no-token-on-this-node",
        "INFNMINIO_CACHE_DIR": f"{elsewhere}/cache",
        "HOME": elsewhere,
    }
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, dashboard_address=None, env=another_machine
        ) as cluster,
        Client(cluster) as client,
    ):
        share_credentials(client)  # renewed keys reach every worker, later ones too
        fs = infnminio_boto.s3fs_filesystem()
        if not fs.exists(bucket):
            fs.mkdir(bucket)
        frame = pd.DataFrame({"part": [0, 1] * 250, "value": range(500)})
        options = infnminio_boto.storage_options()  # no keys: each worker asks for them
        dd.from_pandas(frame, npartitions=4).to_parquet(
            f"s3://{bucket}/dataset/", storage_options=options
        )
        total = dd.read_parquet(f"{bucket}/dataset/", filesystem=fs)["value"].sum().compute()
        print(f"  sum of values {total}, computed by workers that never saw the token")


if __name__ == "__main__":
    main(*sys.argv[1:])
