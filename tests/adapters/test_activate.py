"""activate(): bare s3:// URLs reach the sandbox in every library, through each one's own
configuration; the user's choices win; deactivate() restores; a second call replaces.

Each scenario runs in a fresh Python process, as a notebook kernel is one (see
tests/support/activated.py).
"""

from __future__ import annotations

from importlib.metadata import version

import pytest
from support.activated import (
    environment_for,
    run_script,
    sandbox_settings_in,
    without_aws_variables,
)

import infnminio_boto
from infnminio_boto.adapters.duckdb import RENEWS_PERSISTENT_SECRETS, _version

pytestmark = pytest.mark.sandbox
RENEWS = _version(version("duckdb")) >= RENEWS_PERSISTENT_SECRETS


@pytest.fixture(scope="module")
def module_settings(infnminio_sandbox, tmp_path_factory) -> dict:
    """Settings keywords for the sandbox, with a token file and cache of this module's."""
    return sandbox_settings_in(infnminio_sandbox, tmp_path_factory.mktemp("activate"))


@pytest.fixture(scope="module")
def module_bucket(module_settings) -> str:
    """A bucket holding runs.parquet and runs.csv (run 1..3), written by a plain session."""
    import io

    import pandas as pd

    name = "activate-bare-urls"
    frame = pd.DataFrame({"run": [1, 2, 3], "energy": [10.5, 20.25, 30.0]})
    parquet = io.BytesIO()
    frame.to_parquet(parquet)
    with without_aws_variables():
        s3 = infnminio_boto.session(**module_settings).client("s3")
        if name not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=name, Key="runs.parquet", Body=parquet.getvalue())
        s3.put_object(Bucket=name, Key="runs.csv", Body=frame.to_csv(index=False).encode())
    return name


