"""Judging every delivered lead against its contract (SPEC §3) and attaching its CRM outcome.

Each reason has a condition in `_conditions` and an evidence sentence in `_evidence`, both in the
precedence of `REASONS`; a lead's `reasons` and `evidence` are those whose condition holds, in
that order, and its primary reason is the first. Conditions are cheap booleans on every lead;
evidence is written only for the few that fail one. Nothing here loops over rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl

from scorecards.contracts import REASONS
from scorecards.engine import ENGINE
from scorecards.guards import month_end

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


def _listing(values: list[str]) -> str:
    return f"[{', '.join(values)}]"


def _in_contracts(contract_ids: list[str]) -> pl.Expr:
    return pl.col("contract_id").is_in(pl.Series(contract_ids, dtype=pl.String).implode())


def _code(expr: pl.Expr, values: list[str], strict: bool = True) -> pl.Expr:
    """`expr`'s position among `values` (sorted, unique) as UInt32; a value not among them stops
    the run, or with `strict=False` is null."""
    return expr.cast(pl.Enum(values), strict=strict).to_physical().cast(pl.UInt32)


def _fails_list(value: pl.Expr, criteria: list[dict[str, Any]], criterion: str) -> pl.Expr:
    """True where the lead's contract lists allowed values for `criterion` and the lead's value
    is missing or not among them. Read, like `_looked_up`, from a small table at the position of
    the lead's contract and value (a value no contract lists, or none, takes the last slot): at
    10 M leads 0.5-0.7 s a field, where an `is_in` of the contract and of the value per distinct
    list took 1.6-1.9 s."""
    lists = {row["contract_id"]: row[criterion] for row in criteria}
    if all(allowed is None for allowed in lists.values()):
        return pl.lit(False)
    contracts = sorted(lists)
    named = sorted({v for allowed in lists.values() for v in allowed or ()})
    slots = len(named) + 1
    fails = [
        lists[c] is not None and (i == len(named) or named[i] not in lists[c])
        for c in contracts
        for i in range(slots)
    ]
    slot = _code(value, named, strict=False).fill_null(len(named)) if named else pl.lit(0)
    position = _code(pl.col("contract_id"), contracts) * slots + slot
    return pl.lit(pl.Series(fails, dtype=pl.Boolean)).gather(position)


# Deliveries reach judging from ingest, where every text value is trimmed and a blank one is null
# (parsing.blank_to_null): a missing value is a null, and values need no trimming here.


def _empty(column: str, present: set[str]) -> pl.Expr:
    return pl.col(column).is_null() if column in present else pl.lit(True)


_ICP_LISTS = (  # (field, criterion column, how the value is normalised before comparing)
    ("country", "acc_countries", lambda e: e.str.to_uppercase()),
    ("job_level", "acc_job_levels", lambda e: e.str.to_lowercase()),
    ("industry", "acc_industries", lambda e: e.str.to_lowercase()),
)


def _size_fails() -> pl.Expr:
    employees = pl.col("employees")
    bounded = pl.col("acc_min_employees").is_not_null() | pl.col("acc_max_employees").is_not_null()
    return bounded & (
        employees.is_null()
        | (employees < pl.col("acc_min_employees")).fill_null(False)
        | (employees > pl.col("acc_max_employees")).fill_null(False)
    )


def _conditions(
    criteria: list[dict[str, Any]], required_columns: list[str], present: set[str]
) -> dict[str, pl.Expr]:
    """reason -> whether the lead fails it (never null), in SPEC §3 precedence. Cheap enough to
    evaluate on every lead; evidence is only built for the leads that fail something."""
    email = pl.col("email")
    day = pl.col("delivery_date")
    well_formed = email.str.contains(r"^[^@\s]+@[^@\s]*\.[^@\s]*$")
    icp = [pl.col(f"_fails_{field}") for field, _, _ in _ICP_LISTS]
    missing = [
        _in_contracts([r["contract_id"] for r in criteria if column in (r["acc_required"] or [])])
        & _empty(column, present)
        for column in required_columns
    ]
    # SPEC §3 reason 10: CRM exports spell the reason as people typed it ("Student", " junk")
    disqualified = pl.col("_o_disqualified_reason").str.strip_chars().str.to_lowercase()
    conditions = {
        "malformed_email": ~well_formed.fill_null(False),
        "duplicate": pl.col("_prev_day").is_not_null()
        & ((day - pl.col("_prev_day")).dt.total_days() <= pl.col("acc_dedupe_days")),
        "existing_contact": pl.col("_crm_created").dt.date() < day,
        "suppressed": pl.col("_suppressed_by").is_not_null(),
        "free_email": pl.col("acc_reject_free_email")
        & pl.col("email_domain").is_in(FREE_EMAIL_DOMAINS),
        "outside_icp": pl.any_horizontal(icp[0], pl.col("_fails_employees"), *icp[1:]),
        "missing_required": pl.any_horizontal(missing) if missing else pl.lit(False),
        "no_consent": pl.col("acc_require_consent") & pl.col("consent").ne_missing(True),
        "bounced_email": pl.col("_bounced"),
        "junk": disqualified.is_in(JUNK_DISQUALIFICATIONS),
    }
    assert tuple(conditions) == REASONS, "rules must follow SPEC §3 precedence"
    return {name: cond.fill_null(False) for name, cond in conditions.items()}


# Reasons decided by the delivered row, its contract and the suppression lists: judged before the
# lookups, so the columns they read need not travel through the joins when nothing else reads
# them (bench/).
DELIVERY_REASONS = (
    "suppressed",
    "malformed_email",
    "free_email",
    "outside_icp",
    "missing_required",
    "no_consent",
)


def _joined_parts(parts: Sequence[pl.Expr]) -> pl.Expr:
    """'; '-joined non-null parts (null when every part is null)."""
    if not parts:
        return pl.lit(None, pl.String)
    joined = pl.concat_str(parts, separator="; ", ignore_nulls=True)
    return pl.when(pl.any_horizontal(part.is_not_null() for part in parts)).then(joined)


def _evidence(required_columns: list[str], present: set[str]) -> dict[str, pl.Expr]:
    """reason -> its evidence sentence, read only where the reason's `_is_<reason>` holds."""
    email = pl.col("email")
    defect = (
        pl.when(email.is_null())
        .then(pl.lit("email is empty"))
        .when(email.str.contains(r"\s"))
        .then(pl.lit("email contains a space"))
        .when(email.str.count_matches("@") != 1)
        .then(pl.format("email has {} '@' signs", email.str.count_matches("@")))
        .when(email.str.split("@").list.first().str.len_chars() == 0)
        .then(pl.lit("email has nothing before '@'"))
        .otherwise(pl.lit("email domain has no dot"))
    )

    def outside(field: str, normalised: Any) -> pl.Expr:
        return (
            pl.when(~pl.col(f"_fails_{field}"))
            .then(None)
            .when(normalised(pl.col(field)).is_null())
            .then(pl.lit(f"{field} missing"))
            .otherwise(pl.format("{}={} not in {}", pl.lit(field), field, f"_listing_{field}"))
        )

    employees = pl.col("employees")
    size = (
        pl.when(~pl.col("_fails_employees"))
        .then(None)
        .when(employees.is_null())
        .then(pl.lit("employees missing"))
        .when(employees < pl.col("acc_min_employees"))
        .then(pl.format("employees={} below {}", employees, "acc_min_employees"))
        .otherwise(pl.format("employees={} above {}", employees, "acc_max_employees"))
    )
    (country, _, norm_country), (level, _, norm_level), (industry, _, norm_industry) = _ICP_LISTS
    icp = [
        outside(country, norm_country),
        size,
        outside(level, norm_level),
        outside(industry, norm_industry),
    ]
    missing = [
        pl.when(pl.col(f"_requires_{column}") & _empty(column, present)).then(
            pl.lit(f"{column} missing")
        )
        for column in required_columns
    ]
    evidence = {
        "malformed_email": defect,
        "duplicate": pl.format(
            "delivered before on {} by {} (lead {})",
            pl.col("_prev_day").cast(pl.String),
            "_prev_vendor",
            "_prev_lead",
        ),
        "existing_contact": pl.format(
            "in CRM since {}", pl.col("_crm_created").dt.date().cast(pl.String)
        ),
        "suppressed": pl.col("_suppressed_by"),
        "free_email": pl.format("free-mail domain {}", "email_domain"),
        "outside_icp": _joined_parts(icp),
        "missing_required": _joined_parts(missing),
        "no_consent": pl.when(pl.col("consent").is_null())
        .then(pl.lit("consent missing"))
        .otherwise(pl.lit("consent not given")),
        "bounced_email": pl.lit("CRM marks the email bounced"),
        "junk": pl.format("CRM disqualified it as {}", "_o_disqualified_reason"),
    }
    assert tuple(evidence) == REASONS, "evidence must follow SPEC §3 precedence"
    return evidence


