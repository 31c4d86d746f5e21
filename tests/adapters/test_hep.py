"""HEP and array recipes after activate(), against the sandbox: uproot reads a ROOT file
with uproot.open("s3://..."), xarray writes and reads back a zarr store on s3://, and
Dask reads Parquet with bare URLs on workers that are "another machine" (no token file),
supplied by share_credentials.

Each runs in a fresh process, as a notebook kernel is one (tests/support/activated.py).
"""

from __future__ import annotations

import importlib.util
import json

import pytest
from support.activated import (
    environment_for,
    run_script,
    sandbox_settings_in,
    without_aws_variables,
)

import infnminio_boto

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def hep_settings(infnminio_sandbox, tmp_path_factory) -> dict:
    return sandbox_settings_in(infnminio_sandbox, tmp_path_factory.mktemp("hep"))


@pytest.fixture(scope="module")
def hep_bucket(hep_settings) -> str:
    name = "hep-recipes"
    with without_aws_variables():
        s3 = infnminio_boto.session(**hep_settings).client("s3")
        if name not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=name)
    return name


UPROOT = r"""
import json, os, sys
bucket, folder = sys.argv[1], sys.argv[2]
import infnminio_boto
infnminio_boto.activate()
import boto3, numpy as np, uproot

path = os.path.join(folder, "events.root")
with uproot.recreate(path) as output:
    output["events"] = {"pt": np.linspace(1.0, 100.0, 100), "charge": np.tile([-1, 1], 50)}
boto3.client("s3").upload_file(path, bucket, "data/events.root")
with uproot.open(f"s3://{bucket}/data/events.root") as events_file:
    tree = events_file["events"]
    arrays = tree.arrays(["pt", "charge"], library="np")
    source = type(events_file.file.source).__name__
both = uproot.concatenate(f"s3://{bucket}/data/events.root:events", ["pt"], library="np")
print(json.dumps({"entries": int(tree.num_entries), "pt": float(arrays["pt"].sum()),
                  "charge": int(arrays["charge"].sum()), "source": source,
                  "concatenated": len(both["pt"])}))
"""


def _missing(*modules: str) -> bool:
    return any(importlib.util.find_spec(module) is None for module in modules)


# The hep and array extras are left out of `make range`'s oldest-versions run.
@pytest.mark.skipif(_missing("uproot"), reason="the hep extra (uproot) is not installed")
def test_uproot_opens_a_root_file_on_s3_by_its_bare_url(hep_settings, hep_bucket, tmp_path):
    env = environment_for(hep_settings, tmp_path / "home")
    results = run_script(UPROOT, env, hep_bucket, str(tmp_path))
    assert results["entries"] == 100 and results["concatenated"] == 100
    assert results["pt"] == pytest.approx(5050.0) and results["charge"] == 0
    assert results["source"] == "FSSpecSource"  # uproot's fsspec route, our filesystem


ZARR = r"""
import json, sys
bucket = sys.argv[1]
import infnminio_boto
infnminio_boto.activate()
import numpy as np, xarray as xr, zarr

cube = xr.Dataset(
    {"temperature": (("time", "station"), np.arange(24.0).reshape(6, 4))},
    coords={"time": np.arange(6), "station": ["a", "b", "c", "d"]},
    attrs={"source": "notebook"},
)
url = f"s3://{bucket}/cube.zarr"
cube.to_zarr(url, mode="w")
back = xr.open_zarr(url)
print(json.dumps({"equal": bool(back.load().identical(cube)),
                  "sum": float(back["temperature"].sum()),
                  "zarr": zarr.__version__.split(".")[0]}))
"""


@pytest.mark.skipif(
    _missing("xarray", "zarr"), reason="the array extra (xarray, zarr) is not installed"
)
def test_xarray_writes_and_reads_back_a_zarr_store_on_s3(hep_settings, hep_bucket, tmp_path):
    env = environment_for(hep_settings, tmp_path / "home")
    results = run_script(ZARR, env, hep_bucket)
    assert results["equal"] and results["sum"] == pytest.approx(276.0)


DASK = r"""
import json, os, sys
bucket, worker_environment = sys.argv[1], json.loads(sys.argv[2])
import dask.dataframe as dd, pandas as pd
from distributed import Client, LocalCluster
import infnminio_boto
from infnminio_boto.dask import share_credentials

def has_token():
    return os.path.exists(os.environ["INFNMINIO_TOKEN_FILE"])

frame = pd.DataFrame({"part": [i // 25 for i in range(100)], "value": range(100)})
with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                  dashboard_address=None, env=worker_environment) as cluster:
    # The workers started before: nothing of the activation reaches them but the
    # filesystem in each task, as on a batch node.
    infnminio_boto.activate()
    with Client(cluster) as client:
        share_credentials(client)
        dd.from_pandas(frame, npartitions=4).to_parquet(f"s3://{bucket}/dask/")
        back = dd.read_parquet(f"s3://{bucket}/dask/")
        total = int(back["value"].sum().compute())
        rows = len(back)
        tokens = sorted(client.run(has_token).values())
print(json.dumps({"total": total, "rows": rows, "workers have a token": tokens}))
"""


def test_dask_reads_parquet_by_bare_urls_on_workers_without_the_token(
    hep_settings, hep_bucket, tmp_path
):
    from test_dask import other_machine  # tests/adapters/test_dask.py

    env = environment_for(hep_settings, tmp_path / "home")
    results = run_script(DASK, env, hep_bucket, json.dumps(other_machine(tmp_path)))
    assert results == {"total": 4950, "rows": 100, "workers have a token": [False, False]}
