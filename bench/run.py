"""Benchmark: the project's Polars pipeline against an independent DuckDB implementation.

    uv run python bench/run.py --leads 10000000

Generates the data once into bench/data/<leads>/, then runs each engine in its own fresh
subprocess (so its peak RSS is its own, read with os.wait4), prints time, memory, throughput and
the ratio, and checks that both engines give the same program-grain counts and money.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import scorecards  # noqa: F401  (first: it configures Polars' allocator, as in the product)

# isort: split
import polars as pl

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from parity import HEADLINE_COLUMNS, default_month_and_as_of, disagreements, totals  # noqa: E402

# polars: the project's metrics path; duckdb: the full independent implementation; floor: a
# minimal DuckDB query of the headline counts only (bench/duckdb_floor.sql).
ENGINES = ("polars", "duckdb", "floor")


@dataclass(frozen=True)
class Timing:
    engine: str
    seconds: float | None  # the metrics call alone, imports excluded
    process_seconds: float  # the whole subprocess, interpreter start included
    peak_rss_mb: float
    error: str | None = None


def ensure_data(data_dir: Path, leads: int, seed: int, regenerate: bool) -> None:
    """Generate once; a partial folder from a killed run is never mistaken for data."""
    if (data_dir / "deliveries.parquet").exists() and not regenerate:
        return
    from scorecards.sample import generate_benchmark  # type: ignore[import-not-found]

    partial = data_dir.with_name(data_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    started = time.perf_counter()
    print(f"generating {leads:,} leads into {data_dir} ...", flush=True)
    generate_benchmark(partial, leads, seed)
    shutil.rmtree(data_dir, ignore_errors=True)
    partial.rename(data_dir)
    print(f"generated in {time.perf_counter() - started:.1f} s", flush=True)


def compute(engine: str, data_dir: Path, month: str, as_of: date) -> pl.DataFrame:
    """One engine's program-grain metrics from the Parquet files (runs inside the child)."""
    deliveries = data_dir / "deliveries.parquet"
    crm = data_dir / "crm.parquet"
    contracts = data_dir / "contracts"
    if engine == "polars":
        from scorecards.pipeline import bench_metrics  # type: ignore[import-not-found]

        return bench_metrics(deliveries, crm, contracts, month, as_of)
    from duckdb_metrics import FLOOR_SQL_PATH, SQL_PATH, contract_tables, duckdb_metrics

    programs, acceptance = contract_tables(contracts)
    sql = FLOOR_SQL_PATH if engine == "floor" else SQL_PATH
    return duckdb_metrics(deliveries, crm, programs, acceptance, month, as_of, sql_path=sql)


def child(engine: str, data_dir: Path, month: str, as_of: date, result: Path) -> None:
    """Import first, then time only the computation; report on stdout as JSON."""
    if engine == "polars":
        import scorecards.pipeline  # noqa: F401
    else:
        import duckdb_metrics  # noqa: F401
    started = time.perf_counter()
    frame = compute(engine, data_dir, month, as_of)
    seconds = time.perf_counter() - started
    frame.write_parquet(result)
    print(json.dumps({"seconds": seconds}))


def _rss_mb(pid: int) -> float:
    """Current resident memory of a live process (Linux /proc), 0 when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    line = next((x for x in status.splitlines() if x.startswith("VmRSS:")), "VmRSS: 0 kB")
    return int(line.split()[1]) / 1024


def run_engine(
    engine: str, data_dir: Path, month: str, as_of: date, result: Path, max_rss_mb: float
) -> Timing:
    """A fresh interpreter per engine; os.wait4 gives that process's own peak RSS. A child
    growing past `max_rss_mb` is stopped before the machine runs out of memory."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        engine,
        "--data",
        str(data_dir),
        "--month",
        month,
        "--as-of",
        as_of.isoformat(),
        "--result",
        str(result),
    ]
    log = result.with_suffix(".log")
    elapsed, peak_mb, stopped, exit_code, stdout = spawn(command, log, max_rss_mb)
    if stopped:
        error = f"stopped after {elapsed:.0f} s above --max-rss-gb ({max_rss_mb / 1024:g} GB)"
        return Timing(engine, None, elapsed, peak_mb, error)
    if exit_code != 0:
        last = (log.read_text().strip().splitlines() or ["no output"])[-1]
        return Timing(engine, None, elapsed, peak_mb, f"exit {exit_code}: {last} (see {log})")
    seconds = json.loads(stdout.strip().splitlines()[-1])["seconds"]
    return Timing(engine, seconds, elapsed, peak_mb)


def spawn(command: list[str], log: Path, max_rss_mb: float) -> tuple[float, float, bool, int, str]:
    """Run `command` (stderr into `log`); (wall s, its own peak RSS MB from os.wait4, whether it
    was stopped above `max_rss_mb`, exit code, stdout). The child prints little: poll, then read."""
    started = time.perf_counter()
    stopped = False
    with log.open("w") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)  # reaps: its own rusage
            if pid:
                break
            if not stopped and _rss_mb(process.pid) > max_rss_mb:
                process.kill()
                stopped = True
            time.sleep(0.2)
        assert process.stdout is not None
        stdout = process.stdout.read()
    process.returncode = exit_code = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    return elapsed, usage.ru_maxrss / 1024, stopped, exit_code, stdout  # Linux: kilobytes


