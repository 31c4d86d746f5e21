"""DuckDB: an S3 secret on a connection.

``duckdb_create_secret(con)`` loads the httpfs extension and creates a ``TYPE s3``
secret with the endpoint (``host:port``), path-style URLs, SSL from the scheme and the
current keys. DuckDB does not refresh a secret's keys: call it again to replace the
secret (same name) in long sessions, or use ``refreshing=True``, which creates a
``credential_chain`` secret that runs our ``credential_process`` through an AWS
profile (DuckDB's aws extension, ``REFRESH auto``). That extension reads the AWS
config file once per process, when it is first loaded: create refreshing secrets for
one set of settings per process, or run ``infnminio-boto configure --profile NAME``
beforehand and pass ``profile=NAME``.

With a ``ca_bundle`` set, the connection's ``ca_cert_file`` is set to it (httpfs takes
no CA per secret): that connection then trusts that authority for its https requests.

httpfs and aws come from the ``duckdb-extension-*`` packages when they match the
installed DuckDB (so no download is needed); otherwise DuckDB installs them itself.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time
from typing import Any, Optional, Sequence

from ..errors import ConfigurationError, InfnMinioError, MissingDependencyError, scrub
from ..keys.refresh import RefreshingCredentials
from ..settings import Settings
from . import resolve, snapshot

__all__ = ["duckdb_create_secret", "load_extension", "packaged_extension", "RenewingSecret"]

logger = logging.getLogger(__name__)


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
    """Our error for a statement DuckDB refused, without the statement.

    DuckDB quotes the statement after its first line (``LINE 1: ... SECRET 'abcd...``),
    cut at a width that leaves a prefix of a key no scrubbing would recognise: only
    the first line is kept.
    """
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
        os.path.dirname(package.__file__ or ""),
        "extensions",
        f"v{duckdb.__version__}",
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


def duckdb_create_secret(
    connection: Any,
    *,
    name: str = "infnminio",
    refreshing: bool = False,
    profile: str = "infnminio-boto",
    **settings: Any,
) -> None:
    """Create (or replace) the S3 secret ``name`` on ``connection``."""
    try:
        import duckdb
    except ImportError:
        raise MissingDependencyError("duckdb", "duckdb") from None
    resolved = resolve(settings)
    load_extension(connection, "httpfs")
    if resolved.ca_bundle:
        connection.execute(f"SET ca_cert_file = {_quote(os.path.abspath(resolved.ca_bundle))}")
    common = [
        "TYPE s3",
        f"ENDPOINT {_quote(resolved.endpoint.netloc)}",
        "URL_STYLE 'path'",
        f"USE_SSL {'true' if resolved.endpoint.secure else 'false'}",
        f"REGION {_quote(resolved.region)}",
    ]
    if refreshing:
        from ..profiles.aws import ensure_profile

        # The aws extension's SDK reads the AWS config once per process, when it is
        # first loaded: the profile must be in place before that.
        ensure_profile(profile, resolved)
        load_extension(connection, "aws")
        fields = [
            *common,
            "PROVIDER credential_chain",
            "CHAIN 'process'",
            f"PROFILE {_quote(profile)}",
            "REFRESH auto",
        ]
    else:
        credentials = snapshot(resolved)
        fields = [
            *common,
            f"KEY_ID {_quote(credentials.access_key)}",
            f"SECRET {_quote(credentials.secret_key)}",
            f"SESSION_TOKEN {_quote(credentials.token)}",
        ]
    statement = f"CREATE OR REPLACE SECRET {_identifier(name)} ({', '.join(fields)})"
    try:
        connection.execute(statement)
    except duckdb.Error as error:
        secrets = [] if refreshing else [credentials.secret_key, credentials.token]
        raise refusal(error, secrets) from None


class RenewingSecret:
    """A TEMPORARY S3 secret on a DuckDB database, replaced with new keys before expiry.

    What :func:`infnminio_boto.activate` puts on ``duckdb.default_connection()``. The
    secret lives in the database's memory (temporary secrets are never written to
    disk); it is scoped ``s3:/`` (and ``s3a:/``, ``s3n:/``), which every ``s3://`` URL
    matches, so that a secret of the user's own, whose default scope ``s3://`` is
    longer, wins (DuckDB picks the longest matching scope). A thread replaces it from
    ``refresher`` when the keys enter their refresh window, through a cursor of its own
    (secrets belong to the database, so every cursor of it sees them).

    A ``credential_chain`` secret would renew by itself, but DuckDB's aws extension
    reads the AWS config file once per process: a second activation with other
    settings could not change the command it runs.
    """

    # How often the thread looks at the refresher at most: a clock that jumps (a laptop
    # that slept) is caught up with within this many seconds.
    LOOK_EVERY = 60.0

    def __init__(
        self, connection: Any, name: str, settings: Settings, refresher: RefreshingCredentials
    ) -> None:
        self._cursor = connection.cursor()
        self.name = name
        self.settings = settings
        self.refresher = refresher
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._access_key: Optional[str] = None

    def start(self) -> RenewingSecret:
        """Create the secret now (errors raise here), then keep it renewed."""
        try:
            self._replace()
        except _DatabaseRefusedError as refused:
            raise refused.error from None
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
        """Create the secret with the refresher's keys, unless it already has them."""
        import duckdb

        keys = self.refresher.get()
        if keys.access_key == self._access_key:
            return
        endpoint = self.settings.endpoint
        fields = [
            "TYPE s3",
            f"KEY_ID {_quote(keys.access_key)}",
            f"SECRET {_quote(keys.secret_key)}",
            f"SESSION_TOKEN {_quote(keys.token)}",
            f"ENDPOINT {_quote(endpoint.netloc)}",
            "URL_STYLE 'path'",
            f"USE_SSL {'true' if endpoint.secure else 'false'}",
            f"REGION {_quote(self.settings.region)}",
            "SCOPE ['s3:/', 's3a:/', 's3n:/']",
        ]
        statement = (
            f"CREATE OR REPLACE TEMPORARY SECRET {_identifier(self.name)} ({', '.join(fields)})"
        )
        try:
            self._cursor.execute(statement)
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
            except _DatabaseRefusedError as refused:  # the database was closed: nothing to renew
                logger.warning("Stopped renewing DuckDB secret %s: %s", self.name, refused.error)
                return
            except InfnMinioError as error:
                # The refresher keeps still-valid keys and backs off; say why, once a look.
                logger.warning("Renewing the DuckDB secret %s failed: %s", self.name, error)
                self._stop.wait(5.0)


class _DatabaseRefusedError(Exception):
    def __init__(self, error: ConfigurationError) -> None:
        super().__init__(str(error))
        self.error = error
