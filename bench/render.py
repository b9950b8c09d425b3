"""Rendering throughput through Prefect's task runners: documents per second and cores used.

    uv run python bench/render.py --copies 4

Stages the sample month once, then renders the sample's documents `--copies` times as Prefect
tasks on each runner, the tasks `scorecards run` renders them in: every vendor's scorecard, the
portfolio, each vendor's claim (PDF and CSV) and the internal claims report (25 PDFs a copy).
Cores used = CPU seconds of this process and its children over wall seconds. The temporary
Prefect server starts before the clock does.
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
# a loaded shared machine can take longer than the default 20 s to start the temporary server
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)

from prefect import flow, task, unmapped  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from flows.common import task_runner  # noqa: E402
from scorecards import steps  # noqa: E402


@task(cache_policy=NO_CACHE)
def render(staged: dict[str, Any], job: tuple[str, str, int]) -> int:
    """One task of `scorecards run`'s rendering; the number of PDFs it wrote."""
    kind, vendor, copy = job
    mine = {**staged, "staging": staged["copies"][copy]}
    if kind == "scorecard":
        steps.render_scorecard(mine, vendor)
        return 1
    if kind == "portfolio":
        steps.render_portfolio(mine)
        return 1
    if kind == "claims":
        return len(steps.write_vendor_claims(mine, vendor))
    return len([n for n in steps.write_internal_report(mine) if n.endswith(".pdf")])


@flow
def render_all(staged: dict[str, Any], jobs: list[tuple[str, str, int]]) -> int:
    futures = render.map(unmapped(staged), jobs)  # type: ignore[arg-type]
    return sum(f.result() for f in futures)


def cpu_seconds() -> float:
    """CPU of this process, its children and the fork server's reaped workers (process workers
    are the fork server's children, not ours: /proc/<pid>/stat's cutime and cstime count them)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    from multiprocessing import forkserver

    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
    if pid:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total


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
    claiming = steps.stage_claim_lines(staged)  # the claims' lines, staged as the flow does
    copies = []
    for copy in range(args.copies):  # one staging folder per copy: no two tasks write one file
        folder = work / f"copy-{copy}"
        shutil.copytree(staged["staging"], folder)
        copies.append(str(folder))
    staged["copies"] = copies
    jobs = [
        job
        for c in range(args.copies)
        for job in [
            *[("scorecard", v, c) for v in staged["vendors"]],
            ("portfolio", "", c),
            *[("claims", v, c) for v in claiming["vendors"]],
            ("internal", "", c),
        ]
    ]  # in the order the monthly flow submits them
    render_all.with_options(task_runner=task_runner("threads"))(staged, jobs[:1])  # server up
    print(
        f"| runner | documents | wall s | documents/s | CPU s per document "
        f"| cores used (of {os.cpu_count()}) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name in args.runners.split(","):
        runner = task_runner(name)
        cpu, start = cpu_seconds(), time.perf_counter()
        done = render_all.with_options(task_runner=runner)(staged, jobs)
        wall = time.perf_counter() - start
        spent = cpu_seconds() - cpu
        print(
            f"| {name} | {done} | {wall:.1f} | {done / wall:.2f} | {spent / done:.2f} "
            f"| {spent / wall:.2f} |",
            flush=True,
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
