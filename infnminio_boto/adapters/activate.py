"""``activate()``: after one call, bare ``s3://`` URLs reach the object store.

Each library is configured through its own mechanism, never by replacing its code; no
secret key or session token is put in ``os.environ``, nor on disk but where DuckDB keeps
its persistent secrets (mode 0600; see DuckDB below):

==========  ================================================================================
boto3       ``boto3.DEFAULT_SESSION`` (what ``boto3.setup_default_session`` sets) becomes
            :func:`infnminio_boto.session`: ``boto3.client("s3")`` and
            ``boto3.resource("s3")``; keys renewed in process.
fsspec      ``fsspec.register_implementation("s3"/"s3a", ActivatedS3FileSystem,
            clobber=True)``, fsspec's public way to choose a protocol's class: pandas
            (CSV, JSON, ... and Parquet given ``storage_options``), xarray/zarr, uproot
            and Dask. The class is the refreshing ``s3fs`` filesystem; a call that passes
            its own keys, profile, session, ``anon`` or endpoint gets plain s3fs. It
            pickles as its settings, so Dask workers need no activation. (fsspec's other
            mechanism, the per-protocol defaults in ``fsspec.config.conf``, was measured
            and not taken: it applies to every direct ``s3fs.S3FileSystem()`` too, merges
            only top-level keys, so a caller's ``client_kwargs`` would drop our CA and
            their keys would go to our endpoint, and a refreshing session in it cannot be
            pickled to Dask.)
pyarrow     the process environment, the only configuration ``FileSystem.from_uri`` reads
            (and so ``pq.read_table("s3://...")``, ``pandas.read_parquet("s3://...")``
            without ``storage_options``): ``AWS_PROFILE`` (a profile whose
            ``credential_process`` the AWS C++ SDK re-runs before the keys expire),
            ``AWS_ENDPOINT_URL_S3``, the two checksum variables unless set, and with a
            private CA ``SSL_CERT_FILE`` (the system's authorities plus it). None of them
            is a secret. pyarrow reads its CA list once, when ``pyarrow.fs`` is first
            imported: with a private CA, activate before the first Parquet read.
            ``pyarrow.fs.S3FileSystem()`` built by hand reads no endpoint variable
            (apache/arrow#49643): use :func:`infnminio_boto.s3_filesystem`.
polars      ``pl.Config.set_default_credential_provider(ActivatedPolarsProvider)``: keys
            from our refresher; endpoint and region from the AWS profile (polars asks
            only its own AWS provider class for an endpoint); CA from ``SSL_CERT_FILE``.
            polars before 1.34 has no default provider: left alone, with why.
DuckDB      on ``duckdb.default_connection()`` (what ``duckdb.sql()`` uses): httpfs
            loaded from the ``duckdb-extension-httpfs`` package (offline), ``SET GLOBAL
            ca_cert_file`` with a private CA, and a TEMPORARY secret (memory only) renewed
            by a thread (:class:`~.duckdb.RenewingSecret`). A new ``duckdb.connect()`` is
            another database, which temporary secrets do not reach: for those, httpfs
            and aws are installed from their packages for DuckDB's autoloading, and a
            PERSISTENT ``credential_chain`` secret on the AWS profile renews itself
            (``REFRESH auto``); it lasts while a process that activated on this machine
            does (:mod:`.duckdb_new_databases`, which says what else it implies).
==========  ================================================================================

The user's explicit choices win. AWS keys, a profile of their own or an endpoint in the
environment (``AWS_ACCESS_KEY_ID``, ``AWS_PROFILE``, ``AWS_ENDPOINT_URL``, ...) are read
by every one of these libraries: then nothing is changed, and the returned
:class:`Activation` says why. Per library: a boto3 default session set up with a profile,
an fsspec ``s3`` class or ``fsspec.config.conf["s3"]`` credentials of the user's, or a
polars default provider of the user's, leave that library alone; DuckDB secrets of the
user's win by DuckDB's own rule (the longest matching scope); per call, storage
options, ``credential_provider=`` or ``endpoint_url=`` win.

The changes ``deactivate()`` keeps: the AWS profile (``infnminio-boto``) written in the
AWS config file, as :func:`infnminio_boto.s3_filesystem` and ``infnminio-boto
configure`` write it (it holds no secret, is used only where named, and other processes,
another notebook's pyarrow, may be using it); and DuckDB's httpfs and aws extensions,
installed from their packages where DuckDB would install them itself.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import warnings
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from ..errors import ConfigurationError
from ..integrations import key_server
from ..integrations.ca_trust import bundle_with_system
from ..keys.fetch import fetch_credentials, read_settings_token
from ..keys.refresh import refreshing_credentials
from ..settings import Settings
from ..settings.upload_checksums import VARIABLES as CHECKSUM_VARIABLES
from ..sources import select
from ..sources.oidc_token import describe_age

__all__ = ["activate", "deactivate", "active", "Activation", "LIBRARIES", "DEFAULT_PROFILE"]

LIBRARIES = ("boto3", "fsspec", "pyarrow", "polars", "duckdb")
DEFAULT_PROFILE = "infnminio-boto"
DUCKDB_SECRET = "infnminio_activate"  # noqa: S105 - the secret's name
# The module each library needs (fsspec's s3 is s3fs).
_NEEDS = {"boto3": "boto3", "fsspec": "s3fs", "pyarrow": "pyarrow", "polars": "polars",
          "duckdb": "duckdb"}
# Variables by which the environment already chose AWS credentials or an endpoint: every
# one of these libraries reads them (DuckDB's httpfs reads the keys too).
_CHOSEN_BY_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
)


class Activation:
    """What :func:`activate` did: returned by it, and shown by the IPython extension.

    ``changes`` lists ``(library, what was changed)`` in order; ``left_alone`` maps each
    library that was not changed to why. ``settings`` are the resolved settings,
    ``subject`` the token's ``sub``, ``source`` the words for where the token came from,
    and ``expiration`` when the keys fetched at activation expire (later ones are
    fetched as needed). Holds no secret.
    """

    def __init__(
        self, settings: Settings, subject: Optional[str], source: str, expiration: datetime
    ) -> None:
        self.settings = settings
        self.subject = subject
        self.source = source
        self.expiration = expiration
        self.changes: List[Tuple[str, str]] = []
        self.left_alone: Dict[str, str] = {}
        self._undo: List[Callable[[], None]] = []

    @property
    def libraries(self) -> List[str]:
        """The libraries whose bare ``s3://`` URLs now reach the store."""
        return [name for name in LIBRARIES if any(lib == name for lib, _ in self.changes)]

    def summary(self, now: Optional[datetime] = None) -> str:
        """One line: endpoint, libraries, identity, when the keys expire."""
        endpoint = self.settings.endpoint.url
        if not self.libraries:
            return f"infnminio-boto: nothing activated for {endpoint}: {self._reasons()}"
        now = now or datetime.now(timezone.utc)
        left = (self.expiration - now).total_seconds()
        line = (
            f"infnminio-boto: s3:// is {endpoint} in {', '.join(self.libraries)}, "
            f"as {self.subject or 'an unnamed subject'} (token: {self.source}); "
            f"keys expire {self.expiration:%Y-%m-%d %H:%M} UTC ({describe_age(left)}) "
            "and renew themselves"
        )
        if self.left_alone:
            line += f"; left alone: {self._reasons()}"
        return line

    def _reasons(self) -> str:
        """``boto3, fsspec (why); polars (why)``: libraries left alone for one reason together."""
        by_reason: Dict[str, List[str]] = {}
        for name, why in self.left_alone.items():
            by_reason.setdefault(why, []).append(name)
        return "; ".join(f"{', '.join(names)} ({why})" for why, names in by_reason.items())

    def __repr__(self) -> str:
        lines = [self.summary()]
        lines += [f"  changed  {name}: {what}" for name, what in self.changes]
        lines += [f"  left alone  {name}: {why}" for name, why in self.left_alone.items()]
        return "\n".join(lines)

    # ----------------------------------------------------------------- recording
    def changed(self, library: str, what: str, undo: Optional[Callable[[], None]] = None) -> None:
        self.changes.append((library, what))
        if undo is not None:
            self._undo.append(undo)

    def set_variable(self, library: str, name: str, value: str) -> None:
        """Set a variable (never a secret) in ``os.environ``, to be restored."""
        previous = os.environ.get(name)
        os.environ[name] = value

        def restore() -> None:
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous

        self.changed(library, f"os.environ[{name!r}] = {value!r}", restore)

    def undo(self) -> None:
        """Take every change back, the last first; a step that fails does not stop the rest."""
        failures = []
        while self._undo:
            step = self._undo.pop()
            try:
                step()
            except Exception as error:  # the other steps still run
                failures.append(repr(error))
        self.changes.clear()
        if failures:
            warnings.warn(f"deactivate(): {'; '.join(failures)}", RuntimeWarning, stacklevel=3)


