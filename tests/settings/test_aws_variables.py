"""Every writer of the checksum variables follows one rule: the user's choice wins, and
an empty or blank value is no choice."""

from __future__ import annotations

import pytest

from infnminio_boto.adapters import set_checksum_variables
from infnminio_boto.integrations import key_server
from infnminio_boto.settings.aws_variables import VARIABLES

REQUEST = "AWS_REQUEST_CHECKSUM_CALCULATION"


def through_the_adapters(environ: dict) -> dict:
    set_checksum_variables(environ)
    return environ


def through_the_key_server(environ: dict) -> dict:
    server = key_server.serve(lambda: None, environ)  # type: ignore[arg-type,return-value]
    key_server.stop_serving(None)
    assert server is not None
    return environ


def through_env(environ: dict, monkeypatch) -> dict:
    from infnminio_boto.cli.env import endpoint_variables
    from infnminio_boto.settings import Settings

    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return {**environ, **endpoint_variables(Settings.resolve(environ={}))}


WRITERS = {
    "adapters": lambda environ, monkeypatch: through_the_adapters(environ),
    "key server": lambda environ, monkeypatch: through_the_key_server(environ),
    "env": through_env,
}


@pytest.mark.parametrize("writer", sorted(WRITERS))
@pytest.mark.parametrize(
    "given, expected",
    [
        (None, "WHEN_REQUIRED"),
        ("", "WHEN_REQUIRED"),
        ("  ", "WHEN_REQUIRED"),
        ("when_supported", "when_supported"),
    ],
    ids=["unset", "empty", "blank", "chosen"],
)
def test_every_writer_follows_the_one_rule(writer, given, expected, monkeypatch):
    monkeypatch.setattr(key_server, "_server", None)
    environ = {} if given is None else {REQUEST: given}
    assert WRITERS[writer](environ, monkeypatch)[REQUEST] == expected
