"""polars' private parts (read in polars 1.34 to 2.1)."""

from __future__ import annotations

from typing import Any, Dict


def default_credential_provider() -> Any:
    """What ``pl.Config.set_default_credential_provider`` last set (``"auto"``: nothing).

    polars has no public getter; the setter stores it in
    ``polars.io.cloud.credential_provider._builder.DEFAULT_CREDENTIAL_PROVIDER``.
    """
    try:
        from polars.io.cloud.credential_provider import _builder
    except ImportError:
        return "auto"
    return getattr(_builder, "DEFAULT_CREDENTIAL_PROVIDER", "auto")


def with_endpoint(base: type) -> type:
    """``base`` (``pl.CredentialProviderAWS``) whose endpoint and region come from its
    ``endpoint_options()`` rather than from an AWS profile.

    polars asks a provider for them through ``_storage_update_options()``, called by name
    from its Rust side (since polars 1.30; read in 1.34 to 2.1), and only when the
    caller's storage options (bound as ``_storage_options`` since 2.0) name no endpoint.
    """

    class WithEndpoint(base):  # type: ignore[valid-type,misc]
        def _storage_update_options(self) -> Dict[str, str]:
            if "endpoint" in (getattr(self, "_storage_options", None) or {}):
                return {}
            return self.endpoint_options()  # type: ignore[no-any-return]

    return WithEndpoint
