"""One resolved configuration value shared by every entry point.

Precedence, highest first: explicit keyword argument, ``INFNMINIO_*`` environment
variable, the preset of the endpoint's host, the built-in default. An explicit empty
``role_arn=""`` means "send no RoleArn" even where the preset has one.

This module is on the credential_process hot path: standard library only, and
collections.namedtuple rather than dataclasses (which import ``inspect``, 10 ms) or
typing.NamedTuple (``typing``, 3 ms).
"""

from __future__ import annotations

import os
import re
from collections import namedtuple
from urllib.parse import urlsplit

from .errors import ConfigurationError

# typing costs 3 ms of import time on the credential_process hot path; the
# annotations are strings (PEP 563), so the names are needed by type checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, Mapping, Optional, Tuple

__all__ = ["Endpoint", "Preset", "Settings", "PRESETS", "DEFAULT_ENDPOINT", "SETTING_NAMES"]

DEFAULT_ENDPOINT = "rgw.cloud.infn.it"
DEFAULT_DURATION_SECONDS = 3600
DEFAULT_REGION = "us-east-1"
DEFAULT_TIMEOUT_SECONDS = 15.0
DEFAULT_MAX_ATTEMPTS = 3
# AssumeRoleWithWebIdentity accepts 900 s at the least everywhere; MinIO allows a year,
# RGW the role's MaxSessionDuration (at most 43200 s). The server has the last word.
MIN_DURATION_SECONDS = 900
MAX_DURATION_SECONDS = 365 * 24 * 3600


class Preset(namedtuple("Preset", "role_arn server max_duration_seconds", defaults=(None,))):
    """What is known about a production endpoint.

    ``server`` is ``"rgw"`` or ``"minio"`` (it words error messages).
    """

    __slots__ = ()
    role_arn: Optional[str]
    server: str
    max_duration_seconds: Optional[int]


PRESETS: Dict[str, Preset] = {
    "rgw.cloud.infn.it": Preset(
        role_arn="arn:aws:iam:::role/IAMaccess", server="rgw", max_duration_seconds=43200
    ),
    # Claim-based MinIO policies: a RoleArn would be rejected by older servers.
    "minio.cloud.infn.it": Preset(role_arn=None, server="minio"),
}

# keyword -> environment variable
SETTING_NAMES: Dict[str, str] = {
    "endpoint": "INFNMINIO_ENDPOINT",
    "token_file": "INFNMINIO_TOKEN_FILE",
    "role_arn": "INFNMINIO_ROLE_ARN",
    "role_session_name": "INFNMINIO_ROLE_SESSION_NAME",
    "duration_seconds": "INFNMINIO_DURATION_SECONDS",
    "region": "INFNMINIO_REGION",
    "ca_bundle": "INFNMINIO_CA_BUNDLE",
    "allow_insecure_http": "INFNMINIO_ALLOW_INSECURE_HTTP",
    "timeout": "INFNMINIO_TIMEOUT",
    "max_attempts": "INFNMINIO_MAX_ATTEMPTS",
    "cache": "INFNMINIO_CACHE",
    "cache_dir": "INFNMINIO_CACHE_DIR",
}