def _vendor_evidence(internal: dict[str, pl.Expr]) -> dict[str, pl.Expr]:
    """The evidence a vendor may read on its claim (SPEC §6): the same facts, without another
    vendor's name or lead id, a suppression list's name or the CRM's history dates."""
    same_vendor = pl.col("_prev_vendor") == pl.col("vendor_id")
    earlier = pl.col("_prev_day").cast(pl.String)
    return {
        **internal,
        "duplicate": pl.when(same_vendor)
        .then(pl.format("same person delivered before on {} (your lead {})", earlier, "_prev_lead"))
        .otherwise(pl.format("same person delivered before on {}", earlier)),
        "existing_contact": pl.lit("already in our CRM before delivery"),
        "suppressed": pl.when(pl.col("_suppressed_by").str.starts_with("email "))
        .then(pl.lit("email on our suppression list"))
        .otherwise(pl.format("domain {} on our suppression list", "email_domain")),
        "bounced_email": pl.lit("email bounced"),
        "junk": pl.format("disqualified on review as {}", "_o_disqualified_reason"),
    }


def _contract_details(criteria: list[dict[str, Any]], required_columns: list[str]) -> pl.DataFrame:
    """Per contract: the allowed values as the evidence shows them, and which fields it requires
    (joined onto the failing leads only)."""
    rows = [
        {
            "contract_id": r["contract_id"],
            **{f"_listing_{f}": None if r[c] is None else _listing(r[c]) for f, c, _ in _ICP_LISTS},
            **{f"_requires_{col}": col in (r["acc_required"] or []) for col in required_columns},
        }
        for r in criteria
    ]
    schema: dict[str, pl.DataType] = {
        "contract_id": pl.String(),
        **{f"_listing_{f}": pl.String() for f, _, _ in _ICP_LISTS},
        **{f"_requires_{col}": pl.Boolean() for col in required_columns},
    }
    return pl.DataFrame(rows, schema=schema)


