"""How long a person waits: `scorecards run` on the sample and a one-vendor `review`, each timed
twice as typed (a subprocess, Prefect included), in both of Prefect's modes:

- temporary: no PREFECT_API_URL, every command starts Prefect's temporary server;
- server: against a `prefect server start` this script starts once (its start is shown apart,
  since a team starts it once: `make server`, or the systemd unit of docs/OPERATIONS.md).

    uv run python bench/commands.py                  # both modes
    uv run python bench/commands.py --mode server    # one

The second run of each command is the figure that counts (targets: run < 20 s, review < 10 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COMMANDS = {
    "run (sample)": ["run", "--month", "2026-10", "--as-of", "2026-11-05"],
    "review bluepeak-demand": [
        "review", "bluepeak-demand", "--from", "2026-05", "--to", "2026-10", "--as-of", "2026-11-05",
    ],
}  # fmt: skip


def base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.pop("VIRTUAL_ENV", None)
    return env | {"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return wall


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str, float]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api"
    start = time.perf_counter()
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port),
         "--no-ui"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = start + 180
    while time.perf_counter() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=3).is_success:
                return server, url, time.perf_counter() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.kill()
    raise SystemExit("the Prefect server did not answer within 180 s")


def measure(mode: str, work: Path) -> tuple[list[tuple[str, float, float]], float | None]:
    home = work / f"prefect-{mode}"
    home.mkdir()
    env = base_env(home)
    server = None
    server_start = None
    if mode == "server":
        server, url, server_start = start_server(env)
        env["PREFECT_API_URL"] = url
    rows = []
    try:
        for name, args in COMMANDS.items():
            argv = [str(BIN / "scorecards"), *args, "--data", str(work / "data"),
                    "--contracts", str(work / "contracts"), "--out", str(work / f"out-{mode}"),
                    "--history", str(work / f"history-{mode}")]  # fmt: skip
            first = timed(argv, env, work)
            second = timed(argv, env, work)
            rows.append((name, first, second))
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    return rows, server_start


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("temporary", "server", "both"), default="both")
    options = parser.parse_args()
    modes = ["temporary", "server"] if options.mode == "both" else [options.mode]
    with tempfile.TemporaryDirectory(prefix="bench-commands-") as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "data", work / "data")
        shutil.copytree(ROOT / "contracts", work / "contracts")
        print(f"before: {load()}")
        results = {mode: measure(mode, work) for mode in modes}
    print(f"after:  {load()}\n")
    print(f"| {'command':<24} | {'Prefect':<9} | {'1st run s':>9} | {'2nd run s':>9} |")
    print(f"|{'-' * 26}|{'-' * 11}|{'-' * 11}|{'-' * 11}|")
    for mode, (rows, _) in results.items():
        for name, first, second in rows:
            print(f"| {name:<24} | {mode:<9} | {first:>9.1f} | {second:>9.1f} |")
    for mode, (_, server_start) in results.items():
        if server_start is not None:
            print(
                f"\n`prefect server start` ({mode} mode) answered after {server_start:.1f} s, once."
            )


if __name__ == "__main__":
    main()
