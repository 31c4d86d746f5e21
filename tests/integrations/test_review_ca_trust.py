"""The combined CA bundle is written only where the cache itself would be."""

# FOUND BY REVIEW

from __future__ import annotations

import os

import pytest

from infnminio_boto.integrations.ca_trust import ssl_cert_file_variables
from infnminio_boto.sandbox.tls import make_certificates
from infnminio_boto.settings import Settings


# FOUND BY REVIEW
def test_ssl_cert_file_never_names_a_bundle_in_a_folder_others_can_write(tmp_path):
    """`env`, polars_storage_options and pyarrow point SSL_CERT_FILE at a bundle written
    in cache_dir, without the cache's rule ("an existing folder open to others is not
    used"). Measured as root with INFNMINIO_CACHE_DIR a folder of uid 65534 holding a
    planted file of the expected (public) content: `infnminio-boto env` warned "cache
    not used: belongs to another user" and printed SSL_CERT_FILE naming that account's
    file, which it can later rewrite with its own authority (curl, polars, oidc-agent's
    libcurl and Python's ssl trust it)."""
    pytest.importorskip("cryptography")  # the sandbox extra, not in the core runs of `make range`
    (tmp_path / "tls").mkdir()
    tls = make_certificates(tmp_path / "tls")
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    settings = Settings.resolve(
        endpoint="https://s3.example.org", ca_bundle=str(tls.ca), cache_dir=str(shared), environ={}
    )
    bundle = ssl_cert_file_variables(settings).get("SSL_CERT_FILE")
    if bundle is not None:
        folder = os.path.dirname(os.path.abspath(bundle))
        assert not os.stat(folder).st_mode & 0o022, f"{bundle} is in a folder others can write"