_SESSION_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_=,.@-]{2,64}$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Endpoint(namedtuple("Endpoint", "scheme host port")):
    """An object-store endpoint, normalised from ``host``, ``host:port`` or a URL."""

    __slots__ = ()
    scheme: str
    host: str
    port: Optional[int]

    @classmethod
    def parse(cls, value: str) -> Endpoint:
        text = value.strip()
        if not text:
            raise ConfigurationError("The endpoint is empty: set it to a host name or URL.")
        if "://" not in text:
            text = "https://" + text
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError as exc:
            raise ConfigurationError(
                f"The endpoint {value!r} is not a valid host, host:port or URL ({exc})."
            ) from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise ConfigurationError(
                f"The endpoint {value!r} uses the scheme {scheme!r}: use http or https."
            )
        if not parts.hostname:
            raise ConfigurationError(f"The endpoint {value!r} has no host name.")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ConfigurationError(
                f"The endpoint {value!r} has a path or query: give only the scheme, "
                "host and port, e.g. https://rgw.cloud.infn.it."
            )
        if parts.username or parts.password:
            raise ConfigurationError(
                "The endpoint has credentials in it: give only the scheme, host and port."
            )
        default_port = 443 if scheme == "https" else 80
        return cls(scheme, parts.hostname.lower(), None if port == default_port else port)

    @property
    def netloc(self) -> str:
        """``host`` or ``host:port`` as HTTP clients want it (IPv6 in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.netloc}"

    @property
    def secure(self) -> bool:
        return self.scheme == "https"

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost" or self.host.endswith(".localhost"):
            return True
        import ipaddress  # rarely needed: keep it off the credential_process hot path

        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def __str__(self) -> str:
        return self.url


def default_token_files(environ: Mapping[str, str]) -> Tuple[str, ...]:
    """The token files tried, in order, when none is configured."""
    candidates = []
    home = environ.get("HOME") or os.path.expanduser("~")
    candidates.append(os.path.join(home, ".token"))
    candidates.append("/home/.token")  # where sts-wire writes it on INFN's JupyterHub
    return tuple(dict.fromkeys(candidates))


_SETTINGS_FIELDS = (
    "endpoint token_files token_file_configured role_arn role_session_name duration_seconds "
    "region ca_bundle allow_insecure_http timeout max_attempts preset cache cache_dir"
)


class Settings(namedtuple("Settings", _SETTINGS_FIELDS, defaults=(True, None))):
    """The resolved configuration. Build it with :meth:`Settings.resolve`.

    ``token_files`` is the one configured path, or the default locations in order;
    ``role_session_name`` None means "derived from the token's subject"; ``cache_dir``
    is where the cross-process cache lives.
    """

    __slots__ = ()
    endpoint: Endpoint
    token_files: Tuple[str, ...]
    token_file_configured: bool
    role_arn: Optional[str]
    role_session_name: Optional[str]
    duration_seconds: int
    region: str
    ca_bundle: Optional[str]
    allow_insecure_http: bool
    timeout: float
    max_attempts: int
    preset: Optional[Preset]
    cache: bool
    cache_dir: Optional[str]

    @classmethod
    def resolve(cls, environ: Optional[Mapping[str, str]] = None, **overrides: object) -> Settings:
        """Combine keyword arguments, ``INFNMINIO_*`` variables, presets and defaults.

        Keyword arguments set to ``None`` count as not given.
        """
        unknown = sorted(set(overrides) - set(SETTING_NAMES))
        if unknown:
            raise ConfigurationError(
                f"Unknown setting(s) {', '.join(unknown)}; the settings are "
                f"{', '.join(SETTING_NAMES)}."
            )
        env = os.environ if environ is None else environ

        def pick(name: str) -> Tuple[Optional[object], str]:
            value = overrides.get(name)
            if value is not None:
                return value, f"the {name} argument"
            variable = SETTING_NAMES[name]
            text = env.get(variable)
            if text is not None and text.strip() != "":
                return text.strip(), variable
            return None, ""

        endpoint_value, endpoint_source = pick("endpoint")
        endpoint_text = str(endpoint_value) if endpoint_value is not None else DEFAULT_ENDPOINT
        try:
            endpoint = Endpoint.parse(endpoint_text)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{exc} (from {endpoint_source or 'the default'})") from None
        preset = PRESETS.get(endpoint.host)

        token_file, _ = pick("token_file")
        if token_file is not None:
            token_files: Tuple[str, ...] = (os.path.expanduser(os.fspath(token_file)),)  # type: ignore[arg-type]
        else:
            token_files = default_token_files(env)

        role_arn_value = overrides.get("role_arn")
        if role_arn_value is not None:
            role_arn: Optional[str] = str(role_arn_value).strip() or None
        else:
            env_arn, _ = pick("role_arn")
            role_arn = (
                str(env_arn) if env_arn is not None else (preset.role_arn if preset else None)
            )

        session_name_value, session_source = pick("role_session_name")
        role_session_name = None
        if session_name_value is not None:
            role_session_name = str(session_name_value)
            if not _SESSION_NAME_PATTERN.match(role_session_name):
                raise ConfigurationError(
                    f"role_session_name {role_session_name!r} (from {session_source}) must be 2 "
                    "to 64 characters of letters, digits and _=,.@- ."
                )

        duration = _integer(pick("duration_seconds"), DEFAULT_DURATION_SECONDS)
        upper = preset.max_duration_seconds if preset and preset.max_duration_seconds else None
        if duration < MIN_DURATION_SECONDS or duration > (upper or MAX_DURATION_SECONDS):
            limit = upper or MAX_DURATION_SECONDS
            raise ConfigurationError(
                f"duration_seconds={duration} is out of range: AssumeRoleWithWebIdentity "
                f"accepts {MIN_DURATION_SECONDS} to {limit} seconds here"
                + (f" ({endpoint.host} allows at most {limit})" if upper else "")
                + "; the role's MaxSessionDuration (3600 unless raised) may be lower."
            )

        region_value, _ = pick("region")
        region = str(region_value) if region_value is not None else DEFAULT_REGION

        ca_value, ca_source = pick("ca_bundle")
        ca_bundle = None
        if ca_value is not None:
            ca_bundle = os.path.expanduser(os.fspath(ca_value))  # type: ignore[arg-type]
            if not os.path.isfile(ca_bundle):
                raise ConfigurationError(
                    f"ca_bundle {ca_bundle!r} (from {ca_source}) is not a file: point it at "
                    "a PEM file with the certificate authorities to trust."
                )

        allow_http = _boolean(pick("allow_insecure_http"))
        timeout = _number(pick("timeout"), DEFAULT_TIMEOUT_SECONDS)
        max_attempts = _integer(pick("max_attempts"), DEFAULT_MAX_ATTEMPTS)
        if max_attempts < 1:
            raise ConfigurationError("max_attempts must be at least 1.")

        cache_value = pick("cache")
        use_cache = True if cache_value[0] is None else _boolean(cache_value)
        cache_dir_value, _ = pick("cache_dir")
        cache_dir = (
            os.path.expanduser(os.fspath(cache_dir_value))  # type: ignore[arg-type]
            if cache_dir_value is not None
            else None
        )
        if cache_dir is None and (env.get("XDG_CACHE_HOME") or "").strip():
            cache_dir = os.path.join(env["XDG_CACHE_HOME"], "infnminio-boto")
        if cache_dir is None:
            home = env.get("HOME") or os.path.expanduser("~")
            cache_dir = os.path.join(home, ".cache", "infnminio-boto")

        settings = cls(
            endpoint=endpoint,
            token_files=token_files,
            token_file_configured=token_file is not None,
            role_arn=role_arn,
            role_session_name=role_session_name,
            duration_seconds=duration,
            region=region,
            ca_bundle=ca_bundle,
            allow_insecure_http=allow_http,
            timeout=timeout,
            max_attempts=max_attempts,
            preset=preset,
            cache=use_cache,
            cache_dir=cache_dir,
        )
        settings.check_transport()
        return settings

    def check_transport(self) -> None:
        """Refuse to send a bearer token in clear text over a real network."""
        if self.endpoint.secure or self.endpoint.is_loopback or self.allow_insecure_http:
            return
        raise ConfigurationError(
            f"The endpoint {self.endpoint.url} is plain http on a host that is not this "
            "machine: the OIDC token would cross the network unencrypted. Use https, or "
            "opt in with allow_insecure_http=True (INFNMINIO_ALLOW_INSECURE_HTTP=1) on a "
            "network you trust."
        )

    @property
    def server_kind(self) -> Optional[str]:
        """``"rgw"``, ``"minio"`` or None when the endpoint has no preset."""
        return self.preset.server if self.preset else None

    def describe(self) -> str:
        """One line for logs and messages; holds no secret."""
        return (
            f"endpoint={self.endpoint.url} role_arn={self.role_arn or '-'} "
            f"duration={self.duration_seconds}s region={self.region}"
        )


def _integer(picked: Tuple[Optional[object], str], default: int) -> int:
    value, source = picked
    if value is None:
        return default
    if isinstance(value, bool):
        raise ConfigurationError(f"{source} must be a whole number, not {value!r}.")
    try:
        return int(str(value).strip())
    except ValueError:
        raise ConfigurationError(f"{source} must be a whole number, not {value!r}.") from None


def _number(picked: Tuple[Optional[object], str], default: float) -> float:
    value, source = picked
    if value is None:
        return default
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ConfigurationError(f"{source} must be a number of seconds, not {value!r}.") from None
    if number <= 0:
        raise ConfigurationError(f"{source} must be positive, not {value!r}.")
    return number


def _boolean(picked: Tuple[Optional[object], str]) -> bool:
    value, source = picked
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigurationError(f"{source} must be 1/0, true/false, yes/no or on/off, not {value!r}.")
