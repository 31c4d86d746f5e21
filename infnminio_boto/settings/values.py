"""Reading one setting's value: each reader takes the raw value and where it came from,
and names that place when the value is wrong. Paths come out absolute (a later ``chdir``
must not change which token or CA is read).
"""

from __future__ import annotations

import os
import shlex
from typing import Any, Optional, Tuple

from ..errors import ConfigurationError
from .endpoint import Endpoint
from .policy import Policy
from .policy import parse as parse_policy
from .servers import SERVERS, Server

# RoleSessionName: 2 to 64 of these (AWS STS API reference; Ceph RGW checks the same).
SESSION_NAME_CHARACTERS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_=,.@-"
)
SESSION_NAME_LENGTHS = (2, 64)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def endpoint(value: Any, source: str) -> Endpoint:
    try:
        return Endpoint.parse(str(value))
    except ConfigurationError as exc:
        raise ConfigurationError(f"{exc} (from {source})") from None


def path(value: Any, source: str) -> str:
    try:
        text = os.fspath(value)
    except TypeError:
        raise ConfigurationError(f"{source} must be a path, not {type(value).__name__}.") from None
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    return os.path.abspath(os.path.expanduser(text)) if text else text


def text(value: Any, source: str) -> str:
    return str(value).strip()


def optional_text(value: Any, source: str) -> Optional[str]:
    return str(value).strip() or None


def session_name(value: Any, source: str) -> str:
    name, (low, high) = str(value), SESSION_NAME_LENGTHS
    if not (low <= len(name) <= high and set(name) <= SESSION_NAME_CHARACTERS):
        raise ConfigurationError(
            f"role_session_name {name!r} (from {source}) must be 2 to 64 characters of "
            "letters, digits and _=,.@- ."
        )
    return name


def argv(value: Any, source: str) -> Tuple[str, ...]:
    """An argument list: a list or tuple as given, or text split as a POSIX shell would
    (run without a shell: quoting only groups words; ``$VAR``, ``~``, ``|`` mean nothing)."""
    if isinstance(value, (list, tuple)):
        words = tuple(str(word) for word in value)
    else:
        try:
            words = tuple(shlex.split(str(value)))
        except ValueError as exc:
            raise ConfigurationError(
                f"{source} is not a command line ({exc}): quote it as a shell would, e.g. "
                "oidc-token --aud object infncloud."
            ) from None
    if not words or not words[0]:
        raise ConfigurationError(f"{source} is empty: give the command that prints the token.")
    if "/" in words[0] and not words[0].startswith("/"):  # ./get-token: this folder's
        words = (os.path.abspath(os.path.expanduser(words[0])), *words[1:])
    return words


def function(value: Any, source: str) -> Any:
    """A callable that returns the access token (the ``token_loader`` keyword)."""
    if not callable(value):
        raise ConfigurationError(
            f"{source} must be a callable that returns the access token as a string "
            f"(a function, a lambda), not {type(value).__name__}."
        )
    return value


def server(value: Any, source: str) -> Server:
    found = SERVERS.get(str(value).strip().lower())
    if found is None:
        raise ConfigurationError(
            f"{source} is {value!r}: the kinds of server are {', '.join(SERVERS)}."
        )
    return found


def integer(value: Any, source: str) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        return int(str(value).strip())
    except ValueError:
        raise ConfigurationError(f"{source} must be a whole number, not {value!r}.") from None


# A day: longer than any STS answer is worth waiting for (inf would overflow urllib3's timers).
MAX_SECONDS = 86400.0


def seconds(value: Any, source: str) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ConfigurationError(f"{source} must be a number of seconds, not {value!r}.") from None
    if not 0 < number < MAX_SECONDS:  # NaN fails too
        raise ConfigurationError(
            f"{source} must be a positive number of seconds below {MAX_SECONDS:.0f}, "
            f"not {value!r}."
        )
    return number


def boolean(value: Any, source: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigurationError(f"{source} must be 1/0, true/false, yes/no or on/off, not {value!r}.")


def ca_bundle(value: Any, source: str) -> str:
    location = path(value, source)
    if not os.path.isfile(location):
        raise ConfigurationError(
            f"ca_bundle {location!r} (from {source}) is not a file: point it at a PEM file with "
            "the certificate authorities to trust."
        )
    try:
        with open(location, "rb") as handle:
            head = handle.read(1024 * 1024)
    except OSError as exc:
        raise ConfigurationError(
            f"ca_bundle {location!r} (from {source}) cannot be read ({exc.strerror}): fix its "
            "permissions or point ca_bundle / INFNMINIO_CA_BUNDLE at a readable PEM file."
        ) from None
    if b"-----BEGIN CERTIFICATE-----" not in head:
        raise ConfigurationError(
            f"ca_bundle {location!r} (from {source}) holds no PEM certificate (no "
            "'-----BEGIN CERTIFICATE-----' line): point it at the certificate authority's "
            "PEM file, not a key or a DER file."
        )
    return location


def policy(value: Any, source: str, server: Server) -> Optional[Policy]:
    """A session policy (see :mod:`.policy`), checked by ``server``'s rules; "" is none."""
    return parse_policy(value, source, server.policy_problems, server.title)
