"""One resolved configuration value shared by every entry point.

Precedence, highest first: explicit keyword argument (or command-line flag),
``INFNMINIO_*`` environment variable, the preset of the endpoint's host, the built-in
default. An explicit empty ``role_arn=""`` means "send no RoleArn" even where the preset
has one. Which settings exist, their variables, flags, defaults and words come from
:mod:`.table`; :class:`Settings` records where each value came from, for ``doctor`` and
for the profile ``configure`` writes.

Where the token comes from is one choice among ``token_file``, ``token_command`` and
``oidc_agent_account``: the highest level that names one wins (an argument or flag over
the variables), two at the same level are a :class:`~infnminio_boto.ConfigurationError`,
and none means the discovery order of :mod:`infnminio_boto.sources`, applied when the
token is read, in the process that reads it (so a Dask worker looks on its own machine).
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Mapping, NamedTuple, Optional, Tuple, Union

from ..errors import ConfigurationError
from . import values
from .endpoint import DEFAULT_ENDPOINT, PRESETS, Endpoint, Preset
from .hot_path import CONFLICT, EXPLICIT, default_cache_dir, explicit
from .policy import Policy
from .table import SETTINGS, Default, default_of, default_text, flag, variable

__all__ = [
    "Endpoint",
    "Policy",
    "Preset",
    "Settings",
    "Setting",
    "PRESETS",
    "DEFAULT_ENDPOINT",
    "SETTING_NAMES",
    "SETTINGS_BY_NAME",
    "TOKEN_SETTINGS",
    "TokenChoice",
    "default_cache_dir",
]

DEFAULT_DURATION_SECONDS = int(default_of("duration_seconds"))  # type: ignore[arg-type]
# AssumeRoleWithWebIdentity accepts 900 s at the least everywhere; MinIO allows a year,
# RGW the role's MaxSessionDuration (at most 43200 s). The server has the last word.
MIN_DURATION_SECONDS = 900
MAX_DURATION_SECONDS = 365 * 24 * 3600

# Where a value came from, highest precedence first.
ARGUMENT = "argument"
ENVIRONMENT = "environment"
PRESET = "preset"
DEFAULT = "default"


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
    row.name: Setting(
        row.name,
        row.kind,
        row.default,
        default_text(row),
        row.description,
        variable=variable(row.name),
        flag=flag(row.name),
    )
    for row in SETTINGS
}
# keyword -> environment variable
SETTING_NAMES: Dict[str, str] = {name: s.variable for name, s in SETTINGS_BY_NAME.items()}


class TokenChoice(NamedTuple):
    """Where the token comes from, as the settings say.

    ``kind`` is ``"file"`` (``value``: the path), ``"command"`` (``value``: the argument
    list), ``"oidc-agent"`` (``value``: the account) or ``"discover"`` (``value`` None:
    the discovery order, see :mod:`infnminio_boto.sources`). ``setting`` names the
    setting that chose it (None for discovery). Holds no secret: it travels with the
    settings to Dask workers. ``here`` is false once it has travelled to another process:
    a file named on another machine is read under the rules of a file nobody named
    here (it must be this user's, and nobody else's to write).
    """

    kind: str
    value: Union[str, Tuple[str, ...], None] = None
    setting: Optional[str] = None
    here: bool = True


DISCOVER = TokenChoice("discover")
_TOKEN_KINDS = dict(EXPLICIT)
# The settings that say where the token comes from (see :func:`.hot_path.explicit`).
TOKEN_SETTINGS = tuple(_TOKEN_KINDS)


class Settings(NamedTuple):
    """The resolved configuration. Build it with :meth:`Settings.resolve`.

    ``token`` says where the token comes from (:class:`TokenChoice`);
    ``role_session_name`` None means "derived from the token's subject"; ``policy`` is
    the session policy sent (None: none, the keys may do all the role allows); ``sources``
    maps every setting's name to where its value came from (``"argument"``,
    ``"environment"``, ``"preset"`` or ``"default"``).
    """

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

    @classmethod
    def resolve(
        cls,
        environ: Optional[Mapping[str, str]] = None,
        *,
        command_line: bool = False,
        **overrides: Any,
    ) -> Settings:
        """Combine keyword arguments, ``INFNMINIO_*`` variables, presets and defaults.

        Keyword arguments set to ``None`` count as not given. ``command_line``: they came
        from flags, and errors name the flag (``--duration-seconds``). Raises
        :class:`~infnminio_boto.ConfigurationError` naming the setting and where it came
        from.
        """
        unknown = sorted(set(overrides) - set(SETTINGS_BY_NAME))
        if unknown:
            raise ConfigurationError(
                f"Unknown setting(s) {', '.join(unknown)}; the settings are "
                f"{', '.join(SETTINGS_BY_NAME)}."
            )
        env = os.environ if environ is None else environ
        return _Resolution(overrides, env, command_line).settings(cls)

    @property
    def token_configured(self) -> bool:
        """Whether a setting names the token's source (rather than the discovery order)."""
        return self.token.kind != "discover"

    @property
    def server_kind(self) -> Optional[str]:
        """``"rgw"``, ``"minio"`` or None when the endpoint has no preset."""
        return self.preset.server if self.preset else None

    def given(self) -> Tuple[str, ...]:
        """The names of the settings set by argument or environment variable."""
        return tuple(
            name for name in SETTINGS_BY_NAME if self.sources[name] in (ARGUMENT, ENVIRONMENT)
        )

    def origin(self, name: str, *, command_line: bool = False) -> str:
        """Where ``name`` came from, in words: a flag, a variable, the preset or the default."""
        return _origin(name, self.sources[name], command_line=command_line)

    def check_transport(self) -> None:
        """Refuse to send a bearer token in clear text over a real network.

        Plain http is allowed without opting in only to a loopback address or
        ``localhost`` (see :attr:`Endpoint.is_loopback`).
        """
        if self.endpoint.secure or self.endpoint.is_loopback or self.allow_insecure_http:
            return
        raise ConfigurationError(
            f"The endpoint {self.endpoint.url} is plain http to a host that is not a "
            "loopback address (127.0.0.0/8, ::1) or localhost: the OIDC token could cross "
            "the network unencrypted. Use https, or "
            "opt in with allow_insecure_http=True (INFNMINIO_ALLOW_INSECURE_HTTP=1) on a "
            "network you trust."
        )

    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]:
        """Pickled (for a Dask worker, a process pool), the settings travel resolved: the
        endpoint, role and every other value as this process resolved them, whatever the
        other process's ``INFNMINIO_*`` variables say. What belongs to the machine is
        worked out again there: a default cache folder (that machine's home), and the
        token found by the discovery order (in that machine's environment). Nothing
        secret is in the settings to travel."""
        local_cache = self.sources["cache_dir"] == DEFAULT
        travelling = self._replace(cache_dir=None) if local_cache else self  # type: ignore[arg-type]
        return (_arrive, (tuple(travelling),))

    def describe(self) -> str:
        """One line for logs and messages; holds no secret."""
        return (
            f"endpoint={self.endpoint.url} role_arn={self.role_arn or '-'} "
            f"duration={self.duration_seconds}s region={self.region}"
            + (f" policy={self.policy.name}" if self.policy else "")
        )


