"""The error classes and the scrubbing of text that came from elsewhere."""

from __future__ import annotations

import pytest
from support.jwt_helpers import make_jwt

from infnminio_boto import errors
from infnminio_boto.cli.common import exit_code_for
from infnminio_boto.sandbox.ceph import CephNotInstalledError, SandboxStartError


def test_scrub_masks_given_secrets_and_anything_shaped_like_a_jwt():
    token = make_jwt()
    text = f"server said: bad token {token} and secret s3cr3t-value"
    cleaned = errors.scrub(text, ["s3cr3t-value", None, "abc"])
    assert token not in cleaned and "s3cr3t-value" not in cleaned
    assert "<jwt>" in cleaned and "***" in cleaned
    assert errors.scrub("abc def", ["abc"]) == "abc def"  # too short to be a secret


@pytest.mark.parametrize(
    "error, also_a, code",
    [
        (errors.ConfigurationError("x"), ValueError, 3),
        (errors.TokenFileError("x"), errors.InfnMinioError, 4),
        (errors.TokenExpiredError("x"), errors.TokenFileError, 4),
        (errors.StsError("x"), errors.InfnMinioError, 5),
        (errors.TransportError("x"), errors.InfnMinioError, 6),
        (SandboxStartError("x"), errors.SandboxError, 7),
        (CephNotInstalledError("x"), errors.SandboxError, 7),
        (RuntimeError("a bug"), Exception, 1),
    ],
)
def test_every_error_class_has_its_parent_and_exit_code(error, also_a, code):
    assert isinstance(error, also_a)
    assert exit_code_for(error) == code


def test_missing_dependency_names_the_extra():
    error = errors.MissingDependencyError("pyarrow", "arrow")
    assert isinstance(error, ImportError) and isinstance(error, errors.InfnMinioError)
    assert "infnminio-boto[arrow]" in str(error)