_lock = threading.RLock()
_active: Optional[Activation] = None


def active() -> Optional[Activation]:
    """The activation in force in this process, if any."""
    return _active


def activate(
    *,
    libraries: Optional[Iterable[str]] = None,
    profile: str = DEFAULT_PROFILE,
    **settings: Any,
) -> Activation:
    """Make bare ``s3://`` URLs of this process reach the object store, keys renewing.

    ``settings`` are the keywords of :func:`infnminio_boto.session` (``endpoint``,
    ``token_file``, ...; else the ``INFNMINIO_*`` variables and defaults).
    ``libraries`` limits it to some of ``"boto3"``, ``"fsspec"``, ``"pyarrow"``,
    ``"polars"``, ``"duckdb"`` (default: every one that is installed). A second call
    first undoes the first (:func:`deactivate`).

    It changes exactly these, and returns them (:class:`Activation`):

    * the AWS profile ``profile`` in the AWS config file (for pyarrow, polars and
      DuckDB; no secret; kept by :func:`deactivate`);
    * ``os.environ``: ``SSL_CERT_FILE`` when ``ca_bundle`` is set (a file with the
      system's authorities and that one); for pyarrow ``AWS_PROFILE``,
      ``AWS_ENDPOINT_URL_S3`` and, unless set, ``AWS_REQUEST_CHECKSUM_CALCULATION`` /
      ``AWS_RESPONSE_CHECKSUM_VALIDATION``. These are seen by every AWS SDK of this
      process and its children (a call there that brings its own keys should name its
      endpoint too; ``libraries=`` without ``"pyarrow"`` avoids them);
    * ``boto3.DEFAULT_SESSION``;
    * fsspec's classes for ``s3`` and ``s3a``;
    * polars' default credential provider;
    * on ``duckdb.default_connection()``: httpfs loaded, ``ca_cert_file`` (GLOBAL) when
      ``ca_bundle`` is set, a temporary secret ``infnminio_activate`` and the thread
      that renews it;
    * for new ``duckdb.connect()`` databases: httpfs and aws installed into DuckDB's
      extension directory (kept by :func:`deactivate`, as DuckDB keeps what it
      installs), the persistent secret ``infnminio_activate_persistent`` in DuckDB's
      ``secret_directory`` (0600) and a marker of this process beside it; the secret
      is dropped when the last process that activated deactivates or exits.

    The token is read and keys are fetched first: an error there (no token,
    :class:`~infnminio_boto.TokenSourceError`; the store refuses or cannot be reached,
    :class:`~infnminio_boto.StsError`, :class:`~infnminio_boto.TransportError`; a bad
    setting, :class:`~infnminio_boto.ConfigurationError`) raises before anything is
    changed, and an earlier activation stays in force. A library whose configuration
    the user already chose is left alone, and :attr:`Activation.left_alone` says why.
    With a private CA, call it before pyarrow's first use in the process (pyarrow reads
    its CA list once); otherwise the activation says so.
    """
    global _active
    wanted = _wanted(libraries)
    resolved = Settings.resolve(**settings)
    token = read_settings_token(resolved)
    selection = select(resolved)
    keys = fetch_credentials(resolved, token=token)
    source = selection.source.describe() if selection.source is not None else token.origin
    keywords = {name: value for name, value in settings.items() if value is not None}
    with _lock:
        deactivate()
        activation = Activation(resolved, token.subject, source, keys.expiration)
        try:
            _apply(activation, wanted, resolved, keywords, profile)
        except BaseException:
            activation.undo()
            raise
        _active = activation
        return activation


