"""Measuring ours against theirs side by side, and the rows of the table.

Timings are paired: A and B run one after the other (alternating which goes first),
the ratio of each pair is kept, and the row reports the medians. The whole pairing is
done twice; a row whose ratio falls on different sides of 1 in the two rounds is
reported as "same within noise", never as faster or slower. Counts (exchanges, failed
requests) are exact and need no pairing.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from typing import Dict, List, NamedTuple, Optional, Sequence

rows: List[Dict[str, object]] = []


class Paired(NamedTuple):
    ours_ms: float
    theirs_ms: float
    ratio: float  # median of ours/theirs over the pairs of both rounds
    rounds: Sequence[float]  # the median ratio of each round


def _wall(command: Sequence[str], env: Optional[dict]) -> float:
    started = time.perf_counter()
    subprocess.run(
        list(command), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False
    )
    return time.perf_counter() - started


def paired(
    ours: Sequence[str],
    theirs: Sequence[str],
    runs: int,
    env: Optional[dict] = None,
    theirs_env: Optional[dict] = None,
) -> Paired:
    """``runs`` pairs in each of two rounds; wall times of whole processes."""
    theirs_env = env if theirs_env is None else theirs_env
    _wall(ours, env)  # warm the page cache and any cache of ours
    _wall(theirs, theirs_env)
    ours_times: List[float] = []
    theirs_times: List[float] = []
    ratios: List[float] = []
    rounds: List[float] = []
    for _round in range(2):
        round_ratios = []
        for index in range(runs):
            if index % 2:
                b = _wall(theirs, theirs_env)
                a = _wall(ours, env)
            else:
                a = _wall(ours, env)
                b = _wall(theirs, theirs_env)
            ours_times.append(a)
            theirs_times.append(b)
            round_ratios.append(a / b)
        rounds.append(statistics.median(round_ratios))
        ratios.extend(round_ratios)
    return Paired(
        round(statistics.median(ours_times) * 1000, 1),
        round(statistics.median(theirs_times) * 1000, 1),
        round(statistics.median(ratios), 3),
        [round(r, 3) for r in rounds],
    )


def noise(result: Paired) -> bool:
    """Whether the two rounds disagree on which side is faster."""
    first, second = result.rounds
    return (first - 1) * (second - 1) < 0


def timing_row(benchmark: str, result: Paired, alternative: str, baseline: bool = False) -> None:
    """A row for a paired timing; ``baseline`` rows say "N x the baseline"."""
    if baseline:
        comparison = f"{result.ratio:.2f}x the baseline"
    elif noise(result):
        comparison = f"same within noise (rounds {result.rounds[0]:.2f}x, {result.rounds[1]:.2f}x)"
    elif result.ratio < 1:
        comparison = f"{1 / result.ratio:.2f}x faster"
    else:
        comparison = f"{result.ratio:.2f}x slower"
    _append(benchmark, result.ours_ms, alternative, result.theirs_ms, "ms", comparison)
    rows[-1]["ratio_ours_over_theirs"] = result.ratio
    rows[-1]["rounds"] = list(result.rounds)


def difference_row(benchmark: str, result: Paired, alternative: str, target_ms: float) -> None:
    """A row for what ours adds to theirs (ours includes theirs), against a target."""
    added = round(result.ours_ms - result.theirs_ms, 1)
    verdict = "under" if added < target_ms else "OVER"
    comparison = f"+{added:g} ms ({verdict} the {target_ms:g} ms target)"
    _append(benchmark, result.ours_ms, alternative, result.theirs_ms, "ms", comparison)
    rows[-1]["added_ms"] = added


def count_row(benchmark: str, ours: float, alternative: str, theirs: float, unit: str) -> None:
    """A row for an exact count; lower is better."""
    if ours == theirs:
        comparison = "same"
    elif ours == 0:
        comparison = f"none vs {theirs:g}"
    elif theirs == 0:
        comparison = f"{ours:g} vs none"
    elif ours < theirs:
        comparison = f"{theirs / ours:.0f}x fewer"
    else:
        comparison = f"{ours / theirs:.1f}x more"
    _append(benchmark, ours, alternative, theirs, unit, comparison)


def seconds_row(benchmark: str, ours: float, alternative: str, theirs: float) -> None:
    """A row for one long measurement each (an install), in seconds."""
    comparison = f"{ours / theirs:.2f}x the time" if theirs else "-"
    _append(benchmark, round(ours, 1), alternative, round(theirs, 1), "s", comparison)


def _append(
    benchmark: str, ours: float, alternative: str, theirs: float, unit: str, comparison: str
) -> None:
    rows.append(
        {
            "benchmark": benchmark,
            "ours": ours,
            "alternative": alternative,
            "theirs": theirs,
            "unit": unit,
            "comparison": comparison,
        }
    )
    print(f"  {benchmark}: ours {ours:g} {unit} | {alternative} {theirs:g} {unit}", flush=True)


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


def base_env(home: str, **extra: str) -> dict:
    """The environment of a clean shell of a user whose home is ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INFNMINIO_", "AWS_"))}
    env.update(
        HOME=home,
        AWS_CONFIG_FILE=f"{home}/aws-config",
        AWS_SHARED_CREDENTIALS_FILE=f"{home}/aws-credentials",
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.update(extra)
    return env


def start_sandbox():
    """A running sandbox, or None (and a note) where Ceph or the extra is missing."""
    from infnminio_boto.sandbox import Sandbox, SandboxUnavailableError

    try:
        return Sandbox().start()
    except SandboxUnavailableError as error:
        print(f"  skipped: {error}")
        return None
