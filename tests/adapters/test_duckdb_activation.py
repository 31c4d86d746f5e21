"""activate() and databases opened later with duckdb.connect(): DuckDB's persistent secret,
treated as the AWS profile is (written by activate(), kept by deactivate(), replaced by
the next activation, dropped by deactivate(forget=True)), and the extensions installed
for autoloading offline (adapters/duckdb.py).

Each scenario runs in fresh Python processes with a HOME of its own (DuckDB keeps its
secrets and extensions under it), as tests/support/activated.py explains.
"""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from support.activated import environment_for, run_script, sandbox_settings_in

from infnminio_boto.adapters.duckdb import (
    PERSISTENT_SECRET,
    RENEWS_PERSISTENT_SECRETS,
    _version,
)

pytestmark = pytest.mark.sandbox
# Measured: DuckDB 1.5.5 renews a persistent secret, 1.3.0 to 1.5.4 fail on the first
# refresh. The oldest-everything run of `make range` has such a DuckDB: there, new
# databases are left alone with why, and nothing is left on disk.
RENEWS = _version(version("duckdb")) >= RENEWS_PERSISTENT_SECRETS
SECRET_FILE = Path(".duckdb") / "stored_secrets" / f"{PERSISTENT_SECRET}.duckdb_secret"


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


# A new DuckDB process, no package of ours imported, that only names the sandbox's CA
# (DuckDB reads none from the environment).
NEW_PROCESS = r"""
import sys, duckdb
con = duckdb.connect()
con.execute("SET ca_cert_file = ?", [sys.argv[2]])
print(int(con.sql(f"SELECT sum(run) FROM 's3://{sys.argv[1]}/runs.parquet'").fetchone()[0]))
"""


def another_process(env: dict, bucket: str, ca: str) -> str:
    done = subprocess.run(
        [sys.executable, "-I", "-c", NEW_PROCESS, bucket, ca],
        env=env, capture_output=True, text=True, timeout=120,
    )
    return done.stdout.strip() or done.stderr.strip()[-300:]


NEW_DATABASES = r"""
import json, os, sys
bucket = sys.argv[1]
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

activation = infnminio_boto.activate(libraries=sys.argv[2].split(","))
ca = activation.settings.ca_bundle
results = {"reported": [what for library, what in activation.changes if library == "duckdb"]}
results["this process"] = outcome(lambda: new_database(ca))
secret = os.path.expanduser(os.path.join("~", sys.argv[3]))
results["secret file mode"] = (
    oct(os.stat(secret).st_mode & 0o777) if os.path.exists(secret) else None)
infnminio_boto.deactivate()
results["after deactivate"] = outcome(lambda: new_database(ca))
if sys.argv[4] == "forget":
    infnminio_boto.deactivate(forget=True)
results["secret file at the end"] = os.path.exists(secret)
print(json.dumps(results))
"""


def test_new_databases_read_bare_urls_and_the_secret_is_kept_as_the_profile_is(
    settings, bucket, tmp_path
):
    env = environment_for(settings, tmp_path / "home")
    results = run_script(NEW_DATABASES, env, bucket, "duckdb", str(SECRET_FILE), "keep")
    if not RENEWS:
        [warning] = [w for w in results["reported"] if "new duckdb.connect()" in w]
        assert "pip install 'duckdb>=1.5.5'" in warning and "#195" in warning
        assert results["secret file mode"] is None
        return
    assert results["this process"] == 6
    assert another_process(env, bucket, settings["ca_bundle"]) == "6"  # DuckDB alone
    assert results["secret file mode"] == "0o600"
    assert results["after deactivate"] == 6  # kept, as the AWS profile is
    assert results["secret file at the end"] is True
    reported = " ".join(results["reported"])
    assert "PERSISTENT SECRET" in reported and "httpfs and aws installed" in reported
    assert "SET ca_cert_file" in reported  # the sandbox's CA is private: said once


