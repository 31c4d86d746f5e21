"""One resolved configuration value shared by every entry point (docs/settings.md).

Precedence: keyword argument (or flag), ``INFNMINIO_*`` variable, the endpoint's preset,
the default. The settings come from :mod:`.table`, the token sources from
:mod:`.hot_path`, the kinds of server from :mod:`.servers`. :class:`Settings` records
where each value came from.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Mapping, NamedTuple, Optional, Tuple, Union
from urllib.parse import urlsplit

from ..errors import ConfigurationError
from . import values
from .endpoint import DEFAULT_ENDPOINT, PRESETS, Endpoint, Preset
from .hot_path import BY_NAME, BY_SETTING, CONFLICT, default_cache_dir, explicit
from .policy import Policy
from .servers import GENERIC, SERVERS, Server
from .table import SETTINGS, Default, default_of, default_text, flag, variable

__all__ = [
    "Endpoint", "Policy", "Preset", "Server", "Settings", "Setting", "TokenChoice",
    "PRESETS", "SERVERS", "DEFAULT_ENDPOINT", "SETTING_NAMES", "SETTINGS_BY_NAME",
    "TOKEN_SETTINGS", "TOKEN_LOADER", "default_cache_dir",
]

DEFAULT_DURATION_SECONDS = int(default_of("duration_seconds"))  # type: ignore[arg-type]
# Every STS accepts 900 s; the most is the server's (Server.max_duration_seconds, the role's).
MIN_DURATION_SECONDS = 900
# More would keep a caller waiting minutes (each attempt: its timeouts, then up to 20 s).
MAX_ATTEMPTS = 10
# Where a value came from, highest precedence first.
ARGUMENT, ENVIRONMENT, PRESET, DEFAULT = "argument", "environment", "preset", "default"
# The keyword by which code gives a callable that returns the token (no variable or flag).
TOKEN_LOADER = "token_loader"  # noqa: S105 - a keyword, not a password


class Setting(NamedTuple):
    """One row of the settings table, with its variable, flag and default words spelled out."""

    name: str
    kind: str
    default: Default
    default_text: str
    description: str
    variable: str
    flag: str

    @property
    def takes_value(self) -> bool:
        """Whether the flag takes a value (switches do not)."""
        return self.kind != "switch"

    @property
    def flag_value(self) -> bool:
        """What a switch's flag sets: ``--no-cache`` turns off, ``--allow-...`` turns on."""
        return not self.flag.startswith("--no-")


SETTINGS_BY_NAME: Dict[str, Setting] = {
    row.name: Setting(row.name, row.kind, row.default, default_text(row), row.description,
                      variable=variable(row.name), flag=flag(row.name))
    for row in SETTINGS
}
# keyword -> environment variable
SETTING_NAMES: Dict[str, str] = {name: s.variable for name, s in SETTINGS_BY_NAME.items()}
# The settings of the table that say where the token comes from.
TOKEN_SETTINGS = tuple(name for name in BY_SETTING if name in SETTINGS_BY_NAME)


class TokenChoice(NamedTuple):
    """Where the token comes from: ``kind`` (a row of :data:`.hot_path.KINDS`, or
    ``"discover"``), its ``value``, the ``setting`` that chose it; ``here``: false in another
    process (a file named elsewhere is read there as one nobody named). Holds no secret."""

    kind: str
    value: Union[str, Tuple[str, ...], Callable[[], str], None] = None
    setting: Optional[str] = None
    here: bool = True


DISCOVER = TokenChoice("discover")


