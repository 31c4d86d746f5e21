"""token_loader=: a callable as the token source, against the fake STS (the sandbox's
real RGW: tests/sandbox/test_token_loader.py)."""

from __future__ import annotations

import pytest
from support.jwt_helpers import make_jwt

import infnminio_boto
from infnminio_boto import ConfigurationError, TokenSourceError
from infnminio_boto.settings import Settings
from infnminio_boto.sources import TokenSource, select


def loader_settings(rgw_sts, settings_for, loader, **extra):
    values = settings_for(rgw_sts, **extra)
    del values["token_file"]
    return dict(values, token_loader=loader)


def test_it_is_a_token_source_and_called_once_per_exchange(rgw_sts, settings_for, tmp_path):
    token = make_jwt()
    calls = []

    def vault() -> str:
        calls.append(1)
        return token + "\n"

    settings = Settings.resolve(**loader_settings(rgw_sts, settings_for, vault, cache=False))
    source = select(settings).source
    assert isinstance(source, TokenSource) and source.kind == "loader"
    assert "the token_loader" in source.describe() and token not in repr(source)
    infnminio_boto.credentials(**loader_settings(rgw_sts, settings_for, vault, cache=False))
    assert len(calls) == 1 and rgw_sts.exchanges == 1


def test_what_it_raises_or_returns_is_explained_without_the_token(rgw_sts, settings_for):
    token = make_jwt()

    def broken() -> str:
        raise RuntimeError(f"vault sealed, last token was {token}")

    with pytest.raises(TokenSourceError, match="raised RuntimeError: vault sealed") as raised:
        infnminio_boto.credentials(**loader_settings(rgw_sts, settings_for, broken))
    assert token not in str(raised.value)
    with pytest.raises(TokenSourceError, match="returned int, not the access token"):
        infnminio_boto.credentials(**loader_settings(rgw_sts, settings_for, lambda: 42))
    with pytest.raises(ConfigurationError, match="must be a callable"):
        infnminio_boto.credentials(**loader_settings(rgw_sts, settings_for, "not-callable"))
    assert rgw_sts.exchanges == 0


def test_it_beats_the_variables_and_conflicts_with_another_argument(
    rgw_sts, settings_for, token_file, monkeypatch
):
    monkeypatch.setenv("INFNMINIO_TOKEN_FILE", "/nowhere")
    settings = Settings.resolve(**loader_settings(rgw_sts, settings_for, make_jwt))
    assert settings.token.kind == "loader" and settings.origin("token_loader").startswith("the")
    with pytest.raises(ConfigurationError, match="both say where the token comes from"):
        Settings.resolve(token_file=token_file, token_loader=make_jwt)
