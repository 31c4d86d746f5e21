"""`make bench`: infnminio-boto against the alternatives, measured side by side in one run.

Prints one markdown table (paired timings with ratios, exact counts) and saves it with
the raw numbers as JSON, plus a PNG chart of STS exchanges over time. `make bench` runs
it from a regular (non-editable) install, as users have it. Each row runs against what
is meaningful: the sandbox (a real Ceph RGW over https) for the AWS CLI, the fake STS
from the test suite where exchanges must be counted or faults produced, and a simulated
clock where hours of credential lifetime must pass in a second.

Usage: python benchmarks/run.py [--quick] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# The suite's helpers (fake STS, JWTs) and these modules; the package itself is the
# installed one, not the checkout.
sys.path[0:0] = [str(HERE), str(ROOT / "tests")]

import cluster  # noqa: E402
import exchanges  # noqa: E402
import install  # noqa: E402
import notebook  # noqa: E402
import startup  # noqa: E402
from measure import markdown, rows  # noqa: E402


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


def write_docs_table(table: str) -> None:
    """Put the table of this run into docs/benchmarks.md, between its markers."""
    import re

    path = ROOT / "docs" / "benchmarks.md"
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    block = (
        f"<!-- bench:table -->\nLast run: {stamp}, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs.\n\n{table}\n<!-- /bench:table -->"
    )
    text = path.read_text()
    path.write_text(
        re.sub(r"<!-- bench:table -->.*?<!-- /bench:table -->", lambda _: block, text, flags=re.S)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args()
    runs = 10 if args.quick else 30
    out = Path(args.out).absolute()  # before the chdir below
    out.mkdir(parents=True, exist_ok=True)
    import infnminio_boto

    print(f"infnminio_boto from {Path(infnminio_boto.__file__).parent}", flush=True)
    with tempfile.TemporaryDirectory(prefix="imb-bench-") as scratch:
        work = Path(scratch)
        # `python -c` puts the current directory first on sys.path: started from the
        # checkout, every child would import its sources instead of the installed copy.
        os.chdir(work)
        # What runs in this process (session(), credentials(), the chart) keeps its
        # caches here, not in the user's ~/.cache: a benchmark leaves no trace.
        os.environ["XDG_CACHE_HOME"] = str(work / "cache")
        os.environ["MPLCONFIGDIR"] = str(work / "matplotlib")
        child = subprocess.run(
            [sys.executable, "-c", "import infnminio_boto; print(infnminio_boto.__file__)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        print(f"child processes import infnminio_boto from {Path(child).parent}", flush=True)
        startup.credential_process(work, runs)
        startup.imports(work, runs)
        startup.aws_cli(work, max(5, runs // 3))
        notebook.load_ext(work, max(5, runs // 3))
        exchanges.threads_sharing(work)
        exchanges.processes_together(work)
        timeline = exchanges.refresh_windows_simulation()
        exchanges.sustained(work, 16 if args.quick else 21)
        cluster.cluster_across_machines(work)
        install.pip_install(work)
        chart(timeline, out / "exchanges-over-time.png")
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
    if not args.quick:
        write_docs_table(table)
    print(f"\nSaved latest.md, latest.json and exchanges-over-time.png in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