class Settings(NamedTuple):
    """The resolved configuration: build it with :meth:`Settings.resolve`.
    ``role_session_name`` None: derived from the token's subject; ``policy`` None: none;
    ``sources``: each setting's name to where its value came from (``"argument"``,
    ``"environment"``, ``"preset"`` or ``"default"``)."""

    endpoint: Endpoint
    token: TokenChoice
    audience: Optional[str]
    role_arn: Optional[str]
    role_session_name: Optional[str]
    duration_seconds: int
    policy: Optional[Policy]
    region: str
    ca_bundle: Optional[str]
    allow_insecure_http: bool
    timeout: float
    max_attempts: int
    cache: bool
    cache_dir: str
    preset: Optional[Preset]
    sources: Mapping[str, str]
    server: Server = GENERIC

    @classmethod
    def resolve(cls, environ: Optional[Mapping[str, str]] = None, *, command_line: bool = False,
                **overrides: Any) -> Settings:
        """Combine keyword arguments (``None``: not given; ``token_loader``: a callable
        returning the access token), ``INFNMINIO_*`` variables, presets and defaults.
        ``command_line``: errors name the flags. Raises
        :class:`~infnminio_boto.ConfigurationError` naming the setting and where it came from.
        """
        unknown = sorted(set(overrides) - set(SETTINGS_BY_NAME) - {TOKEN_LOADER})
        if unknown:
            raise ConfigurationError(
                f"Unknown setting(s) {', '.join(unknown)}; the settings are "
                f"{', '.join([*SETTINGS_BY_NAME, TOKEN_LOADER])}."
            )
        return _resolve(cls, overrides, os.environ if environ is None else environ, command_line)

    @property
    def token_configured(self) -> bool:
        """Whether a setting names the token's source (rather than the discovery order)."""
        return self.token.kind != DISCOVER.kind

    @property
    def server_kind(self) -> str:
        """The ``server_kind`` setting: the name of :attr:`server`."""
        return self.server.name

    @property
    def token_here_only(self) -> bool:
        """Whether only this process can read the token (a ``token_loader``)."""
        return BY_NAME[self.token.kind].here_only if self.token.kind in BY_NAME else False

    def given(self) -> Tuple[str, ...]:
        """The names of the settings set by argument or environment variable."""
        return tuple(n for n in SETTINGS_BY_NAME if self.sources[n] in (ARGUMENT, ENVIRONMENT))

    def origin(self, name: str, *, command_line: bool = False) -> str:
        """Where ``name`` came from, in words: a flag, a variable, the preset or the default."""
        return _origin(name, self.sources.get(name, ARGUMENT), command_line=command_line)

    def check_transport(self) -> None:
        """Refuse to send a bearer token in clear text over a real network: plain http
        is allowed without opting in only when the first hop is this machine (a loopback
        endpoint, reached with no proxy or through a loopback one)."""
        if self.endpoint.secure or self.allow_insecure_http:
            return
        if self.endpoint.is_loopback:
            from ..compat.botocore import environment_proxies, proxy_url_for

            proxies = environment_proxies(self.endpoint.url)
            given = proxies.get("http") or ""
            if "://" in given and not given.lower().startswith(("http:", "https:")):
                return  # no client can use it: the exchange says so (sts/transport.py)
            proxy = proxy_url_for(proxies, self.endpoint.url)
            host = urlsplit(proxy).hostname if proxy else None
            if proxy is None or Endpoint("http", host or "", None).is_loopback:
                return
            hop = f"through the proxy on {host} (HTTP_PROXY)"
        else:
            hop = "to a host that is not a loopback address (127.0.0.0/8, ::1) or localhost"
        raise ConfigurationError(
            f"The endpoint {self.endpoint.url} is plain http {hop}: the OIDC token could "
            "cross the network unencrypted. Use https, list the host in NO_PROXY, or opt "
            "in with allow_insecure_http=True (INFNMINIO_ALLOW_INSECURE_HTTP=1) on a "
            "network you trust."
        )

    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]:
        """Pickled, the settings travel resolved; a default cache folder and a
        ``token_loader`` (which may hold the token) are worked out again where they land."""
        travelling = self
        if self.sources["cache_dir"] == DEFAULT:
            travelling = travelling._replace(cache_dir=None)  # type: ignore[arg-type]
        if self.token_here_only:
            travelling = travelling._replace(token=DISCOVER)
        return (_arrive, (tuple(travelling),))

    def describe(self) -> str:
        """One line for logs and messages; holds no secret."""
        return (
            f"endpoint={self.endpoint.url} server={self.server.name} "
            f"role_arn={self.role_arn or '-'} duration={self.duration_seconds}s "
            f"region={self.region}" + (f" policy={self.policy.name}" if self.policy else "")
        )


def _arrive(fields: Tuple[Any, ...]) -> Settings:
    """Settings unpickled in another process (see :meth:`Settings.__reduce__`)."""
    settings = Settings(*fields)
    if settings.cache_dir is None:
        settings = settings._replace(cache_dir=default_cache_dir(os.environ))
    return settings._replace(token=settings.token._replace(here=False))


