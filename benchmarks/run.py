"""Run every benchmark, print one table per section, and write ``docs/benchmarks.md``.

``make bench`` runs this from the repository root. Benchmarks report; they never fail on timing
(the exit status is non-zero only if a benchmark itself breaks). Targets are shown as met or not,
with the numbers, next to the alternatives' results as ratios.

    python benchmarks/run.py [--runs 100] [--samples 7] [--output docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import datetime
import functools
import importlib.metadata
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import benchmarks  # noqa: E402, F401  (puts lambda_src, cdk and the root on sys.path)
from benchmarks import (  # noqa: E402
    cold_start,
    convergence,
    drift_check,
    footprint,
    ownership_calls,
    scale,
)
from kinesis_stream_encryption import (  # noqa: E402  (IAM's quotas, as the construct checks them)
    MANAGED_POLICIES_PER_ROLE,
    MANAGED_POLICY_LIMIT,
    ROLE_INLINE_POLICIES_LIMIT,
)

T = TypeVar("T")

# Targets from the issue.
# Convergence (issue 12): median overshoot ≤ 0.5 s for windows up to 10 s, ≤ 5 % of the window
# beyond; ≤ 0.2 Describe calls per second averaged over a 600-s wait.
OVERSHOOT_MEDIAN_TARGET = 0.5
SHORT_WINDOW_S = 10
OVERSHOOT_SHARE_TARGET = 0.05
LONG_WAIT_S = 600
DESCRIBES_PER_SECOND_TARGET = 0.2
COLD_START_RATIO_TARGET = 1.5
ASSET_KB_TARGET = 50.0
SCALE_RATIO_TARGET = 1.3
SCALE_REPEATS = {100: 5, 500: 1}  # seeds: the jitter decides a lot; 500 costs a minute

OURS = "ours"


# -- formatting ------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table padded to line up in a terminal as well."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def ratio(value: float | None, reference: float | None) -> str:
    """``value / reference`` as ``n.nnx`` (how many times ours, when reference is ours)."""
    if value is None or reference is None or reference == 0:
        return "—"
    return f"{value / reference:.2f}x"


def within(value: float, target: float) -> bool:
    """``value <= target`` at the two decimals the tables show: a median of 0.5004 s reads 0.50
    and meets 0.5 s (sampling noise is far larger than the rounding)."""
    return round(value, 2) <= target


def verdict(met: bool, detail: str) -> str:
    return f"{'met' if met else 'NOT met'} ({detail})"


def timed(label: str, work: Callable[[], T]) -> tuple[T, float]:
    print(f"... {label}", file=sys.stderr, flush=True)
    began = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - began
    print(f"    {label}: {elapsed:.1f} s", file=sys.stderr, flush=True)
    return result, elapsed


# -- sections --------------------------------------------------------------------------------


def overshoot_target(window: float) -> float:
    """The median overshoot allowed for a window: 0.5 s up to 10 s, 5 % of it beyond."""
    if window <= SHORT_WINDOW_S:
        return OVERSHOOT_MEDIAN_TARGET
    return OVERSHOOT_SHARE_TARGET * window


def convergence_section(rows: list[dict[str, Any]], runs: int) -> tuple[str, list[list[str]]]:
    ours_by_window = {r["window_s"]: r for r in rows if r["policy"] == OURS}
    body: list[list[object]] = []
    for row in rows:
        mine = ours_by_window[row["window_s"]]
        targets = ""
        if row["policy"] == OURS:
            median, rate = row["median_overshoot_s"], row["describes_per_s"]
            allowed = overshoot_target(row["window_s"])
            marks = [f"median ≤ {allowed:g} s {'✓' if within(median, allowed) else '✗'}"]
            if row["window_s"] == LONG_WAIT_S:
                marks.append(f"≤0.2/s {'✓' if within(rate, DESCRIBES_PER_SECOND_TARGET) else '✗'}")
            targets = "; ".join(marks)
        body.append(
            [
                row["window_s"],
                row["policy"],
                num(row["median_overshoot_s"]),
                num(row["p95_overshoot_s"]),
                ""
                if row["policy"] == OURS
                else ratio(row["median_overshoot_s"], mine["median_overshoot_s"]),
                ""
                if row["policy"] == OURS
                else ratio(row["p95_overshoot_s"], mine["p95_overshoot_s"]),
                num(row["describes_per_op"], 1),
                num(row["describes_per_s"]),
                f"{row['gave_up']}/{runs}",
                targets,
            ]
        )
    text = table(
        [
            "UPDATING (s)",
            "policy",
            "overshoot median (s)",
            "p95 (s)",
            "median ÷ ours",
            "p95 ÷ ours",
            "Describes / op",
            "Describes / s",
            "gave up",
            "targets (ours)",
        ],
        body,
    )
    ours_rows = [r for r in rows if r["policy"] == OURS]
    short = [r for r in ours_rows if r["window_s"] <= SHORT_WINDOW_S]
    long = [r for r in ours_rows if r["window_s"] > SHORT_WINDOW_S]
    worst_short = max(short, key=lambda r: r["median_overshoot_s"])
    worst_long = max(long, key=lambda r: r["median_overshoot_s"] / r["window_s"])
    long_wait = ours_by_window.get(LONG_WAIT_S)
    summary = [
        [
            f"Convergence: overshoot median ≤ 0.5 s for windows up to {SHORT_WINDOW_S} s",
            verdict(
                within(worst_short["median_overshoot_s"], OVERSHOOT_MEDIAN_TARGET),
                f"worst {worst_short['median_overshoot_s']:.2f} s at {worst_short['window_s']} s",
            ),
            "about one look a second while the wait is young, jitter drawn from 80-100 % of the "
            "gap: the expected median is about 0.45 s",
        ],
        [
            "Convergence: overshoot median ≤ 5 % of the window beyond that",
            verdict(
                all(within(r["median_overshoot_s"], overshoot_target(r["window_s"])) for r in long),
                f"worst {100 * worst_long['median_overshoot_s'] / worst_long['window_s']:.1f} % "
                f"at {worst_long['window_s']} s",
            ),
            "the gap is 5 % of the time waited (at most 5 s), so the overshoot is at most that",
        ],
        [
            f"Convergence: ≤ 0.2 DescribeStreamSummary per second over a {LONG_WAIT_S}-s wait",
            verdict(
                long_wait is not None
                and within(long_wait["describes_per_s"], DESCRIBES_PER_SECOND_TARGET),
                f"{long_wait['describes_per_s']:.3f}/s ({long_wait['describes_per_op']:.0f} calls)"
                if long_wait
                else "not measured",
            ),
            'at odds with SPEC "Waiting" (a second while young, gap 5 % of the wait, at most '
            "5 s): even a 5-s gap from the start gives 0.2/s exactly; the SPEC's cadence needs "
            "about 150 calls (0.25/s) before jitter. The SPEC wins (see Methodology)",
        ],
    ]
    return text, summary


def cold_start_section(result: dict[str, Any]) -> tuple[str, str, list[list[str]]]:
    base = result["boto3 baseline"]
    variants = ["boto3 baseline", cold_start.AS_DEPLOYED, cold_start.WITH_TRACING]
    body = []
    for name in variants:
        row = result[name]
        wall_ratio = row["wall_s"] / base["wall_s"]
        target = ""
        if name != "boto3 baseline":
            target = verdict(
                within(wall_ratio, COLD_START_RATIO_TARGET), f"{wall_ratio:.2f}x, target 1.5x"
            )
        body.append(
            [
                name,
                num(row["wall_s"], 3),
                f"{wall_ratio:.2f}x",
                num(row["wall_min_s"], 3),
                f"{row['wall_min_s'] / base['wall_min_s']:.2f}x",
                num(row["cpu_s"], 3),
                f"{row['cpu_s'] / base['cpu_s']:.2f}x",
                num(row["peak_rss_mb"], 1),
                f"{row['peak_rss_mb'] / base['peak_rss_mb']:.2f}x",
                target,
            ]
        )
    text = table(
        [
            "process",
            "wall median (s)",
            "÷ baseline",
            "wall min (s)",
            "÷ baseline",
            "CPU median (s)",
            "÷ baseline",
            "peak RSS (MB)",
            "÷ baseline",
            "target (wall median)",
        ],
        body,
    )
    stages = result["stages_s"]
    total = sum(stages.values())
    stage_text = table(
        ["stage (tracing on, in import order)", "ms (median)", "share"],
        [
            [name, f"{seconds * 1000:.0f}", f"{seconds / total:.0%}"]
            for name, seconds in sorted(stages.items(), key=lambda item: -item[1])
        ],
    )
    validation = sum(v for k, v in stages.items() if k.startswith(("pydantic", "Powertools:")))
    tracing = sum(v for k, v in stages.items() if k.startswith("Powertools Tracer"))
    notes = {
        variants[1]: f"pydantic + Powertools' parser models: {validation * 1000:.0f} ms",
        variants[2]: f"as above, plus the X-Ray SDK and Tracer: {tracing * 1000:.0f} ms",
    }
    summary = [
        [
            f"Cold start ≤ 1.5x the boto3 baseline ({name})",
            verdict(
                within(result[name]["wall_s"] / base["wall_s"], COLD_START_RATIO_TARGET),
                f"{result[name]['wall_s'] / base['wall_s']:.2f}x; CPU "
                f"{result[name]['cpu_s'] / base['cpu_s']:.2f}x",
            ),
            notes[name],
        ]
        for name in variants[1:]
    ]
    return text, stage_text, summary


def _refusal(error: str) -> str:
    """A synth refusal in a table cell: whether it names the option that takes over."""
    named = "stream_name_prefix" in error
    return "no: refused at synth" + (", naming stream_name_prefix" if named else f" ({error[:80]})")


def fleet_section(rows: list[footprint.FleetRow]) -> tuple[str, list[list[str]]]:
    """Which ways of writing a 200-stream stack synthesize, and what each leaves the role."""
    body = [
        [
            row.keys,
            row.scope,
            "yes" if row.synthesized else _refusal(row.error),
            f"{row.inline_chars:,}",
            row.managed_policies,
            f"{row.largest_managed_chars:,}",
            row.iam_policy_resources,
        ]
        for row in rows
    ]
    text = table(
        [
            "keys",
            "IAM scope",
            "synthesizes",
            "role inline chars (≤ 10,240)",
            "managed policies (≤ 10)",
            "largest managed policy chars (≤ 6,144)",
            "AWS::IAM::Policy resources",
        ],
        body,
    )
    within_quotas = all(
        row.inline_chars <= ROLE_INLINE_POLICIES_LIMIT
        and row.managed_policies <= MANAGED_POLICIES_PER_ROLE
        and row.largest_managed_chars <= MANAGED_POLICY_LIMIT
        for row in rows
        if row.synthesized
    )
    prefixed = [row for row in rows if row.scope == "stream_name_prefix"]
    refused = [row for row in rows if not row.synthesized]
    summary = [
        [
            f"A fleet of {footprint.FLEET} streams in one stack fits IAM's quotas",
            verdict(
                within_quotas and all(row.synthesized for row in prefixed),
                f"with stream_name_prefix: {len(prefixed)} of {len(prefixed)} synthesize within "
                "the quotas",
            ),
            f"per stream: {len(refused)} of {len(rows) - len(prefixed)} refused at synth, "
            f"{sum('stream_name_prefix' in row.error for row in refused)} naming "
            "stream_name_prefix",
        ]
    ]
    return text, summary


def footprint_section(result: dict[str, Any]) -> tuple[str, str, list[list[str]]]:
    rows: list[footprint.Footprint] = result["rows"]
    ours_by_size = {r.streams: r for r in rows if r.variant == OURS}
    body = []
    for row in rows:
        mine = ours_by_size[row.streams]
        body.append(
            [
                row.variant,
                row.streams,
                row.resources,
                "" if row.variant == OURS else ratio(row.resources, mine.resources),
                row.functions,
                row.roles,
                row.policies,
                row.log_groups,
                row.state_machines,
                f"{row.busiest_role_inline_chars:,}"
                + (" ⚠" if row.busiest_role_inline_chars > ROLE_INLINE_POLICIES_LIMIT else ""),
                num(row.template_kb, 1),
            ]
        )
    text = table(
        [
            "variant",
            "streams",
            "resources",
            "÷ ours",
            "Lambda functions",
            "IAM roles",
            "IAM policies",
            "log groups",
            "state machines",
            "inline policy chars, busiest role",
            "template (KB)",
        ],
        body,
    )
    split_rows = []
    for variant, split in result["linear"].items():
        fixed = {k: v["fixed"] for k, v in split.items() if v["fixed"]}
        per = {k: v["per_stream"] for k, v in split.items() if v["per_stream"]}
        exact = all(v["exact"] for v in split.values())
        split_rows.append(
            [
                variant,
                f"{sum(fixed.values()):g}: "
                + ", ".join(f"{_short(k)} {v:g}" for k, v in fixed.items()),
                f"{sum(per.values()):g}: "
                + ", ".join(f"{_short(k)} {v:g}" for k, v in per.items()),
                "yes" if exact else "no",
            ]
        )
    split_text = table(["variant", "fixed resources", "per stream", "exactly linear"], split_rows)
    ours_split = result["linear"][OURS]
    fixed_kinds = ("AWS::Lambda::Function", "AWS::IAM::Role", "AWS::Logs::LogGroup")
    fixed_ok = all(ours_split.get(k, {}).get("per_stream", 0) == 0 for k in fixed_kinds)
    policies_per_stream = ours_split.get("AWS::IAM::Policy", {}).get("per_stream", 0)
    asset = result["asset"]
    biggest = max(r.streams for r in rows)
    ours_big = ours_by_size[biggest]
    summary = [
        [
            "Footprint: function, role and log group do not grow with streams",
            verdict(fixed_ok, "1 function, 1 role, 1 log group at every size"),
            "",
        ],
        [
            "Footprint: IAM policies do not grow with streams",
            verdict(
                policies_per_stream == 0,
                f"{policies_per_stream:g} AWS::IAM::Policy per stream",
            ),
            "by design: a resource's own policy outlives its Delete (see section 3)",
        ],
        [
            f"IAM quota (not an issue target): {biggest} streams' policies fit one role",
            verdict(
                ours_big.busiest_role_inline_chars <= ROLE_INLINE_POLICIES_LIMIT,
                f"~{ours_big.busiest_role_inline_chars:,} of {ROLE_INLINE_POLICIES_LIMIT:,} "
                "inline policy chars" + ("; synth warns" if ours_big.warnings else ""),
            ),
            "; ".join(
                f"{r.variant} ~{r.busiest_role_inline_chars:,}"
                for r in rows
                if r.streams == biggest and r.variant != OURS
            ),
        ],
        [
            "Footprint: Lambda asset ≤ 50 KB zipped",
            verdict(
                within(asset["zipped_kb"], ASSET_KB_TARGET),
                f"{asset['zipped_kb']:.1f} KB, {asset['files']} files",
            ),
            "",
        ],
    ]
    return text, split_text, summary


def _scale_runs(size: int, repeats: int) -> list[scale.ScaleRun]:
    return [scale.run(size, seed=seed) for seed in range(repeats)]


def _short(resource_type: str) -> str:
    return resource_type.split("::", 1)[-1]


def scale_section(results: dict[int, list[scale.ScaleRun]]) -> tuple[str, list[list[str]]]:
    body = []
    summary = []
    for size, runs in results.items():
        ratios = [r.ratio for r in runs]
        median_run = sorted(runs, key=lambda r: r.ratio)[len(runs) // 2]
        failures = sum(r.failures for r in runs)
        spread = f" ({min(ratios):.2f}-{max(ratios):.2f})" if len(runs) > 1 else ""
        body.append(
            [
                size,
                len(runs),
                num(median_run.virtual_seconds, 1),
                num(median_run.minimum_seconds, 1),
                f"{median_run.ratio:.2f}x{spread}",
                f"{median_run.virtual_seconds / median_run.lenient_minimum_seconds:.2f}x",
                f"{failures}/{size * len(runs)}",
                num(median_run.describes / size, 1),
                num(median_run.throttled / size, 1),
                num((median_run.describes - median_run.throttled) / scale.DESCRIBE_TPS, 1),
                num(median_run.starts / size, 2),
                num(median_run.tag_calls / size, 1),
                num(median_run.tag_throttled / size, 1),
                f"{median_run.finish_p50:.1f} / {median_run.finish_p95:.1f}",
                num(statistics.mean(r.real_seconds for r in runs), 1),
            ]
        )
        summary.append(
            [
                f"Scale: {size} resources within 1.3x the quota-bound minimum, no failures",
                verdict(
                    within(median_run.ratio, SCALE_RATIO_TARGET) and failures == 0,
                    f"{median_run.ratio:.2f}x{spread}, {failures} failures",
                ),
                f"{(median_run.describes - median_run.throttled) / size:.1f} successful reads "
                "per resource of the 2 needed: polls while UPDATING share the account's 20/s",
            ]
        )
    text = table(
        [
            "resources",
            "runs",
            "virtual wall (s)",
            "minimum (s)",
            "÷ minimum",
            "÷ (max(2N/R, N/T) + U)",
            "failures",
            "Describes / resource",
            "of which throttled",
            "successful reads ÷ R (s)",
            "Starts / resource",
            "tag calls / resource",
            "of which throttled",
            "answered p50 / p95 (s)",
            "real time per run (s)",
        ],
        body,
    )
    return text, summary


# -- the report ------------------------------------------------------------------------------


def drift_section(result: dict[str, Any]) -> tuple[str, list[list[str]]]:
    """One check per fleet size, and the detection latency over several periods."""
    checks: list[drift_check.CheckRun] = result["checks"]
    latency: drift_check.Latency = result["latency"]
    rows = [
        [
            str(run.streams),
            *(str(run.calls[op]) for op in drift_check.OPERATIONS[:3]),
            str(sum(run.calls.values())),
            str(run.invocations),
            f"{run.seconds:.0f} s",
            f"{100 * run.describe_share_mean:.1f} %",
            f"{100 * run.describe_share_peak:.0f} %",
        ]
        for run in checks
    ]
    text = table(
        [
            "streams",
            "ListStreams",
            "ListTagsForStream",
            "DescribeStreamSummary",
            "calls in all",
            "invocations",
            "wall time (virtual)",
            "Describe budget, mean",
            "Describe budget, peak second",
        ],
        rows,
    )
    text += (
        f"\n\nDetection latency ({latency.drifts} drifts at random moments, {latency.streams} "
        f"streams, schedule every {latency.period:.0f} s): median {latency.median:.0f} s, worst "
        f"{latency.worst:.0f} s."
    )
    share = max(run.describe_share_peak for run in checks)
    summary = [
        [
            "drift detected within one schedule period",
            verdict(
                latency.worst <= latency.period,
                f"worst {latency.worst:.0f} s ≤ {latency.period:.0f} s",
            ),
            "a check visits a stable fleet in the same order every period",
        ],
        [
            "drift check within a quarter of the Describe budget",
            verdict(share <= 0.25, f"peak second {100 * share:.0f} % of 20 TPS"),
            "paced to 5 Describe/s and 1.25 ListTags/s; tag reads set the pace",
        ],
    ]
    return text, summary


def versions() -> str:
    names = ("aws-cdk-lib", "boto3", "botocore", "aws-lambda-powertools", "pydantic", "moto")
    found = []
    for name in names:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return ", ".join(found)


def machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"{os.cpu_count()} CPUs (nproc), {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}; load average at start {load}"
    )


METHODOLOGY = """\
## Methodology and known limits

