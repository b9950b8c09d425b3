"""Contracts (SPEC §2.1): every rejection names the file, the YAML line and the field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from pydantic import ValidationError

from scorecards.contracts import (
    CANONICAL_DELIVERY_COLUMNS,
    REASONS,
    Bound,
    Contract,
    ContractProblems,
    Portfolio,
    Program,
    contract_problems,
    load_contracts,
)
from scorecards.errors import ContractError, UserError

FIXTURES = Path(__file__).parent / "fixtures" / "contracts"
SPEC_EXAMPLE = (FIXTURES / "spec-example" / "acme-syndication.yaml").read_text()


def folder_with(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "contracts"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def only_problem(tmp_path: Path, text: str, name: str = "acme.yaml") -> ContractError:
    """The single problem found in a folder holding one contract file."""
    problems = contract_problems(folder_with(tmp_path, {name: text}))
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def spec_example_with(old: str, new: str) -> str:
    """The SPEC §2.1 example with one edit (line numbers below are counted in the fixture)."""
    assert SPEC_EXAMPLE.count(old) == 1, old
    return SPEC_EXAMPLE.replace(old, new)


def test_spec_example_parses_with_exact_cents_and_every_field():
    portfolio = load_contracts(FIXTURES / "spec-example")
    (contract,) = portfolio.contracts
    assert contract.vendor.id == "acme-syndication"
    assert contract.vendor.name == "Acme Syndication Ltd"
    assert contract.contract_id == "ACME-2026-H2"
    assert (contract.term.start, contract.term.end) == (date(2026, 7, 1), date(2026, 12, 31))
    (program,) = contract.programs
    assert program.cpl == Decimal("85.00")
    assert program.cpl_cents == 8500
    assert program.monthly_volume == 400
    assert contract.acceptance.countries == ["US", "CA", "GB"]
    assert contract.acceptance.min_employees == 200
    assert contract.acceptance.industries is None
    assert contract.acceptance.required_answers == ["q_timeline"]
    assert contract.acceptance.require_consent is True
    assert contract.columns == {"Email Address": "email", "Lead ID": "vendor_lead_id"}
    assert contract.replacement.eligible_reasons == list(REASONS)
    assert contract.thresholds["fill_rate"] == Bound(min=0.95)
    assert contract.thresholds["cost_per_sql"].kind == "max"
    assert contract.thresholds["cost_per_sql"].limit == 900.0
    assert contract.escalation.consecutive_breaches == 2
    assert contract.source == FIXTURES / "spec-example" / "acme-syndication.yaml"


def test_minimal_contract_takes_the_documented_defaults():
    contract = load_contracts(FIXTURES / "two-periods").contract_for(
        "acme-syndication", date(2026, 3, 1)
    )
    assert contract is not None and contract.contract_id == "ACME-2026-H1"
    assert contract.currency == "USD"
    acceptance = contract.acceptance
    assert acceptance.countries is None and acceptance.job_levels is None
    assert acceptance.industries is None
    assert acceptance.min_employees is None and acceptance.max_employees is None
    assert acceptance.required_fields == [] and acceptance.required_answers == []
    assert acceptance.reject_free_email is True
    assert acceptance.require_consent is False
    assert acceptance.dedupe_days == 90
    assert contract.columns == {}
    assert contract.replacement.window_days == 30
    assert contract.replacement.eligible_reasons == list(REASONS)
    assert contract.replacement.max_return_rate == 0.15
    assert contract.replacement.remedy == "credit"
    assert contract.thresholds == {}
    assert contract.sql_window_days == 90
    assert contract.escalation.consecutive_breaches == 2


def test_reasons_are_the_ten_spec_reasons_in_precedence_order():
    assert REASONS == (
        "malformed_email",
        "duplicate",
        "existing_contact",
        "suppressed",
        "free_email",
        "outside_icp",
        "missing_required",
        "no_consent",
        "bounced_email",
        "junk",
    )
    assert CANONICAL_DELIVERY_COLUMNS[:5] == (
        "vendor_id",
        "program_id",
        "vendor_lead_id",
        "delivered_at",
        "email",
    )


# --- money is exact --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "cpl", "cents"),
    [
        ("85", Decimal("85"), 8500),
        ("85.00", Decimal("85.00"), 8500),
        ("0.1", Decimal("0.1"), 10),
        ("0.29", Decimal("0.29"), 29),  # float(0.29) * 100 == 28.999999999999996
        ("1_200.50", Decimal("1200.50"), 120050),
        ("19.990", Decimal("19.990"), 1999),
    ],
)
def test_cpl_decimal_is_built_from_the_yaml_text(tmp_path, written, cpl, cents):
    folder = folder_with(tmp_path, {"acme.yaml": spec_example_with("85.00", written)})
    (program,) = load_contracts(folder).contracts[0].programs
    assert program.cpl == cpl
    assert str(program.cpl) == str(cpl)
    assert program.cpl_cents == cents


@given(st.integers(min_value=0, max_value=10**12))
def test_cpl_cents_are_exact_for_any_price(cents):
    text = f"{cents // 100}.{cents % 100:02d}"
    assert Program(id="p", lead_type="hql", cpl=Decimal(text), monthly_volume=1).cpl_cents == cents


def test_cpl_with_a_fraction_of_a_cent_is_rejected(tmp_path):
    problem = only_problem(tmp_path, spec_example_with("cpl: 85.00", "cpl: 85.005"))
    assert (problem.line, problem.field) == (8, "programs[0].cpl")
    assert problem.message == "must be a whole number of cents (got 85.005)"


def test_cpl_given_as_a_float_in_code_is_rejected():
    with pytest.raises(ValidationError):
        Program(id="p", lead_type="hql", cpl=0.1, monthly_volume=1)  # type: ignore[arg-type]


# --- one test per rejection (SPEC §2.1) --------------------------------------------------------


def test_negative_price_is_rejected(tmp_path):
    problem = only_problem(tmp_path, spec_example_with("cpl: 85.00", "cpl: -85.00"))
    assert isinstance(problem, ContractError)
    assert str(problem) == (
        f"{tmp_path / 'contracts' / 'acme.yaml'}, line 8, field 'programs[0].cpl': "
        "must not be negative (got -85.00)"
    )


def test_negative_volume_is_rejected(tmp_path):
    problem = only_problem(
        tmp_path, spec_example_with("monthly_volume: 400", "monthly_volume: -400")
    )
    assert (problem.line, problem.field) == (9, "programs[0].monthly_volume")
    assert problem.message == "must not be negative (got -400)"


def test_unknown_key_is_rejected_at_the_key_line(tmp_path):
    problem = only_problem(tmp_path, spec_example_with("  remedy: credit", "  remedi: credit"))
    assert (problem.line, problem.field) == (26, "replacement.remedi")
    assert problem.message.startswith("is not a known field (known here: window_days,")


def test_unknown_top_level_key_is_rejected(tmp_path):
    problem = only_problem(tmp_path, SPEC_EXAMPLE + "notes: renew early\n")
    assert (problem.line, problem.field) == (34, "notes")


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        ("cpl: 85.00", "cpl: abc", 8, "programs[0].cpl", "must be a number (got abc)"),
        ("cpl: 85.00", 'cpl: "85"', 8, "programs[0].cpl", 'must be a number (got "85")'),
        (
            "monthly_volume: 400",
            "monthly_volume: 12.5",
            9,
            "programs[0].monthly_volume",
            "must be a whole number (got 12.5)",
        ),
        (
            "countries: [US, CA, GB]",
            "countries: US",
            11,
            "acceptance.countries",
            "must be a list, like [US, CA] (got US)",
        ),
        (
            "reject_free_email: true",
            "reject_free_email: 'yes'",
            17,
            "acceptance.reject_free_email",
            "must be true or false (got 'yes')",
        ),
        (
            "end: 2026-12-31",
            'end: "2026-12-31"',
            3,
            "term.end",
            'must be a date written like 2026-07-01, with no quotes and no time (got "2026-12-31")',
        ),
        (
            "contract_id: ACME-2026-H2",
            "contract_id: 2026",
            2,
            "contract_id",
            "must be text (put it in quotes if it looks like a number or a date) (got 2026)",
        ),
        (
            "escalation: {consecutive_breaches: 2}",
            "escalation: 2",
            33,
            "escalation",
            "must be a mapping of names to values (got 2)",
        ),
    ],
)
def test_wrong_type_is_rejected(tmp_path, old, new, line, field, message):
    problem = only_problem(tmp_path, spec_example_with(old, new))
    assert (problem.line, problem.field, problem.message) == (line, field, message)


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        ("max_return_rate: 0.15", "max_return_rate: 1.5", 25, "replacement.max_return_rate"),
        ("fill_rate: {min: 0.95}", "fill_rate: {min: 95}", 28, "thresholds.fill_rate.min"),
        ("invalid_rate: {max: 0.08}", "invalid_rate: {max: 8}", 29, "thresholds.invalid_rate.max"),
        ("sql_rate: {min: 0.12}", "sql_rate: {min: 1.2}", 30, "thresholds.sql_rate.min"),
        ("sql_rate: {min: 0.12}", "sal_rate: {min: 1.01}", 30, "thresholds.sal_rate.min"),
    ],
)
def test_rate_outside_zero_to_one_is_rejected(tmp_path, old, new, line, field):
    problem = only_problem(tmp_path, spec_example_with(old, new))
    assert (problem.line, problem.field) == (line, field)
    assert problem.message.startswith("must be a rate between 0 and 1 (got ")


def test_negative_rate_is_rejected(tmp_path):
    problem = only_problem(
        tmp_path, spec_example_with("max_return_rate: 0.15", "max_return_rate: -0.1")
    )
    assert (problem.line, problem.field) == (25, "replacement.max_return_rate")


def test_money_thresholds_are_not_rates(tmp_path):
    text = spec_example_with(
        "cost_per_sql: {max: 900}", "cost_per_sql: {max: 900}\n  pipeline_per_dollar: {min: 4}"
    )
    contract = load_contracts(folder_with(tmp_path, {"acme.yaml": text})).contracts[0]
    assert contract.thresholds["pipeline_per_dollar"] == Bound(min=4.0)


def test_end_before_start_is_rejected(tmp_path):
    problem = only_problem(tmp_path, spec_example_with("end: 2026-12-31", "end: 2026-06-30"))
    assert (problem.line, problem.field) == (3, "term.end")
    assert problem.message == "must not be before the start, 2026-07-01 (got 2026-06-30)"


def test_threshold_needs_exactly_one_of_min_or_max(tmp_path):
    problem = only_problem(
        tmp_path, spec_example_with("fill_rate: {min: 0.95}", "fill_rate: {min: 0.9, max: 1}")
    )
    assert (problem.line, problem.field) == (28, "thresholds.fill_rate")
    assert problem.message == "must set exactly one of min or max"


def test_unknown_threshold_is_rejected(tmp_path):
    problem = only_problem(tmp_path, spec_example_with("fill_rate:", "fil_rate:"))
    assert (problem.line, problem.field) == (28, "thresholds.fil_rate")
    assert "is not a threshold a contract can set" in problem.message


def test_duplicate_program_ids_in_one_contract_are_rejected(tmp_path):
    second = (
        "    monthly_volume: 400                  # ordered leads per calendar month\n"
        "  - {id: acme-cs-q3, lead_type: hql, cpl: 200, monthly_volume: 10}\n"
    )
    problem = only_problem(
        tmp_path,
        spec_example_with(
            "    monthly_volume: 400                  # ordered leads per calendar month\n",
            second,
        ),
    )
    assert (problem.line, problem.field) == (10, "programs[1].id")
    assert problem.message == "'acme-cs-q3' is already a program of this contract"


def test_duplicate_program_ids_across_contracts_are_rejected(tmp_path):
    other = (
        "vendor: {id: bright-intent, name: Bright}\n"
        "contract_id: BRIGHT-2026\n"
        "term: {start: 2026-01-01, end: 2026-12-31}\n"
        "programs:\n"
        "  - {id: acme-cs-q3, lead_type: intent, cpl: 50, monthly_volume: 10}\n"
    )
    folder = folder_with(tmp_path, {"acme.yaml": SPEC_EXAMPLE, "bright.yaml": other})
    (problem,) = contract_problems(folder)
    assert problem.file == str(folder / "bright.yaml")
    assert (problem.line, problem.field) == (5, "programs[0].id")
    assert (
        problem.message
        == f"'acme-cs-q3' is already a program of ACME-2026-H2 ({folder / 'acme.yaml'})"
    )


def test_two_contracts_for_the_same_vendor_and_period_are_rejected():
    folder = FIXTURES / "overlapping"
    (problem,) = contract_problems(folder)
    assert problem.file == str(folder / "acme-2026-h2.yaml")
    assert (problem.line, problem.field) == (3, "term")
    assert problem.message.startswith(
        f"overlaps ACME-2026-H1 ({folder / 'acme-2026-h1.yaml'}), which covers vendor "
        "'acme-syndication' from 2026-01-01 to 2026-07-15"
    )
    with pytest.raises(ContractError):
        load_contracts(folder)


def test_duplicate_contract_ids_are_rejected(tmp_path):
    other = spec_example_with("id: acme-syndication,", "id: acme-2,").replace("acme-cs-q3", "a2")
    folder = folder_with(tmp_path, {"a.yaml": SPEC_EXAMPLE, "b.yaml": other})
    (problem,) = contract_problems(folder)
    assert (problem.file, problem.line, problem.field) == (str(folder / "b.yaml"), 2, "contract_id")


def test_portfolio_built_in_code_refuses_overlapping_terms():
    contract = load_contracts(FIXTURES / "spec-example").contracts[0]
    twin = contract.model_copy(update={"contract_id": "OTHER", "programs": []})
    with pytest.raises(ValidationError, match="overlaps ACME-2026-H2"):
        Portfolio(contracts=[contract, twin])


def test_columns_must_map_to_canonical_delivery_columns(tmp_path):
    problem = only_problem(
        tmp_path, spec_example_with('"Lead ID": vendor_lead_id', '"Lead ID": lead_id')
    )
    assert (problem.line, problem.field) == (20, 'columns["Lead ID"]')
    assert problem.message.startswith("is not a delivery column; use one of vendor_id, ")


def test_columns_may_map_to_custom_questions(tmp_path):
    text = spec_example_with(
        '"Lead ID": vendor_lead_id', '"Lead ID": vendor_lead_id, When: q_timeline'
    )
    contract = load_contracts(folder_with(tmp_path, {"acme.yaml": text})).contracts[0]
    assert contract.columns["When"] == "q_timeline"


def test_two_headers_for_one_column_are_rejected(tmp_path):
    problem = only_problem(
        tmp_path, spec_example_with('"Lead ID": vendor_lead_id', '"Lead ID": email')
    )
    assert (problem.line, problem.field) == (20, 'columns["Lead ID"]')
    assert problem.message == "maps to email, as the header 'Email Address' already does"


def test_eligible_reasons_must_be_known_reasons(tmp_path):
    problem = only_problem(tmp_path, spec_example_with("outside_icp,", "off_target,"))
    assert (problem.line, problem.field) == (24, "replacement.eligible_reasons[5]")
    assert problem.message.endswith("or 'junk' (got off_target)")


def test_max_employees_below_min_employees_is_rejected(tmp_path):
    problem = only_problem(
        tmp_path, spec_example_with("min_employees: 200", "min_employees: 200\n  max_employees: 50")
    )
    assert (problem.line, problem.field) == (13, "acceptance.max_employees")


def test_empty_criteria_list_is_rejected_null_means_any(tmp_path):
    problem = only_problem(tmp_path, spec_example_with("industries: null", "industries: []"))
    assert (problem.line, problem.field) == (14, "acceptance.industries")
    assert problem.message == "must list at least one value; leave it null to accept any"


def test_missing_required_field_is_rejected(tmp_path):
    problem = only_problem(tmp_path, spec_example_with("    cpl: 85.00\n", ""))
    assert (problem.line, problem.field) == (6, "programs[0].cpl")
    assert problem.message == "is required"


# --- YAML itself -------------------------------------------------------------------------------


def test_python_object_tag_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "ran"
    text = spec_example_with(
        "currency: USD", f'currency: !!python/object/apply:os.system ["touch {marker}"]'
    )
    problem = only_problem(tmp_path, text)
    assert (problem.line, problem.field) == (4, "currency")
    assert problem.message == (
        "uses the tag !!python/object/apply:os.system; contracts are plain YAML"
    )
    assert not marker.exists()


def test_malformed_yaml_reports_its_line(tmp_path):
    problem = only_problem(
        tmp_path, spec_example_with("{consecutive_breaches: 2}", "{consecutive_breaches: 2")
    )
    assert problem.line == 34
    assert problem.message.startswith("is not valid YAML: ")


def test_impossible_date_reports_its_line(tmp_path):
    problem = only_problem(tmp_path, spec_example_with("end: 2026-12-31", "end: 2026-12-32"))
    assert problem.line == 3
    assert "2026-12-32 is not a real date" in problem.message


def test_repeated_key_is_rejected(tmp_path):
    problem = only_problem(
        tmp_path, spec_example_with("currency: USD", "currency: USD\ncurrency: EUR")
    )
    assert (problem.line, problem.field) == (5, "currency")
    assert problem.message == "repeats a key first given on line 4"


def test_non_mapping_file_is_rejected(tmp_path):
    problem = only_problem(tmp_path, "- vendor: acme\n- vendor: bright\n")
    assert problem.line == 1
    assert problem.message == "must be a mapping of contract fields, not a list"


def test_empty_file_is_rejected(tmp_path):
    assert only_problem(tmp_path, "# nothing yet\n").message == "is empty"


# --- the folder -------------------------------------------------------------------------------


def test_load_contracts_reports_the_first_problem_and_counts_the_rest(tmp_path):
    bad = spec_example_with("cpl: 85.00", "cpl: -85.00").replace(
        "monthly_volume: 400", "monthly_volume: x"
    )
    folder = folder_with(tmp_path, {"b.yaml": bad, "a.yml": "[]\n"})
    with pytest.raises(ContractProblems) as caught:
        load_contracts(folder)
    error = caught.value
    assert isinstance(error, UserError)
    assert (error.file, error.line) == (str(folder / "a.yml"), 1)
    assert error.message.endswith(
        "(and 2 more contract problems: `scorecards check` lists them all)"
    )
    assert [(p.line, p.field) for p in error.problems[1:]] == [
        (8, "programs[0].cpl"),
        (9, "programs[0].monthly_volume"),
    ]
    assert "\n" not in str(error)


def test_yaml_and_yml_files_are_read_in_name_order_hidden_and_other_files_skipped():
    portfolio = load_contracts(FIXTURES / "two-periods")
    assert [c.contract_id for c in portfolio.contracts] == [
        "ACME-2026-H1",
        "ACME-2026-H2",
        "BRIGHT-2026",
    ]


def test_folder_without_contracts_is_a_problem(tmp_path):
    folder = folder_with(tmp_path, {"README.txt": "contracts go here"})
    (problem,) = contract_problems(folder)
    assert problem.message == "holds no contract files (*.yaml or *.yml)"
    (missing,) = contract_problems(tmp_path / "nowhere")
    assert missing.message == "is not a folder of contracts"


# --- the portfolio -----------------------------------------------------------------------------


def test_contract_for_picks_the_term_covering_the_day_both_ends_included():
    portfolio = load_contracts(FIXTURES / "two-periods")

    def contract_id(vendor: str, day: date) -> str | None:
        found = portfolio.contract_for(vendor, day)
        return found.contract_id if found else None

    assert contract_id("acme-syndication", date(2026, 6, 30)) == "ACME-2026-H1"
    assert contract_id("acme-syndication", date(2026, 7, 1)) == "ACME-2026-H2"
    assert contract_id("acme-syndication", date(2027, 1, 1)) is None
    assert contract_id("bright-intent", date(2026, 2, 28)) is None
    assert contract_id("nobody", date(2026, 7, 1)) is None
    assert portfolio.vendor_ids == ["acme-syndication", "bright-intent"]


def test_program_frame_has_one_row_per_contract_and_program():
    frame = load_contracts(FIXTURES / "two-periods").program_frame()
    expected = pl.DataFrame(
        {
            "vendor_id": ["acme-syndication"] * 3 + ["bright-intent"],
            "vendor_name": ["Acme Syndication Ltd"] * 3 + ["Bright Intent, Inc."],
            "contract_id": ["ACME-2026-H1", "ACME-2026-H2", "ACME-2026-H2", "BRIGHT-2026"],
            "program_id": ["acme-cs-h1", "acme-cs-h2", "acme-hql-h2", "bright-intent-1"],
            "lead_type": ["content_syndication", "content_syndication", "hql", "intent"],
            "cpl_cents": [10, 9250, 24000, 120000],
            "monthly_volume": [1000, 400, 50, 25],
            "term_start": [date(2026, 1, 1), date(2026, 7, 1), date(2026, 7, 1), date(2026, 3, 1)],
            "term_end": [
                date(2026, 6, 30),
                date(2026, 12, 31),
                date(2026, 12, 31),
                date(2027, 2, 28),
            ],
            "sql_window_days": [90, 60, 60, 90],
            "dedupe_days": [90, 30, 30, 90],
            "currency": ["USD", "USD", "USD", "EUR"],
            "evidence_z": [1.959963984540054] * 4,  # evidence.confidence 0.95 by default
        },
        schema_overrides={
            "cpl_cents": pl.Int64,
            "monthly_volume": pl.Int64,
            "sql_window_days": pl.Int64,
            "dedupe_days": pl.Int64,
        },
    )
    assert_frame_equal(frame, expected)


def test_program_frame_of_an_empty_portfolio_keeps_its_schema():
    frame = Portfolio(contracts=[]).program_frame()
    assert frame.height == 0
    assert frame.schema["cpl_cents"] == pl.Int64
    assert frame.schema["term_start"] == pl.Date


def test_contract_model_refuses_unknown_keys_in_code():
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Contract.model_validate({"vendor": {"id": "a", "name": "A", "tier": 1}})
