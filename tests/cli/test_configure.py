"""`infnminio-boto configure` as a user runs it, and the AWS CLI and boto3 using the profile."""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import stat
import subprocess

import boto3
import pytest
from support.cli import COMMAND, clean_environment, run_cli
from support.files import same_content

EXISTING = """\
# my AWS settings; keep this comment
[default]
region = eu-west-1

[profile infn]
region = old-region
"""


def test_command_writes_the_file_idempotently(tmp_path, token_file):
    config = tmp_path / "aws" / "config"
    config.parent.mkdir()
    config.write_text(EXISTING)
    env = clean_environment(HOME=str(tmp_path), AWS_CONFIG_FILE=str(config))
    args = (
        "configure",
        "--profile",
        "infn",
        "--endpoint",
        "s3.example.org",
        "--token-file",
        token_file,
    )
    first = run_cli(*args, env=env)
    assert first.returncode == 0, first.stderr
    assert "written" in first.stdout and "aws --profile infn s3 ls" in first.stdout
    written = config.read_text()
    second = run_cli(*args, env=env)
    assert "already up to date" in second.stdout
    assert config.read_text() == written
    parser = configparser.ConfigParser()
    parser.read_string(written)
    command = shlex.split(parser["profile infn"]["credential_process"])
    assert command[0].startswith("/")  # an absolute path, usable from any shell
    assert command[command.index("--endpoint") + 1] == "https://s3.example.org"
    assert command[command.index("--token-file") + 1] == token_file


def test_warns_when_static_keys_would_win(tmp_path):
    credentials = tmp_path / "credentials"
    credentials.write_text("[infnminio-boto]\naws_access_key_id = X\naws_secret_access_key = Y\n")
    env = clean_environment(
        HOME=str(tmp_path),
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(credentials),
    )
    done = run_cli("configure", env=env)
    assert done.returncode == 0
    assert "take precedence" in done.stderr