def deactivate() -> Optional[Activation]:
    """Undo :func:`activate` (every change it listed but the AWS profile and DuckDB's
    installed extensions); returns what was undone, or None when nothing was active."""
    global _active
    with _lock:
        activation, _active = _active, None
        if activation is not None:
            activation.undo()
        return activation


def _wanted(libraries: Optional[Iterable[str]]) -> List[str]:
    if libraries is None:
        return list(LIBRARIES)
    if isinstance(libraries, str):
        libraries = [libraries]
    chosen = list(libraries)
    unknown = [name for name in chosen if name not in LIBRARIES]
    if unknown:
        raise ConfigurationError(
            f"activate(libraries=...) does not know {', '.join(map(repr, unknown))}: "
            f"choose among {', '.join(LIBRARIES)}."
        )
    return [name for name in LIBRARIES if name in chosen]


def environment_choice(profile: str, settings: Settings) -> Optional[str]:
    """Why the environment already chose AWS credentials or an endpoint, if it did."""
    for name in _CHOSEN_BY_VARIABLES:
        if os.environ.get(name):
            if name.startswith("AWS_CONTAINER_") and key_server.serving():
                continue  # our own Dask key sharing's endpoint
            return f"{name} is set in the environment"
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        value = os.environ.get(name)
        if value and value != profile:
            return f"{name}={value} is set in the environment"
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3")
    if endpoint and endpoint.rstrip("/") != settings.endpoint.url.rstrip("/"):
        return f"AWS_ENDPOINT_URL_S3={endpoint} is set in the environment"
    return None