# One process does what a notebook does after the one activate line, in every library,
# then checks what activate() left in os.environ and what deactivate() restored.
BARE_URLS = r"""
import json, os, sys
bucket = sys.argv[1]

def state():
    import boto3, duckdb, fsspec, polars  # polars sets a variable of its own on import
    from infnminio_boto.compat.polars import default_credential_provider
    return {
        "environ": dict(os.environ),
        "boto3": repr(boto3.DEFAULT_SESSION),
        "fsspec": {p: repr(fsspec.get_filesystem_class(p)) for p in ("s3", "s3a")},
        "polars": repr(default_credential_provider()),
        # The persistent secret is kept, as the AWS profile is (checked apart).
        "duckdb": duckdb.sql("SELECT name FROM duckdb_secrets() WHERE NOT persistent").fetchall(),
        "duckdb_ca": duckdb.sql("SELECT current_setting('ca_cert_file')").fetchall(),
    }

import duckdb
from infnminio_boto.adapters.duckdb import load_extension
load_extension(duckdb.default_connection(), "httpfs")  # where ca_cert_file is defined
before = state()
import infnminio_boto
activation = infnminio_boto.activate()
import boto3, duckdb, fsspec, pandas as pd, polars as pl, pyarrow as pa, pyarrow.parquet as pq

results = {}
def check(name, action):
    try:
        results[name] = action()
    except Exception as error:
        results[name] = f"FAILED {type(error).__name__}: {error}"[:600]

url = f"s3://{bucket}"
def use_boto3():
    boto3.client("s3").put_object(Bucket=bucket, Key="boto3.txt", Body=b"hello")
    return boto3.resource("s3").Object(bucket, "boto3.txt").get()["Body"].read().decode()
def use_pandas_parquet():
    frame = pd.read_parquet(f"{url}/runs.parquet")
    frame.to_parquet(f"{url}/pandas.parquet")
    return int(pd.read_parquet(f"{url}/pandas.parquet")["run"].sum())
def use_pandas_csv():
    frame = pd.read_csv(f"{url}/runs.csv")
    frame.to_csv(f"{url}/pandas.csv", index=False)
    return int(pd.read_csv(f"{url}/pandas.csv")["run"].sum())
def use_pyarrow():
    table = pq.read_table(f"{url}/runs.parquet")
    pq.write_table(table, f"{url}/pyarrow.parquet")
    return pq.read_table(f"{url}/pyarrow.parquet").num_rows * 2
def use_polars():
    frame = pl.read_parquet(f"{url}/runs.parquet")
    frame.write_parquet(f"{url}/polars.parquet")
    lazy = pl.scan_parquet(f"{url}/polars.parquet")
    return int(lazy.select(pl.col("run").sum()).collect().item())
def use_duckdb():
    duckdb.sql(f"COPY (SELECT * FROM '{url}/runs.parquet') TO '{url}/duckdb.parquet'")
    cursor = duckdb.default_connection().cursor()  # more connections to the same database
    return int(cursor.sql(f"SELECT sum(run) FROM '{url}/duckdb.parquet'").fetchone()[0])
def use_fsspec():
    with fsspec.open(f"{url}/fsspec.txt", "w") as handle:
        handle.write("hello")
    return fsspec.filesystem("s3").cat(f"{bucket}/fsspec.txt").decode()

for name, action in [("boto3", use_boto3), ("pandas-parquet", use_pandas_parquet),
                     ("pandas-csv", use_pandas_csv), ("pyarrow", use_pyarrow),
                     ("polars", use_polars), ("duckdb", use_duckdb), ("fsspec", use_fsspec)]:
    check(name, action)

keys = infnminio_boto.credentials()
token = open(os.environ["INFNMINIO_TOKEN_FILE"]).read().strip()
results["secrets in os.environ"] = sorted(
    name for name, value in os.environ.items()
    if any(secret in value for secret in (keys.secret_key, keys.token, token)))
results["reported"] = [list(change) for change in activation.changes]
infnminio_boto.deactivate()
after = state()
results["kept"] = duckdb.sql("SELECT name FROM duckdb_secrets() WHERE persistent").fetchall()
results["not restored"] = sorted(k for k in before if before[k] != after[k])
results["environ differences"] = sorted(
    set(before["environ"].items()) ^ set(after["environ"].items()))
try:
    fsspec.filesystem("s3", skip_instance_cache=True).ls(bucket)
    results["fsspec after deactivate"] = "reached the store"
except Exception as error:
    results["fsspec after deactivate"] = type(error).__name__
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def bare_url_results(module_settings, module_bucket, tmp_path_factory) -> dict:
    env = environment_for(module_settings, tmp_path_factory.mktemp("home"))
    return run_script(BARE_URLS, env, module_bucket)


@pytest.mark.parametrize(
    ("library", "expected"),
    [
        ("boto3", "hello"),  # boto3.client("s3") and boto3.resource("s3")
        ("pandas-parquet", 6),  # pd.read_parquet/to_parquet("s3://...") (pyarrow's route)
        ("pandas-csv", 6),  # pd.read_csv/to_csv("s3://...") (fsspec's route)
        ("pyarrow", 6),  # pq.read_table/write_table("s3://...")
        ("polars", 6),  # pl.read_parquet, scan_parquet, write_parquet
        ("duckdb", 6),  # duckdb.sql on the default connection, COPY ... TO s3://
        ("fsspec", "hello"),  # fsspec.open, fsspec.filesystem("s3")
    ],
)
def test_bare_urls_reach_the_store_after_activate(bare_url_results, library, expected):
    assert bare_url_results[library] == expected


def test_no_secret_key_session_token_or_oidc_token_is_put_in_os_environ(bare_url_results):
    assert bare_url_results["secrets in os.environ"] == []


def test_activate_reports_each_library_it_changed(bare_url_results):
    reported = {library for library, _ in bare_url_results["reported"]}
    assert {"boto3", "fsspec", "pyarrow", "polars", "duckdb"} <= reported
    what = " ".join(text for _, text in bare_url_results["reported"])
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "SSL_CERT_FILE", "DEFAULT_SESSION"):
        assert name in what


def test_deactivate_restores_every_library(bare_url_results):
    assert bare_url_results["not restored"] == []
    # What it writes for other processes stays, as the AWS profile does.
    assert bare_url_results["kept"] == ([["infnminio_activate_persistent"]] if RENEWS else [])
    assert bare_url_results["environ differences"] == []
    assert bare_url_results["fsspec after deactivate"] != "reached the store"


USER_CHOICES = r"""
import json, os, sys
bucket, endpoint = sys.argv[1], sys.argv[2]
import infnminio_boto
activation = infnminio_boto.activate()
import boto3, duckdb, fsspec, pandas as pd, polars as pl

results = {}
def outcome(action):
    try:
        return f"ok {action()}"
    except Exception as error:
        return f"{type(error).__name__}: {error}"[:400]

