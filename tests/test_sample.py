"""The sample portfolio (SPEC §10) and the benchmark generator.

The properties are checked on the files written, read back with plain polars and a small judge
of our own (not scorecards.judge): the sample must *contain* every case the product handles, by
construction, whatever the product's code does with them.
"""

from __future__ import annotations

import hashlib
import io
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import yaml

from scorecards.sample import (
    DEFAULT_SEED,
    SAMPLE_AS_OF,
    generate_benchmark,
    generate_sample,
)

REPO = Path(__file__).resolve().parents[1]
FREE_MAIL = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com"]
JUNK = ["junk", "fake", "student", "competitor", "no_such_person"]
ISO = "%Y-%m-%dT%H:%M:%SZ"


# --- reading the files back ------------------------------------------------------------------


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _contracts(folder: Path) -> dict[str, dict]:
    contracts = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name == "portfolio.yaml":  # the portfolio settings, not a contract
            continue
        contract = yaml.safe_load(path.read_text())
        contracts[contract["vendor"]["id"]] = contract
    return contracts


def _text_frame(path: Path) -> pl.DataFrame:
    """Any delivery file as all-text columns, blanks as nulls."""
    if path.suffix == ".xlsx":
        frame = pl.read_excel(path)
    elif path.suffix == ".parquet":
        frame = pl.read_parquet(path).with_columns(
            pl.col(pl.Datetime).dt.strftime(ISO), pl.col(pl.Boolean).cast(pl.String)
        )
    else:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("cp1252")
        frame = pl.read_csv(io.BytesIO(text.encode()), infer_schema=False)
    frame = frame.select(pl.all().cast(pl.String))
    return frame.with_columns(
        pl.when(pl.col(c).str.strip_chars() == "").then(None).otherwise(pl.col(c)).alias(c)
        for c in frame.columns
    )


def _deliveries(data: Path, contracts: dict[str, dict]) -> pl.DataFrame:
    """Every delivery row, vendor headers mapped, with the row's file (not yet attributed)."""
    frames = []
    root = data / "deliveries"
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        inner = path.relative_to(root).parts
        frame = _text_frame(path)
        if len(inner) > 1:
            vendor = inner[0]
            columns = contracts[vendor].get("columns") or {}
            frame = frame.rename({h: c for h, c in columns.items() if h in frame.columns})
            frame = frame.with_columns(vendor_id=pl.lit(vendor))
        frames.append(frame.with_columns(file=pl.lit(str(path.relative_to(data)))))
    delivered = pl.col("delivered_at")
    return pl.concat(frames, how="diagonal").with_columns(
        pl.coalesce(
            delivered.str.to_datetime(ISO, strict=False),
            delivered.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")),
        )
        .dt.replace_time_zone("UTC")
        .alias("delivered_at"),
        pl.col("email").str.strip_chars().str.to_lowercase().alias("email_key"),
        pl.col("employees").cast(pl.Int64, strict=False),
        (pl.col("consent").str.to_lowercase() == "true").fill_null(False).alias("consent"),
    )


def _crm(data: Path) -> pl.DataFrame:
    """The three CRM files, mapped to the few canonical columns the checks need."""

    def at(column: str, fmt: str) -> pl.Expr:
        return pl.col(column).str.to_datetime(fmt, strict=False).dt.replace_time_zone("UTC")

    folder = data / "crm"
    canonical = _text_frame(folder / "outcomes.csv").select(
        "email",
        at("created_at", ISO).alias("created_at"),
        at("sal_at", ISO).alias("sal_at"),
        at("sql_at", ISO).alias("sql_at"),
        pl.col("attempts").cast(pl.Int64),
        (pl.col("email_bounced") == "true").alias("email_bounced"),
        "disqualified_reason",
        "vendor_lead_id",
    )
    hub = "%Y-%m-%d %H:%M"
    hubspot = _text_frame(folder / "hubspot-contacts-export.csv").select(
        "email",
        at("createdate", hub).alias("created_at"),
        at("hs_sa_first_engagement_date", hub).alias("sal_at"),
        at("hs_lifecyclestage_salesqualifiedlead_date", hub).alias("sql_at"),
        pl.col("num_contacted_notes").cast(pl.Int64).alias("attempts"),
        (pl.col("hs_email_bounce") == "1").alias("email_bounced"),
        "disqualified_reason",
        "vendor_lead_id",
    )
    sf = "%m/%d/%Y %I:%M %p"
    salesforce = _text_frame(folder / "salesforce-leads-report.csv").select(
        pl.col("Email").alias("email"),
        at("Create Date", sf).alias("created_at"),
        at("SAL Date", sf).alias("sal_at"),
        at("SQL Date", sf).alias("sql_at"),
        pl.col("Contact Attempts").cast(pl.Int64).alias("attempts"),
        pl.col("Email Bounced Reason").is_not_null().alias("email_bounced"),
        pl.col("Disqualified Reason").alias("disqualified_reason"),
        pl.col("Vendor Lead ID").alias("vendor_lead_id"),
    )
    return pl.concat([canonical, hubspot, salesforce]).with_columns(
        pl.col("email").str.strip_chars().str.to_lowercase()
    )


