"""activate() and databases opened later with duckdb.connect(): DuckDB's persistent secret,
the extensions installed for autoloading offline, and the secret's lifetime bound to the
processes that activated (adapters/duckdb_new_databases.py).

Each scenario runs in fresh Python processes with a HOME of its own (DuckDB keeps its
secrets and extensions under it), as tests/support/activated.py explains.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from support.activated import environment_for, run_script, sandbox_settings_in

from infnminio_boto.adapters.duckdb_new_databases import (
    RENEWS_PERSISTENT_SECRETS,
    SECRET_NAME,
    _version_tuple,
)

pytestmark = pytest.mark.sandbox
# The oldest-everything run of `make range` has a DuckDB whose persistent secrets cannot
# renew: there, new databases are left alone with why, and nothing is left on disk.
RENEWS = _version_tuple(version("duckdb")) >= RENEWS_PERSISTENT_SECRETS

MARKERS = Path(".duckdb") / "infnminio-boto-activations"
SECRET_FILE = Path(".duckdb") / "stored_secrets" / f"{SECRET_NAME}.duckdb_secret"


@pytest.fixture(scope="module")
def settings(infnminio_sandbox, tmp_path_factory) -> dict:
    return sandbox_settings_in(infnminio_sandbox, tmp_path_factory.mktemp("new-databases"))


@pytest.fixture(scope="module")
def bucket(settings) -> str:
    """A bucket holding runs.parquet (run 1..3)."""
    import io

    import pandas as pd
    from support.activated import without_aws_variables

    import infnminio_boto

    name = "duckdb-new-databases"
    parquet = io.BytesIO()
    pd.DataFrame({"run": [1, 2, 3]}).to_parquet(parquet)
    with without_aws_variables():
        s3 = infnminio_boto.session(**settings).client("s3")
        if name not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=name, Key="runs.parquet", Body=parquet.getvalue())
    return name


# Run as a child of the activated process: a new DuckDB process, no package of ours
# imported, that only names the sandbox's CA (DuckDB reads none from the environment).
NEW_PROCESS = r"""
import sys, duckdb
con = duckdb.connect()
con.execute("SET ca_cert_file = ?", [sys.argv[2]])
print(int(con.sql(f"SELECT sum(run) FROM 's3://{sys.argv[1]}/runs.parquet'").fetchone()[0]))
"""

NEW_DATABASES = r"""
import json, os, subprocess, sys
bucket, child = sys.argv[1], sys.argv[2]
import duckdb
import infnminio_boto

def new_database(ca):
    con = duckdb.connect()  # another database: no secret, no extension loaded by us
    con.execute("SET ca_cert_file = ?", [ca])
    return int(con.sql(f"SELECT sum(run) FROM 's3://{bucket}/runs.parquet'").fetchone()[0])

def outcome(action):
    try:
        return action()
    except Exception as error:
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"[:300]

results = {}
activation = infnminio_boto.activate()
ca = activation.settings.ca_bundle
results["reported"] = [what for library, what in activation.changes if library == "duckdb"]
results["this process"] = outcome(lambda: new_database(ca))
done = subprocess.run([sys.executable, "-I", "-c", child, bucket, ca],
                      capture_output=True, text=True)
results["another process"] = done.stdout.strip() or done.stderr.strip()[-300:]
home = os.path.expanduser("~")
secret = os.path.join(home, ".duckdb", "stored_secrets", sys.argv[3])
results["secret file mode"] = (
    oct(os.stat(secret).st_mode & 0o777) if os.path.exists(secret) else None)
infnminio_boto.deactivate()
results["after deactivate"] = outcome(lambda: new_database(ca))
results["secret file after deactivate"] = os.path.exists(secret)
print(json.dumps(results))
"""


def test_new_duckdb_databases_read_bare_urls_while_activated(settings, bucket, tmp_path):
    env = environment_for(settings, tmp_path / "home")
    results = run_script(NEW_DATABASES, env, bucket, NEW_PROCESS, SECRET_FILE.name)
    if not RENEWS:
        [warning] = [w for w in results["reported"] if "new duckdb.connect()" in w]
        assert "pip install 'duckdb>=1.5.5'" in warning and "#195" in warning
        assert results["secret file mode"] is None
        return
    assert results["this process"] == 6
    assert results["another process"] == "6"  # not ours: DuckDB alone, with our secret
    assert results["secret file mode"] == "0o600"
    assert not isinstance(results["after deactivate"], int), results
    assert results["secret file after deactivate"] is False
    reported = " ".join(results["reported"])
    assert "PERSISTENT SECRET" in reported and "httpfs and aws installed" in reported
    assert "SET ca_cert_file" in reported  # the sandbox's CA is private: said once


# A process that activates, says so, and waits for a line before it goes on.
HOLDER = r"""
import sys
import infnminio_boto
infnminio_boto.activate(libraries=["duckdb"])
print("activated", flush=True)
sys.stdin.readline()
"""

ACTIVATE_AND_END = r"""
import json, sys
import infnminio_boto
infnminio_boto.activate(libraries=["duckdb"])
print(json.dumps("activated"))
"""


def _start_holder(env: dict) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    line = holder.stdout.readline()
    assert line.strip() == "activated", holder.stderr.read() if holder.stderr else line
    return holder


def test_the_secret_lasts_while_any_activated_process_lives_and_no_longer(
    settings, tmp_path
):
    home = tmp_path / "home"
    env = environment_for(settings, home)
    holder = _start_holder(env)
    if not RENEWS:
        holder.kill()
        holder.wait()
        assert not (home / SECRET_FILE).exists() and not (home / MARKERS).exists()
        return
    try:
        run_script(ACTIVATE_AND_END, env)  # another notebook comes and goes
        assert (home / SECRET_FILE).exists()  # the holder still needs it
        assert [m.name for m in (home / MARKERS).iterdir() if m.name != ".lock"] == [
            f"{socket.gethostname()}-{holder.pid}"
        ]
    finally:
        holder.kill()  # SIGKILL: no atexit, its marker stays behind
        holder.wait()
    assert holder.returncode == -signal.SIGKILL
    assert (home / SECRET_FILE).exists()
    # The next process to activate and end on this machine sees the holder is gone.
    run_script(ACTIVATE_AND_END, env)
    assert not (home / SECRET_FILE).exists()
    assert [m.name for m in (home / MARKERS).iterdir()] == [".lock"]



FORKED_CHILD_ENDS = r"""
import json, os, sys
import infnminio_boto
infnminio_boto.activate(libraries=["duckdb"])
secret = os.path.expanduser(f"~/.duckdb/stored_secrets/{sys.argv[1]}")
child = os.fork()
if child == 0:
    sys.exit(0)  # a normal end: the atexit handlers inherited from the parent run here
os.waitpid(child, 0)
print(json.dumps(os.path.exists(secret)))
"""


def test_a_forked_child_that_ends_leaves_its_parents_secret(settings, tmp_path):
    env = environment_for(settings, tmp_path / "home")
    assert run_script(FORKED_CHILD_ENDS, env, SECRET_FILE.name) is RENEWS