def _apply(
    activation: Activation,
    wanted: List[str],
    settings: Settings,
    keywords: Dict[str, Any],
    profile: str,
) -> None:
    installed = []
    for name in wanted:
        if importlib.util.find_spec(_NEEDS[name]) is None:
            activation.left_alone[name] = f"not installed ({_NEEDS[name]})"
        else:
            installed.append(name)
    reason = environment_choice(profile, settings)
    if reason:
        for name in installed:
            activation.left_alone[name] = f"{reason}: your choice wins (unset it to activate)"
        return
    configure: Dict[str, Callable[[], Optional[str]]] = {
        "boto3": lambda: _boto3(activation, keywords),
        "fsspec": lambda: _fsspec(activation, settings),
        "polars": lambda: _polars(activation, settings, profile),
        "duckdb": lambda: _duckdb(activation, settings, profile, profile_error),
    }
    need_profile = bool({"pyarrow", "polars"} & set(installed))
    profile_error = None
    if need_profile or "duckdb" in installed:
        # Before any library is imported here: pyarrow reads SSL_CERT_FILE once.
        try:
            _profile_and_trust(activation, settings, profile, trust=need_profile)
        except ConfigurationError as error:
            if need_profile:
                raise
            profile_error = str(error)  # DuckDB's default connection works without it
    if "pyarrow" in installed:
        _pyarrow(activation, settings, profile)
    for name in installed:
        if name in configure:
            why_not = configure[name]()
            if why_not:
                activation.left_alone[name] = why_not


def _profile_and_trust(
    activation: Activation, settings: Settings, profile: str, trust: bool
) -> None:
    from ..profiles.aws import config_path, ensure_profile

    try:
        path = ensure_profile(profile, settings)
    except (OSError, ConfigurationError) as error:
        # ensure_profile names the file and the cause; say what activate() needed it for.
        reason = error.strerror if isinstance(error, OSError) else None
        raise ConfigurationError(
            f"activate() could not write the AWS profile {profile!r} that pyarrow, polars "
            f"and new DuckDB databases need ({reason or error}; AWS config file: "
            f"{config_path()}). Point AWS_CONFIG_FILE at a writable file, or leave them "
            'out: activate(libraries=["boto3", "fsspec", "duckdb"]).'
        ) from None
    activation.changed(
        "AWS config",
        f"profile {profile!r} in {path} (credential_process, endpoint_url, region; no "
        "secret; kept by deactivate())",
    )
    if settings.ca_bundle and trust:
        bundle = bundle_with_system(settings.ca_bundle, settings.cache_dir)
        activation.set_variable("pyarrow, polars", "SSL_CERT_FILE", bundle)