* **Convergence** runs in virtual time on `devsupport/kinesis_sim.py`: API calls take no time,
  and the alternatives' own latencies (a Step Functions state transition plus a Lambda invocation
  per CDK Provider `isComplete`, Terraform's and boto3's request time) are not added, which
  flatters them. Only the wait after StartStreamEncryption is compared (every policy's decide-read
  and Start are the same). The boto3 `StreamExists` waiter really calls `DescribeStream` (10 TPS
  per account, half the budget of `DescribeStreamSummary`); here its calls are counted as Describe
  calls on the simulator. The UPDATING window is jittered ±10 % per run, the same windows for
  every policy (paired), and our poller's jitter is seeded independently of the window's.
* **The convergence targets and the SPEC's cadence.** For a poller whose phase relative to the
  moment the stream becomes ACTIVE is uniform, the median overshoot is half the poll gap. A median
  of at most 0.5 s for short windows needs a gap of at most 1 s there; at most 5 % beyond needs a
  gap of at most 10 % of the window. SPEC "Waiting" takes about 1 s while young, then 5 % of the
  time waited, at most 5 s; our jitter draws each gap from 80-100 % of that (never later than the
  rule; expected median about 0.45 s for short windows). Over a 600-s wait that costs about 20
  calls for the first 20 s, ln 5 / ln 1.05 ≈ 33 while the gap grows from 1 s to 5 s (20-100 s) and
  100 at 5 s (100-600 s): about 153, 0.26 per second, and about 10 % more with the jitter. The
  issue's 0.2 per second over 600 s would need an average gap of 5 s from the first second, which
  the 5-s cap and the young phase exclude; the cadence honours the SPEC and the measured rate is
  reported as it is.
