"""fsspec's and s3fs's private parts (read in fsspec/s3fs 2025.10 to 2026.9)."""

from __future__ import annotations

from typing import Any, Tuple


def tokenized_by(cls: type, names: Tuple[str, ...]) -> None:
    """Make fsspec's instance cache tell instances apart by these class attributes
    (``AbstractFileSystem._extra_tokenize_attributes``)."""
    cls._extra_tokenize_attributes = names  # type: ignore[attr-defined]


def use_session(filesystem: Any, session: Any) -> None:
    """Give an s3fs filesystem an aiobotocore session it does not own (s3fs closes the
    sessions it owns, ``S3FileSystem._session_is_owned``)."""
    filesystem.session = session
    filesystem._session_is_owned = False
