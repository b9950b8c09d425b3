-- The floor: the least any engine must do for the month's headline counts, in one DuckDB query.
--
-- Judges every delivered lead of $month on the ten reasons (SPEC §3; 4, suppressed, has no list
-- in the benchmark data) and counts, per program-month, delivered, invalid, accepted, SQLs and
-- spend. Nothing else: no accounts, attempt buckets, pipeline money, rates or maturity, and only
-- the columns those counts read. Same inputs as duckdb_metrics.sql (deliveries, crm, programs,
-- acceptance, $month, $as_of, $free_domains, /*MISSING_REQUIRED*/); it must agree with it, and
-- with the project's pipeline, on those five columns (bench/run.py checks).
--
-- One pass over each file: the deliveries once (every month: an earlier delivery of the email
-- makes a duplicate), the CRM once (one group-by by email, one by vendor key).

WITH
bounds AS (
    SELECT CAST($month || '-01' AS DATE) AS first_day,
           last_day(CAST($month || '-01' AS DATE)) AS last_day
),
delivered AS (
    -- d.*: a contract may require any field; DuckDB reads only the columns the query uses
    SELECT
        d.*,
        p.contract_id, p.cpl_cents, p.sql_window_days, p.dedupe_days,
        nullif(trim(lower(d.email), ' ' || chr(9) || chr(10) || chr(12) || chr(13)), '') AS email_norm,
        CAST(d.delivered_at AS DATE) AS delivery_day
    FROM deliveries AS d
    JOIN programs AS p ON p.vendor_id = d.vendor_id AND p.program_id = d.program_id
),
sequenced AS (
    -- the previous delivery of the email, by anyone, any month (§3.2)
    SELECT
        *,
        lag(delivery_day) OVER (
            PARTITION BY email_norm ORDER BY delivered_at, vendor_lead_id, vendor_id
        ) AS previous_day
    FROM delivered
),
month_leads AS (
    SELECT r.*
    FROM sequenced AS r, bounds AS b
    WHERE r.delivery_day BETWEEN b.first_day AND b.last_day
),
crm_rows AS (
    SELECT
        nullif(trim(lower(c.email), ' ' || chr(9) || chr(10) || chr(12) || chr(13)), '') AS email_norm,
        c.vendor_id, c.vendor_lead_id, c.created_at, c.crm_id, c.email_bounced,
        c.vendor_id IS NOT NULL AND c.vendor_lead_id IS NOT NULL AS keyed,
        struct_pack(c.sql_at, c.disqualified_reason) AS outcome
    FROM crm AS c
),
by_email AS (
    SELECT
        email_norm,
        min(CAST(created_at AS DATE)) AS known_since,
        bool_or(coalesce(email_bounced, FALSE)) AS bounced,
        arg_min(outcome, struct_pack(created_at, crm_id)) FILTER (NOT keyed) AS outcome
    FROM crm_rows
    WHERE email_norm IS NOT NULL
    GROUP BY email_norm
),
by_key AS (
    SELECT vendor_id, vendor_lead_id, arg_min(outcome, struct_pack(created_at, crm_id)) AS outcome
    FROM crm_rows
    WHERE keyed
    GROUP BY vendor_id, vendor_lead_id
),
judged AS (
    SELECT
        r.vendor_id, r.contract_id, r.program_id, r.cpl_cents,
        NOT (
            -- 1 malformed email
            r.email_norm IS NULL
            OR length(r.email_norm) - length(replace(r.email_norm, '@', '')) <> 1
            OR starts_with(r.email_norm, '@')
            OR NOT contains(split_part(r.email_norm, '@', 2), '.')
            OR regexp_matches(r.email_norm, '\s')
            -- 2 duplicate within the contract's dedupe window
            OR coalesce(r.delivery_day - r.previous_day <= r.dedupe_days, FALSE)
            -- 3 existing contact: the CRM knew the email before the delivery day
            OR coalesce(e.known_since < r.delivery_day, FALSE)
            -- 5 free mail, where the contract rejects it
            OR coalesce(a.reject_free_email
                        AND list_contains($free_domains, split_part(r.email_norm, '@', -1)), FALSE)
            -- 6 outside the ICP
            OR (a.countries IS NOT NULL
                AND NOT coalesce(list_contains(a.countries, upper(nullif(trim(r.country), ''))), FALSE))
            OR (a.min_employees IS NOT NULL AND coalesce(r.employees < a.min_employees, TRUE))
            OR (a.max_employees IS NOT NULL AND coalesce(r.employees > a.max_employees, TRUE))
            OR (a.job_levels IS NOT NULL
                AND NOT coalesce(list_contains(a.job_levels, lower(nullif(trim(r.job_level), ''))), FALSE))
            OR (a.industries IS NOT NULL
                AND NOT coalesce(list_contains(a.industries, lower(nullif(trim(r.industry), ''))), FALSE))
            -- 7 a required field or answer missing
            OR (/*MISSING_REQUIRED*/ FALSE)
            -- 8 no consent, where the contract requires it
            OR coalesce(a.require_consent AND r.consent IS NOT TRUE, FALSE)
            -- 9 bounced
            OR coalesce(e.bounced, FALSE)
            -- 10 junk, as sales disqualified it
            OR coalesce(lower(trim(coalesce(k.outcome, e.outcome).disqualified_reason))
                        IN ('junk', 'fake', 'student', 'competitor', 'no_such_person'), FALSE)
        ) AS accepted,
        coalesce(
            CAST(coalesce(k.outcome, e.outcome).sql_at AS DATE)
                BETWEEN r.delivery_day AND r.delivery_day + CAST(r.sql_window_days AS INTEGER)
            AND CAST(coalesce(k.outcome, e.outcome).sql_at AS DATE) <= $as_of,
            FALSE
        ) AS sql
    FROM month_leads AS r
    JOIN acceptance AS a USING (contract_id)
    LEFT JOIN by_email AS e ON e.email_norm = r.email_norm
    LEFT JOIN by_key AS k ON k.vendor_id = r.vendor_id AND k.vendor_lead_id = r.vendor_lead_id
),
counted AS (
    SELECT
        vendor_id, contract_id, program_id,
        count(*) AS delivered,
        count_if(NOT accepted) AS invalid,
        count_if(accepted) AS accepted,
        count_if(accepted AND sql) AS sql
    FROM judged
    GROUP BY ALL
)
SELECT
    'program' AS grain, p.vendor_id, p.contract_id, p.program_id, $month AS month,
    coalesce(c.delivered, 0) AS delivered,
    coalesce(c.invalid, 0) AS invalid,
    coalesce(c.accepted, 0) AS accepted,
    coalesce(c.sql, 0) AS sql,
    -- spend: accepted leads up to the monthly volume ordered (0 when the term misses the month)
    least(
        coalesce(c.accepted, 0),
        CASE WHEN p.term_start <= b.last_day AND p.term_end >= b.first_day
             THEN p.monthly_volume ELSE 0 END
    ) * p.cpl_cents AS spend_cents
FROM programs AS p
CROSS JOIN bounds AS b
LEFT JOIN counted AS c USING (vendor_id, contract_id, program_id)
WHERE c.delivered IS NOT NULL
   OR (p.term_start <= b.last_day AND p.term_end >= b.first_day AND p.monthly_volume > 0)