bogus = {"key": "AKIAUSERSOWNKEY00000", "secret": "users-own-secret-0000"}
# s3fs with the caller's keys and no endpoint: plain s3fs, sent where it would go
# without activate() (not to AWS_ENDPOINT_URL_S3, which activate() set for pyarrow).
fs = fsspec.filesystem("s3", **bogus)
fs.connect()
results["fsspec keys"] = [type(fs).__name__, fs.plain, fs.s3.meta.endpoint_url]
anonymous = fsspec.filesystem("s3", anon=True)
anonymous.connect()
results["fsspec anon"] = anonymous.s3.meta.endpoint_url
# ... and with an endpoint too: their keys reach that endpoint (the store refuses them).
options = dict(bogus, client_kwargs={"endpoint_url": endpoint,
                                     "verify": os.environ["INFNMINIO_CA_BUNDLE"]})
results["pandas storage_options"] = outcome(
    lambda: pd.read_csv(f"s3://{bucket}/runs.csv", storage_options=options))
results["polars storage_options"] = outcome(lambda: pl.read_parquet(
    f"s3://{bucket}/runs.parquet",
    storage_options={"aws_access_key_id": bogus["key"],
                     "aws_secret_access_key": bogus["secret"],
                     "aws_endpoint_url": endpoint}))
results["boto3 endpoint_url"] = boto3.client(
    "s3", endpoint_url="https://elsewhere.example").meta.endpoint_url
# A DuckDB secret of the user's (default scope s3://) wins over ours (s3:/).
duckdb.sql(f"CREATE SECRET mine (TYPE s3, KEY_ID '{bogus['key']}', SECRET '{bogus['secret']}', "
           f"ENDPOINT '{endpoint.split('://')[1]}', URL_STYLE 'path')")
results["duckdb which"] = duckdb.sql(
    f"SELECT name FROM which_secret('s3://{bucket}/runs.parquet', 's3')").fetchone()[0]
results["duckdb user secret"] = outcome(
    lambda: duckdb.sql(f"SELECT count(*) FROM 's3://{bucket}/runs.parquet'").fetchall())
duckdb.sql("DROP SECRET mine")
results["duckdb ours again"] = outcome(
    lambda: duckdb.sql(f"SELECT count(*) FROM 's3://{bucket}/runs.parquet'").fetchone()[0])
infnminio_boto.deactivate()

# Choices made before activate(): that library (or, for the environment, every one)
# is left alone, and the activation says why.
with open(os.environ["AWS_CONFIG_FILE"], "a") as config:
    config.write("\n[profile theirs]\nregion = eu-west-1\n")
boto3.setup_default_session(profile_name="theirs")
from infnminio_boto.compat.polars import default_credential_provider
pl.Config.set_default_credential_provider(None)
fsspec.config.conf["s3"] = {"profile": "theirs"}
activation = infnminio_boto.activate()
results["left alone"] = activation.left_alone
results["changed"] = activation.libraries
results["polars provider kept"] = default_credential_provider() is None
infnminio_boto.deactivate()
boto3.DEFAULT_SESSION = None
del fsspec.config.conf["s3"]
pl.Config.set_default_credential_provider("auto")