def _resolve(
    cls: Any, overrides: Mapping[str, Any], environ: Mapping[str, str], command_line: bool
) -> Settings:
    """The work of :meth:`Settings.resolve`: one pick per setting, recording its source."""
    sources: Dict[str, str] = {}

    def origin(name: str) -> str:
        return _origin(name, sources[name], command_line=command_line)

    def pick(name: str, parse: Callable[[Any, str], Any], fallback: Any = None,
             preset: Any = None) -> Any:
        """The argument, else the variable (parsed), else ``preset``, else ``fallback``."""
        value = overrides.get(name)
        if value is not None:
            sources[name] = ARGUMENT
            return parse(value, origin(name))
        variable = SETTINGS_BY_NAME[name].variable
        text = (environ.get(variable) or "").strip()
        if text:
            sources[name] = ENVIRONMENT
            return parse(text, variable)
        sources[name] = DEFAULT if preset is None else PRESET
        return fallback if preset is None else preset

    def token_choice() -> TokenChoice:
        """The token setting of the highest level naming one (:func:`.hot_path.explicit`)."""
        given = {name: overrides[name] for name in BY_SETTING if overrides.get(name)}
        chosen = explicit(given, environ)
        sources.update(dict.fromkeys(TOKEN_SETTINGS, DEFAULT))
        if chosen is None:
            return DISCOVER
        kind, value, name, level = chosen
        names = value if kind == CONFLICT else (name,)
        sources.update(dict.fromkeys(names, ARGUMENT if level == ARGUMENT else ENVIRONMENT))
        if kind == CONFLICT:
            raise ConfigurationError(
                f"{' and '.join(origin(each) for each in names)} both say where the token "
                f"comes from: set only one of {', '.join(BY_SETTING)}."
            )
        reader = getattr(values, BY_SETTING[name].value)
        return TokenChoice(kind, reader(value, origin(name)), name)

    endpoint = pick("endpoint", values.endpoint) or Endpoint.parse(DEFAULT_ENDPOINT)
    preset = PRESETS.get(endpoint.host)
    server = pick("server_kind", values.server, GENERIC, preset and preset.server)
    duration = pick("duration_seconds", values.integer, DEFAULT_DURATION_SECONDS)
    if not MIN_DURATION_SECONDS <= duration <= server.max_duration_seconds:
        raise ConfigurationError(
            f"duration_seconds={duration} (from {origin('duration_seconds')}) is out "
            f"of range: {server.title} accepts {MIN_DURATION_SECONDS} to "
            f"{server.max_duration_seconds} seconds; the role's maximum may be lower."
        )
    max_attempts = pick("max_attempts", values.integer, default_of("max_attempts"))
    if not 1 <= max_attempts <= MAX_ATTEMPTS:  # each may wait seconds: bounded
        raise ConfigurationError(
            f"max_attempts (from {origin('max_attempts')}) must be 1 to "
            f"{MAX_ATTEMPTS}, not {max_attempts}."
        )
    settings = cls(
        endpoint=endpoint,
        token=token_choice(),
        audience=pick("audience", values.optional_text, None, preset and preset.audience),
        role_arn=pick("role_arn", values.optional_text, None, preset and preset.role_arn),
        role_session_name=pick("role_session_name", values.session_name),
        duration_seconds=duration,
        policy=pick("policy", lambda value, source: values.policy(value, source, server)),
        region=pick("region", values.text, default_of("region")),
        ca_bundle=pick("ca_bundle", values.ca_bundle),
        allow_insecure_http=pick(
            "allow_insecure_http", values.boolean, default_of("allow_insecure_http")
        ),
        timeout=pick("timeout", values.seconds, default_of("timeout")),
        max_attempts=max_attempts,
        cache=pick("cache", values.boolean, default_of("cache")),
        cache_dir=pick("cache_dir", values.path) or os.path.abspath(default_cache_dir(environ)),
        preset=preset,
        sources=sources,
        server=server,
    )
    settings.check_transport()
    return settings


def _origin(name: str, source: str, *, command_line: bool = False) -> str:
    setting = SETTINGS_BY_NAME.get(name)
    if setting is None or source == ARGUMENT:
        return setting.flag if command_line and setting else f"the {name} argument"
    if source == ENVIRONMENT:
        return setting.variable
    return "the endpoint's preset" if source == PRESET else "the default"
