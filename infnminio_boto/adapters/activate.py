"""``activate()``: after one call, bare ``s3://`` URLs reach the object store.

Each library is configured through its own mechanism, by its adapter module's
:class:`Activator` (the table :data:`ACTIVATORS`); this module reads the token, fetches
keys, writes what the libraries share (the AWS profile, a CA bundle) and loops. What
each library gets, and what it cannot do: docs/activate.md.
"""

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
)
from ..integrations import key_server
from ..integrations.ca_trust import bundle_with_system
from ..keys.fetch import read_settings_token
from ..keys.refresh import RefreshingCredentials, refreshing_credentials
from ..profiles.aws import DEFAULT_PROFILE
from ..settings import Settings
from ..settings.aws_variables import competing
from ..sources import select
from ..sources.oidc_token import describe_age

__all__ = ["activate", "deactivate", "active", "Activation", "Activator", "Context", "ACTIVATORS"]

# Library (as ``libraries=`` names it) -> its adapter module, in the order they are applied.
ACTIVATORS = {
    "boto3": "boto3",
    "fsspec": "fsspec",
    "pyarrow": "arrow",
    "polars": "polars",
    "duckdb": "duckdb",
}


class Context(NamedTuple):
    """What an :class:`Activator` gets: the resolved ``settings``, the ``keywords`` they
    came from (for :func:`~infnminio_boto.session`), the AWS ``profile`` (None: not
    written, the token comes from code: ``refresher`` serves the keys in this process)
    and why the profile could not be written (``profile_error``)."""

    settings: Settings
    keywords: Dict[str, Any]
    profile: Optional[str]
    refresher: RefreshingCredentials
    profile_error: Optional[str] = None


class Activator(NamedTuple):
    """How ``activate()`` sets up one library: ``needs`` names the module it must find;
    ``apply(activation, context)`` configures the library, recording every change on the
    :class:`Activation` (with how to undo it), and returns None, or why it left the
    library alone; ``profile``: it reads the AWS profile, written first (``"needed"``: no
    activation without it; ``"wanted"``: ``context.profile_error`` says why not);
    ``trust``: it reads ``SSL_CERT_FILE`` when its library loads, set first; ``forget``
    removes what it wrote for other processes (``deactivate(forget=True)``)."""

    needs: str
    apply: Callable[[Activation, Context], Optional[str]]
    profile: str = ""
    trust: bool = False
    forget: Optional[Callable[[], None]] = None


def activator(library: str) -> Activator:
    """The :class:`Activator` of ``library`` (a key of :data:`ACTIVATORS`)."""
    module = importlib.import_module(f".{ACTIVATORS[library]}", __package__)
    return module.ACTIVATOR  # type: ignore[no-any-return]


class Activation:
    """What :func:`activate` did: returned by it, and shown by the IPython extension.

    ``changes`` lists ``(library, what was changed)`` in order; ``left_alone`` maps each
    library that was not changed to why. ``settings``, ``subject`` (the token's ``sub``),
    ``source`` (where the token came from) and ``expiration`` (of the keys fetched at
    activation; later ones are fetched as needed) say for whom. ``pending`` is why there
    were no keys at activation (every use fails with it until it is fixed). Holds no secret.
    """

    def __init__(
        self,
        settings: Settings,
        subject: Optional[str],
        source: str,
        expiration: Optional[datetime],
        pending: Optional[InfnMinioError] = None,
    ) -> None:
        self.settings = settings
        self.subject = subject
        self.source = source
        self.expiration = expiration
        self.pending = pending
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
            return (
                f"infnminio-boto: NOT ACTIVE YET: {cause} Meanwhile s3:// goes to {endpoint} "
                f"in {', '.join(self.libraries)} and fails with this cause; once it is fixed "
                "it works, nothing to re-run."
            )
        left = (self.expiration - (now or datetime.now(timezone.utc))).total_seconds()
        line = (
            f"infnminio-boto: s3:// is {endpoint} in {', '.join(self.libraries)}, "
            f"as {self.subject or 'an unnamed subject'} (token: {self.source}); "
            f"keys expire {self.expiration:%Y-%m-%d %H:%M} UTC ({describe_age(left)}) "
            "and renew themselves"
        )
        return line + (f"; left alone: {self._reasons()}" if self.left_alone else "")

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


