"""polars: ``storage_options``, a refreshing ``credential_provider``, and polars' activation.

``polars_storage_options()`` holds the current keys (polars does not refresh them);
``polars_credential_provider()`` is a callable polars calls again when the keys it got
are about to expire: pass both, the provider for the keys and the options for the
endpoint. ``activate()`` makes a provider of ours polars' default (docs/activate.md).
"""

from __future__ import annotations

from typing import Any, Dict, MutableMapping, Optional, Tuple

from ..compat import polars as polars_private
from ..integrations.ca_trust import ssl_cert_file_variables
from ..settings import Settings
from . import PROCESS_ENVIRONMENT, Keywords, RefreshingProvider, resolve, set_variables, snapshot
from .activate import Activation, Activator, Context

__all__ = [
    "polars_storage_options",
    "polars_credential_provider",
    "PolarsCredentialProvider",
]


def _endpoint_options(settings: Settings) -> Dict[str, str]:
    return {
        "aws_endpoint_url": settings.endpoint.url,
        "aws_region": settings.region,
        "aws_allow_http": "false" if settings.endpoint.secure else "true",
        "aws_virtual_hosted_style_request": "false",
    }


def polars_storage_options(
    *,
    keys: bool = True,
    environ: Optional[MutableMapping[str, str]] = PROCESS_ENVIRONMENT,
    **settings: Any,
) -> Dict[str, str]:
    """``storage_options`` for polars' ``read_*``/``scan_*``/``write_*`` on S3.

    With ``keys=False`` only the endpoint options, for use with
    :func:`polars_credential_provider`. polars takes no CA argument: with a
    ``ca_bundle`` set, ``SSL_CERT_FILE`` in ``environ`` (default: this process's
    environment; None leaves it alone) is pointed at a bundle holding the system's
    authorities and that one, before polars' first S3 access.
    """
    resolved = resolve(settings)
    set_variables(ssl_cert_file_variables(resolved), environ)
    options = Keywords(_endpoint_options(resolved))
    if keys:
        credentials = snapshot(resolved)
        options.update(
            aws_access_key_id=credentials.access_key,
            aws_secret_access_key=credentials.secret_key,
            aws_session_token=credentials.token,
        )
    return options


class PolarsCredentialProvider(RefreshingProvider):
    """A polars credential provider: returns ``(keys, expiry)`` and is called on expiry.

    The expiry given to polars is the start of our advisory refresh window, so polars
    asks again while the keys it has are still good (obstore is told the same).
    """

    def __call__(self) -> Tuple[Dict[str, str], Optional[int]]:
        keys = self.refresher.get()
        ask_again = self.refresher.next_refresh
        return (
            {
                "aws_access_key_id": keys.access_key,
                "aws_secret_access_key": keys.secret_key,
                "aws_session_token": keys.token,
            },
            int(ask_again.timestamp()) if ask_again is not None else None,
        )


def polars_credential_provider(**settings: Any) -> PolarsCredentialProvider:
    """A refreshing ``credential_provider`` for polars."""
    return PolarsCredentialProvider(resolve(settings))


def activated_provider(settings: Settings) -> Any:
    """An ``ActivatedPolarsProvider`` (importing polars)."""
    return __getattr__("ActivatedPolarsProvider")(settings)


def __getattr__(name: str) -> Any:
    # ActivatedPolarsProvider subclasses polars' own class: defined (and polars imported)
    # on first use, and kept here under its name so that pickle finds it.
    if name == "ActivatedPolarsProvider":
        cls = _activated_provider_class()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _activated_provider_class() -> type:
    import polars as pl

    class ActivatedPolarsProvider(polars_private.with_endpoint(pl.CredentialProviderAWS)):  # type: ignore[misc]
        """polars' default credential provider after :func:`infnminio_boto.activate`.

        A ``pl.CredentialProviderAWS`` because polars asks only those for an endpoint,
        which comes from the settings (a caller's own storage-options endpoint wins). The
        keys come from our refreshing credentials as one consistent set: polars' own
        class reads botocore's three parts one by one, and short keys can be renewed
        between the reads (a mismatched set, HTTP 403).
        """

        infnminio_activation = True

        def __init__(self, settings: Settings) -> None:
            super().__init__()
            self._keys = PolarsCredentialProvider(settings)

        def endpoint_options(self) -> Dict[str, str]:
            settings = self._keys.settings
            return {"endpoint_url": settings.endpoint.url, "region": settings.region}

        def retrieve_credentials_impl(self) -> Tuple[Dict[str, str], Optional[int]]:
            return self._keys()

        def __reduce__(self) -> Any:
            return (activated_provider, (self._keys.settings,))

        def __repr__(self) -> str:
            return f"ActivatedPolarsProvider({self._keys.settings.describe()})"

    ActivatedPolarsProvider.__module__ = __name__
    return ActivatedPolarsProvider


def _apply(activation: Activation, context: Context) -> Optional[str]:
    import warnings

    import polars as pl

    if not hasattr(pl.Config, "set_default_credential_provider"):
        # A polars older than the extra asks for (pip install polars alone may keep one).
        return (
            f"polars {pl.__version__} has no default credential provider (it came in polars "
            "1.34): pip install 'polars>=1.34', or pass credential_provider="
            "infnminio_boto.polars_credential_provider() to each call"
        )
    previous: Any = polars_private.default_credential_provider()
    if previous != "auto" and not getattr(previous, "infnminio_activation", False):
        return "a default credential provider of yours is set (pl.Config)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # polars calls these "unstable"
        pl.Config.set_default_credential_provider(activated_provider(context.settings))

    def restore() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pl.Config.set_default_credential_provider(previous)

    activation.changed(
        "polars", "pl.Config.set_default_credential_provider(ActivatedPolarsProvider)", restore
    )
    return None


ACTIVATOR = Activator(needs="polars", apply=_apply, trust=True)
