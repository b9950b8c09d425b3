"""Benchmark: the whole monthly run on the generator's portfolio, timed by stage, with peak memory.

    uv run python bench/monthly.py --leads 1000000
    uv run python bench/monthly.py --leads 10000000

The same steps `scorecards run` runs (flows/monthly.py calls them as Prefect tasks; here they
are called directly, no Prefect server): `steps.compute_and_stage` (read, judge, write), then
on a pool of one process per core forked from a fork server, as `scorecards run` renders by
default and in the flow's order, `steps.stage_claim_lines` beside every vendor's scorecard
(`steps.scorecard_documents`), then the internal report, the portfolio and every vendor's
claims (`steps.claim_documents`), each by `steps.render_document`, then `steps.publish`
(run.json, the swap into out/<month>, history, the claims ledger). The stages
inside `compute_and_stage` are timed by wrapping the functions it calls (`read_inputs`,
`compute_month`), so the code path is the flow's own.

The run and the metrics path (`pipeline.bench_metrics`, as bench/run.py times it) each run in a
fresh subprocess on the same files; the table gives each stage's time and peak resident memory
(VmHWM, reset at each stage's start through /proc/self/clear_refs), the process's own peak
(os.wait4), and the ratio whole run / metrics path (targets: under 3x, under 8 GB at 10 M).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, suppress
from datetime import date
from multiprocessing import forkserver
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from parity import default_month_and_as_of  # noqa: E402
from run import data_arguments, ensure_data, run_engine, spawn  # noqa: E402

STAGES = {
    "read": "contracts, deliveries, CRM and suppression read and checked (read_inputs)",
    "judge": "every lead judged, leads.parquet written a slice at a time, metrics read back "
    "from it, thresholds and verdicts (compute_month)",
    "write": "the other data outputs into staging",
    "render": "the month's claim lines staged (stage_claim_lines) beside the first scorecards, "
    "then every scorecard, the internal claims report, the portfolio, each vendor's claim "
    "(processes, one per core)",
    "record": "run.json, publish into out/<month>, history, claims ledger (publish)",
}


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    """VmHWM back to the current RSS (Linux >= 4.0), so each stage's peak is its own."""
    with suppress(OSError):  # then each figure is the peak so far
        Path("/proc/self/clear_refs").write_text("5")


class Stages:
    """Seconds and peak RSS (MB) of each named stage, in the order they ran."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, float]] = {}

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        _reset_peak()
        started = time.perf_counter()
        try:
            yield
        finally:
            row = self.rows.setdefault(name, {"seconds": 0.0, "peak_rss_mb": 0.0})
            row["seconds"] += time.perf_counter() - started
            row["peak_rss_mb"] = max(row["peak_rss_mb"], _status_kb("VmHWM") / 1024)

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with self.timed(name):
                return function(*args, **kwargs)

        return wrapped


# as `scorecards run --runner processes` (its default) renders: workers forked from a fork
# server that imported the renderers, each warming vl-convert once (flows.common)
WORKERS = multiprocessing.get_context("forkserver")
WORKERS.set_forkserver_preload(["scorecards.steps"])


def peak_of(function: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """A document step in a worker, and the worker's peak RSS so far (MB)."""
    return function(*args), _status_kb("VmHWM") / 1024


def monthly_child(layout: Path, month: str, as_of: date) -> dict[str, Any]:
    """The monthly run in this process, stage by stage (imports done before the clock)."""
    from scorecards import steps
    from scorecards.documents import charts

    forkserver.ensure_running()  # as `scorecards run` starts it first, before reading

    stages = Stages()
    judged_at: list[float] = []
    original = steps.compute_month

    def compute_month(*args: Any, **kwargs: Any) -> Any:
        with stages.timed("judge"):
            result = original(*args, **kwargs)
        _reset_peak()  # what follows in compute_and_stage is the write stage
        judged_at.append(time.perf_counter())
        return result

    steps.read_inputs = stages.wrap("read", steps.read_inputs)
    steps.compute_month = compute_month  # type: ignore[assignment]
    out, history = layout / "out", layout / "history"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(history, ignore_errors=True)
    started = time.perf_counter()
    staged = steps.compute_and_stage(
        month, as_of, layout / "data", layout / "contracts", out, str(history)
    )
    stages.rows["write"] = {
        "seconds": time.perf_counter() - judged_at[-1],
        "peak_rss_mb": _status_kb("VmHWM") / 1024,
    }
    with (
        stages.timed("render"),
        ProcessPoolExecutor(
            os.cpu_count() or 1, mp_context=WORKERS, initializer=charts.warm_up
        ) as pool,
    ):  # in the order flows/monthly.py submits them: the claim lines beside the scorecards
        render_started = time.perf_counter()
        staging = pool.submit(peak_of, steps.stage_claim_lines, staged)
        futures = {
            name: pool.submit(peak_of, steps.render_document, staged, kind, vendor_id)
            for name, kind, vendor_id in steps.scorecard_documents(staged["vendors"])
        }
        claiming, _ = staging.result()  # the flow waits for the lines here
        lines_staged = time.perf_counter() - render_started
        for name, kind, vendor_id in steps.claim_documents(claiming["vendors"]):
            futures[name] = pool.submit(peak_of, steps.render_document, staged, kind, vendor_id)
        done = {name: future.result() for name, future in futures.items()}
    stages.rows["render"]["worker_peak_rss_mb"] = max(peak for _, peak in done.values())
    stages.rows["render"]["lines_staged_s"] = lines_staged
    files = {n: str(r) for n, (r, _) in done.items() if not n.startswith("claims")}
    by_vendor = {v: done[f"claims {v}"][0] for v in claiming["vendors"]}
    claims = steps.claims_written(claiming, by_vendor, done["claims report"][0])
    with stages.timed("record"):
        summary = steps.publish(staged, {"files": files, "claims": claims, "failed": {}})
    return {
        "seconds": time.perf_counter() - started,
        "stages": stages.rows,
        "leads": staged["leads"],
        "vendors": len(staged["vendors"]),
        "documents": len(files),
        "claims": len(claims["claims"]),
        "claim_lines": summary["claim_lines"],
        "out": summary["out"],
    }