* **Cold start** is whole-process: `python -c` for each sample, timed from this process, against a
  moto server in a separate process (its start-up is not counted) and a loopback ResponseURL. It
  leaves out what Lambda adds around the process (sandbox, runtime bootstrap, layer extraction):
  the ratio to the boto3 baseline is the point, not the absolute numbers. Samples of all variants
  are interleaved and the median is reported; the machine is shared with other work, so the
  absolute times move from run to run. "As deployed" sets the Lambda environment (function name,
  trace header, a local UDP socket as the X-Ray daemon) with the environment variables the
  construct synthesizes: by default tracing is off (`POWERTOOLS_TRACE_DISABLED=true`, the X-Ray
  SDK is not imported); the `tracing=True` row uses that construct setting's variables. The
  stage breakdown attributes time in import order:
  a stage counts only what earlier stages had not loaded. Bytecode is as in Lambda: the
  dependencies run from a private, pre-filled `PYTHONPYCACHEPREFIX` cache (the runtime's boto3
  and the Powertools layer ship `.pyc`), our modules compile from source in every process (the
  asset excludes bytecode and Lambda's code directory is read-only: about 20 ms). Whole-process
  time includes interpreter exit, which tears down every loaded module (mostly botocore's) and
  which Lambda, keeping the process, never pays; it is in the baseline too.
* **Footprint** counts the synthesized templates (one in-process App per variant, default feature
  flags as in this repository's `cdk.json`, which sets none: with
  `@aws-cdk/aws-iam:minimizePolicies` the CDK Provider variant's statements would merge). Log groups
  Lambda creates on first run (outside the template, never expiring) are not counted; ours declares
  its own, with a retention. "Inline policy chars" sums all inline policies (`AWS::IAM::Policy`
  and role `Policies`) attached to one role, whitespace excluded, with intrinsics sized as typical
  ARNs (the construct's own estimate): IAM allows 10,240 per role (⚠ marks a stack over it). The
  CDK Provider variants are footprint-only: our handler PUTs its own response, so behind the
  framework it would need an adapter that returns the result instead.
* **Scale** runs N real `process` calls as N threads on one virtual clock; the simulator allows 20
  successful DescribeStreamSummary calls per second per account (throttled calls do not use the
  budget, which Kinesis does not document), does not throttle Start, and keeps each stream
  UPDATING for 3 s; ListTagsForStream and AddTagsToStream are each limited to T = 5 successful
  calls per second per account (throttled ones do not use it either). Results depend on the
  seeded jitter (and, in principle, on which thread wins a tie at the same virtual instant;
  repeated runs here gave the same numbers): the 100-resource case runs with 5 seeds, the median
  run shown with the range. The quota-bound minimum is
  T_min = max(2N/R, N/R + U, N/T + U): every resource needs two successful reads (decide before
  Start, confirm once ACTIVE) at R = 20 per second for the whole account, and the last Start
  cannot come before the N deciding reads, nor before the N ownership tag reads and writes, are
  done, plus its UPDATING window U = 3 s. With ownership the tag budget binds: N/T + U. An
  omniscient scheduler reaches it, so it is tight; `÷ (max(2N/R, N/T) + U)` is the looser
  reference the load test
  (`tests/faults/test_load.py`) prints. "Successful reads ÷ R" is how long the account's budget
  needs for the reads the run actually made: the gap from T_min to it is polls that found the
  stream still UPDATING, the gap from it to the wall time is budget left unused while resources
  backed off.
* **Ownership calls** count what one request calls through the real `process` (simulator without
  throttling, so retries do not blur the counts). Every Create or Update reads the stream's tags
  once; it writes them when it records, takes over or changes the key; CloudFormation is asked
  only when a resource of another stack holds the stream. Every Delete reads them once and
  removes them when this resource owned the stream.
"""


def ownership_section(rows: list[ownership_calls.CallCount]) -> str:
    body = [
        [
            row.scenario,
            row.status,
            row.encryption_calls,
            row.tag_calls["ListTagsForStream"],
            row.tag_calls["AddTagsToStream"],
            row.tag_calls["RemoveTagsFromStream"],
            row.cloudformation_calls,
            row.extra,
        ]
        for row in rows
    ]
    return table(
        [
            "request",
            "status",
            "Describe + Start + Stop",
            "ListTags",
            "AddTags",
            "RemoveTags",
            "DescribeStackResources",
            "added by ownership",
        ],
        body,
    )


def render(
    sections: dict[str, str],
    summary: list[list[str]],
    total_seconds: float,
    args: argparse.Namespace,
) -> str:
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    *smaller, largest = footprint.SIZES
    sizes = f"{', '.join(map(str, smaller))} and {largest}"
    return f"""\
# Benchmarks

Ours (`Custom::KinesisStreamEncryption`) side by side with what a user could pick instead: the CDK
Provider framework, Terraform's `aws_kinesis_stream`, boto3's `StreamExists` waiter and CDK's
`AwsCustomResource`. Ratios are *alternative ÷ ours* unless a column says otherwise. Benchmarks
report; they do not pass or fail.

* Generated by `make bench` on {date} in {total_seconds / 60:.1f} min.
* Machine: {machine()}.
* Versions: {versions()}.
* Settings: {args.runs} runs per convergence cell, {args.samples} cold-start samples per variant.

## Reproduce

```sh
make bench          # sets up .venv from uv.lock if needed, then: .venv/bin/python benchmarks/run.py
```

Each benchmark also runs alone, e.g. `.venv/bin/python -m benchmarks.scale`. The run rewrites this
file; the tables below come from the run described above.

## Targets

{table(["target", "result", "why / note"], summary)}

## 1. Convergence: noticing that the stream is ACTIVE again

Overshoot = when the policy reports done minus when the stream became ACTIVE (virtual seconds).
"Describes / s" = Describe calls ÷ the operation's duration (Start to answer). Policies: ours
(`KinesisAdapter.wait_until_settled`: first look after ~0.5 s, then about once a second while the
wait is young, the gap growing to 5 % of the time waited, at most 5 s, each gap drawn from 80-100 %
of that; throttling multiplies it), CDK Provider framework (`isComplete` at once, then every 5 s),
Terraform (first look after 10 s, then every 10 s), boto3 `StreamExists` (at once, then every 10 s,
18 attempts: gives up after 170 s).

{sections["convergence"]}

## 2. Cold start: a fresh process serving one no-op Update

The baseline is `import boto3`, a Kinesis client and one DescribeStreamSummary. Ours imports the
handler and serves an Update that changes nothing (the stream already has the key), including the
response PUT. The target is judged on the median wall time; the fastest sample and the CPU time
(user + system, from the kernel's accounting of the child) are shown too because they move less
with other load on the machine.

{sections["cold_start"]}

Where the time goes (one more process, tracing on, so every stage shows):

{sections["cold_start_stages"]}

## 3. Footprint: a stack encrypting {sizes} imported streams, and a fleet of {footprint.FLEET}

{sections["footprint"]}

Fixed and per-stream resources (from the smallest and largest stacks; "exactly linear" checks the
ones between):

{sections["footprint_split"]}

Our construct gives every resource its own small `AWS::IAM::Policy` on the shared role, so the
policy that lets a Delete turn encryption off is removed only after that resource is gone
(CloudFormation updates a shared default policy *before* it deletes removed resources; see
`cdk/kinesis_stream_encryption/construct.py`). The function, role and log group stay fixed; the
policy count grows by one per stream. All of a role's inline policies share IAM's 10,240-character
quota: {sections["capacity"]}. The construct computes the role's policy sizes at synth, warns
at 80 % of a quota and fails synthesis past it, naming `stream_name_prefix`, the option that
scopes the role by a stream-name prefix instead (one Kinesis statement, and the key statements in
customer managed policies of at most 6,144 characters, ten per role). `AwsCustomResource` also
attaches one policy per resource to its one shared role, and
says nothing when they pass the quota; the CDK Provider variants grow one default policy instead.
Synth warnings in this run:

{sections["footprint_warnings"]}

A fleet of {footprint.FLEET} imported streams in one stack, each way it can be written:

{sections["fleet"]}

Our Lambda asset (`lambda_src`, no bytecode): {sections["asset"]}.

## 4. Scale: many resources at once under the account's Kinesis limits

{sections["scale"]}

## 5. Ownership: API calls per request

{sections["ownership"]}

## 6. Drift check: one check over 10, 100 and 1,000 streams

One scheduled check (report only; one stream in ten drifted) through the real handler on the
simulator, in virtual time, following its hand-overs (5-minute function timeout).

{sections["drift"]}

{METHODOLOGY}"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100, help="convergence runs per cell")
    parser.add_argument("--samples", type=int, default=7, help="cold-start samples per variant")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)

    began = time.perf_counter()
    sections: dict[str, str] = {}
    summary: list[list[str]] = []

    conv_rows, _ = timed("convergence", lambda: convergence.measure(runs=args.runs))
    sections["convergence"], conv_summary = convergence_section(conv_rows, args.runs)
    print(sections["convergence"], flush=True)

    cold, _ = timed("cold start", lambda: cold_start.measure(samples=args.samples))
    sections["cold_start"], sections["cold_start_stages"], cold_summary = cold_start_section(cold)
    print(sections["cold_start"], sections["cold_start_stages"], sep="\n\n", flush=True)

    foot, _ = timed("footprint", footprint.measure)
    sections["footprint"], sections["footprint_split"], foot_summary = footprint_section(foot)
    warnings = [f"{r.variant}, {r.streams} streams: {w}" for r in foot["rows"] for w in r.warnings]
    sections["footprint_warnings"] = (
        "\n".join(f"> {w}" for w in warnings) if warnings else "> (no synth warnings)"
    )
    sections["fleet"], fleet_summary = fleet_section(foot["fleet"])
    sections["capacity"] = "; ".join(
        f"{fits} resources with the {kind}" for kind, fits in foot["capacity"].items()
    )
    asset = foot["asset"]
    sections["asset"] = (
        f"**{asset['zipped_kb']:.1f} KB zipped** ({asset['unzipped_kb']:.1f} KB unzipped, "
        f"{asset['files']} files); Powertools comes from its public layer and boto3 from the "
        "runtime, so neither is in the asset"
    )
    print(sections["footprint"], sections["footprint_split"], sep="\n\n", flush=True)
    print(sections["footprint_warnings"], f"Asset: {sections['asset']}", sep="\n", flush=True)

    scale_runs: dict[int, list[scale.ScaleRun]] = {}
    for size in scale.SIZES:
        repeats = SCALE_REPEATS.get(size, 1)
        scale_runs[size], _ = timed(
            f"scale, {size} resources x{repeats}", functools.partial(_scale_runs, size, repeats)
        )
    sections["scale"], scale_summary = scale_section(scale_runs)
    print(sections["scale"], flush=True)

    calls, _ = timed("ownership calls", ownership_calls.measure)
    sections["ownership"] = ownership_section(calls)
    print(sections["ownership"], flush=True)

    drift, _ = timed("drift check", drift_check.measure)
    sections["drift"], drift_summary = drift_section(drift)
    print(sections["drift"], flush=True)

    summary = (
        conv_summary + cold_summary + foot_summary + fleet_summary + scale_summary + drift_summary
    )
    total = time.perf_counter() - began
    print(table(["target", "result", "why / note"], summary), flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(sections, summary, total, args))
    print(f"\nTotal {total:.0f} s; wrote {args.output}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
