"""polars: ``storage_options`` (the current keys, not refreshed), a refreshing
``credential_provider`` (pass both: the provider for the keys, the options for the
endpoint), and polars' activation (docs/clients.md, docs/activate.md)."""

from __future__ import annotations

import warnings
from typing import Any, Dict, MutableMapping, Optional, Tuple

from ..compat import polars as polars_private
from ..integrations.ca_trust import ssl_cert_file_variables
from ..settings import Settings
from ..sts.temporary_credentials import TemporaryCredentials
from . import PROCESS_ENVIRONMENT, Keywords, RefreshingProvider, snapshot
from .activate import Activation, Activator, Context

__all__ = ["polars_storage_options", "polars_credential_provider", "PolarsCredentialProvider"]


def _endpoint_options(settings: Settings) -> Dict[str, str]:
    return {"aws_endpoint_url": settings.endpoint.url, "aws_region": settings.region,
            "aws_allow_http": "false" if settings.endpoint.secure else "true",
            "aws_virtual_hosted_style_request": "false"}


def _aws_keys(keys: TemporaryCredentials) -> Dict[str, str]:
    return {"aws_access_key_id": keys.access_key, "aws_secret_access_key": keys.secret_key,
            "aws_session_token": keys.token}


def polars_storage_options(*, keys: bool = True,
                           environ: Optional[MutableMapping[str, str]] = PROCESS_ENVIRONMENT,
                           **settings: Any) -> Dict[str, str]:
    """``storage_options`` for polars' ``read_*``/``scan_*``/``write_*`` on S3 (``keys=False``:
    the endpoint only). With a ``ca_bundle``, ``SSL_CERT_FILE`` in ``environ`` (None: left
    alone) names a bundle of it and the system's authorities (polars takes no CA argument)."""
    resolved = Settings.resolve(**settings)
    variables = ssl_cert_file_variables(resolved)
    if environ is not None:
        environ.update(variables)
    options = Keywords(_endpoint_options(resolved))
    if keys:
        options.update(_aws_keys(snapshot(resolved)))
    return options


class PolarsCredentialProvider(RefreshingProvider):
    """A polars credential provider: returns ``(keys, expiry)``, the expiry being the start
    of our refresh window (polars asks again while its keys are still good)."""

    def __call__(self) -> Tuple[Dict[str, str], Optional[int]]:
        keys = self.refresher.get()
        ask_again = self.refresher.next_refresh
        return _aws_keys(keys), int(ask_again.timestamp()) if ask_again is not None else None


def polars_credential_provider(**settings: Any) -> PolarsCredentialProvider:
    """A refreshing ``credential_provider`` for polars."""
    return PolarsCredentialProvider(Settings.resolve(**settings))


def activated_provider(settings: Settings) -> Any:
    return __getattr__("ActivatedPolarsProvider")(settings)


def __getattr__(name: str) -> Any:
    # It subclasses polars' class: defined on first use, kept here by name for pickle.
    if name != "ActivatedPolarsProvider":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import polars as pl

    class ActivatedPolarsProvider(polars_private.with_endpoint(pl.CredentialProviderAWS)):  # type: ignore[misc]
        """polars' default credential provider after :func:`infnminio_boto.activate`: a
        ``pl.CredentialProviderAWS`` (polars asks only those for an endpoint) whose keys
        come as one consistent set (polars' own reads botocore's three parts one by one)."""

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
    globals()[name] = ActivatedPolarsProvider
    return ActivatedPolarsProvider


def _apply(activation: Activation, context: Context) -> Optional[str]:
    import polars as pl

    if not hasattr(pl.Config, "set_default_credential_provider"):
        return (f"polars {pl.__version__} has no default credential provider (it came in polars "
                "1.34): pip install 'polars>=1.34', or pass credential_provider="
                "infnminio_boto.polars_credential_provider() to each call")
    previous: Any = polars_private.default_credential_provider()
    if previous != "auto" and not getattr(previous, "infnminio_activation", False):
        return "a default credential provider of yours is set (pl.Config)"

    def set_default(provider: Any) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # polars calls it "unstable"
            pl.Config.set_default_credential_provider(provider)

    set_default(activated_provider(context.settings))
    activation.changed("polars", "pl.Config.set_default_credential_provider("
                       "ActivatedPolarsProvider)", lambda: set_default(previous))
    return None


ACTIVATOR = Activator(needs="polars", apply=_apply, trust=True, extra="polars")
