"""Rendering throughput through Prefect's task runners: documents per second and cores used.

    uv run python bench/render.py --copies 4

Stages the sample month once, then renders the sample's documents `--copies` times through
Prefect on each runner, in the tasks `scorecards run` renders them in (`render_documents`, one
task per worker taking the batch's documents one at a time): every vendor's scorecard, then the
internal claims report, the portfolio and each vendor's claim (PDF and CSV): 25 PDFs a copy.
Cores used = CPU seconds of this process and its children over wall seconds (the temporary
server's own CPU is not counted; it shares the cores). The temporary Prefect server and the
process runner's fork server start before the clock does, as the monthly run starts them
before it renders.
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

from prefect import flow  # noqa: E402

from flows.common import start_fork_server, task_runner  # noqa: E402
from flows.monthly import gathered, submitted  # noqa: E402
from scorecards import steps  # noqa: E402


@flow
def render_all(staged: dict[str, Any], claiming: dict[str, Any]) -> int:
    """Each copy's documents in the batches the monthly flow renders them in (the scorecards,
    then the claims report, the portfolio and the vendors' claims; one task per worker each),
    gathered as the flow gathers them; the PDFs they wrote."""
    scorecards = steps.scorecard_documents(staged["vendors"])
    claims = steps.claim_documents(claiming["vendors"])
    copies = [{**staged, "staging": copy} for copy in staged["copies"]]
    batches = [
        [submitted(mine, "scorecards", scorecards), submitted(mine, "claims", claims)]
        for mine in copies
    ]
    rendered = 0
    for batch in batches:  # each copy's, gathered as the flow gathers them
        results, failed = gathered(batch, None)
        if failed:
            raise RuntimeError("; ".join(f"{name}: {error}" for name, error in failed.items()))
        rendered += sum(pdfs(name, result) for name, result in results.items())
    return rendered


def pdfs(name: str, result: Any) -> int:
    """The PDFs one document's task wrote: a vendor's claims one each, the report its PDF."""
    if name == "claims report":
        return sum(str(n).endswith(".pdf") for n in result)
    return len(result) if name.startswith("claims ") else 1


@flow
def server_up() -> None:
    """Nothing: the temporary server starts for it."""


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
    server_up()
    start_fork_server().join()  # as the monthly run does while it reads and judges
    print(
        f"| runner | documents | wall s | documents/s | CPU s per document "
        f"| cores used (of {os.cpu_count()}) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name in args.runners.split(","):
        runner = task_runner(name)
        cpu, start = cpu_seconds(), time.perf_counter()
        done = render_all.with_options(task_runner=runner)(staged, claiming)
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
