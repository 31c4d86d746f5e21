from __future__ import annotations

import pytest
from support.cli import clean_environment


@pytest.fixture
def cli_env(tmp_path, rgw_sts, token_file):
    """A shell environment pointing the command at the fake STS, with a private cache."""
    return clean_environment(
        HOME=str(tmp_path / "home"),
        INFNMINIO_ENDPOINT=rgw_sts.url,
        INFNMINIO_TOKEN_FILE=token_file,
        INFNMINIO_ROLE_ARN="arn:aws:iam:::role/IAMaccess",
        INFNMINIO_CACHE_DIR=str(tmp_path / "cache"),
        INFNMINIO_TIMEOUT="2",
    )
