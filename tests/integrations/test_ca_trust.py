"""One CA bundle from several: what the shell trusted plus a private authority."""

from __future__ import annotations

import os

import pytest

from infnminio_boto.errors import ConfigurationError
from infnminio_boto.integrations import ca_trust
from infnminio_boto.integrations.ca_trust import (
    CA_BUNDLE_VARIABLES,
    combine_bundles,
    platform_bundle,
    shell_bundle_variables,
)


@pytest.fixture
def authority(tmp_path):
    """authority(name) -> NAME.pem holding one real authority, a different one each time."""
    system = platform_bundle()
    if system is None:
        pytest.skip("this machine has no bundle of authorities to take some from")
    with open(system) as handle:
        blocks = [
            "-----BEGIN CERTIFICATE-----" + part.split("-----END CERTIFICATE-----")[0]
            + "-----END CERTIFICATE-----\n"
            for part in handle.read().split("-----BEGIN CERTIFICATE-----")[1:]
        ]
    taken = iter(dict.fromkeys(blocks))  # distinct ones

    def make(name: str) -> str:
        path = tmp_path / f"{name}.pem"
        path.write_text(next(taken))
        return str(path)

    return make


def text(path) -> str:
    with open(path) as handle:
        return handle.read()


def certificates(path) -> list:
    return [block for block in text(path).split("-----END CERTIFICATE-----") if block.strip()]


def test_each_certificate_once_and_the_inputs_untouched(authority, tmp_path):
    one, two, three = authority("one"), authority("two"), authority("three")
    both = tmp_path / "both.pem"
    both.write_text(text(one) + text(two))
    before = {p: text(p) for p in (one, str(both), three)}

    combined = combine_bundles([one, str(both), three], str(tmp_path / "out"))

    assert os.path.dirname(combined) == str(tmp_path / "out")
    assert len(certificates(combined)) == 3
    for source in (one, two, three):
        assert text(source).strip() in text(combined)
    assert {p: text(p) for p in before} == before


def test_a_bundle_that_already_holds_everything_is_used_as_it_is(authority, tmp_path):
    one, two = authority("one"), authority("two")
    both = tmp_path / "both.pem"
    both.write_text(text(one) + text(two))
    assert combine_bundles([str(both), two], str(tmp_path / "out")) == str(both)
    assert not (tmp_path / "out").exists()


def test_a_folder_of_certificates_counts_as_a_bundle(authority, tmp_path):
    folder = tmp_path / "certs"
    folder.mkdir()
    one, two = authority("one"), authority("two")
    os.symlink(one, folder / "abcd1234.0")
    os.symlink(one, folder / "one.pem")  # c_rehash leaves the same certificate twice
    combined = combine_bundles([str(folder), two], str(tmp_path / "out"))
    assert len(certificates(combined)) == 2


def test_an_unreadable_bundle_is_named(authority, tmp_path):
    with pytest.raises(ConfigurationError, match="missing.pem"):
        combine_bundles([str(tmp_path / "missing.pem"), authority("one")], str(tmp_path))


def test_the_shell_variables_name_one_bundle_with_what_each_trusted(
    authority, tmp_path, monkeypatch
):
    system, corporate, private = authority("system"), authority("corporate"), authority("mine")
    monkeypatch.setattr(ca_trust, "platform_bundle", lambda: system)
    shell = {"AWS_CA_BUNDLE": corporate}  # the three others unset: they trust the system's

    variables = shell_bundle_variables(private, str(tmp_path / "out"), shell)

    assert set(variables) == set(CA_BUNDLE_VARIABLES)
    (bundle,) = set(variables.values())
    for source in (system, corporate, private):
        assert text(source).strip() in text(bundle)
    # eval'd into the shell and asked again (sandbox start twice): the same file.
    assert shell_bundle_variables(private, str(tmp_path / "out"), variables) == variables


def test_a_variable_naming_no_file_is_left_out(authority, tmp_path, monkeypatch):
    system, private = authority("system"), authority("mine")
    monkeypatch.setattr(ca_trust, "platform_bundle", lambda: system)
    shell = {name: system for name in CA_BUNDLE_VARIABLES}
    shell["REQUESTS_CA_BUNDLE"] = str(tmp_path / "gone.pem")
    variables = shell_bundle_variables(private, str(tmp_path / "out"), shell)
    assert len(certificates(variables["REQUESTS_CA_BUNDLE"])) == 2


def test_a_variable_naming_no_file_is_said_once_per_process(
    authority, tmp_path, monkeypatch, caplog
):
    import logging

    caplog.set_level(logging.WARNING)
    system, private = authority("system"), authority("mine")
    monkeypatch.setattr(ca_trust, "platform_bundle", lambda: system)
    shell = {name: system for name in CA_BUNDLE_VARIABLES}
    shell["SSL_CERT_FILE"] = str(tmp_path / "gone.pem")
    for _ in range(3):  # every client made in a session reads the shell again
        shell_bundle_variables(private, str(tmp_path / "out"), shell)
    said = [r for r in caplog.records if "names no file" in r.getMessage()]
    assert len(said) == 1


def test_a_fifo_named_as_a_bundle_is_named_not_waited_on(authority, tmp_path):
    fifo = tmp_path / "bundle.pem"
    os.mkfifo(fifo)
    with pytest.raises(ConfigurationError, match="bundle.pem: not a regular file"):
        combine_bundles([str(fifo), authority("one")], str(tmp_path))