def _looked_up(table: pl.DataFrame, keys: list[str]) -> list[pl.Expr]:
    """The other columns of `table` (a few dozen rows, unique on `keys`) for each lead, without a
    join: every key is read as its position among the key's values, and each column is taken
    from a small array at the combined position, so the wide lead frame is never copied. A key
    the table does not have stops the run (a lead is attributed before it is judged)."""
    position: pl.Expr = pl.lit(0, pl.UInt32)
    size = 1
    for key in keys:
        values = table.get_column(key).unique().sort().to_list()
        position = position * len(values) + _code(pl.col(key), values)
        size *= len(values)
    at = table.select(position.alias("_position"))
    slots = (
        pl.DataFrame({"_position": range(size)}, schema={"_position": pl.UInt32})
        .join(table.hstack(at), on="_position", how="left", validate="1:1")
        .sort("_position")
    )
    return [
        pl.lit(slots.get_column(column)).gather(position).alias(column)
        for column in table.columns
        if column not in keys
    ]


def _found(
    leads: pl.LazyFrame,
    *lookups: tuple[list[str], pl.LazyFrame],
    derive: Callable[[pl.LazyFrame], pl.LazyFrame] | None = None,
) -> pl.LazyFrame:
    """Row for row with `leads`: the other columns of each (keys, table) (null where the table
    has no row; each table is unique on its keys), or what `derive` makes of the keys and those
    columns. The tables are joined to the key columns alone, to be set beside the leads: joining
    the whole lead frame would copy every one of its columns (at 10 M leads, 3-6 s and 4.7 GB
    per join)."""
    keys = list(dict.fromkeys(key for on, _ in lookups for key in on))
    found = leads.select(keys)
    for on, table in lookups:
        found = found.join(table, on=on, how="left", maintain_order="left")
    return found.drop(keys) if derive is None else derive(found)