os.environ["AWS_PROFILE"] = "theirs"
before = dict(os.environ)
activation = infnminio_boto.activate()
results["environment"] = [activation.libraries, activation.left_alone]
results["environment untouched"] = dict(os.environ) == before and boto3.DEFAULT_SESSION is None
print(json.dumps(results))
"""


def test_the_users_explicit_choices_win(
    module_settings, module_bucket, infnminio_sandbox, tmp_path
):
    env = environment_for(module_settings, tmp_path / "home")
    results = run_script(USER_CHOICES, env, module_bucket, infnminio_sandbox.endpoint)
    name, plain, endpoint = results["fsspec keys"]
    assert (name, plain) == ("ActivatedS3FileSystem", True)
    assert "amazonaws.com" in endpoint and "amazonaws.com" in results["fsspec anon"]
    # their keys went to the store, which refused them: ours were not used
    assert "Forbidden" in results["pandas storage_options"] or "403" in results[
        "pandas storage_options"
    ], results["pandas storage_options"]
    assert not results["polars storage_options"].startswith("ok"), results
    assert "403" in results["polars storage_options"] or "Forbidden" in results[
        "polars storage_options"
    ] or "InvalidAccessKeyId" in results["polars storage_options"], results
    assert results["boto3 endpoint_url"] == "https://elsewhere.example"
    assert results["duckdb which"] == "mine"
    assert not results["duckdb user secret"].startswith("ok"), results
    assert results["duckdb ours again"] == "ok 3"
    left_alone = results["left alone"]
    assert set(left_alone) == {"boto3", "fsspec", "polars"}, left_alone
    assert "'theirs'" in left_alone["boto3"] and "profile" in left_alone["fsspec"]
    assert results["polars provider kept"]
    assert results["changed"] == ["pyarrow", "duckdb"]
    changed, why = results["environment"]
    assert changed == []
    assert set(why) == {"boto3", "fsspec", "pyarrow", "polars", "duckdb"}
    assert all("AWS_PROFILE=theirs" in reason for reason in why.values())
    assert results["environment untouched"]


SECOND_ACTIVATION = r"""
import json, os, sys
from pathlib import Path
bucket, upstream, folder = sys.argv[1], sys.argv[2], Path(sys.argv[3])
from support.expiring_proxy import ExpiringProxy
from infnminio_boto.sandbox.tls import TlsFiles
import infnminio_boto

tls = TlsFiles(ca=Path(os.environ["INFNMINIO_CA_BUNDLE"]),
               certificate=folder / "rgw-cert.pem", private_key=folder / "rgw-key.pem")

def use_every_library():
    import boto3, duckdb, fsspec, pandas as pd, polars as pl, pyarrow.parquet as pq
    url = f"s3://{bucket}/runs.parquet"
    return [
        boto3.client("s3").head_object(Bucket=bucket, Key="runs.parquet")["ContentLength"] > 0,
        int(pd.read_parquet(url)["run"].sum()),
        int(pd.read_csv(f"s3://{bucket}/runs.csv")["run"].sum()),
        pq.read_table(url).num_rows,
        int(pl.read_parquet(url)["run"].sum()),
        int(duckdb.sql(f"SELECT sum(run) FROM '{url}'").fetchone()[0]),
        len(fsspec.filesystem("s3").ls(bucket)) > 0,
    ]

results = {}
with ExpiringProxy(upstream, lifetime=3600, tls=tls) as proxy:
    first = infnminio_boto.activate(endpoint=proxy.url)
    results["first"] = use_every_library()
    results["through the first endpoint"] = proxy.forwarded > 0
    results["first endpoint"] = os.environ["AWS_ENDPOINT_URL_S3"] == proxy.url
# The first endpoint is gone: a library still configured for it would fail.
second = infnminio_boto.activate()
results["second"] = use_every_library()
import duckdb
results["duckdb secrets"] = duckdb.sql(
    "SELECT name FROM duckdb_secrets() WHERE NOT persistent").fetchall()
results["duckdb new databases"] = [w for lib, w in second.changes if "new duckdb" in w]
stored = os.path.expanduser("~/.duckdb/stored_secrets")
results["persistent secrets"] = os.listdir(stored) if os.path.isdir(stored) else []
results["second endpoint"] = os.environ["AWS_ENDPOINT_URL_S3"]
results["first undone"] = first.changes == []
print(json.dumps(results))
"""


def test_a_second_activate_replaces_the_first(
    module_settings, module_bucket, infnminio_sandbox, tmp_path
):
    env = environment_for(module_settings, tmp_path / "home")
    results = run_script(
        SECOND_ACTIVATION,
        env,
        module_bucket,
        infnminio_sandbox.endpoint,
        str(infnminio_sandbox.directory),
    )
    expected = [True, 6, 6, 3, 6, 6, True]
    assert results["first"] == expected and results["through the first endpoint"]
    assert results["first endpoint"]
    assert results["second"] == expected
    assert results["duckdb secrets"] == [["infnminio_activate"]]
    # DuckDB's aws extension read the first command: new databases of this process are
    # not given a secret that would run it for the second endpoint, and it says so; the
    # persistent secret was replaced for other processes (from a new one).
    assert results["persistent secrets"] == (
        ["infnminio_activate_persistent.duckdb_secret"] if RENEWS else []
    )
    [warning] = results["duckdb new databases"]
    assert warning.startswith("WARNING") and ("restart" if RENEWS else "1.5.5") in warning
    assert results["second endpoint"] == infnminio_sandbox.endpoint
    assert results["first undone"]


RENEWAL = r"""
import json, os, sys, time
from pathlib import Path
bucket, upstream, folder = sys.argv[1], sys.argv[2], Path(sys.argv[3])
renews = sys.argv[4] == "yes"  # DuckDB gives new databases a renewing secret
from support.expiring_proxy import ExpiringProxy
from infnminio_boto.sandbox.tls import TlsFiles
import infnminio_boto

