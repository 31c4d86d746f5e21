"""``from infnminio_boto.dask import share_credentials``: the public home of the Dask sharing.

The code lives in :mod:`infnminio_boto.adapters.dask`, beside the other data-library
adapters; this module keeps the import path the README shows.
"""

from .adapters.dask import PLUGIN_NAME, CredentialSharing, SharedKeysPlugin, share_credentials

__all__ = ["share_credentials", "CredentialSharing", "SharedKeysPlugin", "PLUGIN_NAME"]
