"""`scorecards`: the command line. Every command maps a user's words onto a flow or a step.

Exit codes: 0 done; 1 done, but something needs a look (a document failed, a check found
problems); 2 a mistake in the command or the inputs, said in one sentence.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from scorecards.errors import UserError
from scorecards.objectstore import check_history_reachable

# Prefect is quiet on a person's terminal: no INFO chatter (flows/__init__.py, imported first,
# turns off telemetry and WeasyPrint's font warnings for every entry point).
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_LOGGING_LOG_PRINTS", "false")
# The CLI reports a failed run itself, in one sentence; Prefect's run loggers would add a
# traceback for a user's mistake (an unknown vendor) before it could.
# Prefect re-reads its logging config when a flow starts, so the levels go through its own
# environment overrides as well.
for _name in ("prefect.flow_runs", "prefect.task_runs"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)
    os.environ.setdefault(
        f"PREFECT_LOGGING_LOGGERS_{_name.replace('.', '_').upper()}_LEVEL", "CRITICAL"
    )

app = typer.Typer(
    name="scorecards",
    help="Hold lead vendors to their contracts: judge every lead, score every vendor, file claims.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)

# how long `serve` waits for the Prefect server to answer (after a reboot it may still be starting)
SERVER_WAIT_SECONDS = 60

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

DataOption = Annotated[
    Path, typer.Option("--data", help="Folder with deliveries/, crm/, suppression/.")
]
ContractsOption = Annotated[
    Path, typer.Option("--contracts", help="Folder of contract YAML files.")
]
OutOption = Annotated[Path, typer.Option("--out", help="Where outputs are written.")]
HistoryOption = Annotated[
    str, typer.Option("--history", help="History store: a folder or an object-store URI (s3://…).")
]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="As-of date YYYY-MM-DD (default: today, UTC).")
]


def month_arg(value: str | None, flag: str) -> str | None:
    if value is not None and not MONTH.match(value):
        raise UserError(f"{flag} must be a month written YYYY-MM (got '{value}')")
    return value


def day_arg(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"--as-of must be a date written YYYY-MM-DD (got '{value}')") from None


def folder_arg(path: Path, flag: str) -> Path:
    if not path.is_dir():
        raise UserError(f"{flag} {path} is not a folder")
    return path


@contextmanager
def user_errors() -> Iterator[None]:
    """A user's mistake is one sentence and exit code 2, never a traceback."""
    try:
        yield
    except UserError as exc:
        errors.print(f"[bold red]error:[/] {exc.sentence}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _preflight(
    data: Path,
    contracts: Path,
    vendor: str | None = None,
    months: tuple[str, str] | None = None,
    *,
    inputs: bool = True,
) -> None:
    """Refuse a bad contract, or a month no contract covers, before any flow starts (SPEC §9:
    nothing runs on it)."""
    from scorecards.contracts import load_contracts
    from scorecards.crm import MAPPING_FILE, load_crm_mapping
    from scorecards.guards import check_contract_in_force, check_inputs_present, input_file_count

    folder_arg(contracts, "--contracts")
    folder_arg(data, "--data")
    portfolio = load_contracts(contracts)  # a bad contract is named first
    load_crm_mapping(contracts / MAPPING_FILE)  # a bad CRM mapping stops the run like a contract
    if inputs:  # `serve` may start before the first files arrive
        check_inputs_present(input_file_count(data), str(data))
    if vendor is not None and vendor not in portfolio.vendor_ids:
        known = ", ".join(sorted(portfolio.vendor_ids))
        raise UserError(f"no contract names vendor '{vendor}' (known vendors: {known})")
    if months is not None:
        mine = [c for c in portfolio.contracts if vendor is None or c.vendor.id == vendor]
        check_contract_in_force(mine, *months)


def _profile_api_url() -> str | None:
    """PREFECT_API_URL as saved in the active Prefect profile (`prefect config set ...`)."""
    from prefect.settings import PREFECT_API_URL, load_current_profile

    value = load_current_profile().settings.get(PREFECT_API_URL)
    return str(value) if value else None


def _configured_server_answers() -> None:
    """With PREFECT_API_URL set (the environment or the profile), every flow runs against that
    server: when it does not answer, say so in one sentence instead of Prefect's traceback."""
    api_url = os.environ.get("PREFECT_API_URL") or _profile_api_url()
    if api_url is None:
        return
    from flows.deployments import server_answers

    if not server_answers(api_url, wait_seconds=0):
        raise UserError(
            f"no Prefect server answers at PREFECT_API_URL={api_url}: start it ('make server' or "
            "'uv run prefect server start'), or unset PREFECT_API_URL to use a temporary one"
        )


