"""Vendor metrics (SPEC §4): counts and money per program × month, summed up to vendor, lead
type and portfolio (never averaging rates), then every rate derived once, in `with_rates`."""

from __future__ import annotations

from datetime import date

import polars as pl

from scorecards.engine import ENGINE

# `currency` is a key at every grain: money is never summed across currencies (SPEC §4), so a
# portfolio in USD and EUR has a lead-type and a portfolio row per currency.
KEYS = ["grain", "vendor_id", "contract_id", "program_id", "lead_type", "currency", "month"]
COUNTS = [
    "ordered",
    "delivered",
    "invalid",
    "accepted",
    "billable",
    "over_cap",
    "sal",
    "sql",
    "opportunities",
    "attempts_0",
    "attempts_1",
    "attempts_2_3",
    "attempts_4plus",
    "sql_attempts_0",
    "sql_attempts_1",
    "sql_attempts_2_3",
    "sql_attempts_4plus",
    "attempts_unknown",
]
MONEY = ["spend_cents", "invoiced_risk_cents", "pipeline_cents"]
# Not additive: computed from the leads at each grain.
DISTINCT = ["accounts", "accounts_with_sql", "days_to_sql"]
RATES = [
    "fill_rate",
    "invalid_rate",
    "sql_rate",
    "sql_rate_lo",
    "sql_rate_hi",
    "sal_rate",
    "cost_per_sql",
    "pipeline_per_dollar",
    "share_worked",
    "share_worked_4plus",
    "bucket_0_sql_rate",
    "sql_rate_attempts_1",
    "bucket_2_3_sql_rate",
    "sql_rate_4plus",
    "sql_deficit",
]
COLUMNS = [
    *KEYS,
    *COUNTS[:9],
    "accounts",
    "accounts_with_sql",
    *COUNTS[9:],
    *MONEY,
    "fill_rate",
    "invalid_rate",
    "sql_rate",
    "sql_rate_lo",
    "sql_rate_hi",
    "sal_rate",
    "cost_per_sql",
    "pipeline_per_dollar",
    "days_to_sql",
    "share_worked",
    "share_worked_4plus",
    "bucket_0_sql_rate",
    "sql_rate_attempts_1",
    "bucket_2_3_sql_rate",
    "sql_rate_4plus",
    "sql_deficit",
    "sql_window_days",
    "evidence_z",
    "mature",
    "follow_up_unknown",
    "under_worked",
    "execution_limited",
]
GRAINS: dict[str, list[str]] = {
    "program": ["vendor_id", "contract_id", "program_id", "lead_type"],
    "vendor": ["vendor_id", "currency"],
    "lead_type": ["lead_type", "currency"],
    "portfolio": ["currency"],
}
ATTEMPT_BUCKETS = ("0", "1", "2_3", "4plus")

# SPEC §4 follow-up diagnostic: both buckets need this many leads to call a month execution-limited,
# and a month this many accepted leads to be called under-worked.
MIN_BUCKET_LEADS = 20
MIN_UNDER_WORKED_LEADS = 20


def months_between(first: str, last: str) -> list[str]:
    """Every calendar month from `first` to `last`, inclusive ("YYYY-MM")."""
    start = date.fromisoformat(f"{first}-01")
    end = date.fromisoformat(f"{last}-01")
    return (
        pl.date_range(start, end, interval="1mo", eager=True).dt.strftime("%Y-%m").to_list()
        if start <= end
        else []
    )


def _attempt_bucket() -> pl.Expr:
    """The lead's follow-up bucket. SPEC §4: a lead with no CRM record is in the 0 bucket (judge
    writes 0 attempts for it); a CRM record without attempts (null) is in no bucket: unknown."""
    attempts = pl.col("attempts")
    return (
        pl.when(attempts.is_null())
        .then(pl.lit("unknown"))
        .when(attempts <= 0)
        .then(pl.lit("0"))
        .when(attempts == 1)
        .then(pl.lit("1"))
        .when(attempts <= 3)
        .then(pl.lit("2_3"))
        .otherwise(pl.lit("4plus"))
    )


