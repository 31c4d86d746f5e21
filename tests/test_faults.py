"""Faults and abuse: token churn, STS outages and slowness, a thousand processes."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

import pytest
from support.cli import COMMAND, clean_environment
from support.fake_sts import FakeSts, Fault
from support.jwt_helpers import make_jwt, write_in_place

import infnminio_boto
from infnminio_boto.errors import InfnMinioError, TransportError
from infnminio_boto.keys.fetch import fetch_credentials
from infnminio_boto.settings import Settings


def test_token_rewritten_every_few_ms_while_8_threads_refresh(rgw_sts, token_file):
    settings = Settings.resolve(
        endpoint=rgw_sts.url,
        token_file=token_file,
        role_arn="arn:aws:iam:::role/IAMaccess",
        cache=False,
    )
    tokens = [make_jwt(sub=f"user{i}") for i in range(4)]
    stop = threading.Event()
    failures, done = [], [0]

    def writer():
        i = 0
        while not stop.is_set():
            write_in_place(token_file, tokens[i % 4] + "\n")
            i += 1
            time.sleep(0.002)

    def refresher():
        while not stop.is_set():
            try:
                fetch_credentials(settings)
                done[0] += 1
            except InfnMinioError as exc:
                failures.append(str(exc))

    threads = [threading.Thread(target=writer)] + [
        threading.Thread(target=refresher) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    time.sleep(10)
    stop.set()
    for thread in threads:
        thread.join()
    assert failures == []
    assert done[0] > 100


def test_sts_down_then_up_recovers_without_a_restart(token_file):
    with FakeSts("rgw", credential_lifetime=4) as server:
        port = server.port
        s3 = infnminio_boto.session(
            endpoint=server.url,
            token_file=token_file,
            role_arn="arn:aws:iam:::role/IAMaccess",
            cache=False,
            timeout=1,
            max_attempts=1,
        ).client("s3")
        s3.list_buckets()
    # The STS is gone; once the 4-second keys run out, calls fail with our error.
    deadline = time.monotonic() + 15
    error = None
    while time.monotonic() < deadline:
        try:
            s3.list_buckets()
        except TransportError as exc:
            error = exc
            break
        except Exception:  # noqa: S110 - S3 itself is down too: keep waiting for ours
            pass
        time.sleep(0.2)
    assert error is not None and "connection refused" in str(error)
    with FakeSts("rgw", credential_lifetime=30, port=port) as again:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # the backoff delay may still be running
            try:
                s3.list_buckets()
                break
            except TransportError:
                time.sleep(0.3)
        assert again.successful_exchanges >= 1
        assert s3.list_buckets()["Buckets"]


def test_slow_sts_gives_a_timeout_error_not_a_hang(token_file):
    with FakeSts("rgw") as server:
        server.script(*[Fault(delay=5)] * 4)
        s3 = infnminio_boto.session(
            endpoint=server.url,
            token_file=token_file,
            role_arn="arn:aws:iam:::role/IAMaccess",
            cache=False,
            timeout=0.5,
            max_attempts=2,
        ).client("s3")
        started = time.monotonic()
        with pytest.raises(TransportError, match="read timeout"):
            s3.list_buckets()
        assert time.monotonic() - started < 30  # bounded, not a hang


def test_a_thousand_credential_process_calls(tmp_path, token_file):
    """1000 calls, 200 in flight, the first cache filler killed mid-exchange."""
    with FakeSts("rgw", exchange_delay=1.0) as server:
        env = clean_environment(
            HOME=str(tmp_path),
            INFNMINIO_ENDPOINT=server.url,
            INFNMINIO_TOKEN_FILE=token_file,
            INFNMINIO_ROLE_ARN="arn:aws:iam:::role/IAMaccess",
            INFNMINIO_CACHE_DIR=str(tmp_path / "cache"),
        )
        victim = subprocess.Popen(
            [*COMMAND, "credential-process"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while server.exchanges == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(victim.pid, signal.SIGKILL)  # dies holding the cache lock
        victim.wait()

        running, finished = [], []
        for _ in range(1000):
            if len(running) >= 200:
                process = running.pop(0)
                process.wait(timeout=180)
                finished.append(process)
            running.append(
                subprocess.Popen(
                    [*COMMAND, "credential-process"],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
            )
        for process in running:
            process.wait(timeout=180)
            finished.append(process)
        codes = [p.returncode for p in finished]
        for process in finished:
            process.stdout.close()
            process.stderr.close()
        assert codes.count(0) == 1000
        # the killed process's exchange, then exactly one more for everybody
        assert server.exchanges == 2
