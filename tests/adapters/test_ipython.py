"""``%load_ext infnminio_boto`` in a real Jupyter kernel (nbclient starts ipykernel):
one line on success (endpoint, libraries, subject, where the token came from, when the
keys expire), one line and no traceback when the token or the store cannot be reached."""

from __future__ import annotations

import re

import pytest
from support.activated import environment_for, sandbox_settings_in

import infnminio_boto

pytestmark = pytest.mark.sandbox

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


def run_cells(cells, env, folder):
    """Run the cells in a fresh kernel; the executed notebook."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=180,
        allow_errors=True,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute(env=env)
    return notebook


def streams(cell, name):
    return "".join(o["text"] for o in cell.outputs if o.get("name") == name)


def test_load_ext_activates_and_prints_one_line(infnminio_sandbox, tmp_path):
    settings = sandbox_settings_in(infnminio_sandbox, tmp_path)
    keys = infnminio_boto.credentials(**settings)  # the keys activation will find cached
    env = environment_for(settings, tmp_path / "home")
    notebook = run_cells(
        [
            "%load_ext infnminio_boto",
            "import pandas as pd\n"
            "print(type(__import__('fsspec').filesystem('s3')).__name__)",
        ],
        env,
        tmp_path,
    )
    loaded, used = notebook.cells
    assert [o["output_type"] for o in loaded.outputs] == ["stream"]
    assert streams(loaded, "stderr") == ""
    line = streams(loaded, "stdout")
    assert line.count("\n") == 1, line
    assert infnminio_sandbox.endpoint in line
    assert "boto3, fsspec, pyarrow, polars, duckdb" in line
    assert "as sandbox-user" in line  # the token's subject
    assert f"the file {settings['token_file']}" in line  # where the token came from
    assert f"keys expire {keys.expiration:%Y-%m-%d %H:%M} UTC" in line
    assert streams(used, "stdout").strip() == "ActivatedS3FileSystem"


def failure_cells(env_changes: dict, bucket: str) -> list:
    assignments = "".join(f"os.environ[{k!r}] = {v!r}\n" for k, v in env_changes.items())
    return [
        f"import os\n{assignments}",
        "%load_ext infnminio_boto",
        # The next s3:// calls go to the store, and fail with the cause, not elsewhere.
        f"import boto3\ntry:\n    boto3.client('s3').list_objects_v2(Bucket={bucket!r})\n"
        "except Exception as error:\n    print(type(error).__name__, error)",
        f"import pandas as pd\ntry:\n    pd.read_csv('s3://{bucket}/runs.csv')\n"
        "except Exception as error:\n    print(type(error).__name__, error)",
        f"try:\n    pd.read_parquet('s3://{bucket}/runs.parquet')\n"
        "except Exception as error:\n    print(type(error).__name__, error)",
    ]


@pytest.mark.parametrize("fault", ["no token file", "store unreachable"])
def test_a_failed_load_ext_names_its_cause_where_the_user_looks_next(
    infnminio_sandbox, tmp_path, fault
):
    settings = sandbox_settings_in(infnminio_sandbox, tmp_path)
    env = environment_for(settings, tmp_path / "home", INFNMINIO_MAX_ATTEMPTS="1",
                          INFNMINIO_TIMEOUT="2")
    if fault == "no token file":
        changes = {"INFNMINIO_TOKEN_FILE": str(tmp_path / "there-is-no-token")}
        expected = r"token file .*there-is-no-token does not exist"
    else:
        import socket

        with socket.socket() as unused:  # a port nobody listens on
            unused.bind(("127.0.0.1", 0))
            port = unused.getsockname()[1]
        changes = {"INFNMINIO_ENDPOINT": f"https://127.0.0.1:{port}"}
        expected = r"(?i)could not (be )?reach|connection refused|refused"
    notebook = run_cells(failure_cells(changes, "a-bucket"), env, tmp_path)
    _, loaded, with_boto3, with_csv, with_parquet = notebook.cells
    assert [o["output_type"] for o in loaded.outputs] == ["stream"]  # no error, no traceback
    assert streams(loaded, "stdout") == ""
    line = streams(loaded, "stderr")
    assert line.count("\n") == 1 and line.startswith("infnminio-boto: NOT ACTIVE YET: "), line
    assert re.search(expected, line), line
    assert "Traceback" not in line
    for cell in (with_boto3, with_csv):  # the cause again, where the user looks next
        assert re.search(expected, streams(cell, "stdout")), streams(cell, "stdout")
    for cell in (with_boto3, with_csv, with_parquet):  # never AWS
        assert "amazonaws.com" not in streams(cell, "stdout"), streams(cell, "stdout")


def test_once_the_token_is_fixed_the_pending_activation_works(infnminio_sandbox, tmp_path):
    settings = sandbox_settings_in(infnminio_sandbox, tmp_path)
    token = settings["token_file"]
    env = environment_for(dict(settings, token_file=str(tmp_path / "later")), tmp_path / "home")
    new_database = (  # a new DuckDB database, trusting the sandbox's CA as docs say
        "database = duckdb.connect()\n"
        f"database.execute(\"SET ca_cert_file = '{settings['ca_bundle']}'\")\n"
        "print(database.execute(\"SELECT count(*) FROM glob('s3://pending-fixed/*')\")"
        ".fetchall())"
    )
    cells = [
        "%load_ext infnminio_boto",
        "import time\ntime.sleep(8)  # DuckDB's renewal thread tries, and fails, meanwhile",
        f"import shutil, boto3\nshutil.copy({token!r}, {str(tmp_path / 'later')!r})\n"
        "time.sleep(3)  # past the pause after the failed first try\n"
        "s3 = boto3.client('s3')\n"
        "if 'pending-fixed' not in [b['Name'] for b in s3.list_buckets()['Buckets']]:\n"
        "    s3.create_bucket(Bucket='pending-fixed')\n"
        "s3.put_object(Bucket='pending-fixed', Key='one', Body=b'1')\n"
        "print(type(s3.list_buckets()['Buckets']).__name__)",
        "import duckdb\n"
        "print(duckdb.sql(\"SELECT count(*) FROM glob('s3://pending-fixed/*')\").fetchall())",
        new_database,
    ]
    loaded, waited, fixed, default_database, other_database = run_cells(cells, env, tmp_path).cells
    assert "NOT ACTIVE YET" in streams(loaded, "stderr")
    for cell in (loaded, waited, fixed):  # the line said it all: no thread's echo of it
        assert "Renewing the DuckDB secret" not in streams(cell, "stderr")
    assert streams(fixed, "stdout").strip() == "list", streams(fixed, "stderr")
    # DuckDB too, on its default connection and in a database opened after the fix.
    assert streams(default_database, "stdout").strip() == "[(1,)]", default_database.outputs
    assert streams(other_database, "stdout").strip() == "[(1,)]", other_database.outputs


def test_load_ext_says_in_one_line_that_the_environment_chose(infnminio_sandbox, tmp_path):
    settings = sandbox_settings_in(infnminio_sandbox, tmp_path)
    env = environment_for(settings, tmp_path / "home", AWS_PROFILE="theirs")
    [loaded] = run_cells(["%load_ext infnminio_boto"], env, tmp_path).cells
    line = streams(loaded, "stdout")
    assert line.count("\n") == 1 and streams(loaded, "stderr") == "", line
    assert line.startswith(f"infnminio-boto: nothing activated for {infnminio_sandbox.endpoint}")
    assert "boto3, fsspec, pyarrow, polars, duckdb (AWS_PROFILE=theirs is set" in line
