"""What the sandbox needs, checked before anything is started or written."""

from __future__ import annotations

from .ceph import SandboxUnavailableError, require_ceph

__all__ = ["SandboxExtraMissingError", "require"]


class SandboxExtraMissingError(SandboxUnavailableError):
    """The ``sandbox`` extra (PyJWT, cryptography) is not installed."""


def require() -> None:
    """Check everything the sandbox needs before anything is started or written.

    Raises :class:`SandboxExtraMissingError` or :class:`CephNotInstalledError`, whose
    messages say how to install what is missing.
    """
    missing = []
    for module, package in (("jwt", "PyJWT"), ("cryptography", "cryptography")):
        try:
            __import__(module)
        except ImportError:
            missing.append(package)
    if missing:
        from ..errors import install_command

        raise SandboxExtraMissingError(
            f"The sandbox needs {' and '.join(missing)}, which are not installed: "
            f"{install_command('sandbox')}"
        )
    require_ceph()
