"""DuckDB's activation: a persistent secret on the AWS profile (DuckDB's one mechanism that
reaches databases opened later), else a renewed temporary secret on the default
connection (docs/activate.md, "DuckDB")."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import warnings
from typing import Any, List, Optional, Tuple

from .. import _files
from ..errors import ConfigurationError, scrub
from ..integrations.ca_trust import bundle_with_system
from ..keys.fastpath import KEPT_PYTHON_VARIABLES
from ..profiles.aws import credential_process_command
from . import duckdb as core
from .activate import Activation, Activator, Context

# (profile, credential_process command) DuckDB's aws extension read in this process (once).
_aws_read: Optional[Tuple[str, str]] = None


def install_for_autoload(connection: Any, names: Tuple[str, ...] = ("httpfs", "aws")) -> List[str]:
    """Install ``names`` from their packages where DuckDB autoloads; returns those done now."""
    done = []
    for name in names:
        row = connection.execute(
            "SELECT installed FROM duckdb_extensions() WHERE extension_name = ?", [name]
        ).fetchone()
        path = core.packaged_extension(name)
        if not (row and row[0]) and path is not None:
            connection.execute(f"INSTALL {core._quote(path)}")
            done.append(name)
    return done


def _why_not_persistent(context: Context) -> Optional[str]:
    """Why new databases cannot get the persistent secret in this process, or None."""
    import duckdb

    if context.profile is None:
        return ("the token comes from code (token_loader=), which the credential_process DuckDB "
                "runs in each database cannot call; use duckdb.default_connection()")
    if context.profile_error:
        return context.profile_error
    if core._version(duckdb.__version__) < core.RENEWS_PERSISTENT_SECRETS:
        return (f"DuckDB {duckdb.__version__} cannot renew the keys of a persistent secret "
                "(duckdb/duckdb-httpfs#195; measured on 1.3.0, 1.4.4 and 1.5.0 to 1.5.4): pip "
                "install 'duckdb>=1.5.5' with its duckdb-extension-httpfs and -aws")
    return None


def _stale(context: Context) -> bool:
    """Whether the aws extension read the AWS config here for another profile or command."""
    identity = (context.profile, credential_process_command(context.settings))
    return _aws_read is not None and _aws_read != identity


def _persistent(connection: Any, context: Context, pending: bool = False) -> str:
    """Create the persistent secret (in a new process if this one's aws extension is stale)
    unless the one on disk is this statement (recorded beside the cache); says what it did.
    ``pending`` (no keys yet): DuckDB is told not to fetch any now; each database fetches
    them when the store first refuses it (REFRESH auto), which works once the cause is fixed."""
    global _aws_read
    assert context.profile is not None
    fields = [*core._endpoint_fields(context.settings), *core._chain_fields(context.profile),
              core._SCOPE, *(["VALIDATION 'none'"] if pending else [])]
    statement = (f"CREATE OR REPLACE PERSISTENT SECRET "
                 f"{core._identifier(core.PERSISTENT_SECRET)} ({', '.join(fields)})")
    row = connection.execute("SELECT current_setting('secret_directory')").fetchone()
    folder = os.path.expanduser(str(row[0])) if row else os.path.expanduser("~/.duckdb")
    stored = os.path.join(folder, f"{core.PERSISTENT_SECRET}.duckdb_secret")
    record = os.path.join(context.settings.cache_dir, "duckdb-persistent-secret")
    digest = hashlib.sha256(f"{stored}\n{statement}".encode()).hexdigest()
    try:
        with open(record, encoding="ascii") as handle:
            recorded: Optional[str] = handle.read(200).strip()
    except (OSError, ValueError):
        recorded = None
    if os.path.exists(stored) and recorded == digest:
        return f"PERSISTENT SECRET {core.PERSISTENT_SECRET} in {folder} (as written before)"
    installed = install_for_autoload(connection)
    if _stale(context):
        _elsewhere(statement)
    else:
        connection.execute(statement)  # autoloads httpfs and aws, which read the profile
        _aws_read = (context.profile, credential_process_command(context.settings))
    try:
        os.makedirs(context.settings.cache_dir, mode=0o700, exist_ok=True)
        _files.replace(record, digest.encode())
    except OSError:
        pass  # it is only written again next time
    return (
        f"PERSISTENT SECRET {core.PERSISTENT_SECRET} in {folder} (credential_chain through the "
        f"profile {context.profile!r}, REFRESH auto; scope s3:/)"
        + (f"; {' and '.join(installed)} installed for autoloading offline" if installed else "")
    )


def _elsewhere(statement: str) -> None:
    """Run ``statement`` in a new, isolated DuckDB process (nothing from this folder or
    ``PYTHONPATH``), whose aws extension reads the AWS config as it is now."""
    code = "import sys; del sys.path[0]; import duckdb; duckdb.connect().execute(sys.argv[1])"
    environ = {
        name: value for name, value in os.environ.items()
        if not name.startswith("PYTHON") or name in KEPT_PYTHON_VARIABLES
    }
    done = subprocess.run(
        [sys.executable, "-c", code, statement], env=environ, capture_output=True, text=True,
        timeout=120, check=False,
    )
    if done.returncode != 0:
        lines = (done.stderr.strip() or "it failed").splitlines()
        raise ConfigurationError(f"DuckDB refused the persistent secret: {scrub(lines[-1])}")


def _apply(activation: Activation, context: Context) -> Optional[str]:
    import duckdb

    connection, pending = core._default_connection(), activation.pending
    why_not = _why_not_persistent(context)
    if why_not is None:
        try:
            stale = _stale(context)
            done = _persistent(connection, context, pending=pending is not None)
            activation.changed("duckdb", f"{done}; kept by deactivate()")
            if stale:
                why_not = ("DuckDB's aws extension read the AWS config once in this process, for "
                           "the first activation's settings: restart the process (kernel) for "
                           "new duckdb.connect() databases here (other processes get these "
                           "settings), or use duckdb.default_connection()")
        except (ConfigurationError, duckdb.Error, OSError, subprocess.SubprocessError) as error:
            why_not = str(error).strip().split("\n", 1)[0]
    if why_not is not None:
        try:
            core.load_extension(connection, "httpfs")
        except duckdb.Error as error:
            first_line = str(error).strip().splitlines()[0]
            return (f"its httpfs extension could not be loaded ({first_line}): install "
                    f"duckdb-extension-httpfs=={duckdb.__version__} (the duckdb extra)")
        try:
            secret = core.RenewingSecret(
                connection, core.TEMPORARY_SECRET, context.settings, context.refresher
            ).start(pending=pending is not None)
        except ConfigurationError as refused:
            return str(refused)
        activation.changed("duckdb", f"TEMPORARY SECRET {core.TEMPORARY_SECRET} on "
                           "duckdb.default_connection() (scope s3:/, renewed by a thread)",
                           secret.stop)
        note = f"not for new duckdb.connect() databases: {why_not}"
        activation.changed("duckdb", f"WARNING: {note}")
        if pending is None:  # else the activation's own line says it all
            warnings.warn(note, RuntimeWarning, stacklevel=5)
    if context.settings.ca_bundle:
        _trust(activation, connection, context, new_databases=why_not is None)
    return None


def _trust(activation: Activation, connection: Any, context: Context, new_databases: bool) -> None:
    """DuckDB takes a CA only per database, from its ``ca_cert_file`` (httpfs 1.5.5)."""
    bundle = bundle_with_system(context.settings.ca_bundle or "", context.settings.cache_dir)
    row = connection.execute("SELECT current_setting('ca_cert_file')").fetchone()
    previous = row[0] if row else None
    connection.execute("SET GLOBAL ca_cert_file = ?", [bundle])

    def restore() -> None:
        if previous:
            connection.execute("SET GLOBAL ca_cert_file = ?", [previous])
        else:
            connection.execute("RESET GLOBAL ca_cert_file")

    what = f"SET GLOBAL ca_cert_file = {bundle!r}"
    if new_databases:
        what += (f"; with this private CA, run SET ca_cert_file = '{bundle}' in each new "
                 "database first (DuckDB reads no CA from the environment)")
    activation.changed("duckdb", what, restore)


ACTIVATOR = Activator(needs="duckdb", apply=_apply, profile="wanted",
                      forget=core.forget_persistent_secret, extra="duckdb")
