"""Trusting a private certificate authority in clients that only read ``SSL_CERT_FILE`` or
the system's (polars, obstore, pyarrow): one PEM file, named after its content, with the
system's authorities and the configured ones (docs/security.md). Inputs are only read."""

from __future__ import annotations

import hashlib
import os
import re
import ssl
import stat
import tempfile
from typing import Dict, List, Mapping, Optional, Sequence

from .. import _files
from .._log import warn, warn_once
from ..errors import ConfigurationError
from ..settings import Settings

__all__ = [
    "CA_BUNDLE_VARIABLES", "system_bundle", "platform_bundle", "combine_bundles",
    "bundle_with_system", "trusted_by_shell", "shell_bundle_variables", "ssl_cert_file_variables",
]

# AWS CLI and SDKs; OpenSSL (curl, git, Python's ssl, rustls-native-certs); requests; curl.
CA_BUNDLE_VARIABLES = ("AWS_CA_BUNDLE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")

# Debian, Ubuntu, Alpine; RHEL, Fedora, Alma; macOS, BSDs.
_DISTRIBUTION_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"
)
# OpenSSL reads "TRUSTED CERTIFICATE" blocks (its auxiliary trust format) too.
_PEM_CERTIFICATE = re.compile(
    rb"-----BEGIN (TRUSTED )?CERTIFICATE-----[A-Za-z0-9+/=\s]*?-----END (TRUSTED )?CERTIFICATE-----"
)


def platform_bundle() -> Optional[str]:
    """The PEM file of authorities the operating system trusts (no variable consulted)."""
    candidates = (ssl.get_default_verify_paths().openssl_cafile, *_DISTRIBUTION_BUNDLES)
    return next((path for path in candidates if path and os.path.isfile(path)), None)


def system_bundle() -> Optional[str]:
    """The PEM file of authorities this machine trusts (``SSL_CERT_FILE`` first)."""
    named = os.environ.get("SSL_CERT_FILE")
    return named if named and os.path.isfile(named) else platform_bundle()


def _certificates(path: str) -> List[bytes]:
    """The PEM certificate blocks in a file, or in the files of a (c_rehash) directory."""
    if os.path.isdir(path):
        files = [os.path.join(path, name) for name in sorted(os.listdir(path))]
        return [block for file in files if os.path.isfile(file) for block in _certificates(file)]
    if os.path.exists(path) and not os.path.isfile(path):  # a FIFO would block, a device never end
        raise OSError("not a regular file")
    with open(path, "rb") as handle:
        return [match.group(0) for match in _PEM_CERTIFICATE.finditer(handle.read())]


def _identity(block: bytes) -> bytes:
    return re.sub(rb"\s", b"", block)


def combine_bundles(bundles: Sequence[str], directory: str) -> str:
    """One PEM file with every certificate of ``bundles`` (files or folders), once each: one
    of them if it holds all, else ``ca-<sha256>.pem`` in ``directory`` (if private to this
    user). Raises :class:`~infnminio_boto.errors.ConfigurationError` for an unreadable one."""
    unique: Dict[bytes, bytes] = {}
    per_file: Dict[str, set] = {}
    for bundle in bundles:
        try:
            blocks = _certificates(bundle)
        except OSError as error:
            raise ConfigurationError(f"Cannot read the CA bundle {bundle}: "
                                     f"{error.strerror or error}.") from None
        per_file.setdefault(bundle, set()).update(_identity(b) for b in blocks)
        for block in blocks:
            unique.setdefault(_identity(block), block)
    for bundle, held in per_file.items():
        if os.path.isfile(bundle) and unique.keys() <= held:
            return bundle
    content = b"\n".join(unique.values()) + b"\n"
    directory = _private_directory(directory)
    path = os.path.join(directory, f"ca-{hashlib.sha256(content).hexdigest()[:16]}.pem")
    if not _holds_exactly(path, content):
        _files.replace(path, content, mode=0o644)  # public certificates only
    return path


def _private_directory(directory: str) -> str:
    """``directory``, else a fallback, that is a folder of this user's nobody else can write."""
    fallback = os.path.join(tempfile.gettempdir(), f"infnminio-boto-{os.geteuid()}")
    for candidate in (directory, fallback):
        try:
            os.makedirs(candidate, mode=0o700, exist_ok=True)
            info = os.lstat(candidate)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022:
            return candidate
        warn(__name__, "Not writing the combined CA bundle in %s: it is not a folder of this "
             "user's that only this user can write", candidate)
    return tempfile.mkdtemp(prefix="infnminio-boto-ca-")


def _holds_exactly(path: str, content: bytes) -> bool:
    """Whether ``path`` is a file of this user's, writable by nobody else, with ``content``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
            return False
        with os.fdopen(os.dup(fd), "rb") as handle:
            return handle.read(len(content) + 1) == content
    finally:
        os.close(fd)


def bundle_with_system(ca_bundle: str, directory: str,
                       trusted: Optional[Sequence[str]] = None) -> str:
    """:func:`combine_bundles` of ``trusted`` (default: the system's) and ``ca_bundle``."""
    if trusted is None:
        system = system_bundle()
        trusted = [system] if system else []
    return combine_bundles([*trusted, ca_bundle], directory)


def trusted_by_shell(environ: Mapping[str, str]) -> List[str]:
    """The bundles :data:`CA_BUNDLE_VARIABLES` name in ``environ``, and the system's when
    one is unset; one naming no file is left out, with a warning."""
    trusted: List[str] = []
    for name in CA_BUNDLE_VARIABLES:
        value = environ.get(name)
        if not value:
            value = platform_bundle()
        elif not os.path.exists(value):
            warn_once((name, value), __name__,
                      "%s=%s names no file; its authorities are left out", name, value)
            continue
        if value and value not in trusted:
            trusted.append(value)
    return trusted


def shell_bundle_variables(ca_bundle: str, directory: str,
                           environ: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """:data:`CA_BUNDLE_VARIABLES`, all naming one bundle in ``directory`` with what they
    named in ``environ`` (default ``os.environ``) and ``ca_bundle``'s authorities."""
    trusted = trusted_by_shell(os.environ if environ is None else environ)
    path = combine_bundles([*trusted, ca_bundle], directory)
    return dict.fromkeys(CA_BUNDLE_VARIABLES, path)


def ssl_cert_file_variables(settings: Settings) -> Dict[str, str]:
    """``{"SSL_CERT_FILE": ...}`` when ``settings`` has a CA bundle, else nothing."""
    if not settings.ca_bundle:
        return {}
    return {"SSL_CERT_FILE": bundle_with_system(settings.ca_bundle, settings.cache_dir)}