@pytest.mark.sandbox
def test_aws_cli_and_boto3_through_the_profile(infnminio_sandbox, tmp_path, big_file):
    config = tmp_path / "config"
    env = clean_environment(
        HOME=str(tmp_path),
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        INFNMINIO_CACHE_DIR=str(tmp_path / "cache"),
        **infnminio_sandbox.environment(),
    )
    done = run_cli("configure", "--profile", "sbx", env=env)
    assert done.returncode == 0, done.stderr
    # From here on the shell has no INFNMINIO_* variables: the profile carries everything.
    bare = clean_environment(
        HOME=str(tmp_path),
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        INFNMINIO_CACHE_DIR=str(tmp_path / "cache"),
    )
    (tmp_path / "hello.txt").write_text("hello through the AWS CLI\n")

    def aws(*args):
        result = subprocess.run(
            ["aws", "--profile", "sbx", *args],
            capture_output=True,
            text=True,
            env=bare,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    aws("s3", "mb", "s3://from-aws-cli")
    aws("s3", "cp", str(tmp_path / "hello.txt"), "s3://from-aws-cli/hello.txt")
    assert "hello.txt" in aws("s3", "ls", "s3://from-aws-cli/")
    assert "from-aws-cli" in aws("s3", "ls")

    # 20 MB up in parts and back, over https, with the profile's CA bundle and checksums
    aws("s3", "cp", "--only-show-errors", big_file, "s3://from-aws-cli/big.bin")
    back = str(tmp_path / "back.bin")
    aws("s3", "cp", "--only-show-errors", "s3://from-aws-cli/big.bin", back)
    assert same_content(big_file, back)
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("a\n")
    (tree / "sub" / "b.txt").write_text("b\n")
    aws("s3", "sync", "--only-show-errors", str(tree), "s3://from-aws-cli/tree/")
    listed = aws("s3", "ls", "--recursive", "s3://from-aws-cli/tree/")
    assert "tree/a.txt" in listed and "tree/sub/b.txt" in listed

    with pytest.MonkeyPatch.context() as patch:
        for name, value in bare.items():
            patch.setenv(name, value)
        for name in list(infnminio_sandbox.environment()):
            patch.delenv(name, raising=False)
        s3 = boto3.Session(profile_name="sbx").client("s3")  # no endpoint_url passed
        body = s3.get_object(Bucket="from-aws-cli", Key="hello.txt")["Body"].read()
    assert body == b"hello through the AWS CLI\n"


def _configure_at_once(runs, env):
    """Start every ``configure`` in ``runs`` (argument lists) together; wait for all."""
    processes = [
        subprocess.Popen(
            [*COMMAND, "configure", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        for args in runs
    ]
    return [(process.wait(timeout=120), *process.communicate()) for process in processes]


def test_eight_configure_runs_at_once_keep_all_eight_profiles(tmp_path, token_file):
    config = tmp_path / "config"
    config.write_text(EXISTING)
    env = clean_environment(HOME=str(tmp_path), AWS_CONFIG_FILE=str(config))
    names = [f"p{number}" for number in range(8)]

    runs = [["--profile", name, "--token-file", token_file] for name in names]
    results = _configure_at_once(runs, env)

    for code, out, err in results:
        assert code == 0, err
        assert "written to" in out
    parser = configparser.ConfigParser()
    parser.read_string(config.read_text())
    assert {f"profile {name}" for name in names} <= set(parser.sections())
    assert parser["default"]["region"] == "eu-west-1"
    assert "# my AWS settings; keep this comment" in config.read_text()


def test_a_symlinked_config_stays_a_symlink(tmp_path, token_file):
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "aws-config").write_text(EXISTING)
    (dotfiles / "aws-config").chmod(0o644)
    (tmp_path / ".aws").mkdir()
    link = tmp_path / ".aws" / "config"
    link.symlink_to(dotfiles / "aws-config")
    env = clean_environment(HOME=str(tmp_path))  # ~/.aws/config, as most users have it

    done = run_cli("configure", "--token-file", token_file, env=env)

    assert done.returncode == 0, done.stderr
    assert link.is_symlink()
    assert "[profile infnminio-boto]\n" in (dotfiles / "aws-config").read_text()
    assert stat.S_IMODE((dotfiles / "aws-config").stat().st_mode) == 0o644


LATIN1 = b"# Jos\xe9's settings, written by an old editor in Latin-1\n"


@pytest.mark.parametrize("print_only", [False, True], ids=["write", "print"])
def test_a_latin1_comment_under_a_utf8_locale_survives(tmp_path, token_file, print_only):
    config = tmp_path / "config"
    original = LATIN1 + b"[profile infnminio-boto]\n# r\xe9gion d'origine\nregion = old-region\n"
    config.write_bytes(original)
    env = clean_environment(HOME=str(tmp_path), AWS_CONFIG_FILE=str(config), LC_ALL="C.UTF-8")

    done = subprocess.run(
        [*COMMAND, "configure", "--token-file", token_file, *(["--print"] if print_only else [])],
        env=env,
        capture_output=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"Traceback" not in done.stderr
    if print_only:
        assert config.read_bytes() == original
        assert b"# r\xe9gion d'origine\n" in done.stdout  # shown as the file holds it
    else:
        written = config.read_bytes()
        assert written.startswith(LATIN1 + b"[profile infnminio-boto]\n# r\xe9gion d'origine\n")
        assert b"credential_process = " in written


TINY_FILESYSTEM = """
set -e
mount -t tmpfs -o size=64k tmpfs "$TINY"
cp "$ORIGINAL" "$TINY/config"
chmod 640 "$TINY/config"
case "$FAULT" in
  full) dd if=/dev/zero of="$TINY/fill" bs=1k 2>/dev/null || true ;;
  read-only) mount -o remount,ro "$TINY" ;;
esac
set +e
"$@" > "$OUT/stdout" 2> "$OUT/stderr"
echo $? > "$OUT/code"
cp "$TINY/config" "$OUT/after"
stat -c %a "$TINY/config" > "$OUT/mode"
ls -A "$TINY" > "$OUT/listing"
"""


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_a_full_or_read_only_filesystem_is_a_clear_error_and_the_file_is_kept(
    tmp_path, token_file, fault
):
    if os.geteuid() != 0:
        pytest.skip("mounting a tiny tmpfs in a private mount namespace needs root")
    if not shutil.which("unshare"):
        pytest.skip("unshare (util-linux) is not installed")
    tiny, out = tmp_path / "tiny", tmp_path / "out"
    tiny.mkdir()
    out.mkdir()
    original = tmp_path / "original"
    original.write_bytes(EXISTING.encode())
    env = clean_environment(
        HOME=str(tmp_path),
        AWS_CONFIG_FILE=str(tiny / "config"),
        TINY=str(tiny),
        ORIGINAL=str(original),
        OUT=str(out),
        FAULT=fault,
    )
    # A private mount namespace: the tmpfs is seen by this command only, and goes with it.
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", TINY_FILESYSTEM, "sh",
         *COMMAND, "configure", "--token-file", token_file],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0 or not (out / "code").exists():
        pytest.skip(f"cannot mount a tmpfs in a private namespace here: {done.stderr.strip()}")

    stderr = (out / "stderr").read_text()
    assert (out / "code").read_text().strip() == "3", stderr  # a configuration error
    assert "Traceback" not in stderr
    assert str(tiny / "config") in stderr
    assert ("No space left" if fault == "full" else "Read-only file system") in stderr
    assert (out / "after").read_bytes() == original.read_bytes()
    assert (out / "mode").read_text().strip() == "640"
    leftovers = set((out / "listing").read_text().split()) - {"config", "config.lock", "fill"}
    assert not leftovers
    assert not (out / "stdout").read_text()  # no "Profile written" for a profile not written


OTHER_PROFILES = """\
[default]
region = eu-west-1

[profile work]
region = eu-south-1
"""


def _aws_region(profile, env):
    done = subprocess.run(
        ["aws", "--profile", profile, "configure", "get", "region"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize(
    "name",
    [
        "evil]\n[profile work",  # injects a section: "work" would get our keys
        "x\n=",  # a line configparser cannot parse: every profile fails to load
        "two words",  # botocore splits "profile two words" and finds no such profile
        "tab\there",
        "a]b",
        "[a",
        "",
    ],
    ids=["section-injection", "unparsable-line", "space", "tab", "bracket", "open-bracket",
         "empty"],
)
def test_a_profile_name_that_would_corrupt_the_config_is_refused(tmp_path, token_file, name):
    config = tmp_path / "config"
    config.write_text(OTHER_PROFILES)
    env = clean_environment(HOME=str(tmp_path), AWS_CONFIG_FILE=str(config))

    done = run_cli("configure", f"--profile={name}", "--token-file", token_file, env=env)

    assert done.returncode == 3, done.stderr
    assert "profile name" in done.stderr and "Traceback" not in done.stderr
    assert config.read_text() == OTHER_PROFILES
    assert not (tmp_path / "config.lock").exists()  # refused before the file was touched
    assert _aws_region("work", env) == "eu-south-1"


@pytest.mark.parametrize(
    ("flag", "value", "shown"),
    [
        ("--region", "eu\n[profile work]\nregion = injected", r"\n"),
        ("--role-arn", "arn:aws:iam:::role/IAM\raccess", r"\r"),
        ("--token-file", "/tmp/token\n[profile work]", r"\n"),
        ("--cache-dir", "/tmp/cache\x7f", r"\x7f"),
        ("--region", "eu\x85west", r"\x85"),
        ("--region", "eu\u2028west", r"\u2028"),
    ],
    ids=["region-newline", "role-arn-cr", "token-file-newline", "cache-dir-del", "c1-nel",
         "line-separator"],
)
def test_a_value_with_a_control_character_is_refused(tmp_path, token_file, flag, value, shown):
    config = tmp_path / "config"
    config.write_text(OTHER_PROFILES)
    env = clean_environment(HOME=str(tmp_path), AWS_CONFIG_FILE=str(config))
    args = ["configure", "--token-file", token_file, f"{flag}={value}"]

    done = run_cli(*args, env=env)

    assert done.returncode == 3, done.stderr
    assert flag.lstrip("-").replace("-", "_") in done.stderr and shown in done.stderr
    assert "Traceback" not in done.stderr
    assert config.read_text() == OTHER_PROFILES
    assert _aws_region("work", env) == "eu-south-1"
    assert _aws_region("default", env) == "eu-west-1"


RCLONE_REMOTES = """\
[gdrive]
type = drive

[infn]
type = s3
provider = Ceph
"""


@pytest.mark.parametrize(
    "name",
    ["x]\n[gdrive", "x\n=", "two words", "-dash", "a:b", "a/b", ""],
    ids=["section-injection", "unparsable-line", "space", "leading-dash", "colon", "slash",
         "empty"],
)
def test_an_rclone_remote_name_rclone_cannot_use_is_refused(tmp_path, token_file, name):
    config, remotes = tmp_path / "config", tmp_path / "rclone.conf"
    remotes.write_text(RCLONE_REMOTES)
    env = clean_environment(
        HOME=str(tmp_path), AWS_CONFIG_FILE=str(config), RCLONE_CONFIG=str(remotes)
    )

    done = run_cli("configure", f"--rclone={name}", "--token-file", token_file, env=env)

    assert done.returncode == 3, done.stderr
    assert "rclone remote name" in done.stderr and "Traceback" not in done.stderr
    assert remotes.read_text() == RCLONE_REMOTES
    assert not config.exists()  # nothing written when any part is refused
    listed = subprocess.run(
        ["rclone", "listremotes"], env=env, capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["gdrive:", "infn:"]