def _suppression(data: Path) -> tuple[list[str], list[str]]:
    folder = data / "suppression"
    emails = pl.read_csv(folder / "do-not-contact.csv")["email"].to_list()
    domains = [d for name in ("customers.csv", "competitors.csv")
               for d in pl.read_csv(folder / name)["domain"].to_list()]  # fmt: skip
    return emails, domains


def _acceptance(contracts: dict[str, dict]) -> pl.DataFrame:
    rows = []
    for vendor, c in contracts.items():
        a = c["acceptance"]
        rows.append(
            {
                "vendor_id": vendor,
                "programs": [p["id"] for p in c["programs"]],
                "countries": a.get("countries"),
                "min_employees": a.get("min_employees"),
                "max_employees": a.get("max_employees"),
                "job_levels": a.get("job_levels"),
                "industries": a.get("industries"),
                "required": list(a.get("required_fields") or []),
                "answers": list(a.get("required_answers") or []),
                "reject_free_email": a.get("reject_free_email", True),
                "require_consent": a.get("require_consent", False),
                "dedupe_days": a.get("dedupe_days", 90),
                "sql_window_days": c.get("sql_window_days", 90),
                "ordered": sum(p["monthly_volume"] for p in c["programs"]),
            }
        )
    return pl.DataFrame(rows)


def _judged(
    deliveries: pl.DataFrame, crm: pl.DataFrame, data: Path, contracts: dict
) -> pl.DataFrame:
    """Our own reading of SPEC §3: a flag per reason (not the primary one), on attributed rows."""
    emails, domains = _suppression(data)
    acceptance = _acceptance(contracts)
    leads = deliveries.join(acceptance, on="vendor_id", how="left").with_columns(
        quarantined=pl.col("delivered_at").is_null()
        | pl.col("vendor_lead_id").is_null()
        | ~pl.col("programs").list.contains(pl.col("program_id")),
        domain=pl.col("email_key").str.split("@").list.last(),
        day=pl.col("delivered_at").dt.date(),
    )
    leads = leads.filter(~pl.col("quarantined")).sort("email_key", "delivered_at", "vendor_lead_id")
    previous = pl.col("day").shift(1).over("email_key")
    leads = leads.with_columns(
        previous_vendor=pl.col("vendor_id").shift(1).over("email_key"),
        duplicate=(pl.col("day") - previous).dt.total_days() <= pl.col("dedupe_days"),
    ).join(crm.unique("email", keep="first"), left_on="email_key", right_on="email", how="left")
    for_list = "countries", "job_levels", "industries"
    value = {"countries": "country", "job_levels": "job_level", "industries": "industry"}

    def outside(criteria: str) -> pl.Expr:
        field = pl.col(value[criteria])
        ok = pl.col(criteria).list.contains(field).fill_null(False)
        return pl.col(criteria).is_not_null() & ~ok

    def missing(column: str, among: str) -> pl.Expr:
        return pl.col(among).list.contains(column) & pl.col(column).is_null()

    employees = pl.col("employees")
    flags = {
        "malformed_email": ~pl.col("email_key").str.contains(r"^[^@\s]+@[^@\s]*\.[^@\s]*$"),
        "duplicate": pl.col("duplicate").fill_null(False),
        "cross_duplicate": pl.col("duplicate").fill_null(False)
        & (pl.col("previous_vendor") != pl.col("vendor_id")),
        "existing_contact": (pl.col("created_at").dt.date() < pl.col("day")).fill_null(False),
        "suppressed_email": pl.col("email_key").is_in(emails),
        "suppressed_domain": pl.col("domain").is_in(domains),
        "free_email": pl.col("reject_free_email") & pl.col("domain").is_in(FREE_MAIL),
        **{f"outside_{value[c]}": outside(c) for c in for_list},
        "outside_employees": (pl.col("min_employees").is_not_null() | pl.col("max_employees").is_not_null())
        & (
            employees.is_null()
            | (employees < pl.col("min_employees")).fill_null(False)
            | (employees > pl.col("max_employees")).fill_null(False)
        ),
        "missing_field": pl.any_horizontal(
            missing(c, "required") for c in ("company", "job_title", "phone")
        ),
        "missing_answer": pl.any_horizontal(
            missing(q, "answers") for q in ("q_timeline", "q_budget")
        ),
        "no_consent": pl.col("require_consent") & ~pl.col("consent"),
        "bounced_email": pl.col("email_bounced").fill_null(False),
        **{f"junk_{r}": (pl.col("disqualified_reason") == r).fill_null(False) for r in JUNK},
    }  # fmt: skip
    leads = leads.with_columns(**flags)
    return leads.with_columns(
        invalid=pl.any_horizontal(k for k in flags if k != "cross_duplicate"),
        month=pl.col("delivered_at").dt.strftime("%Y-%m"),
    )