def _arrive(fields: Tuple[Any, ...]) -> Settings:
    """Settings unpickled in another process (see :meth:`Settings.__reduce__`)."""
    settings = Settings(*fields)
    if settings.cache_dir is None:
        settings = settings._replace(cache_dir=default_cache_dir(os.environ))
    return settings._replace(token=settings.token._replace(here=False))


class _Resolution:
    """The work of :meth:`Settings.resolve`: one pick per setting, recording its source."""

    def __init__(
        self, overrides: Mapping[str, Any], environ: Mapping[str, str], command_line: bool
    ) -> None:
        self.overrides = overrides
        self.environ = environ
        self.command_line = command_line
        self.sources: Dict[str, str] = {}

    def pick(self, name: str, parse: Callable[[Any, str], Any], fallback: Any) -> Any:
        """The argument, else the variable, else ``fallback`` (a default), parsed."""
        value = self.overrides.get(name)
        if value is not None:
            self.sources[name] = ARGUMENT
            return parse(value, _origin(name, ARGUMENT, command_line=self.command_line))
        setting = SETTINGS_BY_NAME[name]
        text = self.environ.get(setting.variable)
        if text is not None and text.strip() != "":
            self.sources[name] = ENVIRONMENT
            return parse(text.strip(), setting.variable)
        self.sources[name] = DEFAULT
        return fallback

    def settings(self, cls: type) -> Settings:
        endpoint = self.pick("endpoint", values.endpoint, None)
        if endpoint is None:
            endpoint = Endpoint.parse(DEFAULT_ENDPOINT)
        preset = PRESETS.get(endpoint.host)

        token = self.token_choice()

        audience = self.pick("audience", values.optional_text, None)
        if self.sources["audience"] == DEFAULT and preset is not None and preset.audience:
            audience = preset.audience
            self.sources["audience"] = PRESET

        role_arn = self.pick("role_arn", values.optional_text, None)
        if self.sources["role_arn"] == DEFAULT and preset is not None and preset.role_arn:
            role_arn = preset.role_arn
            self.sources["role_arn"] = PRESET

        duration = self.pick("duration_seconds", values.integer, DEFAULT_DURATION_SECONDS)
        upper = preset.max_duration_seconds if preset else None
        if not MIN_DURATION_SECONDS <= duration <= (upper or MAX_DURATION_SECONDS):
            limit = upper or MAX_DURATION_SECONDS
            raise ConfigurationError(
                f"duration_seconds={duration} (from {self._origin('duration_seconds')}) is out "
                f"of range: AssumeRoleWithWebIdentity accepts {MIN_DURATION_SECONDS} to "
                f"{limit} seconds here"
                + (f" ({endpoint.host} allows at most {limit})" if upper else "")
                + "; the role's MaxSessionDuration (3600 unless raised) may be lower."
            )

        max_attempts = self.pick("max_attempts", values.integer, default_of("max_attempts"))
        if max_attempts < 1:
            raise ConfigurationError(
                f"max_attempts (from {self._origin('max_attempts')}) must be at least 1."
            )

        settings = cls(
            endpoint=endpoint,
            token=token,
            audience=audience,
            role_arn=role_arn,
            role_session_name=self.pick("role_session_name", values.session_name, None),
            duration_seconds=duration,
            policy=self.pick("policy", values.policy, None),
            region=self.pick("region", values.text, default_of("region")),
            ca_bundle=self.pick("ca_bundle", values.ca_bundle, None),
            allow_insecure_http=self.pick(
                "allow_insecure_http", values.boolean, default_of("allow_insecure_http")
            ),
            timeout=self.pick("timeout", values.seconds, default_of("timeout")),
            max_attempts=max_attempts,
            cache=self.pick("cache", values.boolean, default_of("cache")),
            cache_dir=self.pick("cache_dir", values.path, None) or default_cache_dir(self.environ),
            preset=preset,
            sources=self.sources,
        )
        settings.check_transport()
        return settings

    def token_choice(self) -> TokenChoice:
        """The token setting of the highest level that names one (the rule of
        :func:`.hot_path.explicit`); two there are an error."""
        given = {name: self.overrides[name] for name in TOKEN_SETTINGS if self.overrides.get(name)}
        chosen = explicit(given, self.environ)
        for name in TOKEN_SETTINGS:
            self.sources[name] = DEFAULT
        if chosen is None:
            return DISCOVER
        kind, value, name, level = chosen
        names = value if kind == CONFLICT else (name,)
        for each in names:
            self.sources[each] = ARGUMENT if level == "argument" else ENVIRONMENT
        if kind == CONFLICT:
            named = " and ".join(self._origin(each) for each in names)
            raise ConfigurationError(
                f"{named} both say where the token comes from: set only one of "
                "token_file, token_command and oidc_agent_account."
            )
        source = self._origin(name)
        reader: Dict[str, Callable[[Any, str], Any]] = {
            "token_file": values.path,
            "token_command": values.command,
        }
        parsed = reader.get(name, values.text)(value, source)
        return TokenChoice(_TOKEN_KINDS[name], parsed, name)

    def _origin(self, name: str) -> str:
        return _origin(name, self.sources[name], command_line=self.command_line)


def _origin(name: str, source: str, *, command_line: bool = False) -> str:
    setting = SETTINGS_BY_NAME[name]
    if source == ARGUMENT:
        return setting.flag if command_line else f"the {name} argument"
    if source == ENVIRONMENT:
        return setting.variable
    if source == PRESET:
        return "the endpoint's preset"
    return "the default"
