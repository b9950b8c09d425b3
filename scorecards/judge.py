"""Judging every delivered lead against its contract (SPEC §3) and attaching its CRM outcome.

Each reason is one (condition, evidence) pair in `_reason_rules`, listed in the precedence of
`REASONS`; a lead's `reasons` and `evidence` are those whose condition holds, in that order, and
its primary reason is the first. Nothing here loops over rows.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from scorecards.contracts import REASONS

# Free-mail providers (SPEC §3 reason 5). Matched on the email's domain, lower-cased.
FREE_EMAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.ca", "yahoo.fr",
    "ymail.com", "rocketmail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr",
    "live.com", "msn.com", "aol.com", "icloud.com", "me.com", "mac.com", "proton.me",
    "protonmail.com", "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com", "zoho.com",
    "yandex.com", "yandex.ru", "mail.ru", "qq.com", "163.com", "126.com", "fastmail.com",
    "tutanota.com", "hey.com", "orange.fr", "free.fr", "laposte.net", "libero.it", "btinternet.com",
)  # fmt: skip

# CRM disqualification reasons that make a lead junk (SPEC §3 reason 10).
JUNK_DISQUALIFICATIONS: tuple[str, ...] = (
    "junk",
    "fake",
    "student",
    "competitor",
    "no_such_person",
)

_ACCEPTANCE_SCHEMA: dict[str, pl.DataType] = {
    "contract_id": pl.String(),
    "acc_countries": pl.List(pl.String),
    "acc_min_employees": pl.Int64(),
    "acc_max_employees": pl.Int64(),
    "acc_job_levels": pl.List(pl.String),
    "acc_industries": pl.List(pl.String),
    "acc_required": pl.List(pl.String),
    "acc_reject_free_email": pl.Boolean(),
    "acc_require_consent": pl.Boolean(),
    "acc_dedupe_days": pl.Int64(),
    "sql_window_days": pl.Int64(),
}


def acceptance_frame(contracts: list[Any]) -> pl.DataFrame:
    """One row per contract: the acceptance criteria as columns a lead can be checked against."""

    def lowered(values: list[str] | None) -> list[str] | None:
        return None if values is None else sorted({v.strip().lower() for v in values})

    rows = [
        {
            "contract_id": c.contract_id,
            "acc_countries": None
            if c.acceptance.countries is None
            else sorted({v.strip().upper() for v in c.acceptance.countries}),
            "acc_min_employees": c.acceptance.min_employees,
            "acc_max_employees": c.acceptance.max_employees,
            "acc_job_levels": lowered(c.acceptance.job_levels),
            "acc_industries": lowered(c.acceptance.industries),
            "acc_required": [*c.acceptance.required_fields, *c.acceptance.required_answers],
            "acc_reject_free_email": c.acceptance.reject_free_email,
            "acc_require_consent": c.acceptance.require_consent,
            "acc_dedupe_days": c.acceptance.dedupe_days,
            "sql_window_days": c.sql_window_days,
        }
        for c in contracts
    ]
    return pl.DataFrame(rows, schema=_ACCEPTANCE_SCHEMA)


def normalised_email(expr: pl.Expr) -> pl.Expr:
    """The match key for emails and domains everywhere: trimmed and lower-cased."""
    return expr.str.strip_chars().str.to_lowercase()


def _email_defect() -> pl.Expr:
    """Why the email is not a syntactically valid address, or null (SPEC §3 reason 1)."""
    email = pl.col("email")
    local = email.str.split("@").list.first()
    domain = email.str.split("@").list.last()
    return (
        pl.when(email.is_null())
        .then(pl.lit("email is empty"))
        .when(email.str.contains(r"\s"))
        .then(pl.lit("email contains a space"))
        .when(email.str.count_matches("@") != 1)
        .then(pl.format("email has {} '@' signs", email.str.count_matches("@")))
        .when(local.str.len_chars() == 0)
        .then(pl.lit("email has nothing before '@'"))
        .when(~domain.str.contains(r"\.", literal=False))
        .then(pl.lit("email domain has no dot"))
    )


def _listing(column: str) -> pl.Expr:
    return pl.format("[{}]", pl.col(column).list.join(", "))


def _icp_evidence() -> pl.Expr:
    """'; '-joined evidence of every ICP criterion the lead fails, or null when it fails none."""
    country = pl.col("country").str.strip_chars().str.to_uppercase()
    level = pl.col("job_level").str.strip_chars().str.to_lowercase()
    industry = pl.col("industry").str.strip_chars().str.to_lowercase()
    has = pl.col

    def outside(value: pl.Expr, criterion: str, name: str) -> pl.Expr:
        return (
            pl.when(has(criterion).is_null())
            .then(None)
            .when(value.is_null())
            .then(pl.lit(f"{name} missing"))
            .when(~has(criterion).list.contains(value))
            .then(pl.format("{}={} not in {}", pl.lit(name), pl.col(name), _listing(criterion)))
        )

    employees = pl.col("employees")
    size = (
        pl.when(has("acc_min_employees").is_null() & has("acc_max_employees").is_null())
        .then(None)
        .when(employees.is_null())
        .then(pl.lit("employees missing"))
        .when(employees < has("acc_min_employees"))
        .then(pl.format("employees={} below {}", employees, has("acc_min_employees")))
        .when(employees > has("acc_max_employees"))
        .then(pl.format("employees={} above {}", employees, has("acc_max_employees")))
    )
    parts = pl.concat_list(
        outside(country, "acc_countries", "country"),
        size,
        outside(level, "acc_job_levels", "job_level"),
        outside(industry, "acc_industries", "industry"),
    ).list.drop_nulls()
    return pl.when(parts.list.len() > 0).then(parts.list.join("; "))


def _missing_evidence(required_columns: list[str], present: set[str]) -> pl.Expr:
    """'; '-joined '<field> missing' for each required field or answer the lead left empty."""
    parts = []
    for column in required_columns:
        value = pl.col(column) if column in present else pl.lit(None, pl.String)
        empty = value.cast(pl.String).str.strip_chars().fill_null("") == ""
        parts.append(
            pl.when(pl.col("acc_required").list.contains(pl.lit(column)) & empty).then(
                pl.lit(f"{column} missing")
            )
        )
    if not parts:
        return pl.lit(None, pl.String)
    listed = pl.concat_list(parts).list.drop_nulls()
    return pl.when(listed.list.len() > 0).then(listed.list.join("; "))


def _reason_rules(
    required_columns: list[str], present: set[str]
) -> dict[str, tuple[pl.Expr, pl.Expr]]:
    """reason -> (condition, evidence). Evidence is never null where the condition holds."""
    defect = _email_defect()
    icp = _icp_evidence()
    missing = _missing_evidence(required_columns, present)
    day = pl.col("delivery_date")
    rules = {
        "malformed_email": (defect.is_not_null(), defect),
        "duplicate": (
            pl.col("_prev_day").is_not_null()
            & ((day - pl.col("_prev_day")).dt.total_days() <= pl.col("acc_dedupe_days")),
            pl.format(
                "delivered before on {} by {} (lead {})",
                pl.col("_prev_day").cast(pl.String),
                pl.col("_prev_vendor"),
                pl.col("_prev_lead"),
            ),
        ),
        "existing_contact": (
            pl.col("_crm_created").dt.date() < day,
            pl.format("in CRM since {}", pl.col("_crm_created").dt.date().cast(pl.String)),
        ),
        "suppressed": (
            pl.col("_suppressed_by").is_not_null(),
            pl.col("_suppressed_by"),
        ),
        "free_email": (
            pl.col("acc_reject_free_email") & pl.col("email_domain").is_in(FREE_EMAIL_DOMAINS),
            pl.format("free-mail domain {}", pl.col("email_domain")),
        ),
        "outside_icp": (icp.is_not_null(), icp),
        "missing_required": (missing.is_not_null(), missing),
        "no_consent": (
            pl.col("acc_require_consent") & pl.col("consent").ne_missing(True),
            pl.when(pl.col("consent").is_null())
            .then(pl.lit("consent missing"))
            .otherwise(pl.lit("consent not given")),
        ),
        "bounced_email": (
            pl.col("_bounced").fill_null(False),
            pl.lit("CRM marks the email bounced"),
        ),
        "junk": (
            pl.col("_o_disqualified_reason").is_in(JUNK_DISQUALIFICATIONS).fill_null(False),
            pl.format("CRM disqualified it as {}", pl.col("_o_disqualified_reason")),
        ),
    }
    assert tuple(rules) == REASONS, "rules must follow SPEC §3 precedence"
    return rules


def _with_previous_delivery(leads: pl.DataFrame) -> pl.DataFrame:
    """The nearest earlier delivery of the same email, by any vendor (SPEC §3 reason 2: the
    earliest delivery keeps the lead; a same-instant tie goes to the first vendor_lead_id)."""
    order = ["email", "delivered_at", "vendor_lead_id", "vendor_id", "source_file", "source_line"]
    ranked = leads.sort(order, nulls_last=True)
    keyed = pl.col("email").is_not_null()
    return ranked.with_columns(
        pl.when(keyed).then(pl.col("delivery_date").shift(1).over("email")).alias("_prev_day"),
        pl.when(keyed).then(pl.col("vendor_id").shift(1).over("email")).alias("_prev_vendor"),
        pl.when(keyed).then(pl.col("vendor_lead_id").shift(1).over("email")).alias("_prev_lead"),
    )


def _crm_by_email(crm: pl.DataFrame) -> pl.DataFrame:
    """Per email: when the CRM first knew it, whether any record bounced, and the outcome of its
    earliest record (the one the delivered lead created or matched)."""
    records = crm.filter(pl.col("email").is_not_null()).sort(
        "email", "created_at", "crm_id", nulls_last=True
    )
    return records.group_by("email", maintain_order=True).agg(
        pl.col("created_at").min().alias("_crm_created"),
        pl.col("email_bounced").fill_null(False).any().alias("_bounced"),
        *[pl.col(c).first() for c in _OUTCOME_COLUMNS],
    )


_OUTCOME_COLUMNS = (
    "crm_id",
    "status",
    "sal_at",
    "sql_at",
    "opportunity_at",
    "won_at",
    "opportunity_amount",
    "attempts",
    "disqualified_reason",
)


def _with_outcomes(leads: pl.DataFrame, crm: pl.DataFrame) -> pl.DataFrame:
    """CRM outcome per lead: matched on (vendor_id, vendor_lead_id) where the CRM carries them
    (SPEC §2.3), else on email."""
    key = ["vendor_id", "vendor_lead_id"]
    keyed = (
        crm.filter(pl.col("vendor_id").is_not_null() & pl.col("vendor_lead_id").is_not_null())
        .sort("vendor_id", "vendor_lead_id", "created_at", "crm_id", nulls_last=True)
        # a bounce on the lead's own record counts even when sales changed its address
        .with_columns(pl.col("email_bounced").fill_null(False).any().over(key).alias("_k_bounced"))
        .unique(key, keep="first", maintain_order=True)
        .select(*key, "_k_bounced", *[pl.col(c).alias(f"_k_{c}") for c in _OUTCOME_COLUMNS])
    )
    by_email = _crm_by_email(crm).rename({c: f"_e_{c}" for c in _OUTCOME_COLUMNS})
    joined = leads.join(keyed, on=["vendor_id", "vendor_lead_id"], how="left").join(
        by_email, on="email", how="left"
    )
    has_key = pl.col("_k_bounced").is_not_null()  # never null on a key match; crm_id may be
    return (
        joined.with_columns(
            pl.when(has_key).then(pl.col(f"_k_{c}")).otherwise(pl.col(f"_e_{c}")).alias(f"_o_{c}")
            for c in _OUTCOME_COLUMNS
        )
        .with_columns((pl.col("_bounced") | pl.col("_k_bounced")).fill_null(False))
        .drop([f"_k_{c}" for c in _OUTCOME_COLUMNS] + [f"_e_{c}" for c in _OUTCOME_COLUMNS])
        .drop("_k_bounced")
    )


def _outcome_columns(as_of: date) -> list[pl.Expr]:
    """The outcome as of `as_of` (SPEC §4): later CRM events ignored; only SQLs have a window."""
    cutoff = pl.lit(as_of)

    def by_as_of(column: str) -> pl.Expr:
        at = pl.col(f"_o_{column}")
        return pl.when(at.dt.date() <= cutoff).then(at)

    sql_at = by_as_of("sql_at")
    sql_day = sql_at.dt.date()
    day = pl.col("delivery_date")
    in_window = (sql_day >= day) & (sql_day <= day + pl.duration(days=pl.col("sql_window_days")))
    opportunity = by_as_of("opportunity_at").is_not_null()
    return [
        pl.col("_o_crm_id").alias("crm_id"),
        pl.col("_o_status").alias("crm_status"),
        pl.col("_o_attempts").fill_null(0).cast(pl.Int64).alias("attempts"),
        by_as_of("sal_at").is_not_null().alias("sal"),
        in_window.fill_null(False).alias("sql"),
        sql_at.alias("sql_at"),
        pl.when(in_window)
        .then((sql_day - day).dt.total_days())
        .cast(pl.Int64)
        .alias("days_to_sql"),
        opportunity.alias("opportunity"),
        pl.when(opportunity)
        .then((pl.col("_o_opportunity_amount").fill_null(0) * 100).round(0))
        .cast(pl.Int64)
        .alias("opportunity_amount_cents"),
        by_as_of("won_at").is_not_null().alias("won"),
    ]


def _suppression_match(leads: pl.DataFrame, suppression: pl.DataFrame) -> pl.DataFrame:
    emails = suppression.filter(pl.col("kind") == "email").select(
        pl.col("value").alias("email"), pl.col("list").alias("_email_list")
    )
    domains = suppression.filter(pl.col("kind") == "domain").select(
        pl.col("value").alias("email_domain"), pl.col("list").alias("_domain_list")
    )
    matched = leads.join(emails, on="email", how="left").join(
        domains, on="email_domain", how="left"
    )
    return matched.with_columns(
        pl.when(pl.col("_email_list").is_not_null())
        .then(pl.format("email on suppression list {}", pl.col("_email_list")))
        .when(pl.col("_domain_list").is_not_null())
        .then(
            pl.format(
                "domain {} on suppression list {}", pl.col("email_domain"), pl.col("_domain_list")
            )
        )
        .alias("_suppressed_by")
    ).drop("_email_list", "_domain_list")


LEAD_ORDER = ["vendor_id", "delivered_at", "vendor_lead_id", "source_file", "source_line"]


def judged_leads(
    deliveries: pl.DataFrame,
    crm: pl.DataFrame,
    suppression: pl.DataFrame,
    programs: pl.DataFrame,
    acceptance: pl.DataFrame,
    as_of: date,
) -> pl.DataFrame:
    """Every attributed delivery with status, reasons, evidence and outcome (the leads frame)."""
    present = set(deliveries.columns)
    required_columns = sorted(
        {c for row in acceptance["acc_required"].to_list() for c in (row or [])}
    )
    base = (
        deliveries.with_columns(
            normalised_email(pl.col("email")).alias("email"),
            pl.col("delivered_at").dt.date().alias("delivery_date"),
            pl.col("delivered_at").dt.strftime("%Y-%m").alias("month"),
        )
        .with_columns(
            pl.when(pl.col("email").str.count_matches("@") == 1)
            .then(pl.col("email").str.split("@").list.last())
            .alias("email_domain"),
        )
        .with_columns(
            pl.coalesce(normalised_email(pl.col("company_domain")), pl.col("email_domain")).alias(
                "company_domain"
            )
        )
        .join(
            programs.select("contract_id", "program_id", "lead_type", "cpl_cents"),
            on=["contract_id", "program_id"],
            how="left",
        )
        .join(acceptance, on="contract_id", how="left")
    )
    ranked = _with_previous_delivery(base)
    matched = _suppression_match(_with_outcomes(ranked, crm), suppression)
    rules = _reason_rules(required_columns, present)
    reasons = pl.concat_list(
        [pl.when(cond.fill_null(False)).then(pl.lit(name)) for name, (cond, _) in rules.items()]
    ).list.drop_nulls()
    evidence = pl.concat_list(
        [pl.when(cond.fill_null(False)).then(ev) for cond, ev in rules.values()]
    ).list.drop_nulls()
    judged = matched.with_columns(
        reasons.alias("reasons"), evidence.alias("evidence")
    ).with_columns(
        pl.when(pl.col("reasons").list.len() > 0)
        .then(pl.lit("invalid"))
        .otherwise(pl.lit("accepted"))
        .alias("status"),
        pl.col("reasons").list.first().alias("primary_reason"),
        *_outcome_columns(as_of),
    )
    delivered = [c for c in deliveries.columns if c not in ("email", "company_domain")]
    columns = [
        *delivered[: delivered.index("contract_id") + 1],
        "lead_type",
        "cpl_cents",
        "delivery_date",
        "month",
        *[c for c in delivered[delivered.index("contract_id") + 1 :]],
        "email",
        "email_domain",
        "company_domain",
        "status",
        "primary_reason",
        "reasons",
        "evidence",
        "sql_window_days",
        "crm_id",
        "crm_status",
        "attempts",
        "sal",
        "sql",
        "sql_at",
        "days_to_sql",
        "opportunity",
        "opportunity_amount_cents",
        "won",
    ]
    return judged.select(columns).sort(LEAD_ORDER)
