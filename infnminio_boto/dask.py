"""``from infnminio_boto.dask import share_credentials``: the public home of
:mod:`infnminio_boto.adapters.dask` (docs/dask.md)."""

from .adapters.dask import PLUGIN_NAME, CredentialSharing, SharedKeysPlugin, share_credentials

__all__ = ["share_credentials", "CredentialSharing", "SharedKeysPlugin", "PLUGIN_NAME"]
