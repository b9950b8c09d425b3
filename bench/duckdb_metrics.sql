-- Program-grain metrics for one month, written in SQL straight from SPEC §3 and §4.
--
-- This is the benchmark's independent check on the Polars pipeline: it shares no code with
-- `scorecards/` and reads the same Parquet files. `bench/duckdb_metrics.py` creates the inputs
-- and fills in the one generated fragment (/*MISSING_REQUIRED*/, one OR term per field a
-- contract can require) before running it:
--   deliveries  canonical delivery columns (every optional column present, NULL when absent)
--   crm         canonical CRM columns
--   programs    one row per contract x program (Portfolio.program_frame())
--   acceptance  one row per contract: its acceptance criteria, lists lower/upper-cased
--   $month 'YYYY-MM', $as_of DATE, $free_domains VARCHAR[] (the documented free-mail list)
-- Emails are trimmed of the characters RE2's \s names (space, tab, newline, form feed, return)
-- with trim(), not a regular expression.
-- Suppression lists are not read: the benchmark data has none (reason 4 never fires here).

WITH
attributed AS (
    -- A row belongs to the vendor's contract that lists its program, in its term or not (§3:
    -- program ids are unique across contracts, so there is one); anything else is quarantined.
    SELECT
        d.*,
        p.contract_id, p.lead_type, p.cpl_cents, p.sql_window_days, p.dedupe_days,
        nullif(trim(lower(d.email), ' ' || chr(9) || chr(10) || chr(12) || chr(13)), '') AS email_norm,
        split_part(email_norm, '@', -1) AS email_domain,
        CAST(d.delivered_at AS DATE) AS delivery_day
    FROM deliveries AS d
    JOIN programs AS p
      ON p.vendor_id = d.vendor_id
     AND p.program_id = d.program_id
),
checked AS (
    -- §3, the reasons a lead's own fields decide (1, 5-8); the rest need other rows or the CRM.
    -- Only these flags travel on, so the window and the CRM joins below stay narrow.
    SELECT
        r.vendor_id, r.contract_id, r.program_id, r.lead_type, r.cpl_cents, r.sql_window_days,
        r.dedupe_days, r.vendor_lead_id, r.delivered_at, r.delivery_day, r.email_norm,
        coalesce(nullif(lower(trim(r.company_domain)), ''), r.email_domain) AS account,
        (
            r.email_norm IS NULL
            OR length(r.email_norm) - length(replace(r.email_norm, '@', '')) <> 1
            OR starts_with(r.email_norm, '@')
            OR NOT contains(split_part(r.email_norm, '@', 2), '.')
            OR regexp_matches(r.email_norm, '\s')
        ) AS malformed_email,
        coalesce(a.reject_free_email AND list_contains($free_domains, r.email_domain), FALSE)
            AS free_email,
        (
            (a.countries IS NOT NULL
                AND NOT coalesce(list_contains(a.countries, upper(nullif(trim(r.country), ''))), FALSE))
            OR (a.min_employees IS NOT NULL AND coalesce(r.employees < a.min_employees, TRUE))
            OR (a.max_employees IS NOT NULL AND coalesce(r.employees > a.max_employees, TRUE))
            OR (a.job_levels IS NOT NULL
                AND NOT coalesce(list_contains(a.job_levels, lower(nullif(trim(r.job_level), ''))), FALSE))
            OR (a.industries IS NOT NULL
                AND NOT coalesce(list_contains(a.industries, lower(nullif(trim(r.industry), ''))), FALSE))
        ) AS outside_icp,
        (/*MISSING_REQUIRED*/ FALSE) AS missing_required,
        coalesce(a.require_consent AND r.consent IS NOT TRUE, FALSE) AS no_consent
    FROM attributed AS r
    JOIN acceptance AS a USING (contract_id)
),
sequenced AS (
    -- §3.2: the nearest earlier delivery of the same email, by any vendor; a same-instant tie
    -- goes to the vendor_lead_id first in string order. Months before the report month count.
    SELECT
        *,
        lag(delivery_day) OVER (
            PARTITION BY email_norm
            ORDER BY delivered_at, vendor_lead_id, vendor_id
        ) AS previous_delivery_day
    FROM checked
),
report_month AS (
    -- the month as a day range: no date formatted as text for every delivery
    SELECT * EXCLUDE (delivered_at) FROM sequenced
    WHERE delivery_day BETWEEN CAST($month || '-01' AS DATE)
                           AND last_day(CAST($month || '-01' AS DATE))
),
crm_clean AS (
    SELECT
        nullif(trim(lower(c.email), ' ' || chr(9) || chr(10) || chr(12) || chr(13)), '') AS email_norm,
        c.vendor_id, c.vendor_lead_id, c.created_at, c.email_bounced,
        c.vendor_id IS NOT NULL AND c.vendor_lead_id IS NOT NULL AS keyed,
        struct_pack(
            c.attempts, c.sal_at, c.sql_at, c.opportunity_at, c.opportunity_amount,
            c.disqualified_reason
        ) AS outcome,
        struct_pack(c.created_at, c.crm_id) AS creation_order
    FROM crm AS c
),
crm_person AS (
    -- What the CRM knows about an email across all its records (§3.3 and §3.9), and the outcome
    -- a lead gets by email. Of several records the earliest is the one the delivered lead
    -- created: an earlier-created record makes the lead an existing contact, never accepted.
    SELECT
        email_norm,
        min(CAST(created_at AS DATE)) AS known_since,
        bool_or(coalesce(email_bounced, FALSE)) AS bounced,
        arg_min(outcome, creation_order) FILTER (NOT keyed) AS outcome
    FROM crm_clean
    WHERE email_norm IS NOT NULL
    GROUP BY email_norm
),
crm_by_lead AS (
    -- §2.3: vendor_id + vendor_lead_id are the match key when the CRM record has them;
    -- otherwise the email is.
    SELECT vendor_id, vendor_lead_id, arg_min(outcome, creation_order) AS outcome
    FROM crm_clean
    WHERE keyed
    GROUP BY vendor_id, vendor_lead_id
),
matched AS (
    SELECT
        r.*,
        person.known_since,
        person.bounced,
        coalesce(by_lead.outcome, person.outcome) AS outcome
    FROM report_month AS r
    LEFT JOIN crm_person AS person ON person.email_norm = r.email_norm
    LEFT JOIN crm_by_lead AS by_lead
      ON by_lead.vendor_id = r.vendor_id AND by_lead.vendor_lead_id = r.vendor_lead_id
),
judged AS (
    SELECT
        r.vendor_id, r.contract_id, r.program_id, r.lead_type, r.cpl_cents, r.sql_window_days,
        r.delivery_day, r.account,
        -- §3, the ten reasons (4, suppressed, has no list in the benchmark data)
        r.malformed_email,
        coalesce(r.delivery_day - r.previous_delivery_day <= r.dedupe_days, FALSE) AS duplicate,
        coalesce(r.known_since < r.delivery_day, FALSE) AS existing_contact,
        r.free_email,
        r.outside_icp,
        r.missing_required,
        r.no_consent,
        coalesce(r.bounced, FALSE) AS bounced_email,
        coalesce(
            lower(trim(r.outcome.disqualified_reason))
                IN ('junk', 'fake', 'student', 'competitor', 'no_such_person'),
            FALSE
        ) AS junk,
        -- the outcome as of $as_of: CRM events dated after it are ignored (§4)
        -- no CRM record: 0 attempts; a record without attempts: unknown (null), in no bucket
        CASE WHEN r.outcome IS NULL THEN 0 ELSE r.outcome.attempts END AS attempts,
        CAST(r.outcome.sal_at AS DATE) AS sal_day,
        CAST(r.outcome.sql_at AS DATE) AS sql_day,
        CAST(r.outcome.opportunity_at AS DATE) AS opportunity_day,
        r.outcome.opportunity_amount AS opportunity_amount
    FROM matched AS r
),
leads AS (
    SELECT
        *,
        NOT (malformed_email OR duplicate OR existing_contact OR free_email OR outside_icp
             OR missing_required OR no_consent OR bounced_email OR junk) AS accepted,
        coalesce(sal_day <= $as_of, FALSE) AS sal,
        coalesce(sql_day BETWEEN delivery_day AND delivery_day + CAST(sql_window_days AS INTEGER)
                 AND sql_day <= $as_of, FALSE) AS sql,
        coalesce(opportunity_day <= $as_of, FALSE) AS opportunity
    FROM judged
),
counted AS (
    SELECT
        vendor_id, contract_id, program_id,
        count(*) AS delivered,
        count_if(NOT accepted) AS invalid,
        count_if(accepted) AS accepted,
        count_if(accepted AND sal) AS sal,
        count_if(accepted AND sql) AS sql,
        count_if(accepted AND opportunity) AS opportunities,
        coalesce(sum(CAST(round(opportunity_amount * 100) AS BIGINT)) FILTER (accepted AND opportunity), 0)
            AS pipeline_cents,
        count(DISTINCT account) FILTER (accepted) AS accounts,
        count(DISTINCT account) FILTER (accepted AND sql) AS accounts_with_sql,
        count_if(accepted AND attempts <= 0) AS attempts_0,
        count_if(accepted AND attempts = 1) AS attempts_1,
        count_if(accepted AND attempts BETWEEN 2 AND 3) AS attempts_2_3,
        count_if(accepted AND attempts >= 4) AS attempts_4plus,
        count_if(accepted AND sql AND attempts <= 0) AS sql_attempts_0,
        count_if(accepted AND sql AND attempts = 1) AS sql_attempts_1,
        count_if(accepted AND sql AND attempts BETWEEN 2 AND 3) AS sql_attempts_2_3,
        count_if(accepted AND sql AND attempts >= 4) AS sql_attempts_4plus,
        count_if(accepted AND attempts IS NULL) AS attempts_unknown,
        median(sql_day - delivery_day) FILTER (accepted AND sql) AS days_to_sql
    FROM leads
    GROUP BY vendor_id, contract_id, program_id
),
month_bounds AS (
    SELECT
        CAST($month || '-01' AS DATE) AS first_day,
        last_day(CAST($month || '-01' AS DATE)) AS last_day
),
program_month AS (
    -- ordered: the monthly volume when the term overlaps the month, else 0 (§4)
    SELECT
        p.vendor_id, p.contract_id, p.program_id, p.lead_type, p.cpl_cents, p.sql_window_days,
        CASE WHEN p.term_start <= m.last_day AND p.term_end >= m.first_day
             THEN p.monthly_volume ELSE 0 END AS ordered,
        m.last_day + CAST(p.sql_window_days AS INTEGER) <= $as_of AS mature
    FROM programs AS p, month_bounds AS m
),
totals AS (
    SELECT
        pm.vendor_id, pm.contract_id, pm.program_id, pm.lead_type, pm.cpl_cents,
        pm.sql_window_days, pm.mature, pm.ordered,
        coalesce(c.delivered, 0) AS delivered,
        coalesce(c.invalid, 0) AS invalid,
        coalesce(c.accepted, 0) AS accepted,
        least(coalesce(c.accepted, 0), pm.ordered) AS billable,
        coalesce(c.sal, 0) AS sal,
        coalesce(c.sql, 0) AS sql,
        coalesce(c.opportunities, 0) AS opportunities,
        coalesce(c.accounts, 0) AS accounts,
        coalesce(c.accounts_with_sql, 0) AS accounts_with_sql,
        coalesce(c.attempts_0, 0) AS attempts_0,
        coalesce(c.attempts_1, 0) AS attempts_1,
        coalesce(c.attempts_2_3, 0) AS attempts_2_3,
        coalesce(c.attempts_4plus, 0) AS attempts_4plus,
        coalesce(c.sql_attempts_0, 0) AS sql_attempts_0,
        coalesce(c.sql_attempts_1, 0) AS sql_attempts_1,
        coalesce(c.sql_attempts_2_3, 0) AS sql_attempts_2_3,
        coalesce(c.sql_attempts_4plus, 0) AS sql_attempts_4plus,
        coalesce(c.attempts_unknown, 0) AS attempts_unknown,
        coalesce(c.pipeline_cents, 0) AS pipeline_cents,
        c.days_to_sql
    FROM program_month AS pm
    LEFT JOIN counted AS c USING (vendor_id, contract_id, program_id)
    -- a program-month exists when it was ordered or delivered to
    WHERE pm.ordered > 0 OR c.delivered IS NOT NULL
),
money AS (
    SELECT
        *,
        accepted - billable AS over_cap,
        billable * cpl_cents AS spend_cents,
        invalid * cpl_cents AS invoiced_risk_cents,
        CAST(sql_attempts_1 AS DOUBLE) / nullif(attempts_1, 0) AS sql_rate_attempts_1,
        CAST(sql_attempts_4plus AS DOUBLE) / nullif(attempts_4plus, 0) AS sql_rate_4plus
    FROM totals
)
SELECT
    'program' AS grain, vendor_id, contract_id, program_id, lead_type, $month AS month,
    CAST(ordered AS BIGINT) AS ordered,
    CAST(delivered AS BIGINT) AS delivered,
    CAST(invalid AS BIGINT) AS invalid,
    CAST(accepted AS BIGINT) AS accepted,
    CAST(billable AS BIGINT) AS billable,
    CAST(over_cap AS BIGINT) AS over_cap,
    CAST(sal AS BIGINT) AS sal,
    CAST(sql AS BIGINT) AS sql,
    CAST(opportunities AS BIGINT) AS opportunities,
    CAST(accounts AS BIGINT) AS accounts,
    CAST(accounts_with_sql AS BIGINT) AS accounts_with_sql,
    CAST(attempts_0 AS BIGINT) AS attempts_0,
    CAST(attempts_1 AS BIGINT) AS attempts_1,
    CAST(attempts_2_3 AS BIGINT) AS attempts_2_3,
    CAST(attempts_4plus AS BIGINT) AS attempts_4plus,
    CAST(sql_attempts_0 AS BIGINT) AS sql_attempts_0,
    CAST(sql_attempts_1 AS BIGINT) AS sql_attempts_1,
    CAST(sql_attempts_2_3 AS BIGINT) AS sql_attempts_2_3,
    CAST(sql_attempts_4plus AS BIGINT) AS sql_attempts_4plus,
    CAST(attempts_unknown AS BIGINT) AS attempts_unknown,
    CAST(spend_cents AS BIGINT) AS spend_cents,
    CAST(invoiced_risk_cents AS BIGINT) AS invoiced_risk_cents,
    CAST(pipeline_cents AS BIGINT) AS pipeline_cents,
    CAST(accepted AS DOUBLE) / nullif(ordered, 0) AS fill_rate,
    CAST(invalid AS DOUBLE) / nullif(delivered, 0) AS invalid_rate,
    CAST(sql AS DOUBLE) / nullif(accepted, 0) AS sql_rate,
    CAST(sal AS DOUBLE) / nullif(accepted, 0) AS sal_rate,
    spend_cents / 100.0 / nullif(sql, 0) AS cost_per_sql,
    CAST(pipeline_cents AS DOUBLE) / nullif(spend_cents, 0) AS pipeline_per_dollar,
    CAST(days_to_sql AS DOUBLE) AS days_to_sql,
    CAST(attempts_4plus AS DOUBLE) / nullif(accepted, 0) AS share_worked_4plus,
    sql_rate_attempts_1,
    sql_rate_4plus,
    attempts_1 * sql_rate_4plus - sql_attempts_1 AS sql_deficit,
    CAST(sql_window_days AS BIGINT) AS sql_window_days,
    mature,
    coalesce(
        sql_rate_4plus > 0 AND sql_rate_4plus >= 2 * sql_rate_attempts_1
        AND attempts_1 >= 20 AND attempts_4plus >= 20,
        FALSE
    ) AS execution_limited
FROM money
ORDER BY vendor_id, program_id, lead_type, contract_id