def _attached(leads: pl.LazyFrame, *lookups: tuple[list[str], pl.LazyFrame]) -> pl.LazyFrame:
    """`leads`, in their order, with `_found`'s columns beside every row."""
    leads = leads.cache()  # computed once for both sides
    return pl.concat([leads, _found(leads, *lookups)], how="horizontal")


def _repeated(*columns: str) -> pl.Expr:
    """True on rows whose key might occur more than once: the key's hash is repeated. A hash
    collision only adds a row to the candidates, which are then compared on the real values, so
    no repeat is ever missed; the string sort is paid for the few repeats, not for every row."""
    key = pl.col(columns[0]) if len(columns) == 1 else pl.struct(columns)
    return pl.all_horizontal(pl.col(c).is_not_null() for c in columns) & key.hash().is_duplicated()


def _previous_delivery(leads: pl.LazyFrame) -> pl.LazyFrame:
    """Per lead: the nearest earlier delivery of the same email, by any vendor (SPEC §3 reason
    2: the earliest delivery keeps the lead; a same-instant tie goes to the first
    vendor_lead_id). Only the leads whose email may repeat are sorted, on the key columns
    alone; the result is joined back on `_row`."""
    order = ["email", "delivered_at", "vendor_lead_id", "vendor_id", "source_file", "source_line"]
    email = pl.col("email")
    same = email == email.shift(1)
    previous = (
        leads.select("_row", "delivery_date", *order)
        .filter(_repeated("email"))
        .sort(order, nulls_last=True)
        .select(
            "_row",
            pl.when(same).then(pl.col("delivery_date").shift(1)).alias("_prev_day"),
            pl.when(same).then(pl.col("vendor_id").shift(1)).alias("_prev_vendor"),
            pl.when(same).then(pl.col("vendor_lead_id").shift(1)).alias("_prev_lead"),
        )
        .filter(pl.col("_prev_day").is_not_null())
    )
    return _found(leads, (["_row"], previous))


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


def crm_records(crm: pl.LazyFrame) -> pl.LazyFrame:
    """The CRM's records with their position (`_rec`): how a lead names its own record."""
    return crm.with_row_index("_rec")


def _first_record(
    records: pl.LazyFrame, key: list[str], summaries: dict[str, tuple[pl.Expr, str]], rec: str
) -> pl.LazyFrame:
    """Per `key`: each summary (name -> (value, how its records combine: "min", "any")) and, as
    `rec`, the position (`_rec`) of the key's earliest record (by created_at, then crm_id, then
    email; a record the same on all of them goes to the one read first). Keys with one record,
    nearly all of them, are read off that record; only the repeated keys are sorted and grouped."""
    records = records.with_columns(_repeated(*key).alias("_repeated")).cache()
    has_key = pl.all_horizontal(pl.col(c).is_not_null() for c in key)
    order = list(dict.fromkeys([*key, "created_at", "crm_id", "email"]))
    repeated = (
        records.filter(pl.col("_repeated"))
        .sort(order, nulls_last=True, maintain_order=True)
        .group_by(key, maintain_order=True)
        .agg(
            *[getattr(value, how)().alias(name) for name, (value, how) in summaries.items()],
            pl.col("_rec").first().alias(rec),
        )
    )
    single = records.filter(has_key & ~pl.col("_repeated")).select(
        *key,
        *[value.alias(name) for name, (value, _) in summaries.items()],
        pl.col("_rec").alias(rec),
    )
    return pl.concat([single, repeated])


