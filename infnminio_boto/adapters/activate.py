"""``activate()``: after one call, bare ``s3://`` URLs reach the object store. Each library
is set up by its adapter module's :class:`Activator` (:data:`ACTIVATORS`); this module
writes what they share (the AWS profile, a CA bundle). See docs/activate.md."""

from __future__ import annotations

import importlib
import importlib.util
import os
import threading
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Tuple

from ..errors import (
    ConfigurationError,
    InfnMinioError,
    StsError,
    TokenSourceError,
    TransportError,
    install_command,
)
from ..integrations import key_server
from ..integrations.ca_trust import bundle_with_system
from ..keys.fetch import read_settings_token
from ..keys.refresh import RefreshingCredentials, refreshing_credentials
from ..profiles.aws import DEFAULT_PROFILE, config_path, ensure_profile
from ..settings import Settings
from ..settings.aws_variables import competing
from ..sources import select
from ..sources.oidc_token import describe_age

__all__ = ["activate", "deactivate", "active", "Activation", "Activator", "Context", "ACTIVATORS"]

# Library (as ``libraries=`` names it) -> its adapter module, in the order they are applied.
ACTIVATORS = {"boto3": "boto3", "fsspec": "fsspec", "pyarrow": "arrow", "polars": "polars",
              "duckdb": "duckdb_activation"}


class Context(NamedTuple):
    """What an :class:`Activator` gets. ``keywords``: those ``settings`` came from;
    ``profile`` None: the token comes from code, ``refresher`` serves the keys here."""

    settings: Settings
    keywords: Dict[str, Any]
    profile: Optional[str]
    refresher: RefreshingCredentials
    profile_error: Optional[str] = None


class Activator(NamedTuple):
    """How ``activate()`` sets up one library (module ``needs``): ``apply`` records each
    change, with its undo, and returns None or why it left the library alone. ``profile``:
    ``"needed"`` or ``"wanted"`` (``context.profile_error`` says why not); ``trust``: reads
    ``SSL_CERT_FILE`` at import; ``forget``: ``deactivate(forget=True)``'s step; ``extra``:
    the extra that installs ``needs``."""

    needs: str
    apply: Callable[[Activation, Context], Optional[str]]
    profile: str = ""
    trust: bool = False
    forget: Optional[Callable[[], None]] = None
    extra: str = ""


def activator(library: str) -> Activator:
    module = importlib.import_module(f".{ACTIVATORS[library]}", __package__)
    return module.ACTIVATOR  # type: ignore[no-any-return]


class Activation:
    """What :func:`activate` did (no secret): ``changes`` lists ``(library, what)`` in
    order, ``left_alone`` maps a library to why; ``subject`` (the token's ``sub``),
    ``source`` and ``expiration`` (of the first keys) say for whom; ``pending`` is why
    there were no keys (every use fails with it until it is fixed)."""

    def __init__(self, settings: Settings, subject: Optional[str], source: str,
                 expiration: Optional[datetime],
                 pending: Optional[InfnMinioError] = None) -> None:
        self.settings, self.subject, self.source = settings, subject, source
        self.expiration, self.pending = expiration, pending
        self.changes: List[Tuple[str, str]] = []
        self.left_alone: Dict[str, str] = {}
        self._undo: List[Callable[[], None]] = []

    @property
    def libraries(self) -> List[str]:
        """The libraries whose bare ``s3://`` URLs now reach the store."""
        return [name for name in ACTIVATORS if any(lib == name for lib, _ in self.changes)]

    def summary(self, now: Optional[datetime] = None) -> str:
        """One line: endpoint, libraries, identity, when the keys expire."""
        endpoint = self.settings.endpoint.url
        if not self.libraries:
            return f"infnminio-boto: nothing activated for {endpoint}: {self._reasons()}"
        if self.pending is not None or self.expiration is None:
            cause = " ".join(str(self.pending).split())
            return (f"infnminio-boto: NOT ACTIVE YET: {cause} Meanwhile s3:// goes to {endpoint} "
                    f"in {', '.join(self.libraries)} and fails with this cause; once it is "
                    "fixed it works, nothing to re-run.")
        left = (self.expiration - (now or datetime.now(timezone.utc))).total_seconds()
        line = (f"infnminio-boto: s3:// is {endpoint} in {', '.join(self.libraries)}, "
                f"as {self.subject or 'an unnamed subject'} (token: {self.source}); "
                f"keys expire {self.expiration:%Y-%m-%d %H:%M} UTC ({describe_age(left)}) "
                "and renew themselves")
        return line + (f"; left alone: {self._reasons()}" if self.left_alone else "")

    def _reasons(self) -> str:
        """``boto3, fsspec (why); polars (why)``."""
        by_reason: Dict[str, List[str]] = {}
        for name, why in self.left_alone.items():
            by_reason.setdefault(why, []).append(name)
        return "; ".join(f"{', '.join(names)} ({why})" for why, names in by_reason.items())

    def __repr__(self) -> str:
        lines = [self.summary()]
        lines += [f"  changed  {name}: {what}" for name, what in self.changes]
        lines += [f"  left alone  {name}: {why}" for name, why in self.left_alone.items()]
        return "\n".join(lines)

    def changed(self, library: str, what: str, undo: Optional[Callable[[], None]] = None) -> None:
        self.changes.append((library, what))
        if undo is not None:
            self._undo.append(undo)

    def set_variable(self, library: str, name: str, value: str) -> None:
        """Set a variable (never a secret) in ``os.environ``; undone only while it still
        holds this value (a value the user set since is theirs)."""
        previous = os.environ.get(name)
        os.environ[name] = value

        def restore() -> None:
            if os.environ.get(name) != value:
                return
            if previous is None:
                del os.environ[name]
            else:
                os.environ[name] = previous

        self.changed(library, f"{name}={value}", restore)

    def undo(self) -> None:
        while self._undo:
            self._undo.pop()()
        self.changes.clear()