def make_layout(data_dir: Path, layout: Path) -> None:
    """The generated files as `scorecards run` reads them: data/{deliveries,crm,suppression}/
    and contracts/, linked, not copied."""
    links = {
        layout / "data" / "deliveries" / "deliveries.parquet": data_dir / "deliveries.parquet",
        layout / "data" / "crm" / "crm.parquet": data_dir / "crm.parquet",
        layout / "data" / "suppression": data_dir / "suppression",
        layout / "contracts": data_dir / "contracts",
    }
    for link, target in links.items():
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink():
            link.symlink_to(target.resolve())


def print_report(run: dict[str, Any], peak_mb: float, metrics: Any, rows: int) -> None:
    whole = run["seconds"]
    print(
        f"\n{run['leads']:,} leads judged, {run['vendors']} vendors, {run['documents']} documents, "
        f"{run['claims']} claims ({run['claim_lines']:,} lines)\n"
    )
    print("| stage | s | share | peak RSS MB | what runs |")
    print("|---|---:|---:|---:|---|")
    for name, what in STAGES.items():
        row = run["stages"].get(name, {"seconds": 0.0, "peak_rss_mb": 0.0})
        print(
            f"| {name} | {row['seconds']:.2f} | {row['seconds'] / whole:.0%} "
            f"| {row['peak_rss_mb']:,.0f} | {what} |"
        )
    render = run["stages"].get("render", {})
    if "lines_staged_s" in render:
        print(
            f"| (claim lines) | {render['lines_staged_s']:.2f} | | | within render: until the "
            "month's claim lines were staged and the claims submitted |"
        )
    workers = render.get("worker_peak_rss_mb")
    if workers:
        print(
            f"| (render workers) | | | {workers:,.0f} | each worker's own peak, "
            f"{os.cpu_count()} workers beside the run's process |"
        )
    print(
        f"| **whole run** | **{whole:.2f}** | 100% | **{peak_mb:,.0f}** | the highest stage's peak |"
    )
    if metrics.seconds is None:
        print(f"\nmetrics path: failed ({metrics.error})")
        return
    print(
        f"| metrics path | {metrics.seconds:.2f} | | {metrics.peak_rss_mb:,.0f} "
        f"| pipeline.bench_metrics on the same files, its own process |"
    )
    print(
        f"\nwhole run / metrics path: {whole / metrics.seconds:.2f}x time, "
        f"{peak_mb / metrics.peak_rss_mb:.2f}x peak memory (targets: < 3x, < 8 GB peak); "
        f"{rows / whole:,.0f} delivery rows/s end to end"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    data_arguments(parser)
    parser.add_argument("--max-rss-gb", type=float, default=20.0, help="stop a run above this")
    parser.add_argument("--skip-metrics", action="store_true", help="the monthly run only")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        from scorecards import steps  # noqa: F401  (imports before the clock)

        result = monthly_child(args.child, args.month, args.as_of)
        print(json.dumps(result))
        return 0

    import polars as pl

    data_dir = BENCH / "data" / str(args.leads)
    ensure_data(data_dir, args.leads, args.seed, regenerate=False)
    deliveries = data_dir / "deliveries.parquet"
    month, as_of = default_month_and_as_of(deliveries)
    month, as_of = args.month or month, args.as_of or as_of
    rows = pl.scan_parquet(deliveries).select(pl.len()).collect().item()
    results = BENCH / "results" / str(args.leads)
    layout = results / "monthly"
    make_layout(data_dir, layout)
    print(
        f"{rows:,} delivery rows in {data_dir}; month {month}, as of {as_of}; {os.cpu_count()} cores"
    )
    print("running the monthly run ...", flush=True)
    command = [sys.executable, __file__, "--child", str(layout), "--month", month]
    command += ["--as-of", as_of.isoformat()]
    log = results / "monthly.log"
    elapsed, peak_mb, stopped, code, stdout = spawn(command, log, args.max_rss_gb * 1024)
    if stopped or code != 0:
        why = "stopped above --max-rss-gb" if stopped else f"exit {code}"
        print(f"the monthly run failed ({why}, {elapsed:.0f} s, {peak_mb:,.0f} MB); see {log}")
        return 1
    run = json.loads(stdout.strip().splitlines()[-1])
    # clear_refs resets the peak wait4 reports too: the process's peak is its stages' highest
    peak_mb = max([peak_mb, *(row["peak_rss_mb"] for row in run["stages"].values())])
    metrics = None
    if not args.skip_metrics:
        print("running the metrics path ...", flush=True)
        metrics = run_engine(
            "polars", data_dir, month, as_of, results / "polars.parquet", args.max_rss_gb * 1024
        )
    else:
        from run import Timing

        metrics = Timing("polars", None, 0.0, 0.0, "skipped")
    print_report(run, peak_mb, metrics, rows)
    summary = {"leads": rows, "month": month, "as_of": as_of.isoformat(), "cores": os.cpu_count()}
    summary |= {"run": run, "peak_rss_mb": peak_mb, "process_seconds": elapsed}
    summary["metrics"] = metrics.__dict__
    (results / "monthly.json").write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