def _crm_record(leads: pl.LazyFrame, records: pl.LazyFrame) -> pl.LazyFrame:
    """Per lead: the position of its CRM record (`_rec`), matched on (vendor_id,
    vendor_lead_id) where the CRM carries them (SPEC §2.3), else on email (the email's earliest
    record: the one the delivered lead created or matched); and what every record of the email
    says: `_crm_created` for existing_contact, `_bounced` (a bounce on the lead's own record
    counts even when sales changed its address)."""
    key = ["vendor_id", "vendor_lead_id"]
    bounced = pl.col("email_bounced").fill_null(False)
    keyed = _first_record(records, key, {"_k_bounced": (bounced, "any")}, "_k_rec")
    by_email = _first_record(
        records,
        ["email"],
        {"_crm_created": (pl.col("created_at"), "min"), "_bounced": (bounced, "any")},
        "_e_rec",
    )
    has_key = pl.col("_k_rec").is_not_null()

    def matched(found: pl.LazyFrame) -> pl.LazyFrame:
        return found.select(
            pl.when(has_key).then(pl.col("_k_rec")).otherwise(pl.col("_e_rec")).alias("_rec"),
            "_crm_created",
            (pl.col("_bounced") | pl.col("_k_bounced")).fill_null(False).alias("_bounced"),
            # a lead the CRM has a record of (the email's summary is never null on a match)
            (has_key | pl.col("_bounced").is_not_null()).alias("_crm_record"),
        )

    return _found(leads, (key, keyed), (["email"], by_email), derive=matched)


def lead_lookups(leads: pl.LazyFrame, records: pl.LazyFrame) -> pl.LazyFrame:
    """Row for row with `leads` (`_prepared` deliveries): what a lead's judging needs from the
    other leads and from the CRM (`crm_records`), as a few narrow columns. Computed once for
    every lead, they let the rest of the judging go a slice of leads at a time."""
    leads = leads.cache()  # read by both lookups
    return pl.concat([_previous_delivery(leads), _crm_record(leads, records)], how="horizontal")


def _with_outcome(leads: pl.LazyFrame, records: pl.LazyFrame) -> pl.LazyFrame:
    """Each lead with its CRM record's outcome columns (`_o_…`), joined once by `_rec`. In the
    whole query (bench/) this stays a join, though a gather like `_outcome_of`'s was 1.2 s
    faster at 10 M leads: gathering from the CRM's columns as literal Series, Polars' common-
    subexpression elimination takes two such Series for one when their values are equal
    whatever their types (an empty CRM's columns all alike: a datetime column read as text)."""
    outcome = records.select("_rec", *[pl.col(c).alias(f"_o_{c}") for c in _OUTCOME_COLUMNS])
    return _attached(leads, (["_rec"], outcome))


