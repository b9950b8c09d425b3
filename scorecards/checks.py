"""`scorecards check`: everything a run would refuse or quarantine, said before a run, writing
nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from scorecards.contracts import contract_problems, load_contracts
from scorecards.crm import MAPPING_FILE, CrmInput, read_crm
from scorecards.documents.exchange import checked_exchange_rates, currency_warnings
from scorecards.errors import UserError
from scorecards.guards import check_inputs_present, input_file_count
from scorecards.ingest import read_deliveries, read_suppression
from scorecards.quarantined import check_sentences
from scorecards.verdicts import contracts_in_force

# The claims sweep runs weekly by default (SPEC §6); a shorter claim window can lapse between sweeps.
DEFAULT_SWEEP_DAYS = 7


@dataclass
class CheckReport:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def window_warnings(contracts: list, sweep_days: int = DEFAULT_SWEEP_DAYS) -> list[str]:  # type: ignore[type-arg]
    """Contracts whose claim window is shorter than the sweep interval (SPEC §6)."""
    return [
        f"{c.source.name}: contract {c.contract_id} allows claims for {c.replacement.window_days} days, "
        f"shorter than the {sweep_days}-day claims sweep: sweep more often or claims will lapse"
        for c in contracts
        if c.replacement.window_days < sweep_days
    ]


def add_crm_recognition(report: CheckReport, crm: CrmInput) -> None:
    """Per CRM file, the form recognised, each canonical column with the header it came from and
    the columns ignored; every value the CRM mapping does not map and every outcome column empty
    on every row are problems (SPEC §2.3: never a silent loss, no silent zero)."""
    for file in crm.recognition:
        if file.get("form") is None:
            continue  # an unrecognised file is a quarantine row, listed with the others
        columns = ", ".join(f"{column} <- '{header}'" for column, header in file["columns"].items())
        ignored = ", ".join(f"'{h}'" for h in file["ignored"]) or "none"
        footer = f"; {file['footer_lines']} footer line(s) not read" if file["footer_lines"] else ""
        report.lines.append(
            f"{file['file']}: {file['form']}, dates in {file['time_zone']} "
            f"(mapping: {file['mapping']}); columns: {columns}; ignored: {ignored}{footer}."
        )
    report.problems += [u["sentence"] for u in crm.unmapped_values]
    report.problems += [u["sentence"] for u in crm.unknown_columns]


def delivered_in_month(
    deliveries: pl.DataFrame,
    contracts: list,
    month: str,  # type: ignore[type-arg]
) -> tuple[list[str], list[str]]:
    """Per vendor whose contract is in force in `month`: its delivery rows of the month by file
    (lines), and a problem for each vendor with none (a run marks it `no deliveries received`)."""
    in_force = [c.vendor.id for c in contracts_in_force(contracts, month)]
    counts = (
        deliveries.filter(pl.col("delivered_at").dt.strftime("%Y-%m") == month)
        .group_by("vendor_id", "source_file")
        .agg(pl.len().alias("rows"))
        .sort("vendor_id", "source_file")
    )
    lines, problems = [f"Deliveries for {month}, per vendor in force:"], []
    for vendor in in_force:
        mine = counts.filter(pl.col("vendor_id") == vendor)
        if not mine.height:
            lines.append(f"  {vendor}: 0 rows")
            problems.append(
                f"{vendor}: no delivery rows for {month} although its contract is in force "
                "(a run marks it 'no deliveries received'; is its folder under deliveries/ misspelled?)"
            )
            continue
        files = ", ".join(f"{f} {n:,}" for f, n in mine.select("source_file", "rows").iter_rows())
        lines.append(f"  {vendor}: {int(mine['rows'].sum()):,} rows ({files})")
    return lines, problems


def check_inputs(
    data: Path, contracts_dir: Path, month: str, sweep_days: int = DEFAULT_SWEEP_DAYS
) -> CheckReport:
    report = CheckReport()
    problems = contract_problems(contracts_dir)
    if problems:
        report.problems += [p.sentence for p in problems]
        return report  # nothing is read against contracts that did not validate
    portfolio = load_contracts(contracts_dir)
    report.lines.append(
        f"{len(portfolio.contracts)} contracts for {len(portfolio.vendor_ids)} vendors validate."
    )
    report.warnings += window_warnings(portfolio.contracts, sweep_days)
    try:  # SPEC §4: a portfolio in several currencies is never summed across them
        checked_exchange_rates((c.currency for c in portfolio.contracts), contracts_dir)
        report.warnings += currency_warnings(portfolio.contracts, contracts_dir)
    except UserError as error:
        report.problems.append(error.sentence)
    try:
        check_inputs_present(input_file_count(data), str(data))
    except UserError as exc:
        report.problems.append(f"{exc.sentence}; a run would refuse it")
        return report
    ingested = read_deliveries(data / "deliveries", portfolio)
    crm = read_crm(data / "crm", contracts_dir / MAPPING_FILE)
    add_crm_recognition(report, crm)
    _, suppression_files, suppression_problems = read_suppression(data / "suppression")
    quarantine = pl.concat(
        [
            ingested.quarantine,
            crm.quarantine.select(ingested.quarantine.columns),
            suppression_problems,
        ],
        how="vertical_relaxed",
    )
    files = [*ingested.files, *crm.files, *suppression_files]
    report.lines.append(
        f"{len(files)} input files, {sum(f.rows for f in files):,} rows read; "
        f"{ingested.deliveries.height:,} deliveries attributed."
    )
    lines, silent = delivered_in_month(ingested.deliveries, portfolio.contracts, month)
    report.lines += lines
    report.problems += silent
    report.problems += check_sentences(quarantine)
    return report
