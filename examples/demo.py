"""`make demo`: the main job end to end against the local sandbox.

Starts the sandbox (a real Ceph RGW with STS and a local OIDC issuer), points the
library at it through the INFNMINIO_* variables exactly as a user's shell would be
configured, runs each example as its own process, executes examples/notebook.ipynb in
a real Jupyter kernel (leaving it, outputs and figure included, in build/notebook.ipynb),
and stops the sandbox, also when a step fails.

It leaves no trace outside the checkout and the sandbox's folder: every step runs with
its home in that folder, so the AWS profile, DuckDB's extensions and secrets, the key
cache and every library's caches go there and are removed with it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from infnminio_boto.sandbox import Sandbox

EXAMPLES = Path(__file__).resolve().parent
EXECUTED_NOTEBOOK = EXAMPLES.parent / "build" / "notebook.ipynb"
# What of the user's shell must not reach a step: their AWS keys, profile and endpoint
# (a step would use them, against AWS), their INFNMINIO_* settings (the sandbox's are
# set), and every folder a step would write in (each step gets the sandbox's home).
USER_PREFIXES = ("AWS_", "INFNMINIO_")
USER_PLACES = (
    "RCLONE_CONFIG", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME",
    "IPYTHONDIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR",
    "MPLCONFIGDIR", "DASK_CONFIG", "BEARER_TOKEN", "BEARER_TOKEN_FILE", "_CONDOR_CREDS",
    "OIDC_SOCK",
)
NEXT_STEPS = """
Next (in this checkout, after `. .venv/bin/activate`):
  - where you work (the hub with sts-wire, a laptop with oidc-agent, an HTCondor job):
    README.md, "Where you work"
  - the laptop path on the sandbox: eval "$(infnminio-boto sandbox start)", then
    eval "$(infnminio-boto sandbox oidc-agent)" (docs/tokens.md)
  - the documentation: make docs, then open build/site/index.html"""
STEPS = [
    ("boto3 through infnminio_boto.session()", "boto3_session.py"),
    ("the AWS CLI through a credential_process profile", "aws_cli.sh"),
    ("pyarrow: Parquet with a refreshing S3FileSystem", "pyarrow_parquet.py"),
    ("the minio SDK with a refreshing provider", "minio_client.py"),
    ("the old InfnMinio API, one import changed", "migrate_from_infnminio.py"),
    ("pandas through s3fs", "pandas_fsspec.py"),
    ("polars with a refreshing credential provider", "polars_lazy.py"),
    ("DuckDB SQL on S3", "duckdb_sql.py"),
    ("obstore with a refreshing credential provider", "obstore_store.py"),
    ("Dask workers without the token file, keys shared by the client", "dask_cluster.py"),
]


def say(text: str) -> None:
    print(text, flush=True)


def run_notebook(environment: dict, workdir: Path) -> int:
    """Execute examples/notebook.ipynb in a Jupyter kernel; write it to build/. 0: it ran."""
    import nbclient
    import nbformat
    from jupyter_client.manager import KernelManager

    notebook = nbformat.read(EXAMPLES / "notebook.ipynb", as_version=4)
    # A kernel on local sockets (ipc) rather than TCP ports: nothing listens on the
    # network, and the kernel has no reason to warn about unencrypted TCP.
    # Its connection file, sockets and IPython folder go in the sandbox's folder, not the
    # user's runtime dir and ~/.ipython (finding the kernel's spec imports IPython here).
    os.environ["IPYTHONDIR"] = str(workdir / "ipython")
    manager = KernelManager(
        kernel_name="python3", transport="ipc", connection_file=str(workdir / "kernel.json")
    )
    client = nbclient.NotebookClient(
        notebook, km=manager, timeout=300, resources={"metadata": {"path": str(workdir)}}
    )
    try:
        client.execute(env=environment)
    except nbclient.exceptions.CellExecutionError as error:
        say(f"   {str(error).strip().splitlines()[-1]}")
        return 1
    finally:
        if manager.has_kernel:  # nbclient shuts down only the kernels it made
            manager.shutdown_kernel()
        EXECUTED_NOTEBOOK.parent.mkdir(exist_ok=True)
        nbformat.write(notebook, EXECUTED_NOTEBOOK)
    [line] = [o["text"].strip() for o in notebook.cells[1].outputs]
    figures = sum(
        "image/png" in o.get("data", {}) for c in notebook.cells for o in c.get("outputs", [])
    )
    say(f"   {line}")
    say(f"   executed notebook with {figures} figure(s): {EXECUTED_NOTEBOOK}")
    return 0


def main() -> int:
    say("== infnminio-boto demo ==")
    say("Starting the local sandbox: Ceph monitor + OSD + radosgw with STS, OIDC issuer...")
    started = time.monotonic()
    with Sandbox() as sandbox:
        say(f"  up in {time.monotonic() - started:.0f} s; radosgw at {sandbox.endpoint}")
        say(f"  https with a certificate from the sandbox's own authority, {sandbox.ca_bundle}")
        say(f"  token file {sandbox.token_file} is rewritten in place, like sts-wire does")
        home = sandbox.directory / "home"
        home.mkdir(mode=0o700, exist_ok=True)
        environment = {
            k: v for k, v in os.environ.items()
            if k not in USER_PLACES and not k.startswith(USER_PREFIXES)
        }
        environment.update(sandbox.environment(), HOME=str(home))
        # The sandbox is on this machine: a proxy of the user's shell must not be asked.
        no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1,localhost"]))
        environment.update(NO_PROXY=no_proxy, no_proxy=no_proxy)
        environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        # The AWS CLI prefers an AWS_CA_BUNDLE of the user's shell to the profile's
        # ca_bundle; every step here talks to the sandbox only.
        environment["AWS_CA_BUNDLE"] = sandbox.ca_bundle
        for name in (
            "INFNMINIO_ENDPOINT",
            "INFNMINIO_TOKEN_FILE",
            "INFNMINIO_ROLE_ARN",
            "INFNMINIO_CA_BUNDLE",
        ):
            say(f"  {name}={environment[name]}")
        failures = 0
        for title, script in STEPS:
            say(f"\n-- {title} ({script})")
            command = [sys.executable] if script.endswith(".py") else ["sh"]
            done = subprocess.run([*command, str(EXAMPLES / script)], env=environment, check=False)
            if done.returncode != 0:
                failures += 1
                say(f"   FAILED (exit {done.returncode})")
            else:
                say("   OK")
        say("\n-- a notebook: %load_ext infnminio_boto, pandas, zarr, uproot, a plot "
            "(notebook.ipynb, in a Jupyter kernel)")
        workdir = sandbox.directory / "notebook"
        workdir.mkdir(exist_ok=True)
        kernel_environment = {k: v for k, v in environment.items() if k != "MPLBACKEND"}
        if run_notebook(kernel_environment, workdir) != 0:
            failures += 1
            say("   FAILED")
        else:
            say("   OK")
        say("\nStopping the sandbox...")
    if failures:
        say(f"Demo finished with {failures} failed step(s).")
        return 1
    say("Demo finished: every step worked.")
    say(NEXT_STEPS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