def _outcome_of(looked: pl.DataFrame, outcome: pl.DataFrame) -> pl.DataFrame:
    """`_with_outcome`'s columns for `looked` (a slice of `lead_lookups`), taken from the CRM's
    `_OUTCOME_COLUMNS` by position (`_rec`; null without a record; coded columns held as
    categoricals come back as strings): a gather, where a join would hash all of the CRM's
    records again for every slice (1 s a slice at 10 M leads)."""
    fetched = outcome.select(pl.all().gather(looked["_rec"]))
    return fetched.with_columns(pl.col(_CODED_OUTCOME).cast(pl.String)).select(
        pl.all().name.prefix("_o_")
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
        # SPEC §4: no CRM record counts as 0 attempts; a record without attempts (the export
        # has no attempts column) stays null, so the metrics can call the follow-up unknown
        pl.when(pl.col("_crm_record"))
        .then(pl.col("_o_attempts"))
        .otherwise(0)
        .cast(pl.Int64)
        .alias("attempts"),
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


def _suppressed_by(suppression: pl.DataFrame) -> pl.Expr:
    """Which suppression list names the lead's email or, failing that, its domain (null if none):
    looked up by value, so the lead frame is not joined."""

    def listed(kind: str, column: str) -> pl.Expr:
        # a list may name a value twice; one match is enough
        entries = suppression.filter(pl.col("kind") == kind).unique(
            "value", keep="first", maintain_order=True
        )
        if entries.is_empty():
            return pl.lit(None, pl.String)
        return pl.col(column).replace_strict(
            entries["value"], entries["list"], default=None, return_dtype=pl.String
        )

    email_list = listed("email", "email")
    domain_list = listed("domain", "email_domain")
    return (
        pl.when(email_list.is_not_null())
        .then(pl.format("email on suppression list {}", email_list))
        .when(domain_list.is_not_null())
        .then(pl.format("domain {} on suppression list {}", pl.col("email_domain"), domain_list))
        .alias("_suppressed_by")
    )


LEAD_ORDER = ["vendor_id", "delivered_at", "vendor_lead_id", "source_file", "source_line"]


def _criteria(acceptance: pl.DataFrame) -> tuple[list[dict[str, Any]], list[str]]:
    """(each contract's criteria as a dict, every field some contract requires)."""
    criteria = acceptance.to_dicts()
    return criteria, sorted({c for row in criteria for c in (row["acc_required"] or [])})


def after_month(month: str) -> datetime:
    """The first instant (UTC) after `month`: a delivery at or after it is a later month's."""
    return datetime.combine(month_end(month) + timedelta(days=1), time(), tzinfo=UTC)


def lead_ordered(deliveries: pl.DataFrame, month: str) -> tuple[pl.DataFrame, int]:
    """(the deliveries in LEAD_ORDER with those delivered after `month` last, how many are not).
    The keys are sorted and every row gathered once: the first rows, a slice that copies
    nothing, are the frame judging works on, and the leads frame shares their columns."""
    later = pl.col("delivered_at") >= after_month(month)
    order = deliveries.lazy().select(
        pl.int_range(pl.len(), dtype=pl.UInt32).sort_by(later, *LEAD_ORDER)
    )
    kept = deliveries.select((~later).sum()).item()
    return deliveries.select(pl.all().gather(order.collect(engine=ENGINE).to_series())), kept


# Leads judged at a time after the lookups: at 10 M leads, a slice's columns and evidence are
# about 0.6 GB beside the inputs, where the whole frame's were 6 GB (bench/README.md).
SLICE_ROWS = 1_000_000
# Coded fields: a few distinct values each. Between slices they are held as categoricals (4
# bytes a lead, against a 16-byte string view): at 10 M leads, 1 GB less while judging.
_CODED_DELIVERY = ("contract_id", "program_id", "industry", "country", "job_level")
_CODED_OUTCOME = ("status", "disqualified_reason")


def judged_leads(
    deliveries: pl.DataFrame,
    crm: pl.DataFrame,
    suppression: pl.DataFrame,
    programs: pl.DataFrame,
    acceptance: pl.DataFrame,
    as_of: date,
    rows: int = SLICE_ROWS,
) -> Iterator[pl.DataFrame]:
    """Every attributed delivery with status, reasons, evidence and outcome: the leads frame,
    in the deliveries' order (`lead_ordered` puts them in LEAD_ORDER), `rows` leads at a time
    (one slice, however empty, at least). What a lead needs from the other leads and from the
    CRM is looked up once for all of them (`lead_lookups`); each slice is then judged on its
    own, so the leads are never all held at once with their evidence. The judging keeps the
    deliveries' order, so a slice shares the deliveries' columns instead of copying them."""
    present = set(deliveries.columns)
    coded = [c for c in deliveries.columns if c in _CODED_DELIVERY or c.startswith("q_")]
    # each frame is freed as its smaller form replaces it, unless the caller still holds it
    deliveries = deliveries.with_columns(pl.col(coded).cast(pl.Categorical))
    looked = lead_lookups(_prepared(deliveries.lazy()), crm_records(crm.lazy())).collect(
        engine=ENGINE
    )
    # all a slice reads of the CRM, by record position
    outcome = crm.select(_OUTCOME_COLUMNS).with_columns(pl.col(_CODED_OUTCOME).cast(pl.Categorical))
    del crm
    for start in range(0, max(deliveries.height, 1), rows):
        found = looked.slice(start, rows)
        plan = judging_plan(
            deliveries.slice(start, rows).lazy().with_columns(pl.col(coded).cast(pl.String)),
            None,
            suppression,
            programs,
            acceptance,
            as_of,
            looked_up=pl.concat([found, _outcome_of(found, outcome)], how="horizontal").lazy(),
            first_row=start,
        )
        explained = with_evidence(plan, acceptance, present)
        yield explained.select(_leads_columns(deliveries.columns)).collect(engine=ENGINE)


def _prepared(deliveries: pl.LazyFrame, first_row: int = 0) -> pl.LazyFrame:
    """The deliveries with their position (`_row`, from `first_row`), the email's domain, the
    company domain (the email's where none is given) and the delivery date (UTC). Ingest has
    trimmed every text value and lower-cased the email and company domain
    (`parsing.lowercase_text`): they are the match keys as they are, and judging holds no
    second copy of them (the monthly run's lookups at 10 M leads: 6,738 MiB against 7,449)."""
    return (
        deliveries.with_row_index("_row", offset=first_row)  # the same on every read
        .with_columns(pl.col("delivered_at").dt.date().alias("delivery_date"))
        .with_columns(
            pl.when(pl.col("email").str.count_matches("@") == 1)
            .then(pl.col("email").str.slice(pl.col("email").str.find("@", literal=True) + 1))
            .alias("email_domain"),
        )
        .with_columns(pl.coalesce("company_domain", "email_domain").alias("company_domain"))
    )


def judging_plan(
    deliveries: pl.LazyFrame,
    crm: pl.LazyFrame | None,
    suppression: pl.DataFrame,
    programs: pl.DataFrame,
    acceptance: pl.DataFrame,
    as_of: date,
    looked_up: pl.LazyFrame | None = None,
    first_row: int = 0,
) -> pl.LazyFrame:
    """The leads frame as a query, in the deliveries' order: collected a slice at a time for
    the monthly run (`judged_leads`: no `crm`, the slice's `lead_lookups` and CRM outcome as
    `looked_up`, its first position as `first_row`), or whole and only as far as the metrics
    need (bench/), when the lookups read `crm` in the query and Polars skips the evidence and
    every column the metrics never read. Reasons are ten boolean columns on every lead; their
    evidence is written only for the leads that fail one."""
    present = set(deliveries.collect_schema().names())
    criteria, required_columns = _criteria(acceptance)
    # looked up where first read, so that they are not carried through the lookups before it
    criteria_now = acceptance.select(
        "contract_id",
        "acc_min_employees",
        "acc_max_employees",
        "acc_reject_free_email",
        "acc_require_consent",
    )
    criteria_later = acceptance.select("contract_id", "acc_dedupe_days", "sql_window_days")
    prices = programs.select("contract_id", "program_id", "lead_type", "cpl_cents")
    base = _prepared(deliveries, first_row).with_columns(
        *_looked_up(criteria_now, ["contract_id"]), _suppressed_by(suppression)
    )
    conditions = _conditions(criteria, required_columns, present)
    base = base.with_columns(
        *[
            _fails_list(normalised(pl.col(field)), criteria, criterion).alias(f"_fails_{field}")
            for field, criterion, normalised in _ICP_LISTS
        ],
        _size_fails().alias("_fails_employees"),
    ).with_columns(conditions[name].alias(f"_is_{name}") for name in DELIVERY_REASONS)
    if looked_up is None:  # the whole query: the lookups read the same leads
        if crm is None:
            raise ValueError("judging_plan needs the CRM or the leads' lookups")
        base, records = base.cache(), crm_records(crm).cache()
        base = _with_outcome(
            pl.concat([base, lead_lookups(base, records)], how="horizontal"), records
        )
    else:
        base = pl.concat([base, looked_up], how="horizontal")
    flagged = base.with_columns(
        pl.col("delivery_date").dt.strftime("%Y-%m").alias("month"),  # UTC, as delivered_at
        *_looked_up(prices, ["contract_id", "program_id"]),
        *_looked_up(criteria_later, ["contract_id"]),
    ).with_columns(
        cond.alias(f"_is_{name}")
        for name, cond in conditions.items()
        if name not in DELIVERY_REASONS
    )
    flags = [pl.col(f"_is_{name}") for name in conditions]
    judged = flagged.with_columns(
        pl.when(pl.any_horizontal(flags))
        .then(pl.lit("invalid"))
        .otherwise(pl.lit("accepted"))
        .alias("status"),
        pl.coalesce(
            pl.when(flag).then(pl.lit(name)) for name, flag in zip(conditions, flags, strict=True)
        ).alias("primary_reason"),
        *_outcome_columns(as_of),
    )
    return judged


def _leads_columns(deliveries: list[str]) -> list[str]:
    """The leads frame's columns, in order (docs/DESIGN.md "leads")."""
    delivered = [c for c in deliveries if c not in ("email", "company_domain")]
    return [
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
        "vendor_evidence",
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


def with_evidence(leads: pl.LazyFrame, acceptance: pl.DataFrame, present: set[str]) -> pl.LazyFrame:
    """`judging_plan`'s leads with their `reasons` (in SPEC §3 precedence) and `evidence`. The
    sentences are written only for the leads that fail a rule."""
    criteria, required_columns = _criteria(acceptance)
    evidence = _evidence(required_columns, present)
    vendor_evidence = _vendor_evidence(evidence)
    details = _contract_details(criteria, required_columns)
    leads = leads.cache()  # read by the failing leads and by `_attached`: computed once
    failing = (
        leads.filter(pl.col("status") == "invalid")
        .join(details.lazy(), on="contract_id", how="left", validate="m:1")
        .cache()  # filtered once for every reason
    )
    # one row per lead and reason that holds, in SPEC §3 precedence, then one list per lead:
    # `pl.concat_list` over the ten reasons goes row by row (2 s for each list at 700,000 leads)
    held = pl.concat(
        failing.filter(pl.col(f"_is_{name}")).select(
            "_row",
            pl.lit(rank, pl.UInt8).alias("_rank"),
            pl.lit(name).alias("reasons"),
            evidence[name].alias("evidence"),
            vendor_evidence[name].alias("vendor_evidence"),
        )
        for rank, name in enumerate(REASONS)
    )
    explained = (
        held.sort("_row", "_rank")
        .group_by("_row", maintain_order=True)
        .agg("reasons", pl.col("evidence").drop_nulls(), pl.col("vendor_evidence").drop_nulls())
    )
    nothing = pl.lit(pl.Series([[]], dtype=pl.List(pl.String))).first()  # an empty list, per row
    lists = ["reasons", "evidence", "vendor_evidence"]
    return _attached(leads, (["_row"], explained)).with_columns(pl.col(lists).fill_null(nothing))
