"""An independent DuckDB implementation of the program-grain metrics (SPEC §3-§4).

The benchmark times the project's Polars pipeline against this SQL on the same Parquet files and
checks that both give the same counts and money. It shares no code with `scorecards/` beyond the
contract loader that turns YAML into two small tables: the rules are written again, from the SPEC,
in `duckdb_metrics.sql`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

# The documented free-mail list (SPEC §3.5) is reference data, like the contracts: shared, so
# the check is on the rules, not on which providers the list names.
from scorecards.judge import FREE_EMAIL_DOMAINS

SQL_PATH = Path(__file__).with_name("duckdb_metrics.sql")
# The floor: the ten reasons and the headline counts only (delivered, invalid, accepted, sql,
# spend_cents per program-month), the least any engine must compute.
FLOOR_SQL_PATH = Path(__file__).with_name("duckdb_floor.sql")

# Optional canonical columns (SPEC §2.2, §2.3) and their SQL types: absent ones read as NULL.
DELIVERY_COLUMNS = {
    "vendor_id": "VARCHAR",
    "program_id": "VARCHAR",
    "vendor_lead_id": "VARCHAR",
    "delivered_at": "TIMESTAMPTZ",
    "email": "VARCHAR",
    "company": "VARCHAR",
    "company_domain": "VARCHAR",
    "country": "VARCHAR",
    "employees": "BIGINT",
    "job_level": "VARCHAR",
    "industry": "VARCHAR",
    "consent": "BOOLEAN",
}
CRM_COLUMNS = {
    "email": "VARCHAR",
    "crm_id": "VARCHAR",
    "vendor_id": "VARCHAR",
    "vendor_lead_id": "VARCHAR",
    "created_at": "TIMESTAMPTZ",
    "sal_at": "TIMESTAMPTZ",
    "sql_at": "TIMESTAMPTZ",
    "opportunity_at": "TIMESTAMPTZ",
    "opportunity_amount": "DOUBLE",
    "attempts": "BIGINT",
    "email_bounced": "BOOLEAN",
    "disqualified_reason": "VARCHAR",
}

ACCEPTANCE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "contract_id": pl.String,
    "countries": pl.List(pl.String),
    "min_employees": pl.Int64,
    "max_employees": pl.Int64,
    "job_levels": pl.List(pl.String),
    "industries": pl.List(pl.String),
    "required": pl.List(pl.String),
    "reject_free_email": pl.Boolean,
    "require_consent": pl.Boolean,
}


def acceptance_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """One row per contract with its criteria, cased the way the SQL compares them."""
    frame = pl.DataFrame(rows, schema=ACCEPTANCE_SCHEMA, orient="row")
    return frame.with_columns(
        pl.col("countries").list.eval(pl.element().str.strip_chars().str.to_uppercase()),
        pl.col("job_levels").list.eval(pl.element().str.strip_chars().str.to_lowercase()),
        pl.col("industries").list.eval(pl.element().str.strip_chars().str.to_lowercase()),
    )


def contract_tables(contracts_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The programs and acceptance tables of a contracts folder, via the project's loader."""
    from scorecards.contracts import load_contracts

    portfolio = load_contracts(contracts_dir)
    rows = []
    for contract in portfolio.contracts:
        criteria = contract.acceptance
        rows.append(
            {
                "contract_id": contract.contract_id,
                "countries": criteria.countries,
                "min_employees": criteria.min_employees,
                "max_employees": criteria.max_employees,
                "job_levels": criteria.job_levels,
                "industries": criteria.industries,
                "required": [*criteria.required_fields, *criteria.required_answers],
                "reject_free_email": criteria.reject_free_email,
                "require_consent": criteria.require_consent,
            }
        )
    return portfolio.program_frame(), acceptance_frame(rows)


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _canonical_view(
    con: duckdb.DuckDBPyConnection, name: str, parquet: Path, columns: dict[str, str]
) -> set[str]:
    """A view over the file with every canonical column present; returns the file's columns."""
    source = f"read_parquet({_quote_literal(str(parquet))})"
    present = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    missing = [
        f"CAST(NULL AS {sql_type}) AS {_quote_identifier(column)}"
        for column, sql_type in columns.items()
        if column not in present
    ]
    con.execute(f"CREATE VIEW {name} AS SELECT {', '.join(['*', *missing])} FROM {source}")
    return present


def _missing_required_sql(fields: list[str], present: set[str]) -> str:
    """One OR term per field any contract requires: empty means NULL or blank after trimming."""
    terms = []
    for field in sorted(set(fields)):
        required = f"list_contains(a.required, {_quote_literal(field)})"
        if field in present:
            column = f"r.{_quote_identifier(field)}"
            empty = f"({column} IS NULL OR trim(CAST({column} AS VARCHAR)) = '')"
            terms.append(f"({required} AND {empty})")
        else:
            terms.append(f"coalesce({required}, FALSE)")
    return "".join(f"{term} OR " for term in terms)


def duckdb_metrics(
    deliveries_parquet: Path,
    crm_parquet: Path,
    programs: pl.DataFrame,
    acceptance: pl.DataFrame,
    month: str,
    as_of: date,
    *,
    threads: int | None = None,
    sql_path: Path = SQL_PATH,
) -> pl.DataFrame:
    """Program-grain metrics of `month` (vendor x contract x program), computed by DuckDB
    (`sql_path=FLOOR_SQL_PATH`: the headline counts only)."""
    con = duckdb.connect(config={"threads": threads} if threads else {})
    try:
        con.execute("SET TimeZone = 'UTC'")
        present = _canonical_view(con, "deliveries", deliveries_parquet, DELIVERY_COLUMNS)
        _canonical_view(con, "crm", crm_parquet, CRM_COLUMNS)
        program_table = programs.select(
            "vendor_id",
            "contract_id",
            "program_id",
            "lead_type",
            pl.col("cpl_cents").cast(pl.Int64),
            pl.col("monthly_volume").cast(pl.Int64),
            pl.col("term_start").cast(pl.Date),
            pl.col("term_end").cast(pl.Date),
            pl.col("sql_window_days").cast(pl.Int64),
            pl.col("dedupe_days").cast(pl.Int64),
        ).to_arrow()
        acceptance_table = acceptance.to_arrow()
        con.register("programs", program_table)
        con.register("acceptance", acceptance_table)
        required = acceptance.get_column("required").explode().drop_nulls().to_list()
        sql = sql_path.read_text().replace(
            "/*MISSING_REQUIRED*/", _missing_required_sql(required, present)
        )
        return con.sql(
            sql, params={"month": month, "as_of": as_of, "free_domains": list(FREE_EMAIL_DOMAINS)}
        ).pl()
    finally:
        con.close()
