"""The secret scan itself must work, or its silence means nothing."""

from __future__ import annotations

import logging

from support import secret_registry
from support.jwt_helpers import make_jwt


def test_registered_secrets_are_found_and_masked():
    token = make_jwt()
    assert token[:4] + "***" in secret_registry.leaked(f"log line with {token} inside")
    assert secret_registry.leaked("nothing to see") == []


def test_our_error_for_a_leaking_server_does_not_leak(caplog):
    from infnminio_boto.errors import scrub

    token = make_jwt()
    caplog.set_level(logging.INFO)
    logging.getLogger("infnminio_boto").warning("%s", scrub(f"server said {token}", [token]))
    assert secret_registry.leaked(caplog.text) == []
