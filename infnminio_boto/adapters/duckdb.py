"""DuckDB: an S3 secret on a connection, of the current keys, on the AWS profile, or renewed
by a thread (:class:`RenewingSecret`); its activation is :mod:`.duckdb_activation`
(docs/clients.md, docs/activate.md "DuckDB")."""

from __future__ import annotations

import importlib
import logging
import os
import re
import threading
import time
from typing import Any, List, Optional, Sequence, Tuple

from .._log import warn_once
from ..errors import ConfigurationError, InfnMinioError, MissingDependencyError, scrub
from ..keys.refresh import RefreshingCredentials, refreshing_credentials
from ..profiles.aws import DEFAULT_PROFILE, ensure_profile
from ..settings import Settings
from ..sts.temporary_credentials import TemporaryCredentials
from . import snapshot

__all__ = ["duckdb_create_secret", "load_extension", "packaged_extension", "RenewingSecret",
           "forget_persistent_secret", "PERSISTENT_SECRET", "RENEWS_PERSISTENT_SECRETS"]

logger = logging.getLogger(__name__)
TEMPORARY_SECRET = "infnminio_activate"  # noqa: S105 - a secret's name
PERSISTENT_SECRET = "infnminio_activate_persistent"  # noqa: S105 - a secret's name
# The first DuckDB whose httpfs renews a persistent secret (duckdb/duckdb-httpfs#195).
RENEWS_PERSISTENT_SECRETS = (1, 5, 5)
# Shorter than the default scope of a secret of the user's, which so wins.
_SCOPE = "SCOPE ['s3:/', 's3a:/', 's3n:/']"


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    """``name`` double-quoted, so that words DuckDB reserves (``select``) work too."""
    if not name or not name.replace("_", "").isalnum():
        raise ConfigurationError(f"DuckDB secret name {name!r} must be letters, digits and "
                                 "underscores.")
    return f'"{name}"'


def refusal(error: BaseException, secrets: Sequence[str]) -> ConfigurationError:
    """Our error for a statement DuckDB refused: its first line only (the statement
    follows, where no scrubbing would recognise a key's prefix)."""
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
    path = os.path.join(os.path.dirname(package.__file__ or ""), "extensions",
                        f"v{duckdb.__version__}", f"{name}.duckdb_extension")
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
    if path is None:
        connection.execute(f"INSTALL {name}")
    connection.execute(f"LOAD {name}" if path is None else f"LOAD {_quote(path)}")


def _endpoint_fields(settings: Settings) -> List[str]:
    return ["TYPE s3", f"ENDPOINT {_quote(settings.endpoint.netloc)}", "URL_STYLE 'path'",
            f"USE_SSL {'true' if settings.endpoint.secure else 'false'}",
            f"REGION {_quote(settings.region)}"]


def _key_fields(keys: TemporaryCredentials) -> List[str]:
    return [f"KEY_ID {_quote(keys.access_key)}", f"SECRET {_quote(keys.secret_key)}",
            f"SESSION_TOKEN {_quote(keys.token)}"]


def _chain_fields(profile: str) -> List[str]:
    return ["PROVIDER credential_chain", "CHAIN 'process'", f"PROFILE {_quote(profile)}",
            "REFRESH auto"]


def duckdb_create_secret(
    connection: Any, *, name: str = "infnminio", refreshing: bool = False,
    profile: str = DEFAULT_PROFILE, **settings: Any,
) -> Optional[RenewingSecret]:
    """Create (or replace) the S3 secret ``name`` on ``connection``: the current keys, or
    with ``refreshing=True`` a ``credential_chain`` one on ``profile`` (with a
    ``token_loader``: a :class:`RenewingSecret`, returned). Raises
    :class:`~infnminio_boto.ConfigurationError` when DuckDB refuses (never quoting a key)."""
    try:
        import duckdb
    except ImportError:
        raise MissingDependencyError("duckdb", "duckdb") from None
    resolved = Settings.resolve(**settings)
    load_extension(connection, "httpfs")
    if resolved.ca_bundle:
        connection.execute(f"SET ca_cert_file = {_quote(os.path.abspath(resolved.ca_bundle))}")
    if refreshing and resolved.token_here_only:
        return RenewingSecret(
            connection, name, resolved, refreshing_credentials(resolved), scope=""
        ).start()
    secrets: List[str] = []
    if refreshing:
        ensure_profile(profile, resolved)  # before the aws extension reads the AWS config
        load_extension(connection, "aws")
        fields = [*_endpoint_fields(resolved), *_chain_fields(profile)]
    else:
        keys = snapshot(resolved)
        secrets = [keys.secret_key, keys.token]
        fields = [*_endpoint_fields(resolved), *_key_fields(keys)]
    try:
        connection.execute(f"CREATE OR REPLACE SECRET {_identifier(name)} ({', '.join(fields)})")
    except duckdb.Error as error:
        raise refusal(error, secrets) from None
    return None