def _pyarrow(activation: Activation, settings: Settings, profile: str) -> None:
    activation.set_variable("pyarrow", "AWS_PROFILE", profile)
    activation.set_variable("pyarrow", "AWS_ENDPOINT_URL_S3", settings.endpoint.url)
    for name, value in CHECKSUM_VARIABLES.items():
        if not os.environ.get(name):
            activation.set_variable("pyarrow", name, value)
    if settings.ca_bundle and "pyarrow._fs" in sys.modules:
        note = (
            "pyarrow.fs was imported before activate(): it keeps the CA list it read then, "
            "so bare s3:// URLs fail TLS verification with this ca_bundle. Call activate() "
            "first (restart the kernel), or add ?tls_ca_file_path=... to the URL."
        )
        activation.changed("pyarrow", f"WARNING: {note}")
        warnings.warn(note, RuntimeWarning, stacklevel=4)


def _boto3(activation: Activation, keywords: Dict[str, Any]) -> Optional[str]:
    import boto3

    from ..integrations.botocore import InfnMinioSession, session

    previous = boto3.DEFAULT_SESSION
    if previous is not None and not isinstance(previous, InfnMinioSession):
        if previous.profile_name not in (None, "default"):
            return f"boto3's default session uses the profile {previous.profile_name!r}"
    boto3.DEFAULT_SESSION = session(**keywords)

    def restore() -> None:
        boto3.DEFAULT_SESSION = previous

    activation.changed("boto3", "boto3.DEFAULT_SESSION = infnminio_boto.session()", restore)
    return None


def _fsspec(activation: Activation, settings: Settings) -> Optional[str]:
    import fsspec
    import fsspec.config
    import s3fs
    from fsspec.registry import registry

    from .s3fs_classes import ActivatedS3FileSystem, caller_chose

    protocols = ("s3", "s3a")
    before = {name: registry.get(name) for name in protocols}
    for name, cls in before.items():
        if cls is not None and cls is not s3fs.S3FileSystem and cls is not ActivatedS3FileSystem:
            return f"fsspec's {name!r} protocol is registered to {cls.__name__}"
    for name in protocols:
        chosen = caller_chose(dict(fsspec.config.conf.get(name) or {}))
        if chosen:
            return f"fsspec.config.conf[{name!r}] chooses {chosen}"
    ActivatedS3FileSystem.activation = settings
    ActivatedS3FileSystem.activation_endpoint_variable = os.environ.get("AWS_ENDPOINT_URL_S3")
    ActivatedS3FileSystem.activation_number += 1
    for name in protocols:
        fsspec.register_implementation(name, ActivatedS3FileSystem, clobber=True)

    def restore() -> None:
        for name, cls in before.items():
            fsspec.register_implementation(name, cls or s3fs.S3FileSystem, clobber=True)
        ActivatedS3FileSystem.activation = None
        ActivatedS3FileSystem.activation_endpoint_variable = None
        ActivatedS3FileSystem.clear_instance_cache()

    activation.changed(
        "fsspec",
        'fsspec.register_implementation("s3" and "s3a", ActivatedS3FileSystem, clobber=True)',
        restore,
    )
    return None


def _polars(activation: Activation, settings: Settings, profile: str) -> Optional[str]:
    import polars as pl

    from . import polars as polars_adapter

    if not hasattr(pl.Config, "set_default_credential_provider"):
        # A polars older than the extra asks for (pip install polars alone may keep one).
        return (
            f"polars {pl.__version__} has no default credential provider (it came in polars "
            "1.34): pip install 'polars>=1.34', or pass credential_provider="
            "infnminio_boto.polars_credential_provider() to each call"
        )
    previous: Any = _polars_default_provider()
    if previous != "auto" and not getattr(previous, "infnminio_activation", False):
        return "a default credential provider of yours is set (pl.Config)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # polars calls these "unstable"
        provider = polars_adapter.activated_provider(settings, profile_name=profile)
        pl.Config.set_default_credential_provider(provider)

    def restore() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pl.Config.set_default_credential_provider(previous)

    activation.changed(
        "polars", "pl.Config.set_default_credential_provider(ActivatedPolarsProvider)", restore
    )
    return None