tls = TlsFiles(ca=Path(os.environ["INFNMINIO_CA_BUNDLE"]),
               certificate=folder / "rgw-cert.pem", private_key=folder / "rgw-key.pem")

def use_every_library():
    import boto3, duckdb, fsspec, pandas as pd, polars as pl, pyarrow.parquet as pq
    url = f"s3://{bucket}/runs.parquet"
    results = []
    for action in [
        lambda: boto3.client("s3").head_object(Bucket=bucket, Key="runs.parquet")["ETag"] != "",
        lambda: int(pd.read_csv(f"s3://{bucket}/runs.csv")["run"].sum()),
        lambda: pq.read_table(url).num_rows,
        lambda: int(pl.read_parquet(url)["run"].sum()),
        lambda: int(duckdb.sql(f"SELECT sum(run) FROM '{url}'").fetchone()[0]),
    ] + ([
        lambda: int(early.sql(f"SELECT sum(run) FROM '{url}'").fetchone()[0]),
        lambda: read_in_new_database(url),
    ] if renews else []):
        try:
            results.append(action())
        except Exception as error:
            results.append(f"{type(error).__name__}: {error}"[:300])
    return results

def new_database():
    # duckdb.connect() is another database: it reads our persistent secret, and renews
    # its keys itself (REFRESH auto); DuckDB takes a private CA per database only.
    import duckdb
    con = duckdb.connect()
    con.execute("SET ca_cert_file = ?", [os.environ["INFNMINIO_CA_BUNDLE"]])
    return con

def read_in_new_database(url):
    con = new_database()  # kept until the rows are read (DuckDB 1.3 needs it)
    return int(con.sql(f"SELECT sum(run) FROM '{url}'").fetchone()[0])

with ExpiringProxy(upstream, lifetime=12, tls=tls) as proxy:
    infnminio_boto.activate(endpoint=proxy.url)
    early = new_database() if renews else None  # opened before the keys expire, used after
    first = use_every_library()
    time.sleep(proxy.lifetime + 4)  # every key handed out so far has expired
    second = use_every_library()
    print(json.dumps({"first": first, "second": second, "exchanges": proxy.exchanges}))
"""


def test_keys_renew_themselves_in_every_library_past_their_expiry(
    module_settings, module_bucket, infnminio_sandbox, tmp_path
):
    env = environment_for(module_settings, tmp_path / "home")
    results = run_script(
        RENEWAL,
        env,
        module_bucket,
        infnminio_sandbox.endpoint,
        str(infnminio_sandbox.directory),
        "yes" if RENEWS else "no",
    )
    # The last two: duckdb.connect() databases, opened before and after the expiry (on
    # a DuckDB that renews persistent secrets; see tests/adapters/test_duckdb_new_databases.py)
    expected = [True, 6, 3, 6, 6] + ([6, 6] if RENEWS else [])
    assert results["first"] == expected
    assert results["second"] == expected  # with keys obtained after the first ones expired
    assert results["exchanges"] >= 2


FAILING = r"""
import json, os
import boto3, fsspec
import infnminio_boto
results = {}
try:
    infnminio_boto.activate()
except infnminio_boto.InfnMinioError as error:
    results["error"] = type(error).__name__
results["untouched"] = [boto3.DEFAULT_SESSION is None, "AWS_PROFILE" not in os.environ,
                        "s3" not in fsspec.registry,
                        infnminio_boto.deactivate() is None]