_lock = threading.RLock()
_active: Optional[Activation] = None


def active() -> Optional[Activation]:
    """The activation in force in this process, if any."""
    return _active


def activate(libraries: Optional[Iterable[str]] = None, *, profile: str = DEFAULT_PROFILE,
             pending: bool = False, **settings: Any) -> Activation:
    """Make bare ``s3://`` URLs reach the object store in ``libraries`` (default: all of
    :data:`ACTIVATORS`); ``settings`` as :func:`~infnminio_boto.session`. A token or store
    failure raises before anything changes, unless ``pending=True`` (``%load_ext``): then
    each use fails with it until it is fixed (:attr:`Activation.pending`). docs/activate.md."""
    global _active
    wanted = _wanted(libraries)
    resolved = Settings.resolve(**settings)
    refresher = refreshing_credentials(resolved)
    subject, source, expiration, failed = None, "", None, None
    try:
        token = read_settings_token(resolved)
        selection = select(resolved)
        expiration = refresher.get().expiration  # (or from the cache) before anything changes
        subject = token.subject
        source = selection.source.describe() if selection.source is not None else token.origin
    except (TokenSourceError, StsError, TransportError) as error:
        if not pending:
            raise
        failed = error
    keywords = {name: value for name, value in settings.items() if value is not None}
    with _lock:
        deactivate()
        activation = Activation(resolved, subject, source, expiration, pending=failed)
        try:
            _apply(activation, wanted, Context(resolved, keywords, profile, refresher))
        except BaseException:
            activation.undo()
            raise
        _active = activation
        return activation


def deactivate(*, forget: bool = False) -> Optional[Activation]:
    """Undo :func:`activate` but what it wrote for other processes (the AWS profile, DuckDB's
    persistent secret, dropped with ``forget=True``). Returns what was undone, or None."""
    global _active
    with _lock:
        activation, _active = _active, None
        if activation is not None:
            activation.undo()
        for library in ACTIVATORS if forget else ():
            each = activator(library)
            if each.forget is not None and importlib.util.find_spec(each.needs) is not None:
                each.forget()
        return activation


def _wanted(libraries: Optional[Iterable[str]]) -> List[str]:
    if libraries is None:
        return list(ACTIVATORS)
    chosen = [libraries] if isinstance(libraries, str) else list(libraries)
    unknown = [name for name in chosen if name not in ACTIVATORS]
    if unknown:
        raise ConfigurationError("activate(libraries=...) does not know "
                                 f"{', '.join(map(repr, unknown))}: choose among "
                                 f"{', '.join(ACTIVATORS)}.")
    return [name for name in ACTIVATORS if name in chosen]


def _apply(activation: Activation, wanted: List[str], context: Context) -> None:
    found = {name: activator(name) for name in wanted}
    for name, each in list(found.items()):
        if importlib.util.find_spec(each.needs) is None:
            install = f": {install_command(each.extra)}" if each.extra else ""
            activation.left_alone[name] = f"not installed ({each.needs}){install}"
            del found[name]
    # Why the environment already chose AWS credentials or an endpoint (not ours), if so.
    ours = {"AWS_PROFILE": DEFAULT_PROFILE, "AWS_ENDPOINT_URL_S3": context.settings.endpoint.url}
    reason = competing(os.environ, ours={**ours, **key_server.ours()})
    if reason:
        for name in found:
            activation.left_alone[name] = f"{reason}: your choice wins (unset it to activate)"
        return
    profiles = {each.profile for each in found.values()}
    if context.settings.token_here_only:
        context = context._replace(profile=None)  # no other process can call the loader
        if "needed" in profiles:  # this process's credentials endpoint serves pyarrow
            fetch = context.refresher.get
            key_server.serve(fetch, None)
            for name, value in key_server.ours().items():
                activation.set_variable("credentials endpoint", name, value)
            activation.changed("credentials endpoint", "keys served on 127.0.0.1 to this "
                               "process's AWS SDKs (the token comes from code)",
                               lambda: key_server.stop_serving(None, fetch))
    elif profiles - {""}:
        context = _write_profile(activation, context)
    if context.settings.ca_bundle and any(each.trust for each in found.values()):
        bundle = bundle_with_system(context.settings.ca_bundle, context.settings.cache_dir)
        activation.set_variable("pyarrow, polars", "SSL_CERT_FILE", bundle)
    for name, each in found.items():
        if each.profile == "needed" and context.profile_error:
            others = [other for other in ACTIVATORS if other != name]
            activation.left_alone[name] = (f"{context.profile_error}, or leave {name} out: "
                                           f"activate(libraries={others!r})")
            continue
        why_not = each.apply(activation, context)
        if why_not:
            activation.left_alone[name] = why_not


def _write_profile(activation: Activation, context: Context) -> Context:
    assert context.profile is not None
    try:
        path = ensure_profile(context.profile, context.settings)
    except (OSError, ConfigurationError) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        message = (f"the AWS profile {context.profile!r} could not be written ({reason}; AWS "
                   f"config file: {config_path()}): point AWS_CONFIG_FILE at a writable file")
        return context._replace(profile_error=message)
    activation.changed("AWS config", f"profile {context.profile!r} in {path} (credential_process, "
                       "endpoint_url, region; no secret; kept by deactivate())")
    return context