def wilson_bounds(k: pl.Expr, n: pl.Expr, z: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(lo, hi) of the Wilson score interval of k/n at the two-sided quantile z (SPEC §5);
    both the point value k/n when z is null (`evidence.confidence: null`); null when n = 0."""
    p = k / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    spread = z * (p * (1 - p) / n + z2 / (4 * n * n)).sqrt()
    scale = 1 + z2 / n
    has_n = n > 0
    lo = pl.when(has_n & z.is_null()).then(p).when(has_n).then((centre - spread) / scale)
    hi = pl.when(has_n & z.is_null()).then(p).when(has_n).then((centre + spread) / scale)
    # k = 0 and k = n: the bound at the observed edge is exactly 0 or 1, not a rounding away
    return (
        pl.when(k == 0).then(pl.when(has_n).then(0.0)).otherwise(lo.clip(0.0, 1.0)),
        pl.when(k == n).then(pl.when(has_n).then(1.0)).otherwise(hi.clip(0.0, 1.0)),
    )


def _lead_counts() -> list[pl.Expr]:
    accepted = pl.col("status") == "accepted"
    sql = accepted & pl.col("sql")
    bucket = pl.col("_bucket")
    return [
        pl.len().cast(pl.Int64).alias("delivered"),
        (~accepted).sum().cast(pl.Int64).alias("invalid"),
        accepted.sum().cast(pl.Int64).alias("accepted"),
        (accepted & pl.col("sal")).sum().cast(pl.Int64).alias("sal"),
        sql.sum().cast(pl.Int64).alias("sql"),
        (accepted & pl.col("opportunity")).sum().cast(pl.Int64).alias("opportunities"),
        *[
            (accepted & (bucket == b)).sum().cast(pl.Int64).alias(f"attempts_{b}")
            for b in ATTEMPT_BUCKETS
        ],
        *[
            (sql & (bucket == b)).sum().cast(pl.Int64).alias(f"sql_attempts_{b}")
            for b in ATTEMPT_BUCKETS
        ],
        (accepted & (bucket == "unknown")).sum().cast(pl.Int64).alias("attempts_unknown"),
        pl.col("cpl_cents").filter(~accepted).sum().cast(pl.Int64).alias("invoiced_risk_cents"),
        pl.col("opportunity_amount_cents")
        .filter(accepted & pl.col("opportunity"))
        .sum()
        .cast(pl.Int64)
        .alias("pipeline_cents"),
    ]


def _distinct_stats() -> list[pl.Expr]:
    accepted = pl.col("status") == "accepted"
    return [
        pl.col("company_domain")
        .filter(accepted)
        .drop_nulls()
        .n_unique()
        .cast(pl.Int64)
        .alias("accounts"),
        pl.col("company_domain")
        .filter(accepted & pl.col("sql"))
        .drop_nulls()
        .n_unique()
        .cast(pl.Int64)
        .alias("accounts_with_sql"),
        pl.col("days_to_sql")
        .filter(accepted & pl.col("sql"))
        .median()
        .cast(pl.Float64)
        .alias("days_to_sql"),
    ]


def ordered_calendar(programs: pl.DataFrame, months: list[str]) -> pl.DataFrame:
    """Program × month for `months`: `ordered` = monthly_volume when the term overlaps the month."""
    calendar = pl.DataFrame({"month": months}, schema={"month": pl.String}).with_columns(
        pl.col("month").str.to_date("%Y-%m").alias("_start")
    )
    overlaps = (pl.col("term_start") <= pl.col("_start").dt.month_end()) & (
        pl.col("term_end") >= pl.col("_start")
    )
    return (
        programs.join(calendar, how="cross")
        .filter(overlaps)
        .select(
            "vendor_id",
            "contract_id",
            "program_id",
            "lead_type",
            "month",
            pl.col("monthly_volume").cast(pl.Int64).alias("ordered"),
            pl.col("cpl_cents").cast(pl.Int64),
            pl.col("sql_window_days").cast(pl.Int64),
        )
    )


def program_month_metrics(
    leads: pl.DataFrame | pl.LazyFrame, programs: pl.DataFrame, months: list[str], as_of: date
) -> pl.DataFrame:
    """Grain: vendor × program × delivery month, for every month in `months` that the program's
    term overlaps or that has deliveries. `leads` may be a query (bench/): it is collected here
    for the columns the counts read."""
    keys = GRAINS["program"] + ["month"]
    counted = (
        leads.lazy()
        .filter(pl.col("month").is_in(months))
        .with_columns(_attempt_bucket().alias("_bucket"))
        .group_by(keys)
        .agg(*_lead_counts(), *_distinct_stats())
        .collect(engine=ENGINE)
    )
    prices = programs.select(
        "contract_id", "program_id", "cpl_cents", "sql_window_days", "evidence_z"
    )
    calendar = ordered_calendar(programs, months).drop("cpl_cents", "sql_window_days")
    frame = (
        calendar.join(counted, on=keys, how="full", coalesce=True)
        .join(prices, on=["contract_id", "program_id"], how="left")
        .with_columns(
            pl.col(c).fill_null(0)
            for c in [
                "ordered",
                *COUNTS[1:9],
                *COUNTS[9:],
                "invoiced_risk_cents",
                "pipeline_cents",
                "accounts",
                "accounts_with_sql",
            ]
            if c not in ("billable", "over_cap")
        )
        .with_columns(pl.min_horizontal("accepted", "ordered").alias("billable"))
        .with_columns(
            (pl.col("accepted") - pl.col("billable")).alias("over_cap"),
            (pl.col("billable") * pl.col("cpl_cents")).alias("spend_cents"),
            pl.lit("program").alias("grain"),
            _vendor_currency(programs),
        )
    )
    return with_rates(frame, as_of)


def _vendor_currency(programs: pl.DataFrame) -> pl.Expr:
    """Each row's currency: its vendor's (all of a vendor's contracts share one, contracts.py)."""
    currency = programs.select("vendor_id", "currency").unique()
    return (
        pl.col("vendor_id")
        .replace_strict(currency["vendor_id"], currency["currency"], default=None)
        .alias("currency")
    )


def rolled_up_metrics(
    program_metrics: pl.DataFrame, leads: pl.DataFrame | pl.LazyFrame, as_of: date
) -> pl.DataFrame:
    """The program rows plus their sums by vendor, lead type and portfolio, per month: the
    metrics frame. Counts and money are summed; accounts and medians are taken from the leads."""
    months = program_metrics["month"].unique().to_list()
    # a query, not a copy of the lead frame: each grain reads the few columns it counts
    scoped = (
        leads.lazy()
        .filter(pl.col("month").is_in(months))
        .with_columns(_vendor_currency(program_metrics))
    )
    grains = ("vendor", "lead_type", "portfolio")
    distincts = pl.collect_all(
        [scoped.group_by([*GRAINS[g], "month"]).agg(*_distinct_stats()) for g in grains],
        engine=ENGINE,
    )
    frames = [program_metrics.select(COLUMNS)]
    for grain, distinct in zip(grains, distincts, strict=True):
        keys = [*GRAINS[grain], "month"]
        summed = program_metrics.group_by(keys).agg(
            *[pl.col(c).sum() for c in [*COUNTS, *MONEY]],
            pl.col("contract_id").max()
            if grain == "vendor"
            else pl.lit(None, pl.String).alias("contract_id"),
            pl.col("sql_window_days").max(),
            # two contracts in one month: the stricter (wider) interval
            pl.col("evidence_z").max(),
            pl.col("mature").all(),
        )
        rolled = summed.join(distinct, on=keys, how="left").with_columns(
            pl.col("accounts", "accounts_with_sql").fill_null(0), pl.lit(grain).alias("grain")
        )
        frames.append(with_rates(rolled, as_of, mature=pl.col("mature")).select(COLUMNS))
    return (
        pl.concat(frames, how="diagonal_relaxed")
        .select(COLUMNS)
        .sort(
            ["grain", "vendor_id", "program_id", "lead_type", "currency", "month"],
            nulls_last=False,
        )
    )


def _ratio(numerator: str, denominator: str) -> pl.Expr:
    """numerator / denominator, or no value when the denominator is 0 (never 0, never inf)."""
    return pl.when(pl.col(denominator) > 0).then(pl.col(numerator) / pl.col(denominator))


def with_rates(frame: pl.DataFrame, as_of: date, mature: pl.Expr | None = None) -> pl.DataFrame:
    """Every derived metric, from counts and money only (SPEC §4)."""
    month_end = pl.col("month").str.to_date("%Y-%m").dt.month_end()
    matured = month_end + pl.duration(days=pl.col("sql_window_days")) <= pl.lit(as_of)
    rate_4plus = _ratio("sql_attempts_4plus", "attempts_4plus")
    rate_1 = _ratio("sql_attempts_1", "attempts_1")
    for column in ("grain", "vendor_id", "contract_id", "program_id", "lead_type", "currency"):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(column))
    worked = pl.col("attempts_1") + pl.col("attempts_2_3") + pl.col("attempts_4plus")
    # leads whose follow-up is known: every accepted lead but those with a CRM record and no
    # attempts on it
    known = pl.col("accepted") - pl.col("attempts_unknown")
    # SPEC §4: the CRM carries no attempts at all for the vendor-month
    unknown = (pl.col("attempts_unknown") > 0) & (worked == 0)
    sql_rate_lo, sql_rate_hi = wilson_bounds(
        pl.col("sql").cast(pl.Float64), pl.col("accepted").cast(pl.Float64), pl.col("evidence_z")
    )
    if "evidence_z" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.Float64).alias("evidence_z"))
    follow_up = frame.with_columns(
        _ratio("accepted", "ordered").alias("fill_rate"),
        _ratio("invalid", "delivered").alias("invalid_rate"),
        _ratio("sql", "accepted").alias("sql_rate"),
        sql_rate_lo.alias("sql_rate_lo"),
        sql_rate_hi.alias("sql_rate_hi"),
        _ratio("sal", "accepted").alias("sal_rate"),
        # one division, so an exact amount (3 × $10.20 / 3) is exactly 10.2 against its limit
        pl.when(pl.col("sql") > 0)
        .then(pl.col("spend_cents") / (pl.col("sql") * 100))
        .alias("cost_per_sql"),
        _ratio("pipeline_cents", "spend_cents").alias("pipeline_per_dollar"),
        pl.when(~unknown & (known > 0)).then(worked / known).alias("share_worked"),
        pl.when(~unknown & (known > 0))
        .then(pl.col("attempts_4plus") / known)
        .alias("share_worked_4plus"),
        _ratio("sql_attempts_0", "attempts_0").alias("bucket_0_sql_rate"),
        rate_1.alias("sql_rate_attempts_1"),
        _ratio("sql_attempts_2_3", "attempts_2_3").alias("bucket_2_3_sql_rate"),
        rate_4plus.alias("sql_rate_4plus"),
        # SPEC §4: never negative — once-worked leads doing better leave no deficit
        pl.max_horizontal(pl.col("attempts_1") * rate_4plus - pl.col("sql_attempts_1"), 0.0)
        .cast(pl.Float64)
        .alias("sql_deficit"),
        (matured if mature is None else mature).alias("mature"),
        unknown.fill_null(False).alias("follow_up_unknown"),
        (~unknown & (known >= MIN_UNDER_WORKED_LEADS) & (2 * worked < known))
        .fill_null(False)
        .alias("under_worked"),
        (
            ~unknown
            & (rate_4plus > 0)
            & (rate_4plus >= 2 * rate_1)
            & (pl.col("attempts_4plus") >= MIN_BUCKET_LEADS)
            & (pl.col("attempts_1") >= MIN_BUCKET_LEADS)
        )
        .fill_null(False)
        .alias("execution_limited"),
    )
    return follow_up.with_columns(
        pl.when(rate_4plus.is_not_null()).then(pl.col("sql_deficit")).alias("sql_deficit")
    )


def vendor_month_metrics(
    leads: pl.DataFrame | pl.LazyFrame, programs: pl.DataFrame, months: list[str], as_of: date
) -> pl.DataFrame:
    """The whole metrics frame for `months` (all grains)."""
    return rolled_up_metrics(program_month_metrics(leads, programs, months, as_of), leads, as_of)


def invalid_reason_counts(leads: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Grain: vendor × month × primary reason — invalid leads and what paying for them costs."""
    return (
        leads.lazy()
        .filter(pl.col("status") == "invalid")
        .group_by("vendor_id", "month", "primary_reason")
        .agg(
            pl.len().cast(pl.Int64).alias("leads"),
            pl.col("cpl_cents").sum().cast(pl.Int64).alias("value_cents"),
        )
        .sort("vendor_id", "month", "primary_reason")
        .collect(engine=ENGINE)
    )
