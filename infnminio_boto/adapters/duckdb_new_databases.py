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
  marker (host, pid, and on Linux when it started, so that a later process given the
  same number is not taken for it) in a private folder beside it, under a lock, and the
  last one to deactivate or exit drops the secret. A process ended by a signal (SIGKILL,
  and SIGTERM unless handled) leaves its marker; the next activation or release on that
  machine removes the markers of processes that are gone. On a home shared between
  machines, a marker of another machine is removed only from that machine.
* One such secret per home, as there is one AWS profile: the last activation's
  settings apply to it. A process that activated other settings earlier keeps its
  default connection, but its new databases would run its own cached command against
  the new endpoint: one set of settings per home at a time for the profile-based routes
  (pyarrow, polars, DuckDB's new databases).
* DuckDB rewrites a persistent secret when a database renews it (duckdb/duckdb-httpfs
  #412): a database that loaded it and renews after the last release writes it back.
  Such a leftover is replaced, and dropped, by the next activation on the machine; it
  grants nothing the AWS profile does not (its renewals run the profile's command).

DuckDB's aws extension reads the AWS config once per process (the AWS C++ SDK's cached
config; measured with duckdb 1.5.5 and its aws extension): a database of this process
would keep running the first ``credential_process`` command it read. So after a second
activation whose profile or command differs, this process's new databases are not given
the secret (:meth:`PersistentSecret.create` says so); a restart fixes it.

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
import json
import logging
import os
import re
import socket
import stat
import threading
import time
from pathlib import Path
from typing import Any, Iterator, List, Optional, Tuple

from ..errors import ConfigurationError
from ..settings import Settings
from .duckdb import _identifier, _quote, load_extension, packaged_extension, refusal

__all__ = ["PersistentSecret", "install_for_autoload", "SECRET_NAME", "RENEWS_PERSISTENT_SECRETS"]

SECRET_NAME = "infnminio_activate_persistent"  # noqa: S105 - the secret's name
_MARKERS = "infnminio-boto-activations"
# The first DuckDB whose httpfs renews a persistent secret (measured: 1.3.0, 1.4.4 and
# 1.5.0 to 1.5.4 fail on the first refresh; 1.5.5 renews).
RENEWS_PERSISTENT_SECRETS = (1, 5, 5)
logger = logging.getLogger(__name__)

# What DuckDB's aws extension read in this process once we loaded it: (profile, its
# credential_process command); None until then.
_aws_read: Optional[Tuple[str, str]] = None
_state_lock = threading.Lock()

RESTART = (
    "restart the process (kernel) for new duckdb.connect() databases, or use "
    "duckdb.default_connection()"
)


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

    # How long to wait for another process's activation or release (seconds): the
    # longest step under the lock is DuckDB running credential_process once.
    LOCK_WAIT = 120.0

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
        :class:`~infnminio_boto.ConfigurationError` when DuckDB refuses the statement or
        the markers' folder is not usable (naming it and what to do), ``duckdb.Error``
        when an extension cannot be loaded.
        """
        global _aws_read
        import duckdb

        if _version_tuple(duckdb.__version__) < RENEWS_PERSISTENT_SECRETS:
            return (
                f"DuckDB {duckdb.__version__} cannot renew the keys of a persistent secret "
                "(its refresh fails with 'Cannot create temporary secrets in a persistent "
                "secret storage', duckdb/duckdb-httpfs#195; measured on 1.3.0, 1.4.4 and "
                "1.5.0 to 1.5.4): pip install 'duckdb>=1.5.5' with its "
                "duckdb-extension-httpfs and -aws"
            )
        identity = (self.profile, self.command)
        with _state_lock:
            if _aws_read is not None and _aws_read != identity:
                return (
                    "DuckDB's aws extension read the AWS config once in this process, for "
                    f"the first activation's settings: {RESTART}"
                )
            scratch = duckdb.connect()
            try:
                row = scratch.execute("SELECT current_setting('secret_directory')").fetchone()
                self.directory = Path(row[0] if row else "~/.duckdb/stored_secrets").expanduser()
                # Under the lock: two processes installing the same extension at once
                # collide on DuckDB's own file lock.
                with self._markers_locked() as markers:
                    _live_markers(markers)  # forget processes that ended without releasing
                    self.installed = install_for_autoload(scratch)
                    aws_before = _aws_read
                    load_extension(scratch, "httpfs")
                    load_extension(scratch, "aws")
                    _aws_read = identity
                    # The marker (and its removal at exit) first: a secret must never
                    # exist without an owner, whatever interrupts what follows.
                    self._pid = os.getpid()
                    self._marker = markers / _marker_name(socket.gethostname(), self._pid)
                    atexit.register(self._release_at_exit)
                    try:
                        _write_marker(self._marker, markers)
                        scratch.execute(self._statement())
                    except BaseException as error:
                        atexit.unregister(self._release_at_exit)
                        with contextlib.suppress(OSError):
                            self._marker.unlink()
                        self._marker = None
                        if isinstance(error, duckdb.Error):
                            raise self._refused(error, aws_before is None) from None
                        raise
            finally:
                scratch.close()
        return None

    def release(self) -> None:
        """Remove this process's marker; drop the secret if no live process has one."""
        import duckdb

        if self._marker is None or os.getpid() != self._pid:
            return  # a forked child inherits this object (and atexit), not the marker
        with self._markers_locked() as markers:
            if not _live_markers(markers, besides=self._marker):
                scratch = duckdb.connect()
                try:
                    scratch.execute(
                        f"DROP PERSISTENT SECRET IF EXISTS {_identifier(SECRET_NAME)}"
                    )
                finally:
                    scratch.close()
            with contextlib.suppress(FileNotFoundError):
                self._marker.unlink()
        # Only now: a release that failed is tried again at exit.
        self._marker = None
        atexit.unregister(self._release_at_exit)

    def _release_at_exit(self) -> None:
        try:
            self.release()
        except Exception as error:  # at exit there is nobody left to raise to
            logger.warning("Could not drop DuckDB's secret %s at exit: %s", SECRET_NAME, error)

    def _refused(self, error: Exception, first_load: bool) -> ConfigurationError:
        if "Secret Validation Failure" in str(error):
            # DuckDB's aws extension got no keys through the profile: it found no such
            # profile, or the profile's command failed. The keys activate() fetched
            # itself show the settings work.
            causes = (
                f"the profile's credential_process fails when DuckDB runs it (try: aws "
                f"configure export-credentials --profile {self.profile}), or DuckDB's aws "
                "extension had read the AWS config in this process before the profile was "
                f"written (a DuckDB secret of yours): {RESTART}"
            )
            if not first_load:
                causes = f"it read the AWS config for another profile: {RESTART}"
            return ConfigurationError(
                f"DuckDB's aws extension got no keys through the profile {self.profile!r} "
                f"(DuckDB: Secret Validation Failure): {causes}"
            )
        return refusal(error, [])

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
        try:
            markers.mkdir(mode=0o700, parents=True, exist_ok=True)
            _check_private_folder(markers)
            fd = os.open(markers / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError as error:
            raise _unusable(markers, error) from None
        try:
            deadline = time.monotonic() + self.LOCK_WAIT
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise ConfigurationError(
                            f"another process has held {markers / '.lock'} for over "
                            f"{self.LOCK_WAIT:.0f} s (an activation or release stuck "
                            "there): end it, or remove that file"
                        ) from None
                    time.sleep(0.05)
            yield markers
        finally:
            os.close(fd)


def _unusable(markers: Path, error: OSError) -> ConfigurationError:
    where = error.filename or markers
    return ConfigurationError(
        f"activate() cannot keep its DuckDB markers in {markers} ({where}: "
        f"{error.strerror or error}): remove that folder, and activate() makes it again"
    )


def _check_private_folder(markers: Path) -> None:
    """A real folder of this user that nobody else can write: whoever could would decide
    when the secret is dropped."""
    status = os.lstat(markers)
    if (
        not stat.S_ISDIR(status.st_mode)
        or status.st_uid != os.getuid()
        or status.st_mode & 0o022
    ):
        raise ConfigurationError(
            f"{markers} is not a folder of yours that only you can write (a link, another "
            "owner, or writable by others): remove it, and activate() makes it again"
        )


def _version_tuple(version: str) -> Tuple[int, ...]:
    """``"1.5.5"``, ``"1.5.5.dev3"`` or ``"1.5.4rc2"`` as ``(1, 5, 5)``, ``(1, 5, 5)``,
    ``(1, 5, 4)``: the leading digits of the first three parts."""
    numbers = []
    for part in version.split(".")[:3]:
        digits = re.match(r"\d*", part)
        numbers.append(int(digits.group()) if digits and digits.group() else 0)
    return tuple(numbers)


def _marker_name(host: str, pid: int) -> str:
    return f"{host.replace('/', '_')}-{pid}"


def _proc_stat(pid: int) -> Optional[Tuple[str, str]]:
    """Process ``pid``'s state letter and when it started (Linux: the boot's id and the
    start time in clock ticks, fields 3 and 22 of proc(5)), to tell it from a later
    process given the same number; None where /proc is not there."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            # After the last ")": the name may hold ")" and spaces.
            fields = handle.read().rsplit(b")", 1)[1].split()
        with open("/proc/sys/kernel/random/boot_id", "rb") as handle:
            boot = handle.read().strip()
        return fields[0].decode(), f"{boot.decode()}:{fields[19].decode()}"
    except (OSError, IndexError, UnicodeDecodeError):
        return None


def _process_start(pid: int) -> Optional[str]:
    stat_ = _proc_stat(pid)
    return stat_[1] if stat_ else None


def _write_marker(marker: Path, markers: Path) -> None:
    content = json.dumps({"started": _process_start(os.getpid())})
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
    except OSError as error:
        raise _unusable(markers, error) from None


def _read_marker(marker: Path) -> dict:
    try:
        with open(marker, encoding="utf-8") as handle:
            content = json.load(handle)
    except (OSError, ValueError):
        return {}
    return content if isinstance(content, dict) else {}


def _live_markers(markers: Path, besides: Optional[Path] = None) -> List[Path]:
    """The markers of live processes but ``besides``, removing those of this host's
    ended ones. A marker of another host counts until it is removed there."""
    host = socket.gethostname().replace("/", "_")
    live = []
    for marker in markers.iterdir():
        if marker.name.startswith(".") or marker == besides:
            continue
        owner, _, pid = marker.name.rpartition("-")
        if owner == host and pid.isdigit() and not _alive(int(pid), _read_marker(marker)):
            with contextlib.suppress(FileNotFoundError):
                marker.unlink()
            continue
        live.append(marker)
    return live


def _alive(pid: int, marker: dict) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as error:
        if error.errno != errno.EPERM:  # EPERM: a process of that number, not ours
            return False
    now = _proc_stat(pid)
    if now is None:
        return True  # no /proc: the number is all there is to go by
    state, started_now = now
    if state == "Z":
        return False  # ended; its parent has not collected it yet
    started = marker.get("started")
    # The same number, started at another time: a later process, not the one that wrote it.
    return started is None or started == started_now
