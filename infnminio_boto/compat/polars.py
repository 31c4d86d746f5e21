"""polars' private parts (read in polars 1.34 to 2.1)."""

from __future__ import annotations

from typing import Any, Dict


def default_credential_provider() -> Any:
    """What ``pl.Config.set_default_credential_provider`` last set (``"auto"``: nothing),
    from ``polars.io.cloud.credential_provider._builder.DEFAULT_CREDENTIAL_PROVIDER``."""
    try:
        from polars.io.cloud.credential_provider import _builder
    except ImportError:
        return "auto"
    return getattr(_builder, "DEFAULT_CREDENTIAL_PROVIDER", "auto")


def with_endpoint(base: type) -> type:
    """``base`` (``pl.CredentialProviderAWS``) whose endpoint and region come from its
    ``endpoint_options()``: polars' Rust side calls ``_storage_update_options()`` (since
    1.30) when the caller's storage options (``_storage_options``, 2.0) name no endpoint."""

    class WithEndpoint(base):  # type: ignore[valid-type,misc]
        def _storage_update_options(self) -> Dict[str, str]:
            if "endpoint" in (getattr(self, "_storage_options", None) or {}):
                return {}
            return self.endpoint_options()  # type: ignore[no-any-return]

    return WithEndpoint
