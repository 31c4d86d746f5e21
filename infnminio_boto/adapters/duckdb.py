"""DuckDB: an S3 secret on a connection, and DuckDB's activation.

``duckdb_create_secret(con)`` loads httpfs and creates a ``TYPE s3`` secret with the
current keys (DuckDB does not refresh them), or with ``refreshing=True`` a
``credential_chain`` secret that runs our ``credential_process`` through the AWS profile
(``REFRESH auto``). httpfs and aws come from the ``duckdb-extension-*`` packages when
they match the installed DuckDB. ``activate()`` writes DuckDB's one mechanism that
reaches databases opened later, a persistent secret, treated as the AWS profile is:
kept by ``deactivate()``, replaced by the next activation, dropped by
``deactivate(forget=True)`` (docs/activate.md, "DuckDB").
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import re
import subprocess
import sys
import threading
import time
from typing import Any, List, Optional, Sequence, Tuple

from .. import _files
from .._log import warn_once
from ..errors import ConfigurationError, InfnMinioError, MissingDependencyError, scrub
from ..keys.refresh import RefreshingCredentials, refreshing_credentials
from ..profiles.aws import DEFAULT_PROFILE, credential_process_command, ensure_profile
from ..settings import Settings
from . import resolve, snapshot
from .activate import Activation, Activator, Context

__all__ = [
    "duckdb_create_secret", "load_extension", "packaged_extension", "RenewingSecret",
    "forget_persistent_secret", "PERSISTENT_SECRET", "RENEWS_PERSISTENT_SECRETS",
]

logger = logging.getLogger(__name__)
TEMPORARY_SECRET = "infnminio_activate"  # noqa: S105 - a secret's name
PERSISTENT_SECRET = "infnminio_activate_persistent"  # noqa: S105 - a secret's name
# The first DuckDB whose httpfs renews a persistent secret (measured: 1.3.0, 1.4.4 and
# 1.5.0 to 1.5.4 fail on the first refresh, duckdb/duckdb-httpfs#195; 1.5.5 renews).
RENEWS_PERSISTENT_SECRETS = (1, 5, 5)
# Shorter than the default scope of a secret of the user's, which so wins.
_SCOPE = "SCOPE ['s3:/', 's3a:/', 's3n:/']"
# What DuckDB's aws extension read in this process (it reads the AWS config once):
# (profile, credential_process command), or None.
_aws_read: Optional[Tuple[str, str]] = None


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    """``name`` double-quoted, so that words DuckDB reserves (``select``) work too."""
    if not name or not name.replace("_", "").isalnum():
        raise ConfigurationError(
            f"DuckDB secret name {name!r} must be letters, digits and underscores."
        )
    return f'"{name}"'


def refusal(error: BaseException, secrets: Sequence[str]) -> ConfigurationError:
    """Our error for a statement DuckDB refused, without the statement (DuckDB quotes it
    after its first line, cut where no scrubbing would recognise a key's prefix)."""
    first_line = str(error).strip().split("\n", 1)[0]
    return ConfigurationError(f"DuckDB refused the S3 secret: {scrub(first_line, secrets)}")


def packaged_extension(name: str) -> Optional[str]:
    """The file of extension ``name`` in its ``duckdb-extension-<name>`` package, when
    that package is installed and built for this DuckDB; else None."""
    import duckdb

    try:
        package = importlib.import_module(f"duckdb_extension_{name}")
    except ImportError:
        return None
    path = os.path.join(
        os.path.dirname(package.__file__ or ""), "extensions", f"v{duckdb.__version__}",
        f"{name}.duckdb_extension",
    )
    return path if os.path.exists(path) else None


def load_extension(connection: Any, name: str) -> None:
    """LOAD an extension, from its PyPI package when one matches this DuckDB."""
    import duckdb

    try:
        connection.execute(f"LOAD {name}")
        return
    except duckdb.Error:
        pass
    path = packaged_extension(name)
    if path is not None:
        connection.execute(f"LOAD {_quote(path)}")
        return
    connection.execute(f"INSTALL {name}")
    connection.execute(f"LOAD {name}")


def _endpoint_fields(settings: Settings) -> List[str]:
    return [
        "TYPE s3",
        f"ENDPOINT {_quote(settings.endpoint.netloc)}",
        "URL_STYLE 'path'",
        f"USE_SSL {'true' if settings.endpoint.secure else 'false'}",
        f"REGION {_quote(settings.region)}",
    ]


def _chain_fields(profile: str) -> List[str]:
    return ["PROVIDER credential_chain", "CHAIN 'process'", f"PROFILE {_quote(profile)}",
            "REFRESH auto"]


def duckdb_create_secret(
    connection: Any,
    *,
    name: str = "infnminio",
    refreshing: bool = False,
    profile: str = DEFAULT_PROFILE,
    **settings: Any,
) -> Optional[RenewingSecret]:
    """Create (or replace) the S3 secret ``name`` on ``connection``.

    With a ``token_loader``, ``refreshing=True`` keeps a temporary secret renewed by a
    thread instead (returned: its ``stop()`` ends it), since no profile can hold the
    callable. Raises :class:`~infnminio_boto.ConfigurationError` when DuckDB refuses
    the statement (never quoting a key).
    """
    try:
        import duckdb
    except ImportError:
        raise MissingDependencyError("duckdb", "duckdb") from None
    resolved = resolve(settings)
    load_extension(connection, "httpfs")
    if resolved.ca_bundle:
        connection.execute(f"SET ca_cert_file = {_quote(os.path.abspath(resolved.ca_bundle))}")
    if refreshing and resolved.token_here_only:
        return RenewingSecret(
            connection, name, resolved, refreshing_credentials(resolved), scope=""
        ).start()
    secrets: List[str] = []
    if refreshing:
        # The aws extension reads the AWS config once per process: the profile first.
        ensure_profile(profile, resolved)
        load_extension(connection, "aws")
        fields = [*_endpoint_fields(resolved), *_chain_fields(profile)]
    else:
        keys = snapshot(resolved)
        secrets = [keys.secret_key, keys.token]
        fields = [*_endpoint_fields(resolved), f"KEY_ID {_quote(keys.access_key)}",
                  f"SECRET {_quote(keys.secret_key)}", f"SESSION_TOKEN {_quote(keys.token)}"]
    try:
        connection.execute(f"CREATE OR REPLACE SECRET {_identifier(name)} ({', '.join(fields)})")
    except duckdb.Error as error:
        raise refusal(error, secrets) from None
    return None


class RenewingSecret:
    """A TEMPORARY S3 secret on a DuckDB database (memory only), replaced with new keys
    from ``refresher`` by a thread before they expire, through a cursor of its own."""

    # How often the thread looks at the refresher at most (a clock that jumped is
    # caught up with within this many seconds).
    LOOK_EVERY = 60.0

    def __init__(
        self,
        connection: Any,
        name: str,
        settings: Settings,
        refresher: RefreshingCredentials,
        scope: str = _SCOPE,
    ) -> None:
        self._cursor = connection.cursor()
        self.name, self.settings, self.refresher, self.scope = name, settings, refresher, scope
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._access_key: Optional[str] = None

    def start(self, pending: bool = False) -> RenewingSecret:
        """Create the secret now (errors raise here), then keep it renewed. ``pending``:
        without keys yet, the secret names the store only, and gets keys once they come."""
        try:
            self._replace()
        except _DatabaseRefusedError as refused:
            raise refused.error from None
        except InfnMinioError:
            if not pending:
                raise
            self._cursor.execute(
                f"CREATE OR REPLACE TEMPORARY SECRET {_identifier(self.name)} "
                f"({', '.join([*_endpoint_fields(self.settings), self.scope])})"
            )
        self._thread = threading.Thread(
            target=self._run, name=f"infnminio-duckdb-{self.name}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop renewing and drop the secret."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        try:
            self._cursor.execute(f"DROP TEMPORARY SECRET IF EXISTS {_identifier(self.name)}")
        finally:
            self._cursor.close()

    def _replace(self) -> None:
        import duckdb

        keys = self.refresher.get()
        if keys.access_key == self._access_key:
            return
        fields = [*_endpoint_fields(self.settings), f"KEY_ID {_quote(keys.access_key)}",
                  f"SECRET {_quote(keys.secret_key)}", f"SESSION_TOKEN {_quote(keys.token)}"]
        if self.scope:
            fields.append(self.scope)
        try:
            self._cursor.execute(
                f"CREATE OR REPLACE TEMPORARY SECRET {_identifier(self.name)} "
                f"({', '.join(fields)})"
            )
        except duckdb.Error as error:
            raise _DatabaseRefusedError(refusal(error, [keys.secret_key, keys.token])) from None
        self._access_key = keys.access_key

    def _pause(self) -> float:
        ask_again = self.refresher.next_refresh
        if ask_again is None:
            return 1.0
        return min(self.LOOK_EVERY, max(1.0, ask_again.timestamp() - time.time()))

    def _run(self) -> None:
        while not self._stop.wait(self._pause()):
            try:
                self._replace()
            except _DatabaseRefusedError as refused:  # the database was closed
                logger.warning("Stopped renewing DuckDB secret %s: %s", self.name, refused.error)
                return
            except InfnMinioError as error:
                # The refresher keeps still-valid keys and backs off; say why, once.
                warn_once((id(self), str(error)), __name__,
                          "Renewing the DuckDB secret %s failed: %s", self.name, error)
                self._stop.wait(5.0)


class _DatabaseRefusedError(Exception):
    def __init__(self, error: ConfigurationError) -> None:
        super().__init__(str(error))
        self.error = error


# ------------------------------------------------------------------------ activation
def _version(version: str) -> Tuple[int, ...]:
    """``"1.5.5"``, ``"1.5.5.dev3"`` or ``"1.5.4rc2"`` as ``(1, 5, 5)``, ``(1, 5, 5)``,
    ``(1, 5, 4)``: the leading digits of the first three parts."""
    return tuple(int(re.match(r"\d*", part).group() or 0) for part in version.split(".")[:3])  # type: ignore[union-attr]


def _default_connection() -> Any:
    import duckdb

    default = duckdb.default_connection
    return default() if callable(default) else default


def install_for_autoload(connection: Any, names: Tuple[str, ...] = ("httpfs", "aws")) -> List[str]:
    """Install ``names`` from their packages where DuckDB autoloads from (what DuckDB does
    itself when it can download them); returns those installed now."""
    done = []
    for name in names:
        row = connection.execute(
            "SELECT installed FROM duckdb_extensions() WHERE extension_name = ?", [name]
        ).fetchone()
        path = packaged_extension(name)
        if (row and row[0]) or path is None:
            continue
        connection.execute(f"INSTALL {_quote(path)}")
        done.append(name)
    return done


def _why_not_persistent(context: Context) -> Optional[str]:
    """Why new databases cannot get the persistent secret in this process, or None."""
    import duckdb

    if context.profile is None:
        return (
            "the token comes from code (token_loader=), which the credential_process DuckDB "
            "runs in each database cannot call; use duckdb.default_connection()"
        )
    if context.profile_error:
        return context.profile_error
    if _version(duckdb.__version__) < RENEWS_PERSISTENT_SECRETS:
        return (
            f"DuckDB {duckdb.__version__} cannot renew the keys of a persistent secret "
            "(duckdb/duckdb-httpfs#195; measured on 1.3.0 to 1.5.4): pip install "
            "'duckdb>=1.5.5' with its duckdb-extension-httpfs and -aws"
        )
    return None


def _stale(context: Context) -> bool:
    """Whether DuckDB's aws extension read the AWS config in this process for another
    profile or command (it reads it once per process)."""
    identity = (context.profile, credential_process_command(context.settings))
    return _aws_read is not None and _aws_read != identity


def _persistent(connection: Any, context: Context) -> str:
    """Create the persistent secret on ``connection`` (in a new process when this one's aws
    extension is stale) unless the one on disk already is this statement (recorded beside
    the cache); returns what was done."""
    global _aws_read
    assert context.profile is not None
    command = credential_process_command(context.settings)
    statement = (
        f"CREATE OR REPLACE PERSISTENT SECRET {_identifier(PERSISTENT_SECRET)} ("
        + ", ".join([*_endpoint_fields(context.settings), *_chain_fields(context.profile),
                     _SCOPE]) + ")"
    )
    row = connection.execute("SELECT current_setting('secret_directory')").fetchone()
    folder = os.path.expanduser(str(row[0])) if row else os.path.expanduser("~/.duckdb")
    stored = os.path.join(folder, f"{PERSISTENT_SECRET}.duckdb_secret")
    record = os.path.join(context.settings.cache_dir, "duckdb-persistent-secret")
    digest = hashlib.sha256(f"{stored}\n{statement}".encode()).hexdigest()
    if os.path.exists(stored) and _read(record) == digest:
        return f"PERSISTENT SECRET {PERSISTENT_SECRET} in {folder} (as written before)"
    installed = install_for_autoload(connection)
    if _stale(context):
        _elsewhere(statement)
    else:
        connection.execute(statement)  # autoloads httpfs and aws, which read the profile
        _aws_read = (context.profile, command)
    try:
        os.makedirs(context.settings.cache_dir, mode=0o700, exist_ok=True)
        _files.replace(record, digest.encode())
    except OSError:
        pass  # it is only written again next time
    return (
        f"PERSISTENT SECRET {PERSISTENT_SECRET} in {folder} (credential_chain through the "
        f"profile {context.profile!r}, REFRESH auto; scope s3:/)"
        + (f"; {' and '.join(installed)} installed for autoloading offline" if installed else "")
    )


def _elsewhere(statement: str) -> None:
    """Run ``statement`` in a new DuckDB process, isolated (nothing from this folder or
    ``PYTHONPATH``), whose aws extension reads the AWS config as it is now."""
    from ..keys.fastpath import KEPT_PYTHON_VARIABLES

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


def _read(path: str) -> Optional[str]:
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read(200).strip()
    except (OSError, ValueError):
        return None


def forget_persistent_secret() -> None:
    """Drop the persistent secret ``activate()`` wrote (``deactivate(forget=True)``)."""
    name = _identifier(PERSISTENT_SECRET)
    _default_connection().execute(f"DROP PERSISTENT SECRET IF EXISTS {name}")


def _apply(activation: Activation, context: Context) -> Optional[str]:
    import warnings

    import duckdb

    connection = _default_connection()
    why_not = _why_not_persistent(context)
    if activation.pending is not None:
        why_not = f"no keys yet ({activation.pending})"
    if why_not is None:
        try:
            stale = _stale(context)
            done = _persistent(connection, context)
            activation.changed("duckdb", f"{done}; kept by deactivate()")
            if stale:
                why_not = (
                    "DuckDB's aws extension read the AWS config once in this process, for "
                    "the first activation's settings: restart the process (kernel) for new "
                    "duckdb.connect() databases here (other processes get these settings), "
                    "or use duckdb.default_connection()"
                )
        except (ConfigurationError, duckdb.Error, OSError, subprocess.SubprocessError) as error:
            why_not = str(error).strip().split("\n", 1)[0]
    if why_not is not None:
        try:
            load_extension(connection, "httpfs")
        except duckdb.Error as error:
            return (
                f"its httpfs extension could not be loaded ({str(error).strip().splitlines()[0]}"
                f"): install duckdb-extension-httpfs=={duckdb.__version__} (the duckdb extra)"
            )
        try:
            secret = RenewingSecret(
                connection, TEMPORARY_SECRET, context.settings, context.refresher
            ).start(pending=activation.pending is not None)
        except ConfigurationError as refused:
            return str(refused)
        activation.changed(
            "duckdb", f"TEMPORARY SECRET {TEMPORARY_SECRET} on duckdb.default_connection() "
            "(scope s3:/, renewed by a thread)", secret.stop,
        )
        note = f"not for new duckdb.connect() databases: {why_not}"
        activation.changed("duckdb", f"WARNING: {note}")
        if activation.pending is None:  # else the activation's own line says it all
            warnings.warn(note, RuntimeWarning, stacklevel=5)
    if context.settings.ca_bundle:
        _trust(activation, connection, context, new_databases=why_not is None)
    return None


def _trust(activation: Activation, connection: Any, context: Context, new_databases: bool) -> None:
    """DuckDB takes a CA only per database, from its ``ca_cert_file`` (httpfs 1.5.5)."""
    from ..integrations.ca_trust import bundle_with_system

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
        what += (
            f"; with this private CA, run SET ca_cert_file = '{bundle}' in each new database "
            "first (DuckDB reads no CA from the environment)"
        )
    activation.changed("duckdb", what, restore)


ACTIVATOR = Activator(
    needs="duckdb", apply=_apply, profile="wanted", forget=forget_persistent_secret
)
