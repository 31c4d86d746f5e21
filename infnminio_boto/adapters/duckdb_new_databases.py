"""DuckDB: what :func:`infnminio_boto.activate` gives databases opened later.

A temporary secret belongs to one database, and each ``duckdb.connect()`` opens another.
DuckDB's one mechanism that reaches databases opened later is the persistent secret: a
file in ``secret_directory`` (``~/.duckdb/stored_secrets``, mode 0600), which every
database of the user reads when it opens (DuckDB docs, "Secrets Manager", 1.5). So:

* httpfs and aws are installed from their ``duckdb-extension-*`` packages into DuckDB's
  extension directory (``INSTALL '<file>'``), where DuckDB's autoloading finds them
  offline: what DuckDB itself does on first use when it can download them.
* A PERSISTENT ``credential_chain`` secret runs our ``credential_process`` through the AWS
  profile, with ``REFRESH auto``: each database renews its own keys when the store
  refuses them, with no thread of ours. DuckDB keeps the keys of the moment in that file
  (and rewrites it on refresh), as our key cache does: short-lived, readable by the user
  alone.
* It must not outlive the processes that asked for it: each activating process leaves a
  marker (host and pid) beside it, under a lock, and the last one to deactivate or exit
  drops the secret. A process killed outright leaves its marker; the next activation or
  release on that machine removes the markers of processes that are gone. On a home
  shared between machines, the secret stays while any machine's marker does.

DuckDB's aws extension reads the AWS config once per process (the AWS C++ SDK's cached
config; measured with duckdb 1.5.5 and its aws extension): a database of this process
would keep running the first ``credential_process`` command it read. So after a second
activation whose command differs, this process's new databases are not given the secret
(:meth:`PersistentSecret.create` says so); a restart fixes it.

DuckDB renews a persistent secret from 1.5.5 on: before, the refresh fails
(duckdb/duckdb-httpfs#195), and new databases are left alone with why.

DuckDB takes its CA list from the ``ca_cert_file`` setting of each database, else from
fixed system paths (read in httpfs 1.5.5), never from the environment: with a private
CA, a new database needs ``SET ca_cert_file`` before its first https request.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import fcntl
import logging
import os
import socket
import threading
from pathlib import Path
from typing import Any, Iterator, List, Optional

from ..settings import Settings
from .duckdb import _identifier, _quote, load_extension, packaged_extension, refusal

__all__ = ["PersistentSecret", "install_for_autoload", "SECRET_NAME", "RENEWS_PERSISTENT_SECRETS"]

SECRET_NAME = "infnminio_activate_persistent"  # noqa: S105 - the secret's name
_MARKERS = "infnminio-boto-activations"
# The first DuckDB whose httpfs renews a persistent secret (measured: 1.3.0, 1.4.4 and
# 1.5.0 to 1.5.4 fail on the first refresh; 1.5.5 renews).
RENEWS_PERSISTENT_SECRETS = (1, 5, 5)
logger = logging.getLogger(__name__)

# The credential_process command DuckDB's aws extension read in this process, once we
# loaded it (None: not loaded by us yet).
_aws_read_command: Optional[str] = None
_state_lock = threading.Lock()


def install_for_autoload(connection: Any, names: tuple = ("httpfs", "aws")) -> List[str]:
    """Install ``names`` from their packages where DuckDB autoloads from; returns those
    installed now. An extension already installed for this DuckDB is left as it is, and
    one without a package for this DuckDB is left to DuckDB (it downloads it when it can).
    """
    done = []
    for name in names:
        row = connection.execute(
            "SELECT installed FROM duckdb_extensions() WHERE extension_name = ?", [name]
        ).fetchone()
        if row and row[0]:
            continue
        path = packaged_extension(name)
        if path is None:
            continue
        connection.execute(f"INSTALL {_quote(path)}")
        done.append(name)
    return done


class PersistentSecret:
    """The persistent secret for new databases, and this process's marker beside it."""

    def __init__(self, settings: Settings, profile: str, command: str) -> None:
        self.settings = settings
        self.profile = profile
        self.command = command  # the profile's credential_process, as written
        self.directory: Optional[Path] = None
        self._marker: Optional[Path] = None
        self.installed: List[str] = []  # extensions installed by create()
        self._pid = 0

    def create(self) -> Optional[str]:
        """Create (or replace) the secret; None, or why new databases do not get it.

        The AWS profile must already hold ``command``. Raises
        :class:`~infnminio_boto.ConfigurationError` when DuckDB refuses the statement,
        ``duckdb.Error`` when an extension cannot be loaded, ``OSError`` when the
        markers' folder cannot be written.
        """
        global _aws_read_command
        import duckdb

        if _version_tuple(duckdb.__version__) < RENEWS_PERSISTENT_SECRETS:
            return (
                f"DuckDB {duckdb.__version__} cannot renew the keys of a persistent secret "
                "(its refresh fails with 'Cannot create temporary secrets in a persistent "
                "secret storage', duckdb/duckdb-httpfs#195; measured with 1.3.0 to 1.5.4): "
                "pip install 'duckdb>=1.5.5' with its duckdb-extension-httpfs and -aws"
            )
        with _state_lock:
            if _aws_read_command is not None and _aws_read_command != self.command:
                return (
                    "DuckDB's aws extension read the AWS config once in this process, with "
                    "the first activation's settings: restart the process (kernel) for new "
                    "duckdb.connect() databases, or use duckdb.default_connection()"
                )
            scratch = duckdb.connect()
            try:
                load_extension(scratch, "httpfs")
                load_extension(scratch, "aws")
                _aws_read_command = self.command
                row = scratch.execute("SELECT current_setting('secret_directory')").fetchone()
                self.directory = Path(row[0] if row else "~/.duckdb/stored_secrets").expanduser()
                self.installed = install_for_autoload(scratch)
                with self._markers_locked() as markers:
                    _live_markers(markers)  # forget processes that died without releasing
                    try:
                        scratch.execute(self._statement())
                    except duckdb.Error as error:
                        raise refusal(error, []) from None
                    self._pid = os.getpid()
                    self._marker = markers / _marker_name(socket.gethostname(), self._pid)
                    self._marker.touch(mode=0o600)
            finally:
                scratch.close()
        atexit.register(self._release_at_exit)
        return None

    def release(self) -> None:
        """Remove this process's marker; drop the secret if no live process has one."""
        import duckdb

        if self._marker is None or os.getpid() != self._pid:
            return  # a forked child inherits this object (and atexit), not the marker
        atexit.unregister(self._release_at_exit)
        with self._markers_locked() as markers:
            with contextlib.suppress(FileNotFoundError):
                self._marker.unlink()
            self._marker = None
            if _live_markers(markers):
                return
            scratch = duckdb.connect()
            try:
                scratch.execute(f"DROP PERSISTENT SECRET IF EXISTS {_identifier(SECRET_NAME)}")
            finally:
                scratch.close()

    def _release_at_exit(self) -> None:
        try:
            self.release()
        except Exception as error:  # at exit there is nobody left to raise to
            logger.warning("Could not drop DuckDB's secret %s at exit: %s", SECRET_NAME, error)

    def _statement(self) -> str:
        endpoint = self.settings.endpoint
        fields = [
            "TYPE s3",
            "PROVIDER credential_chain",
            "CHAIN 'process'",
            f"PROFILE {_quote(self.profile)}",
            "REFRESH auto",
            f"ENDPOINT {_quote(endpoint.netloc)}",
            "URL_STYLE 'path'",
            f"USE_SSL {'true' if endpoint.secure else 'false'}",
            f"REGION {_quote(self.settings.region)}",
            # Shorter than the default scope of a secret of the user's, which so wins.
            "SCOPE ['s3:/', 's3a:/', 's3n:/']",
        ]
        return (
            f"CREATE OR REPLACE PERSISTENT SECRET {_identifier(SECRET_NAME)} "
            f"({', '.join(fields)})"
        )

    @contextlib.contextmanager
    def _markers_locked(self) -> Iterator[Path]:
        assert self.directory is not None
        markers = self.directory.parent / _MARKERS
        markers.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(markers / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield markers
        finally:
            os.close(fd)


def _version_tuple(version: str) -> tuple:
    """``"1.5.5"`` (or ``"1.5.5.dev3"``) as ``(1, 5, 5)``."""
    numbers = []
    for part in version.split(".")[:3]:
        digits = "".join(c for c in part if c.isdigit()) if part[:1].isdigit() else ""
        numbers.append(int(digits) if digits else 0)
    return tuple(numbers)


def _marker_name(host: str, pid: int) -> str:
    return f"{host.replace('/', '_')}-{pid}"


def _live_markers(markers: Path) -> List[Path]:
    """The markers left of live processes, removing those of this host's dead ones."""
    host = socket.gethostname().replace("/", "_")
    live = []
    for marker in markers.iterdir():
        if marker.name.startswith("."):
            continue
        owner, _, pid = marker.name.rpartition("-")
        if owner == host and pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                marker.unlink()
            continue
        live.append(marker)
    return live


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as error:
        return error.errno == errno.EPERM  # somebody else's process of that number
    return True
