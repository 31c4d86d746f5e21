"""Writing into a user's config file: through symlinks, keeping mode, owner and foreign
bytes, one writer at a time, and every failure a clear error with the file untouched."""

from __future__ import annotations

import fcntl
import os
import stat

import pytest

from infnminio_boto.errors import ConfigurationError
from infnminio_boto.profiles.aws import ensure_profile
from infnminio_boto.profiles.ini_file import update_file
from infnminio_boto.settings import Settings

ORIGINAL = "[default]\nregion = eu-west-1\n"


def add_line(text: str) -> str:
    return text + "added = 1\n"


def test_a_symlinked_config_stays_a_symlink_and_its_target_is_written(tmp_path):
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    target = dotfiles / "aws-config"
    target.write_text(ORIGINAL)
    target.chmod(0o640)
    aws = tmp_path / "home" / ".aws"
    aws.mkdir(parents=True)
    link = aws / "config"
    link.symlink_to("../../dotfiles/aws-config")  # relative, as dotfile managers make them

    update_file(link, add_line)

    assert link.is_symlink() and os.readlink(link) == "../../dotfiles/aws-config"
    assert target.read_text() == ORIGINAL + "added = 1\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [path.name for path in aws.iterdir()] == ["config"]
    # No temporary file left behind; the lock lives beside the file it guards.
    assert sorted(path.name for path in dotfiles.iterdir()) == ["aws-config", "aws-config.lock"]


def test_a_chain_of_symlinks_to_a_file_not_yet_there_creates_the_file(tmp_path):
    target = tmp_path / "dotfiles" / "config"
    target.parent.mkdir()
    middle = tmp_path / "middle"
    middle.symlink_to(target)
    link = tmp_path / "config"
    link.symlink_to(middle)

    update_file(link, add_line)

    assert link.is_symlink() and middle.is_symlink()
    assert target.read_text() == "added = 1\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # a new config file is private


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_the_owner_of_the_file_is_kept(tmp_path):
    config = tmp_path / "config"
    config.write_text(ORIGINAL)
    os.chown(config, 4321, 4322)

    update_file(config, add_line)

    assert (config.stat().st_uid, config.stat().st_gid) == (4321, 4322)


def test_bytes_that_are_not_utf8_survive_byte_for_byte(tmp_path, token_file, monkeypatch):
    config = tmp_path / "config"
    original = (
        b"# Configurazione di Jos\xe9 (Latin-1)\n[default]\nregion = eu-west-1\n\n"
        b"[profile infn]\n# caf\xe9, cr\xe8me\nregion = old\n"
    )
    config.write_bytes(original)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))

    ensure_profile("infn", Settings.resolve(token_file=token_file, environ={}))

    written = config.read_bytes()
    assert written.startswith(original.split(b"region = old")[0])  # comments and all
    assert b"credential_process = " in written and b"region = old" not in written


def test_a_writer_waits_for_the_lock_then_says_who_holds_it(tmp_path):
    config = tmp_path / "config"
    config.write_text(ORIGINAL)
    with open(f"{config}.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(ConfigurationError) as error:
            update_file(config, add_line, lock_wait=0.3)
    message = str(error.value)
    assert f"{config}.lock" in message and str(config) in message
    assert "another" in message.lower()
    assert config.read_text() == ORIGINAL


def test_a_config_path_that_is_a_directory_is_a_clear_error(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    with pytest.raises(ConfigurationError, match="not a regular file") as error:
        update_file(config, add_line)
    assert str(config) in str(error.value)


def test_a_config_path_under_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "aws").write_text("a file where a folder should be\n")
    config = tmp_path / "aws" / "config"
    with pytest.raises(ConfigurationError) as error:
        update_file(config, add_line)
    assert str(config) in str(error.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_such_as_dev_null_is_never_replaced(tmp_path):
    # AWS_CONFIG_FILE=/dev/null is a common way to make the AWS tools ignore the config;
    # as root, a rename over it would replace the system's /dev/null with a file.
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))

    with pytest.raises(ConfigurationError, match="not a regular file"):
        update_file(null, add_line)

    assert stat.S_ISCHR(null.stat().st_mode)