print(json.dumps(results))
"""


def test_activate_changes_nothing_when_there_is_no_token(module_settings, tmp_path):
    env = environment_for(
        dict(module_settings, token_file=str(tmp_path / "no-token")), tmp_path / "home"
    )
    results = run_script(FAILING, env)
    assert results == {"error": "TokenFileError", "untouched": [True, True, True, True]}


def test_an_unknown_library_name_is_refused():
    with pytest.raises(infnminio_boto.ConfigurationError, match="pandas"):
        infnminio_boto.activate(libraries=["pandas"])


UNWRITABLE_PROFILE = r"""
import json, os
import boto3, fsspec
import infnminio_boto
activation = infnminio_boto.activate()
print(json.dumps({"libraries": activation.libraries, "left alone": activation.left_alone,
                  "AWS_PROFILE": os.environ.get("AWS_PROFILE"),
                  "boto3": boto3.client("s3").list_buckets()["ResponseMetadata"][
                      "HTTPStatusCode"]}))
"""


def test_an_unwritable_aws_config_leaves_only_pyarrow_out_and_says_why(
    module_settings, tmp_path
):
    # Under a file rather than a folder: unwritable even for root (CI runs as root). The
    # libraries that need no profile work; pyarrow, which does, is left alone with what
    # to do, and DuckDB reads s3:// on its default connection only.
    (tmp_path / "not-a-folder").write_text("")
    env = environment_for(module_settings, tmp_path / "home")
    env["AWS_CONFIG_FILE"] = str(tmp_path / "not-a-folder" / "config")
    results = run_script(UNWRITABLE_PROFILE, env)
    assert results["libraries"] == ["boto3", "fsspec", "polars", "duckdb"]
    assert results["AWS_PROFILE"] is None and results["boto3"] == 200
    why = results["left alone"]["pyarrow"]
    assert "could not be written" in why and "AWS_CONFIG_FILE" in why
    assert "activate(libraries=['boto3', 'fsspec', 'polars', 'duckdb'])" in why


WITHOUT_HTTPFS = r"""
import json
import boto3, duckdb
import infnminio_boto
activation = infnminio_boto.activate()
print(json.dumps({"left alone": activation.left_alone, "libraries": activation.libraries,
                  "secrets": duckdb.sql("SELECT name FROM duckdb_secrets()").fetchall()}))
"""


def test_duckdb_without_its_httpfs_package_offline_is_left_alone_with_why(
    module_settings, tmp_path
):
    # As on a machine without the duckdb-extension-httpfs package: the import fails,
    # and DuckDB's own download has no network to reach (as in CI).
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "duckdb_extension_httpfs.py").write_text("raise ImportError('not installed')\n")
    env = environment_for(module_settings, tmp_path / "home")
    env["PYTHONPATH"] = f"{hide}:{env['PYTHONPATH']}"
    results = run_script(WITHOUT_HTTPFS, env)
    assert results["libraries"] == ["boto3", "fsspec", "pyarrow", "polars"]
    assert "duckdb-extension-httpfs==" in results["left alone"]["duckdb"]
    assert results["secrets"] == []


OLDER_POLARS = r"""
import json
import polars as pl
import infnminio_boto
# What polars before 1.34 lacks (1.17 to 1.33 are what `pip install polars` may keep).
del pl.Config.set_default_credential_provider
activation = infnminio_boto.activate()
print(json.dumps({"left alone": activation.left_alone, "libraries": activation.libraries}))
"""


def test_a_polars_without_a_default_credential_provider_is_left_alone_with_why(
    module_settings, tmp_path
):
    env = environment_for(module_settings, tmp_path / "home")
    results = run_script(OLDER_POLARS, env)
    assert "polars" not in results["libraries"]
    assert "pip install 'polars>=1.34'" in results["left alone"]["polars"]
    assert "polars_credential_provider()" in results["left alone"]["polars"]
    # The other libraries are activated all the same.
    assert {"boto3", "fsspec", "pyarrow", "duckdb"} <= set(results["libraries"])


def test_a_library_whose_extra_is_missing_is_left_alone_with_the_command_that_adds_it(
    module_settings, monkeypatch
):
    import importlib.util

    from infnminio_boto.adapters import activate as module

    real = importlib.util.find_spec
    monkeypatch.setattr(module.importlib.util, "find_spec",
                        lambda name, *a: None if name == "s3fs" else real(name, *a))
    activation = infnminio_boto.activate(libraries=["fsspec", "boto3"], **module_settings)
    try:
        why = activation.left_alone["fsspec"]
        assert why.startswith("not installed (s3fs): ") and "-m pip install" in why
        assert "infnminio-boto[fsspec]" in why
        assert activation.libraries == ["boto3"]
    finally:
        infnminio_boto.deactivate()