def test_forget_drops_the_persistent_secret(settings, bucket, tmp_path):
    env = environment_for(settings, tmp_path / "home")
    results = run_script(NEW_DATABASES, env, bucket, "duckdb", str(SECRET_FILE), "forget")
    assert results["secret file at the end"] is False


AGAIN = r"""
import json, sys
import infnminio_boto
activation = infnminio_boto.activate(libraries=["duckdb"], **json.loads(sys.argv[1]))
print(json.dumps([what for library, what in activation.changes if library == "duckdb"]))
"""


@pytest.mark.skipif(not RENEWS, reason="this DuckDB writes no persistent secret")
def test_a_home_where_it_ran_keeps_the_secret_and_the_next_settings_replace_it(
    settings, bucket, tmp_path, infnminio_sandbox
):
    env = environment_for(settings, tmp_path / "home")
    run_script(AGAIN, env, "{}")
    [again, *_] = run_script(AGAIN, env, "{}")
    assert "as written before" in again  # nothing for DuckDB to do a second time
    # Another activation with other settings replaces it, for every later process.
    other = environment_for(dict(settings, region="eu-central-1"), tmp_path / "home")
    [replaced, *_] = run_script(AGAIN, other, "{}")
    assert "as written before" not in replaced and "PERSISTENT SECRET" in replaced
    check = r"""
import duckdb
print([s for s in duckdb.sql("SELECT secret_string FROM duckdb_secrets()").fetchone()])
"""
    done = subprocess.run(
        [sys.executable, "-I", "-c", check], env=other, capture_output=True, text=True,
        timeout=120,
    )
    assert "eu-central-1" in done.stdout, done.stderr[-2000:]


SECOND_PROFILE = r"""
import json, os
import infnminio_boto
infnminio_boto.activate(libraries=["duckdb"])
second = infnminio_boto.activate(libraries=["duckdb"], region="eu-central-1")
print(json.dumps([what for _, what in second.changes if what.startswith("WARNING")]))
"""


def test_a_second_activation_with_other_settings_says_to_restart(settings, tmp_path):
    env = environment_for(settings, tmp_path / "home")
    [warning] = run_script(SECOND_PROFILE, env)
    assert ("restart the process" if RENEWS else "1.5.5") in warning


DEFAULT_ONLY = r"""
import json, sys
import duckdb
import infnminio_boto
extra = {"token_loader": lambda: open(sys.argv[1]).read()} if sys.argv[1] else {}
activation = infnminio_boto.activate(libraries=["duckdb"], **extra)
print(json.dumps({
    "warnings": [w for _, w in activation.changes if w.startswith("WARNING")],
    "libraries": activation.libraries,
    "default connection": duckdb.sql(
        "SELECT name FROM duckdb_secrets() WHERE NOT persistent").fetchall(),
}))
"""


def test_duckdb_alone_activates_its_default_connection_when_the_aws_config_is_unwritable(
    settings, tmp_path
):
    (tmp_path / "not-a-folder").write_text("")  # unwritable even for root
    env = environment_for(settings, tmp_path / "home")
    env["AWS_CONFIG_FILE"] = str(tmp_path / "not-a-folder" / "config")
    results = run_script(DEFAULT_ONLY, env, "")
    assert results["libraries"] == ["duckdb"]
    assert results["default connection"] == [["infnminio_activate"]]
    [warning] = results["warnings"]
    assert "cannot write" in warning and str(tmp_path / "not-a-folder" / "config") in warning
    assert not (tmp_path / "home" / SECRET_FILE).exists()


def test_a_token_from_code_activates_the_default_connection_and_says_why_not_more(
    settings, tmp_path
):
    env = environment_for(settings, tmp_path / "home")
    results = run_script(DEFAULT_ONLY, env, settings["token_file"])
    assert results["default connection"] == [["infnminio_activate"]]
    [warning] = results["warnings"]
    assert "token_loader" in warning and "cannot call" in warning
    assert not (tmp_path / "home" / SECRET_FILE).exists()