def _ratio(t: Timing, base: Timing | None) -> tuple[str, str]:
    if t.seconds is None or base is None or not base.seconds:
        return "", ""
    return f"{t.seconds / base.seconds:.2f}", f"{t.peak_rss_mb / base.peak_rss_mb:.2f}"


def print_report(timings: list[Timing], rows: int, month: str, results: dict[str, Path]) -> bool:
    """The table, then the parity checks; returns whether the engines agree."""
    by_engine = {t.engine: t for t in timings}
    duck, floor = by_engine.get("duckdb"), by_engine.get("floor")
    print()
    print(
        "| engine | leads | wall s | process s | peak RSS MB | rows/s "
        "| time / duckdb | RSS / duckdb | time / floor | RSS / floor |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for t in timings:
        if t.seconds is None:
            print(f"| {t.engine} | {rows:,} | failed: {t.error} | | {t.peak_rss_mb:,.0f} |||||")
            continue
        cells = [*_ratio(t, duck), *_ratio(t, floor)]
        print(
            f"| {t.engine} | {rows:,} | {t.seconds:.2f} | {t.process_seconds:.2f} "
            f"| {t.peak_rss_mb:,.0f} | {rows / t.seconds:,.0f} | " + " | ".join(cells) + " |"
        )
    print("\nratios below 1 mean faster or leaner than the DuckDB query named")
    done = {t.engine for t in timings if t.seconds is not None}
    if "polars" not in done or len(done) < 2:
        print("\nparity: not checked (it needs the pipeline's and a DuckDB result)")
        return False
    frames = {e: pl.read_parquet(results[e]) for e in ENGINES if e in done}
    print("\nprogram-grain totals:")
    print("| engine | " + " | ".join(HEADLINE_COLUMNS) + " |")
    print("|---|" + "---:|" * len(HEADLINE_COLUMNS))
    for engine, frame in frames.items():
        sums = totals(frame, month)
        print(f"| {engine} | " + " | ".join(f"{sums.get(c, 0):,}" for c in HEADLINE_COLUMNS) + " |")
    agree = True
    for engine in ("duckdb", "floor"):
        if engine not in frames:
            continue
        headline = disagreements(frames["polars"], frames[engine], HEADLINE_COLUMNS)
        every = [] if engine == "floor" else disagreements(frames["polars"], frames[engine])
        verdict = "agree exactly" if not headline else f"DISAGREE ({len(headline)} differences)"
        print(f"\nparity with {engine} on {', '.join(HEADLINE_COLUMNS)} per program: {verdict}")
        if engine == "duckdb":
            print(f"parity on all counts and money: {'agree exactly' if not every else 'DISAGREE'}")
        problems = every or headline
        for problem in problems[:20]:
            print(f"  - {problem}")
        if len(problems) > 20:
            print(f"  ... and {len(problems) - 20} more")
        agree = agree and not problems
    return agree


def data_arguments(parser: argparse.ArgumentParser) -> None:
    """The options saying which generated data and which month (run.py and monthly.py)."""
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20260701)
    parser.add_argument("--month", help="YYYY-MM (default: the month holding most deliveries)")
    parser.add_argument("--as-of", type=date.fromisoformat, help="default: month end + 90 days")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    data_arguments(parser)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument(
        "--max-rss-gb", type=float, default=20.0, help="stop an engine above this resident memory"
    )
    parser.add_argument("--regenerate", action="store_true", help="rebuild bench/data/<leads>/")
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        child(args.child, args.data, args.month, args.as_of, args.result)
        return 0

    data_dir = BENCH / "data" / str(args.leads)
    ensure_data(data_dir, args.leads, args.seed, args.regenerate)
    deliveries = data_dir / "deliveries.parquet"
    month, as_of = default_month_and_as_of(deliveries)
    month, as_of = args.month or month, args.as_of or as_of
    rows = pl.scan_parquet(deliveries).select(pl.len()).collect().item()
    results_dir = BENCH / "results" / str(args.leads)
    results_dir.mkdir(parents=True, exist_ok=True)
    print(f"{rows:,} delivery rows in {data_dir}; month {month}, as of {as_of}")
    print(f"{os.cpu_count()} cores")

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    results = {engine: results_dir / f"{engine}.parquet" for engine in engines}
    timings = []
    for engine in engines:
        print(f"running {engine} ...", flush=True)
        timings.append(
            run_engine(engine, data_dir, month, as_of, results[engine], args.max_rss_gb * 1024)
        )
    agree = print_report(timings, rows, month, results)
    summary = {
        "leads": rows,
        "month": month,
        "as_of": as_of.isoformat(),
        "cores": os.cpu_count(),
        "timings": [t.__dict__ for t in timings],
        "parity": agree,
    }
    (results_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