def _polars_default_provider() -> Any:
    """What ``pl.Config.set_default_credential_provider`` last set (``"auto"`` unset).

    polars has no public getter. Read in polars 1.34 to 2.1: the setter stores it in
    ``polars.io.cloud.credential_provider._builder.DEFAULT_CREDENTIAL_PROVIDER``, which
    polars' own reads use (the private ``polars.config._get_default_credential_provider``
    of later releases reads the same; 1.34 has none).
    """
    try:
        from polars.io.cloud.credential_provider import _builder
    except ImportError:
        return "auto"
    return getattr(_builder, "DEFAULT_CREDENTIAL_PROVIDER", "auto")


def _duckdb(
    activation: Activation, settings: Settings, profile: str, profile_error: Optional[str]
) -> Optional[str]:
    import duckdb

    from .duckdb import RenewingSecret, load_extension

    default = duckdb.default_connection
    connection = default() if callable(default) else default
    try:
        load_extension(connection, "httpfs")
    except duckdb.Error as error:
        first_line = str(error).strip().split("\n", 1)[0]
        return (
            f"its httpfs extension could not be loaded ({first_line}): install "
            f"duckdb-extension-httpfs=={duckdb.__version__} (the duckdb extra)"
        )
    activation.changed("duckdb", "httpfs loaded on duckdb.default_connection()")
    try:
        secret = RenewingSecret(
            connection, DUCKDB_SECRET, settings, refreshing_credentials(settings)
        ).start()
    except ConfigurationError as refused:  # the secret statement (no secret in the words)
        return str(refused)
    activation.changed(
        "duckdb",
        f"TEMPORARY SECRET {DUCKDB_SECRET} (scope s3:/, renewed by a thread)",
        secret.stop,
    )
    if settings.ca_bundle:
        bundle = bundle_with_system(settings.ca_bundle, settings.cache_dir)
        row = connection.execute("SELECT current_setting('ca_cert_file')").fetchone()
        previous = row[0] if row else None
        connection.execute("SET GLOBAL ca_cert_file = ?", [bundle])

        def restore_ca() -> None:
            if previous:
                connection.execute("SET GLOBAL ca_cert_file = ?", [previous])
            else:
                connection.execute("RESET GLOBAL ca_cert_file")

        activation.changed("duckdb", f"SET GLOBAL ca_cert_file = {bundle!r}", restore_ca)
    _duckdb_new_databases(activation, settings, profile, profile_error)
    return None


def _duckdb_new_databases(
    activation: Activation, settings: Settings, profile: str, profile_error: Optional[str]
) -> None:
    """The persistent secret that reaches ``duckdb.connect()`` databases opened later."""
    import duckdb

    from ..profiles.aws import credential_process_command
    from .duckdb_new_databases import SECRET_NAME, PersistentSecret

    secret = PersistentSecret(settings, profile, credential_process_command(settings))
    why_not = profile_error
    if why_not is None:
        try:
            why_not = secret.create()
        except (ConfigurationError, duckdb.Error, OSError) as error:
            why_not = str(error).strip().split("\n", 1)[0]
    if secret.installed:
        activation.changed(
            "duckdb",
            f"{' and '.join(secret.installed)} installed into DuckDB's extension directory "
            "from their packages, for autoloading offline (kept by deactivate(), as DuckDB "
            "keeps what it installs)",
        )
    if why_not:
        note = f"not for new duckdb.connect() databases: {why_not}"
        activation.changed("duckdb", f"WARNING: {note}")
        warnings.warn(note, RuntimeWarning, stacklevel=6)
        return
    what = (
        f"PERSISTENT SECRET {SECRET_NAME} in {secret.directory} (credential_chain through "
        f"the profile {profile!r}, REFRESH auto; scope s3:/) for new duckdb.connect() "
        "databases; dropped when the last activated process deactivates or exits"
    )
    if settings.ca_bundle:
        bundle = bundle_with_system(settings.ca_bundle, settings.cache_dir)
        what += (
            f"; with this private CA, run SET ca_cert_file = '{bundle}' in each new "
            "database first (DuckDB reads no CA from the environment)"
        )
    activation.changed("duckdb", what, secret.release)
