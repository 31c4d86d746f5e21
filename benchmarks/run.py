"""`make bench`: infnminio-boto against the alternatives, measured side by side in one run.

Prints one markdown table (medians over repeated runs, with ratios) and saves it with
the raw numbers as JSON, plus a PNG chart of STS exchanges over time. Each row runs
against whatever is meaningful: the sandbox (a real Ceph RGW) for the AWS CLI, the fake
STS from the test suite where exchanges must be counted or faults produced, and a
simulated clock where hours of credential lifetime must pass in a second.

Usage: python benchmarks/run.py [--quick] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.fake_sts import FakeSts  # noqa: E402
from support.jwt_helpers import make_jwt  # noqa: E402

import infnminio_boto  # noqa: E402
from infnminio_boto.refresh import RefreshingCredentials  # noqa: E402
from infnminio_boto.temporary_credentials import TemporaryCredentials  # noqa: E402

PYTHON = sys.executable
CLI = [PYTHON, "-m", "infnminio_boto"]
SCRIPT = str(Path(PYTHON).parent / "infnminio-boto")
ROLE = "arn:aws:iam:::role/IAMaccess"
rows: List[Dict[str, object]] = []


def compare(ours: float, theirs: float, unit: str, baseline: bool) -> str:
    """The comparison in words; lower is better for every row."""
    if baseline:
        return f"{ours / theirs:.2f}x the baseline"
    if ours == theirs:
        return "same"
    if ours == 0:
        return f"none vs {theirs:g}"
    if unit == "ms":
        return f"{theirs / ours:.2f}x faster" if ours < theirs else f"{ours / theirs:.2f}x slower"
    return f"{theirs / ours:.0f}x fewer" if ours < theirs else f"{ours / theirs:.1f}x more"


def row(
    benchmark: str, ours: float, alternative: str, theirs: float, unit: str, baseline: bool = False
) -> None:
    rows.append(
        {
            "benchmark": benchmark,
            "ours": ours,
            "alternative": alternative,
            "theirs": theirs,
            "unit": unit,
            "ratio": (theirs / ours) if ours else None,
            "comparison": compare(ours, theirs, unit, baseline),
        }
    )
    print(f"  {benchmark}: ours {ours:g} {unit} | {alternative} {theirs:g} {unit}", flush=True)


def median_wall(command: List[str], runs: int, env: Optional[dict] = None) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False
        )
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 1)


def base_env(home: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INFNMINIO_", "AWS_"))}
    env.update(
        HOME=home,
        AWS_CONFIG_FILE=f"{home}/aws-config",
        AWS_SHARED_CREDENTIALS_FILE=f"{home}/aws-credentials",
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.update(extra)
    return env


# --------------------------------------------------------------- 1. hot path
def hot_path(work: Path, runs: int) -> None:
    print("credential_process start-up", flush=True)
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(ROOT / "infnminio_boto")], check=False)
    token = work / "token"
    token.write_text(make_jwt())
    with FakeSts("rgw") as sts:
        env = base_env(
            str(work),
            INFNMINIO_ENDPOINT=sts.url,
            INFNMINIO_TOKEN_FILE=str(token),
            INFNMINIO_ROLE_ARN=ROLE,
            INFNMINIO_CACHE_DIR=str(work / "cache"),
        )
        subprocess.run([SCRIPT, "credential-process"], env=env, capture_output=True, check=True)
        bare = median_wall([PYTHON, "-c", "pass"], runs, env)
        cached = median_wall([SCRIPT, "credential-process"], runs, env)
        cold = median_wall([SCRIPT, "credential-process", "--no-cache"], runs, env)
    row(
        "credential-process answered from the cache, vs a bare `python -c pass`",
        cached,
        "python -c pass (baseline)",
        bare,
        "ms",
        baseline=True,
    )
    row(
        "credential-process from the cache vs the cold path (exchange, local fake STS)",
        cached,
        "cold path",
        cold,
        "ms",
    )


def aws_cli(work: Path, runs: int) -> None:
    print("aws s3 ls against the sandbox", flush=True)
    from infnminio_boto.sandbox import CephNotInstalledError, Sandbox

    try:
        sandbox = Sandbox().start()
    except CephNotInstalledError as error:
        print(f"  skipped: {error}")
        return
    try:
        env = base_env(
            str(work), INFNMINIO_CACHE_DIR=str(work / "cli-cache"), **sandbox.environment()
        )
        subprocess.run(
            [*CLI, "configure", "--profile", "bench"], env=env, check=True, capture_output=True
        )
        s3 = infnminio_boto.session(**sandbox.settings()).client("s3")
        s3.create_bucket(Bucket="bench")
        keys = infnminio_boto.credentials(**sandbox.settings())
        static_env = base_env(
            str(work) + "/static",
            AWS_ACCESS_KEY_ID=keys.access_key,
            AWS_SECRET_ACCESS_KEY=keys.secret_key,
            AWS_SESSION_TOKEN=keys.token,
            AWS_REGION="us-east-1",
            AWS_ENDPOINT_URL_S3=sandbox.endpoint,
        )
        os.makedirs(str(work) + "/static", exist_ok=True)
        subprocess.run(
            ["aws", "--profile", "bench", "s3", "ls"], env=env, check=True, capture_output=True
        )
        ours = median_wall(["aws", "--profile", "bench", "s3", "ls", "s3://bench"], runs, env)
        theirs = median_wall(["aws", "s3", "ls", "s3://bench"], runs, static_env)
        row(
            "`aws s3 ls` through our credential_process profile vs static keys in the "
            "environment (real RGW)",
            ours,
            "static keys",
            theirs,
            "ms",
        )
    finally:
        sandbox.stop()


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
    row(
        "STS exchanges, 64 threads sharing one session",
        ours,
        "botocore web-identity provider",
        botocore_count,
        "exchanges",
    )
    row(
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

    def run(probe: str, env: dict, dialect: str) -> int:
        with FakeSts(dialect, exchange_delay=0.3) as sts:
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
    with FakeSts("aws", exchange_delay=0.3) as sts:
        web_env["AWS_ENDPOINT_URL_STS"] = sts.url
        processes = [
            subprocess.Popen(
                [PYTHON, "-c", probe_botocore, sts.url],
                env=web_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(16)
        ]
        for process in processes:
            process.wait(timeout=120)
        botocore_count = sts.exchanges
    old = run(probe_old, env, "aws")
    row(
        "STS exchanges, 16 processes started together (shared cache)",
        ours,
        "botocore web-identity provider",
        botocore_count,
        "exchanges",
    )
    row("STS exchanges, 16 processes started together", ours, "old library", old, "exchanges")


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
    row(
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


# ------------------------------------------------------------ 4. import cost
def import_cost(runs: int, work: Path) -> None:
    print("import cost", flush=True)
    env = base_env(str(work))
    ours = median_wall([PYTHON, "-c", "import infnminio_boto"], runs, env)
    boto3 = median_wall([PYTHON, "-c", "import boto3"], runs, env)
    session = median_wall(
        [
            PYTHON,
            "-c",
            "import infnminio_boto; infnminio_boto.session(endpoint='https://s3.example.org')",
        ],
        runs,
        env,
    )
    boto3_session = median_wall(
        [PYTHON, "-c", "import boto3; boto3.Session()"],
        runs,
        env,
    )
    row(
        "`import infnminio_boto` vs `import boto3` (process wall time)",
        ours,
        "import boto3",
        boto3,
        "ms",
    )
    row(
        "`infnminio_boto.session()` vs `boto3.Session()` (process wall time, import included)",
        session,
        "boto3.Session()",
        boto3_session,
        "ms",
    )


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
    row(
        f"failed S3 requests, 8 threads for {seconds:.0f} s, {expiries} credential expiries",
        results["ours"]["failed"],
        "old library (keys fetched once)",
        results["old"]["failed"],
        "failed requests",
    )
    row(
        f"STS exchanges in the same {seconds:.0f} s workload",
        results["ours"]["exchanges"],
        "botocore web-identity provider",
        results["botocore"]["exchanges"],
        "exchanges",
    )
    row(
        "failed S3 requests in the same workload",
        results["ours"]["failed"],
        "botocore web-identity provider",
        results["botocore"]["failed"],
        "failed requests",
    )
    rows[-3]["detail"] = results


# ------------------------------------------------------------------ output
def markdown() -> str:
    lines = [
        "| benchmark (lower is better) | ours | alternative | theirs | ours compared |",
        "|---|---:|---|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['benchmark']} | {r['ours']:g} {r['unit']} | {r['alternative']} | "
            f"{r['theirs']:g} {r['unit']} | {r['comparison']} |"
        )
    return "\n".join(lines)


def chart(timeline: Dict[str, object], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4.5), dpi=110)
    for name, label, style in (
        ("botocore", "botocore default windows (15/10 min)", "-"),
        ("ours", "infnminio-boto (windows sized to the lifetime)", "-"),
    ):
        moments = [t / 3600 for t in timeline[name]]  # type: ignore[index]
        counts = list(range(1, len(moments) + 1))
        moments.append(float(timeline["hours"]))  # type: ignore[arg-type]
        counts.append(counts[-1])
        axis.step(moments, counts, style, where="post", label=label)
    axis.set_yscale("log")
    axis.set_xlabel("hours of a job making one S3 call per second")
    axis.set_ylabel("STS exchanges so far (log scale)")
    axis.set_title(f"{timeline['lifetime']}-second credentials: exchanges over time")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args()
    runs = 7 if args.quick else 25
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="imb-bench-") as scratch:
        work = Path(scratch)
        hot_path(work, runs)
        aws_cli(work, max(5, runs // 3))
        threads_sharing(work)
        processes_together(work)
        timeline = refresh_windows_simulation()
        import_cost(runs, work)
        sustained(work, 16 if args.quick else 21)
    table = markdown()
    print("\n" + table)
    (out / "latest.md").write_text(table + "\n")
    (out / "latest.json").write_text(
        json.dumps(
            {
                "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "python": sys.version.split()[0],
                "cpus": os.cpu_count(),
                "rows": rows,
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    chart(timeline, out / "exchanges-over-time.png")
    print(
        f"\nSaved {out / 'latest.md'}, {out / 'latest.json'} and {out / 'exchanges-over-time.png'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