def activate(
    libraries: Optional[Iterable[str]] = None,
    *,
    profile: str = DEFAULT_PROFILE,
    pending: bool = False,
    **settings: Any,
) -> Activation:
    """Make bare ``s3://`` URLs reach the object store in every library installed.

    ``libraries`` (default: all of :data:`ACTIVATORS`) chooses; ``profile`` is the AWS
    profile written for the libraries that run ``credential_process``; ``settings`` as
    :func:`~infnminio_boto.session` (``token_loader=`` too: then no profile is written and
    those libraries read this process's credentials endpoint). The token is read and keys
    fetched first: a :class:`~infnminio_boto.TokenSourceError`,
    :class:`~infnminio_boto.StsError`, :class:`~infnminio_boto.TransportError` or
    :class:`~infnminio_boto.ConfigurationError` raises before anything changes, and an
    earlier activation stays. A library whose configuration the user chose is left
    alone (:attr:`Activation.left_alone` says why). A second call replaces the first.
    ``pending=True`` (what ``%load_ext`` does): when the token or the store fails now, the
    libraries are set up all the same, so that ``s3://`` reaches the store and each use
    fails with that cause (:attr:`Activation.pending`) until it is fixed, and then works.
    What each library gets: docs/activate.md.
    """
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
    """Undo :func:`activate`: every change it listed but what it wrote for other
    processes (the AWS profile, DuckDB's persistent secret and installed extensions);
    ``forget=True`` drops DuckDB's persistent secret too. Returns what was undone, or None."""
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
        raise ConfigurationError(
            f"activate(libraries=...) does not know {', '.join(map(repr, unknown))}: "
            f"choose among {', '.join(ACTIVATORS)}."
        )
    return [name for name in ACTIVATORS if name in chosen]


def environment_choice(settings: Settings) -> Optional[str]:
    """Why the environment already chose AWS credentials or an endpoint, if it did (our
    own profile, endpoint and credentials endpoint do not count)."""
    ours = {"AWS_PROFILE": DEFAULT_PROFILE, "AWS_ENDPOINT_URL_S3": settings.endpoint.url}
    return competing(os.environ, ours={**ours, **key_server.ours()})


def _apply(activation: Activation, wanted: List[str], context: Context) -> None:
    found: Dict[str, Activator] = {}
    for name in wanted:
        found_activator = activator(name)
        if importlib.util.find_spec(found_activator.needs) is None:
            activation.left_alone[name] = f"not installed ({found_activator.needs})"
        else:
            found[name] = found_activator
    reason = environment_choice(context.settings)
    if reason:
        for name in found:
            activation.left_alone[name] = f"{reason}: your choice wins (unset it to activate)"
        return
    profiles = {each.profile for each in found.values()}
    if context.settings.token_here_only:
        context = context._replace(profile=None)  # no other process can call the loader
        if "needed" in profiles:
            _serve_in_process(activation, context)
    elif profiles - {""}:
        context = _write_profile(activation, context, strict="needed" in profiles)
    if context.settings.ca_bundle and any(each.trust for each in found.values()):
        bundle = bundle_with_system(context.settings.ca_bundle, context.settings.cache_dir)
        activation.set_variable("pyarrow, polars", "SSL_CERT_FILE", bundle)
    for name, each in found.items():
        why_not = each.apply(activation, context)
        if why_not:
            activation.left_alone[name] = why_not


def _serve_in_process(activation: Activation, context: Context) -> None:
    """The token comes from code: the credentials endpoint of this process serves the
    keys to the libraries that read the AWS SDKs' chain (pyarrow)."""
    fetch = context.refresher.get
    key_server.serve(fetch, None)
    for name, value in key_server.ours().items():
        activation.set_variable("credentials endpoint", name, value)
    activation.changed(
        "credentials endpoint",
        "keys served on 127.0.0.1 to this process's AWS SDKs (the token comes from code)",
        lambda: key_server.stop_serving(None, fetch),
    )


def _write_profile(activation: Activation, context: Context, strict: bool) -> Context:
    from ..profiles.aws import config_path, ensure_profile

    assert context.profile is not None
    try:
        path = ensure_profile(context.profile, context.settings)
    except (OSError, ConfigurationError) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        message = (
            f"activate() could not write the AWS profile {context.profile!r} that pyarrow "
            f"and new DuckDB databases need ({reason}; AWS config file: {config_path()}). "
            "Point AWS_CONFIG_FILE at a writable file, or leave them out: "
            'activate(libraries=["boto3", "fsspec", "polars", "duckdb"]).'
        )
        if strict:
            raise ConfigurationError(message) from None
        return context._replace(profile_error=message)
    activation.changed(
        "AWS config",
        f"profile {context.profile!r} in {path} (credential_process, endpoint_url, region; "
        "no secret; kept by deactivate())",
    )
    return context
