"""Rendering throughput through Prefect's task runners: documents per second and cores used.

    uv run python bench/render.py --copies 4

Stages the sample month once, then renders every vendor's scorecard `--copies` times (plus the
portfolio) as Prefect tasks on each runner. Cores used = CPU seconds of this process and its
children over wall seconds. The temporary Prefect server starts before the clock does.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)

from prefect import flow, task, unmapped  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from flows.common import task_runner  # noqa: E402
from scorecards import steps  # noqa: E402


@task(cache_policy=NO_CACHE)
def render(staged: dict[str, Any], job: tuple[str, int]) -> str:
    vendor, copy = job
    mine = {**staged, "staging": staged["copies"][copy]}
    return str(steps.render_scorecard(mine, vendor) if vendor else steps.render_portfolio(mine))


@flow
def render_all(staged: dict[str, Any], jobs: list[tuple[str, int]]) -> int:
    futures = render.map(unmapped(staged), jobs)  # type: ignore[arg-type]
    return len([f.result() for f in futures])


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--runners", default="threads,processes")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="render-bench-"))
    staged = steps.compute_and_stage(
        "2026-10",
        date(2026, 11, 5),
        ROOT / "data",
        ROOT / "contracts",
        work / "out",
        str(work / "h"),
    )
    copies = []
    for copy in range(args.copies):  # one staging folder per copy: no two tasks write one file
        folder = work / f"copy-{copy}"
        shutil.copytree(staged["staging"], folder)
        copies.append(str(folder))
    staged["copies"] = copies
    jobs = [(v, c) for c in range(args.copies) for v in staged["vendors"]] + [
        ("", c) for c in range(args.copies)
    ]
    render_all.with_options(task_runner=task_runner("threads"))(staged, jobs[:1])  # server up
    print(f"| runner | documents | wall s | documents/s | cores used (of {os.cpu_count()}) |")
    print("|---|---:|---:|---:|---:|")
    for name in args.runners.split(","):
        runner = task_runner(name)
        cpu, start = cpu_seconds(), time.perf_counter()
        done = render_all.with_options(task_runner=runner)(staged, jobs)
        wall = time.perf_counter() - start
        used = (cpu_seconds() - cpu) / wall
        print(f"| {name} | {done} | {wall:.1f} | {done / wall:.2f} | {used:.2f} |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
