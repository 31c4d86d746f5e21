"""Exchanges and failures: threads, processes, refresh windows, a workload with expiries.

Counted against the test suite's fake STS (exchanges must be counted, credentials must
expire every few seconds) or on a simulated clock (hours must pass in a second).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Dict, List

from measure import base_env, count_row, rows
from support.fake_sts import FakeSts
from support.jwt_helpers import make_jwt

import infnminio_boto
from infnminio_boto.keys.refresh import RefreshingCredentials
from infnminio_boto.sts.temporary_credentials import TemporaryCredentials

PYTHON = sys.executable
ROLE = "arn:aws:iam:::role/IAMaccess"


# ------------------------------------------------------------ 2. exchanges
def botocore_web_identity_session(sts_url: str, token_file: str):
    """botocore's own provider, pointed at the same STS (the usual alternative)."""
    import boto3

    os.environ.update(
        AWS_WEB_IDENTITY_TOKEN_FILE=token_file,
        AWS_ROLE_ARN=ROLE,
        AWS_ROLE_SESSION_NAME="bench",
        AWS_ENDPOINT_URL_STS=sts_url,
        AWS_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    try:
        return boto3.Session()
    finally:
        pass


def clear_web_identity_env() -> None:
    for name in (
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_ROLE_SESSION_NAME",
        "AWS_ENDPOINT_URL_STS",
        "AWS_REGION",
    ):
        os.environ.pop(name, None)


def old_library_exchange(sts_url: str, token_file: str) -> TemporaryCredentials:
    """The old library's way: every client made its own exchange, once."""
    return infnminio_boto.credentials(
        endpoint=sts_url, token_file=token_file, role_arn=ROLE, cache=False
    )


def threads_sharing(work: Path) -> None:
    print("exchanges: 64 threads sharing a session", flush=True)
    token = str(work / "token-threads")
    Path(token).write_text(make_jwt())

    def run_threads(action: Callable[[], None]) -> None:
        barrier = threading.Barrier(64)

        def body() -> None:
            barrier.wait()
            action()

        threads = [threading.Thread(target=body) for _ in range(64)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    with FakeSts("aws", exchange_delay=0.2) as sts:
        session = infnminio_boto.session(
            endpoint=sts.url, token_file=token, role_arn=ROLE, cache_dir=str(work / "threads-cache")
        )
        s3 = session.client("s3")
        run_threads(lambda: s3.list_buckets())
        ours = sts.exchanges
    with FakeSts("aws", exchange_delay=0.2) as sts:
        session = botocore_web_identity_session(sts.url, token)
        s3 = session.client("s3", endpoint_url=sts.url)
        run_threads(lambda: s3.list_buckets())
        botocore_count = sts.exchanges
        clear_web_identity_env()
    with FakeSts("aws", exchange_delay=0.2) as sts:
        run_threads(lambda: old_library_exchange(sts.url, token))
        old = sts.exchanges
    count_row(
        "STS exchanges, 64 threads sharing one session",
        ours,
        "botocore web-identity provider",
        botocore_count,
        "exchanges",
    )
    count_row(
        "STS exchanges, 64 threads (one client each)",
        ours,
        "old library (one per client)",
        old,
        "exchanges",
    )


def processes_together(work: Path) -> None:
    print("exchanges: 16 processes started together", flush=True)
    token = str(work / "token-procs")
    Path(token).write_text(make_jwt())
    probe_ours = (
        "import infnminio_boto, sys; s = infnminio_boto.session(endpoint=sys.argv[1], "
        f"token_file={token!r}, role_arn={ROLE!r}); s.client('s3').list_buckets()"
    )
    probe_botocore = (
        "import boto3, sys; boto3.Session().client('s3', endpoint_url=sys.argv[1]).list_buckets()"
    )
    probe_old = (
        "import infnminio_boto, sys; infnminio_boto.credentials(endpoint=sys.argv[1], "
        f"token_file={token!r}, role_arn={ROLE!r}, cache=False)"
    )

    def run(probe: str, env: dict, dialect: str, sts_url_variable: str = "") -> int:
        with FakeSts(dialect, exchange_delay=0.3) as sts:
            if sts_url_variable:  # botocore's provider reads the STS endpoint from there
                env = dict(env, **{sts_url_variable: sts.url})
            processes = [
                subprocess.Popen(
                    [PYTHON, "-c", probe, sts.url],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for _ in range(16)
            ]
            for process in processes:
                process.wait(timeout=120)
            return sts.exchanges

    env = base_env(str(work), INFNMINIO_CACHE_DIR=str(work / "procs-cache"))
    ours = run(probe_ours, env, "aws")
    web_env = dict(
        env,
        AWS_WEB_IDENTITY_TOKEN_FILE=token,
        AWS_ROLE_ARN=ROLE,
        AWS_ROLE_SESSION_NAME="bench",
        AWS_REGION="us-east-1",
    )
    botocore_count = run(probe_botocore, web_env, "aws", "AWS_ENDPOINT_URL_STS")
    old = run(probe_old, env, "aws")
    count_row(
        "STS exchanges, 16 processes started together (shared cache)",
        ours,
        "botocore web-identity provider",
        botocore_count,
        "exchanges",
    )
    count_row("STS exchanges, 16 processes started together", ours, "old library", old, "exchanges")


# ------------------------------------------------------- 3. refresh windows
class SimulatedClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def epoch(self) -> float:
        return self.now.timestamp()


def refresh_windows_simulation(
    calls: int = 1000, lifetime: int = 900, hours: float = 3.0
) -> Dict[str, object]:
    """S3 calls spread evenly over ``hours``; credentials live ``lifetime`` seconds."""
    print("exchanges: 1000 calls over the life of 900-second credentials", flush=True)
    from botocore.credentials import DeferredRefreshableCredentials

    def count(
        make: Callable[[Callable[[], Dict[str, str]], SimulatedClock], object],
        n_calls: int,
        span: float,
    ) -> List[float]:
        clock = SimulatedClock()
        exchanges: List[float] = []
        start = clock.now

        def fetch() -> TemporaryCredentials:
            exchanges.append((clock.now - start).total_seconds())
            return TemporaryCredentials(
                "AK", "SK", "ST", clock.now + timedelta(seconds=lifetime), issued_at=clock.now
            )

        credentials = make(fetch, clock)
        step = span / n_calls
        read = getattr(credentials, "get", None) or credentials.get_frozen_credentials
        for _ in range(n_calls):
            read()
            clock.now += timedelta(seconds=step)
        return exchanges

    def ours(fetch, clock):
        return RefreshingCredentials(fetch, clock=clock.epoch)

    def botocore_default(fetch, clock):
        return DeferredRefreshableCredentials(
            refresh_using=lambda: fetch().to_botocore_metadata(), method="x", time_fetcher=clock
        )

    ours_life = count(ours, calls, lifetime)
    botocore_life = count(botocore_default, calls, lifetime)
    count_row(
        "STS exchanges, 1000 S3 calls over the life of 900-second credentials",
        len(ours_life),
        "botocore default refresh windows",
        len(botocore_life),
        "exchanges",
    )
    timeline_calls = int(hours * 3600)  # one call a second for the chart
    return {
        "ours": count(ours, timeline_calls, hours * 3600),
        "botocore": count(botocore_default, timeline_calls, hours * 3600),
        "hours": hours,
        "lifetime": lifetime,
    }


# ----------------------------------------------------- 5. sustained workload
def sustained(work: Path, seconds: float) -> None:
    print(f"sustained workload: 8 threads for {seconds:.0f} s, 5-second credentials", flush=True)
    token = str(work / "token-sustained")
    Path(token).write_text(make_jwt(lifetime=7200))

    def hammer(client, sts: FakeSts) -> Dict[str, int]:
        stop = threading.Event()
        counts = {"requests": 0, "failed": 0}
        lock = threading.Lock()

        def worker() -> None:
            while not stop.is_set():
                try:
                    client.list_buckets()
                    ok = True
                except Exception:
                    ok = False
                with lock:
                    counts["requests"] += 1
                    counts["failed"] += 0 if ok else 1
                time.sleep(0.02)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        stop.set()
        for thread in threads:
            thread.join()
        counts["exchanges"] = sts.exchanges
        return counts

    import boto3
    from botocore.config import Config

    no_retries = Config(retries={"max_attempts": 1})
    results = {}
    with FakeSts("aws", credential_lifetime=5) as sts:
        s3 = infnminio_boto.session(
            endpoint=sts.url, token_file=token, role_arn=ROLE, cache=False
        ).client("s3", config=no_retries)
        results["ours"] = hammer(s3, sts)
    with FakeSts("aws", credential_lifetime=5) as sts:
        s3 = botocore_web_identity_session(sts.url, token).client(
            "s3", endpoint_url=sts.url, config=no_retries
        )
        results["botocore"] = hammer(s3, sts)
        clear_web_identity_env()
    with FakeSts("aws", credential_lifetime=5) as sts:
        keys = old_library_exchange(sts.url, token)
        s3 = boto3.client(
            "s3",
            endpoint_url=sts.url,
            region_name="us-east-1",
            aws_access_key_id=keys.access_key,
            aws_secret_access_key=keys.secret_key,
            aws_session_token=keys.token,
            config=no_retries,
        )
        results["old"] = hammer(s3, sts)
    expiries = int(seconds // 5)
    count_row(
        f"failed S3 requests, 8 threads for {seconds:.0f} s, {expiries} credential expiries",
        results["ours"]["failed"],
        "old library (keys fetched once)",
        results["old"]["failed"],
        "failed requests",
    )
    count_row(
        f"STS exchanges in the same {seconds:.0f} s workload",
        results["ours"]["exchanges"],
        "botocore web-identity provider",
        results["botocore"]["exchanges"],
        "exchanges",
    )
    count_row(
        "failed S3 requests in the same workload",
        results["ours"]["failed"],
        "botocore web-identity provider",
        results["botocore"]["failed"],
        "failed requests",
    )
    rows[-3]["detail"] = results  # the raw counts, in the JSON