def _vendor_months(leads: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Per vendor and month: ordered, delivered, accepted, SQLs and the follow-up buckets."""
    accepted = ~pl.col("invalid")
    sql_day = pl.col("sql_at").dt.date()
    window_end = pl.col("day") + pl.duration(days=pl.col("sql_window_days"))
    sql = accepted & (sql_day >= pl.col("day")) & (sql_day <= window_end) & (sql_day <= as_of)
    sql = sql.fill_null(False)
    attempts = pl.col("attempts").fill_null(0)
    return (
        leads.group_by("vendor_id", "month")
        .agg(
            pl.col("ordered").first(),
            pl.col("sql_window_days").first(),
            pl.len().alias("delivered"),
            accepted.sum().alias("accepted"),
            sql.sum().alias("sql"),
            (accepted & (attempts == 1)).sum().alias("n1"),
            (sql & (attempts == 1)).sum().alias("sql1"),
            (accepted & (attempts >= 4)).sum().alias("n4"),
            (sql & (attempts >= 4)).sum().alias("sql4"),
        )
        .with_columns(
            sql_rate=pl.col("sql") / pl.col("accepted"),
            fill_rate=pl.col("accepted") / pl.col("ordered"),
            invalid_rate=1 - pl.col("accepted") / pl.col("delivered"),
            rate1=pl.col("sql1") / pl.col("n1"),
            rate4=pl.col("sql4") / pl.col("n4"),
            mature=pl.col("month").str.to_date("%Y-%m").dt.month_end()
            + pl.duration(days=pl.col("sql_window_days"))
            <= as_of,
        )
        .sort("vendor_id", "month")
    )


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate_sample(out, DEFAULT_SEED)
    return out


@pytest.fixture(scope="module")
def judged(sample: Path) -> pl.DataFrame:
    contracts = _contracts(sample / "contracts")
    deliveries = _deliveries(sample / "data", contracts)
    return _judged(deliveries, _crm(sample / "data"), sample / "data", contracts)


@pytest.fixture(scope="module")
def vendor_months(judged: pl.DataFrame) -> pl.DataFrame:
    return _vendor_months(judged, SAMPLE_AS_OF)


def _thresholds(sample: Path, vendor: str) -> dict[str, float]:
    contract = _contracts(sample / "contracts")[vendor]
    return {m: next(iter(b.values())) for m, b in contract["thresholds"].items()}


# --- reproducibility -------------------------------------------------------------------------


def test_same_seed_gives_the_same_bytes_in_every_file(sample: Path, tmp_path: Path):
    generate_sample(tmp_path, DEFAULT_SEED)
    assert _digests(tmp_path) == _digests(sample)


def test_another_seed_gives_other_leads(sample: Path, tmp_path: Path):
    generate_sample(tmp_path, DEFAULT_SEED + 1)
    ours, theirs = _digests(tmp_path), _digests(sample)
    assert ours.keys() == theirs.keys()
    assert ours["data/crm/outcomes.csv"] != theirs["data/crm/outcomes.csv"]


def test_committed_sample_equals_a_fresh_generation_with_the_default_seed(sample: Path):
    fresh = _digests(sample)
    committed = {
        **{f"data/{k}": v for k, v in _digests(REPO / "data").items()},
        **{f"contracts/{k}": v for k, v in _digests(REPO / "contracts").items()},
    }
    assert committed == fresh, "regenerate: uv run python -m scorecards.sample --out ."


def test_benchmark_same_seed_gives_the_same_bytes(tmp_path: Path):
    generate_benchmark(tmp_path / "a", 5_000, 3)
    generate_benchmark(tmp_path / "b", 5_000, 3)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")


# --- the sample's shape ----------------------------------------------------------------------


def test_sample_is_small(sample: Path):
    size = sum(p.stat().st_size for p in (sample / "data").rglob("*") if p.is_file())
    assert size < 5_000_000


def test_contracts_cover_every_lead_type_and_validate(sample: Path):
    from scorecards.contracts import load_contracts

    portfolio = load_contracts(sample / "contracts")
    lead_types = {p.lead_type for c in portfolio.contracts for p in c.programs}
    assert {"content_syndication", "hql", "bant", "webinar", "intent"} <= lead_types
    assert len(portfolio.contracts) == 12
    assert any(len(c.programs) == 2 for c in portfolio.contracts)
    assert {c.replacement.window_days for c in portfolio.contracts} >= {7, 30}


def test_every_invalid_reason_has_leads_that_meet_it(judged: pl.DataFrame):
    counts = judged.select(
        pl.col(pl.Boolean).exclude("quarantined", "invalid", "consent", "reject_free_email",
                                   "require_consent", "email_bounced", "duplicate").sum()
    ).row(0, named=True)  # fmt: skip
    counts["duplicate"] = judged["duplicate"].fill_null(False).sum()
    missing = sorted(reason for reason, n in counts.items() if n < 3)
    assert missing == [], counts


def test_both_cross_vendor_sharers_deliver_the_same_people(judged: pl.DataFrame):
    crossed = judged.filter("cross_duplicate")
    pairs = set(zip(crossed["previous_vendor"], crossed["vendor_id"], strict=True))
    assert ("meridian-b2b", "tristate-data") in pairs
    assert crossed.height >= 20


def test_three_rows_cannot_be_attributed(sample: Path):
    contracts = _contracts(sample / "contracts")
    rows = _deliveries(sample / "data", contracts).join(
        _acceptance(contracts).select("vendor_id", "programs"), on="vendor_id"
    )
    unknown_program = rows.filter(~pl.col("programs").list.contains(pl.col("program_id")))
    bad_date = rows.filter(pl.col("delivered_at").is_null())
    no_lead_id = rows.filter(pl.col("vendor_lead_id").is_null())
    assert unknown_program["file"].to_list() == ["deliveries/meridian-b2b/2026-09.csv"]
    assert bad_date["file"].to_list() == ["deliveries/tristate-data/2026-08.csv"]
    assert no_lead_id["file"].to_list() == ["deliveries/summit-bant/2026-06.csv"]


def test_on_track_vendor_is_well_inside_every_threshold(sample: Path, vendor_months):
    limits = _thresholds(sample, "northwind-syndication")
    rows = vendor_months.filter(pl.col("vendor_id") == "northwind-syndication")
    july = rows.filter(pl.col("month") == "2026-07").row(0, named=True)
    assert july["mature"]
    assert july["sql_rate"] >= 1.4 * limits["sql_rate"]
    spend_per_sql = 85 * july["accepted"] / july["sql"]  # upper bound: every lead at the top CPL
    assert spend_per_sql <= 0.7 * limits["cost_per_sql"]
    assert (rows["fill_rate"] >= 0.95).all()
    assert (rows["invalid_rate"] < limits["invalid_rate"]).all()
    assert (rows["n1"] < 20).all()  # sales works its leads: never execution-limited


def test_replace_vendor_misses_its_sql_floor_in_every_mature_month(sample, vendor_months):
    limits = _thresholds(sample, "bluepeak-demand")
    mature = vendor_months.filter(pl.col("vendor_id") == "bluepeak-demand", pl.col("mature"))
    assert mature["month"].to_list()[-2:] == ["2026-07", "2026-08"]
    assert (mature["sql_rate"] < limits["sql_rate"]).all()
    # sales did work the leads: most 4+ times, too few single attempts to be execution-limited
    assert (mature["n4"] / mature["accepted"] >= 0.6).all()
    assert (mature["n1"] < 20).all()


def test_execution_limited_vendor_converts_when_worked(vendor_months: pl.DataFrame):
    mature = vendor_months.filter(pl.col("vendor_id") == "cascade-demand", pl.col("mature"))
    assert mature.height >= 2
    assert (mature["n1"] >= 20).all() and (mature["n4"] >= 20).all()
    assert (mature["rate4"] > 0).all()
    assert (mature["rate4"] >= 2.5 * mature["rate1"]).all()


def test_one_vendor_under_fills_and_one_delivers_over_the_cap(vendor_months: pl.DataFrame):
    summit = vendor_months.filter(pl.col("vendor_id") == "summit-bant")
    ratio = summit["delivered"] / summit["ordered"]
    assert ratio.is_between(0.6, 0.8).all()
    harbor = vendor_months.filter(pl.col("vendor_id") == "harbor-intent")
    assert (harbor["accepted"] > harbor["ordered"]).all()


def test_sqls_rise_with_attempts_and_some_fall_outside_window_or_after_as_of(judged):
    accepted = judged.filter(~pl.col("invalid")).with_columns(
        bucket=pl.col("attempts").fill_null(0).clip(0, 4).replace({3: 2}),
        days=(pl.col("sql_at").dt.date() - pl.col("day")).dt.total_days(),
    )
    by_bucket = (
        accepted.group_by("bucket").agg(pl.col("sql_at").is_not_null().mean()).sort("bucket")
    )
    assert by_bucket["bucket"].to_list() == [0, 1, 2, 4]
    rates = by_bucket["sql_at"].to_list()
    assert rates == sorted(rates)
    assert (accepted["days"] > accepted["sql_window_days"]).sum() >= 10
    assert (accepted["sql_at"].dt.date() > SAMPLE_AS_OF).sum() >= 10
    assert (accepted["days"].drop_nulls() >= 5).mean() > 0.9
    assert (accepted["days"] < 0).sum() == 0


def test_crm_records_are_consistent_and_some_carry_the_vendor_reference(sample: Path):
    crm = _crm(sample / "data")
    assert crm["email"].n_unique() == crm.height
    assert (crm["sal_at"] > crm["sql_at"]).sum() == 0
    assert (crm["sql_at"] < crm["created_at"]).sum() == 0
    carrying = crm["vendor_lead_id"].is_not_null().sum()
    assert 0.1 * crm.height < carrying < 0.5 * crm.height


def test_delivery_files_come_in_every_layout_and_format(sample: Path):
    deliveries = sample / "data" / "deliveries"
    latin1 = (deliveries / "datenwerk-europe" / "2026-04.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        latin1.decode("utf-8")
    assert any(ch in latin1.decode("cp1252") for ch in "éüøñ")
    workbook = pl.read_excel(deliveries / "lumen-hql" / "2026-04.xlsx")
    assert workbook.height > 20 and "email" in workbook.columns
    headers = pl.read_csv(deliveries / "quorum-media" / "2026-04.csv", n_rows=0).columns
    assert {"Email Address", "Lead ID", "Delivered", "Campaign"} <= set(headers)
    root = pl.read_csv(deliveries / "partner-marketplace-2026.csv", infer_schema=False)
    assert root["vendor_id"].n_unique() == 2
    assert (deliveries / "cascade-demand" / "2026" / "2026-04.csv").exists()
    assert (deliveries / "harbor-intent" / "2026-04.parquet").exists()
    crm = sample / "data" / "crm"
    assert "lifecyclestage" in pl.read_csv(crm / "hubspot-contacts-export.csv", n_rows=0).columns
    assert "Lead Status" in pl.read_csv(crm / "salesforce-leads-report.csv", n_rows=0).columns


# --- benchmark data --------------------------------------------------------------------------


def test_benchmark_has_canonical_columns_the_requested_size_and_every_reason(tmp_path: Path):
    generate_benchmark(tmp_path, 20_000, 7)
    deliveries = pl.read_parquet(tmp_path / "deliveries.parquet")
    crm = pl.read_parquet(tmp_path / "crm.parquet")
    assert deliveries.height == 20_000
    assert deliveries.schema["delivered_at"] == pl.Datetime("us", "UTC")
    assert deliveries.schema["employees"] == pl.Int64
    assert deliveries.schema["consent"] == pl.Boolean
    assert crm.schema["sql_at"] == pl.Datetime("us", "UTC")
    assert crm.schema["attempts"] == pl.Int64
    contracts = _contracts(tmp_path / "contracts")
    assert len(contracts) == 12
    rows = deliveries.with_columns(
        pl.col("email").str.strip_chars().str.to_lowercase().alias("email_key"),
        file=pl.lit("deliveries.parquet"),
    )
    judged = _judged(rows, crm.select(
        "email", "created_at", "sal_at", "sql_at", "attempts", "email_bounced",
        "disqualified_reason", "vendor_lead_id",
    ), tmp_path, contracts)  # fmt: skip
    counts = judged.select(
        pl.col(pl.Boolean).exclude("quarantined", "invalid", "consent", "reject_free_email",
                                   "require_consent", "email_bounced", "duplicate").sum()
    ).row(0, named=True)  # fmt: skip
    assert sorted(reason for reason, n in counts.items() if n == 0) == []