class RenewingSecret:
    """A TEMPORARY S3 secret on a DuckDB database (memory only), replaced with new keys
    from ``refresher`` by a thread before they expire, through a cursor of its own."""

    LOOK_EVERY = 60.0  # seconds between looks at most (catches up with a clock that jumped)

    def __init__(self, connection: Any, name: str, settings: Settings,
                 refresher: RefreshingCredentials, scope: str = _SCOPE) -> None:
        self._cursor = connection.cursor()
        self.name, self.settings, self.refresher, self.scope = name, settings, refresher, scope
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._access_key: Optional[str] = None

    def start(self, pending: bool = False) -> RenewingSecret:
        """Create the secret now (errors raise here), then keep it renewed. ``pending``:
        without keys yet, the secret names the store only, and gets keys once they come."""
        try:
            keys = self.refresher.get()
        except InfnMinioError:
            if not pending:
                raise
            self._create([])
        else:
            self._replace(keys)
        self._thread = threading.Thread(target=self._run, name=f"infnminio-duckdb-{self.name}",
                                        daemon=True)
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

    def _create(self, fields: List[str]) -> None:
        fields = [*_endpoint_fields(self.settings), *fields] + ([self.scope] if self.scope else [])
        self._cursor.execute(f"CREATE OR REPLACE TEMPORARY SECRET {_identifier(self.name)} "
                             f"({', '.join(fields)})")

    def _replace(self, keys: TemporaryCredentials) -> None:
        """Raises the :func:`refusal` of a database that refused (or was closed)."""
        import duckdb

        if keys.access_key == self._access_key:
            return
        try:
            self._create(_key_fields(keys))
        except duckdb.Error as error:
            raise refusal(error, [keys.secret_key, keys.token]) from None
        self._access_key = keys.access_key

    def _pause(self) -> float:
        ask_again = self.refresher.next_refresh
        if ask_again is None:
            return 1.0
        return min(self.LOOK_EVERY, max(1.0, ask_again.timestamp() - time.time()))

    def _run(self) -> None:
        while not self._stop.wait(self._pause()):
            try:
                keys = self.refresher.get()
            except InfnMinioError as error:
                # The refresher keeps still-valid keys and backs off; say why, once (not
                # while it never had keys: a pending activation's line said why).
                if self._access_key is not None:
                    warn_once((id(self), str(error)), __name__,
                              "Renewing the DuckDB secret %s failed: %s", self.name, error)
                self._stop.wait(5.0)
                continue
            try:
                self._replace(keys)
            except ConfigurationError as refused:  # the database was closed
                logger.warning("Stopped renewing DuckDB secret %s: %s", self.name, refused)
                return


def _version(version: str) -> Tuple[int, ...]:
    """``"1.5.5"``, ``"1.5.5.dev3"``, ``"1.5.4rc2"``: the leading digits of three parts."""
    return tuple(int(re.match(r"\d*", part).group() or 0) for part in version.split(".")[:3])  # type: ignore[union-attr]


def _default_connection() -> Any:
    import duckdb

    default = duckdb.default_connection
    return default() if callable(default) else default


def forget_persistent_secret() -> None:
    """Drop the persistent secret ``activate()`` wrote (``deactivate(forget=True)``)."""
    name = _identifier(PERSISTENT_SECRET)
    _default_connection().execute(f"DROP PERSISTENT SECRET IF EXISTS {name}")