def _with_progress(message: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run `work` showing its stages ("judging 11,244 leads…", "rendering 24 documents 7/24…")
    on a terminal; nothing at all when the output is not one (logs, CI)."""
    if not console.is_terminal:
        return work()
    from scorecards import progress

    with console.status(f"{message}", spinner="dots") as status:

        def show(text: str, done: int | None, total: int | None) -> None:
            counted = f" {done}/{total}" if done is not None and total else ""
            status.update(f"{message} {text}{counted}…")

        with progress.listening(show):
            return work()


def _print_summary(summary: dict[str, Any]) -> None:
    table = Table(title=f"Vendors, {summary['month']} (as of {summary['as_of']})", show_lines=False)
    table.add_column("vendor")
    table.add_column("verdict")
    table.add_column("reason", overflow="fold")
    colours = {"on track": "green", "review": "yellow", "replace": "red"}
    for row in summary["verdicts"]:
        colour = colours.get(row["verdict"], "white")
        table.add_row(row["vendor_id"], f"[{colour}]{row['verdict']}[/]", row["reason"])
    console.print(table)
    console.print(
        f"{summary['leads']:,} leads judged, {summary['quarantined']:,} rows quarantined, "
        f"reconciled: {'yes' if summary['balanced'] else '[red]NO[/]'}; "
        f"{_claims_filed(summary)}. Outputs in [bold]{summary['out']}[/]."
    )
    if summary.get("quarantined_files"):
        errors.print(f"[yellow]{summary['quarantined_files']}[/]", highlight=False, soft_wrap=True)
    for name, error in sorted((summary.get("failed") or {}).items()):
        errors.print(f"[bold red]failed:[/] {name}: {error}", highlight=False)


def _claims_filed(summary: dict[str, Any]) -> str:
    """ "56 claim lines filed", or on a re-run "56 lines already claimed on … in claims …"."""
    filed = f"{summary['claim_lines']:,} claim lines filed"
    already = summary.get("already_claimed")
    if not already:
        return filed
    return f"{filed}; {already}" if summary["claim_lines"] else already


@app.command()
def run(
    month: Annotated[
        str | None, typer.Option("--month", help="Report month YYYY-MM (default: last month).")
    ] = None,
    as_of: AsOfOption = None,
    data: DataOption = Path("data"),
    contracts: ContractsOption = Path("contracts"),
    out: OutOption = Path("out"),
    history: HistoryOption = "history",
    runner: Annotated[
        str,
        typer.Option(
            "--runner",
            help="Where documents render: processes (one per core), threads or dask.",
        ),
    ] = "processes",
    dask_address: Annotated[
        str | None,
        typer.Option("--dask-address", help="A running Dask scheduler (tcp://host:8786)."),
    ] = None,
    preview: Annotated[
        bool,
        typer.Option(
            "--preview",
            help="Preview an unfinished month into out/previews/<month>/, every page marked "
            "PREVIEW: no claim filed, history untouched.",
        ),
    ] = False,
) -> None:
    """Run the monthly job: judge every lead, score every vendor, write PDFs and claims.

    Example: scorecards run --month 2026-10 --as-of 2026-11-05
    """
    from flows.common import month_and_as_of, start_fork_server, task_runner, today
    from scorecards.guards import check_as_of

    if runner == "processes":
        start_fork_server()  # its imports overlap the checks below and the flow's own imports
    with user_errors():
        month, day = month_and_as_of(month_arg(month, "--month"), day_arg(as_of))
        check_as_of(month, day, today(), preview=preview)
        _preflight(data, contracts, months=(month, month))
        check_history_reachable(history)  # before anything is written
        _configured_server_answers()
        chosen = task_runner(runner, dask_address)
    from flows.monthly import monthly_scorecards
    from scorecards.lock import one_writer

    with user_errors(), one_writer(out, history, f"run of {month}"):  # SPEC §9: one writer
        summary = _with_progress(
            f"{'Previewing' if preview else 'Scoring'} vendors for {month}:",
            lambda: monthly_scorecards.with_options(task_runner=chosen)(
                month=month,
                as_of=day,
                data=str(data),
                contracts=str(contracts),
                out=str(out),
                history=history,
                preview=preview,
            ),
        )
    _print_summary(summary)
    for sentence in [*summary.get("crm_unmapped", []), *summary.get("crm_unknown", [])]:
        errors.print(f"[yellow]CRM:[/] {sentence}", highlight=False, soft_wrap=True)
    silent = _no_deliveries(summary)
    if silent:
        errors.print(f"[yellow]needs a look:[/] {silent}", highlight=False, soft_wrap=True)
    if preview:
        console.print(
            "[bold]PREVIEW[/]: no claim filed, history and the published month untouched."
        )
    if summary.get("failed") or not summary["balanced"] or summary.get("crm_unknown") or silent:
        raise typer.Exit(1)


def _no_deliveries(summary: dict[str, Any]) -> str | None:
    """One sentence naming every vendor in force that delivered nothing in the month."""
    from scorecards.verdicts import NO_DELIVERIES

    silent = [v["vendor_id"] for v in summary["verdicts"] if v["verdict"] == NO_DELIVERIES]
    if not silent:
        return None
    who = ", ".join(silent)
    one = len(silent) == 1
    return (
        f"no deliveries received in {summary['month']} from {who} although "
        f"{'its contract is' if one else 'their contracts are'} in force, so "
        f"{'it is' if one else 'they are'} marked 'no deliveries received', not judged on zeros "
        f"(is {'its' if one else 'a'} folder under deliveries/ misspelled?)"
    )


@app.command()
def check(
    month: Annotated[
        str | None,
        typer.Option("--month", help="Month whose deliveries are counted (default: last month)."),
    ] = None,
    data: DataOption = Path("data"),
    contracts: ContractsOption = Path("contracts"),
) -> None:
    """Validate contracts and inputs; write nothing. Exit 1 when anything needs fixing.

    Lists, per vendor whose contract is in force in the month, its delivery rows by file.
    Example: scorecards check --month 2026-10 --data data --contracts contracts
    """
    from flows.common import month_and_as_of
    from scorecards.checks import check_inputs

    with user_errors():
        chosen, _ = month_and_as_of(month_arg(month, "--month"), None)
        folder_arg(contracts, "--contracts")
        folder_arg(data, "--data")
        report = check_inputs(data, contracts, chosen)
    for line in report.lines:
        console.print(line, highlight=False, soft_wrap=True)
    for problem in report.problems:
        errors.print(f"[red]problem:[/] {problem}", highlight=False, soft_wrap=True)
    for warning in report.warnings:
        errors.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    if report.problems:
        raise typer.Exit(1)
    console.print("[green]All contracts and inputs check out.[/]")


@app.command()
def claims(
    as_of: AsOfOption = None,
    data: DataOption = Path("data"),
    contracts: ContractsOption = Path("contracts"),
    out: OutOption = Path("out"),
    history: HistoryOption = "history",
    reprint: Annotated[
        str | None,
        typer.Option(
            "--reprint", help="Write a filed claim again, byte for byte, to OUT/reprints/."
        ),
    ] = None,
) -> None:
    """Sweep replacement claims across every month still inside its claim window.

    Writes out/claims/<claim_id>.pdf and .csv and records every claimed line in the ledger,
    so no lead is ever claimed twice. Example: scorecards claims --as-of 2026-11-09;
    scorecards claims --reprint BP-2026-H2-20261105-1a2b3c4d prints a filed claim again.
    """
    if reprint is not None:
        from scorecards.steps import reprint_claim

        with user_errors():
            paths = reprint_claim(reprint, history, out)
        console.print(f"Claim {reprint} reprinted from the ledger:", highlight=False)
        for path in paths:
            console.print(f"  {path}", highlight=False)
        return
    from flows.common import today
    from scorecards.guards import check_not_future

    with user_errors():
        day = day_arg(as_of)
        if day is not None:  # a sweep as of a day to come would file claims too early
            check_not_future(day, today())
        _preflight(data, contracts)
        check_history_reachable(history)
        _configured_server_answers()
    from flows.claims import claims_sweep
    from scorecards.lock import one_writer

    with user_errors(), one_writer(out, history, "claims sweep"):
        summary = _with_progress(
            "Sweeping replacement claims…",
            lambda: claims_sweep(
                as_of=day, data=str(data), contracts=str(contracts), out=str(out), history=history
            ),
        )
    from scorecards.formatting import money

    console.print(
        f"{len(summary['claims'])} claims, {summary['claim_lines']:,} lines, "
        f"{money(summary['credit_cents'])} asked; {summary['expired_lines']:,} lines already past "
        f"their window, {summary['over_cap_lines']:,} over the cap; "
        f"{summary.get('overdue_lines', 0):,} unanswered lines now overdue. "
        f"Files in [bold]{summary['out']}[/]."
    )
    for claim_id in summary["claims"]:
        console.print(f"  {claim_id}", highlight=False)
    if summary.get("already_claimed"):
        console.print(f"{summary['already_claimed']}.", highlight=False, soft_wrap=True)


@app.command()
def responses(
    files: Annotated[list[Path], typer.Argument(help="Vendors' response files (CSV).")],
    history: HistoryOption = "history",
    as_of: AsOfOption = None,
) -> None:
    """Record vendors' answers to claims: accepted (credited or replaced) or disputed.

    Each file is a claim CSV returned with `decision` (accepted | disputed) and `vendor_reason`
    added, or a LeadID, DispositionCode, CustomReason return-disposition file. A bad line
    refuses everything in one sentence. Example: scorecards responses MB-2026-20261105-b1a47550.csv
    """
    from datetime import UTC, datetime

    from scorecards import steps

    with user_errors():
        day = day_arg(as_of) or datetime.now(UTC).date()
        for file in files:
            if not file.is_file():
                raise UserError(f"{file} is not a file")
        summary = steps.record_responses(files, history, day)
    states = ", ".join(f"{n} {state}" for state, n in summary["states"].items())
    console.print(f"{summary['lines']:,} claim lines answered ({states or 'none'}).")


@app.command()
def review(
    vendor: Annotated[str, typer.Argument(help="The vendor's id, as in its contract.")],
    from_month: Annotated[str, typer.Option("--from", help="First month YYYY-MM.")],
    to_month: Annotated[str, typer.Option("--to", help="Last month YYYY-MM.")],
    as_of: AsOfOption = None,
    data: DataOption = Path("data"),
    contracts: ContractsOption = Path("contracts"),
    out: OutOption = Path("out"),
    history: HistoryOption = "history",
) -> None:
    """Review one vendor over a range of months: writes out/reviews/<vendor>-<from>-<to>.pdf.

    Example: scorecards review bluepeak-demand --from 2026-05 --to 2026-10
    """
    with user_errors():
        month_arg(from_month, "--from")
        month_arg(to_month, "--to")
        if from_month > to_month:
            raise UserError(f"--from {from_month} is after --to {to_month}")
        from flows.common import today
        from flows.review import review_as_of
        from scorecards.guards import check_as_of

        day = review_as_of(to_month, day_arg(as_of), out)
        check_as_of(to_month, day, today())
        _preflight(data, contracts, vendor, months=(from_month, to_month))
        check_history_reachable(history)
        _configured_server_answers()
    from flows.review import vendor_review

    with user_errors():
        summary = _with_progress(
            f"Reviewing {vendor}, {from_month} to {to_month}…",
            lambda: vendor_review(
                vendor=vendor,
                from_month=from_month,
                to_month=to_month,
                as_of=day,
                data=str(data),
                contracts=str(contracts),
                out=str(out),
                history=history,
            ),
        )
    console.print(f"Recommendation: [bold]{summary['recommendation']}[/]")
    for reason in summary["reasons"]:
        console.print(f"  - {reason}", highlight=False)
    console.print(f"Review written to [bold]{summary['pdf']}[/].")


@app.command()
def serve(
    data: DataOption = Path("data"),
    contracts: ContractsOption = Path("contracts"),
    out: OutOption = Path("out"),
    history: HistoryOption = "history",
    sweep_cron: Annotated[
        str, typer.Option("--sweep-cron", help="When the claims sweep runs (cron, UTC).")
    ] = "0 6 * * 1",
) -> None:
    """Serve the scheduled deployments: monthly run (06:00 UTC on the 2nd), claims sweep
    (Mondays 06:00 UTC) and the on-demand review. Needs a Prefect server (PREFECT_API_URL).

    Example: PREFECT_API_URL=http://127.0.0.1:4200/api scorecards serve
    """
    with user_errors():
        _preflight(data, contracts, inputs=False)
        api_url = os.environ.get("PREFECT_API_URL") or _profile_api_url()
        if not api_url:
            raise UserError(
                "schedules need a Prefect server, and the temporary one runs no scheduler: start "
                "one with 'uv run prefect server start' and set "
                "PREFECT_API_URL=http://127.0.0.1:4200/api (see README, 'Running on a schedule')"
            )
    from flows.deployments import deployments, serve_until_stopped, server_answers

    with user_errors():
        if not server_answers(api_url, wait_seconds=SERVER_WAIT_SECONDS):
            raise UserError(
                f"no Prefect server answers at PREFECT_API_URL={api_url} (waited "
                f"{SERVER_WAIT_SECONDS} s): start it with 'uv run prefect server start' or fix the URL"
            )
    served = deployments(
        data=str(data.resolve()), contracts=str(contracts.resolve()), out=str(out.resolve()),
        history=history, sweep_cron=sweep_cron,
    )  # fmt: skip
    console.print(
        f"Serving {', '.join(d.full_name for d in served)} against {api_url}; "
        "SIGTERM or Ctrl-C stops.",
        highlight=False,
        soft_wrap=True,
    )
    serve_until_stopped(served, say=lambda line: console.print(line, highlight=False))


def main() -> None:  # pragma: no cover - console entry
    app(prog_name="scorecards")


if __name__ == "__main__":  # pragma: no cover
    main()
