"""The sample portfolio (SPEC §10) and benchmark data, made reproducibly from a seed.

Every lead is drawn at once, as columns: a vendor's design (how much it delivers, how often a
lead breaks which acceptance rule, how sales works its leads and how they convert) is a handful
of probabilities, and each row's fate is a uniform draw compared with them. Nothing loops over
rows, so the same code writes the ~11,000-lead sample in a second and 10 million benchmark leads
in well under a minute.

Randomness comes from one `random.Random(seed)` (Mersenne Twister, stable across CPython
versions) read in bulk with `randbytes` and viewed as uint32 through Arrow: numpy is not a
dependency of the project, and bulk bytes keep the draws vectorised. The draws are consumed in a
fixed order and every output is sorted and formatted explicitly, so the same seed gives the same
bytes in every file.

    uv run python -m scorecards.sample --out . --seed 7         # contracts/ and data/ in place
    uv run python -m scorecards.sample --bench 10000000 --out bench/data/10000000
"""

from __future__ import annotations

import argparse
import io
import random
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa

from scorecards.contracts import REASONS
from scorecards.crm import to_hubspot_export, to_salesforce_export

__all__ = [
    "BENCH_MONTHS",
    "CRM_COLUMNS",
    "DEFAULT_SEED",
    "DELIVERY_COLUMNS",
    "SAMPLE_AS_OF",
    "SAMPLE_MONTHS",
    "SAMPLE_VENDORS",
    "ProgramSpec",
    "VendorSpec",
    "contract_yaml",
    "generate_benchmark",
    "generate_sample",
    "main",
    "sample_frames",
]

DEFAULT_SEED = 7
SAMPLE_MONTHS: tuple[str, ...] = tuple(f"2026-{m:02d}" for m in range(4, 11))
SAMPLE_AS_OF = date(2026, 11, 5)
"""The README demo runs `--month 2026-10 --as-of 2026-11-05`: July is mature at 90 days, August
at 60."""
BENCH_MONTHS: tuple[str, ...] = ("2026-07",)
"""Benchmark leads land in one month (the benchmark judges "a month of 10 million leads")."""
CRM_EXPORTED_AT = datetime(2026, 12, 15, tzinfo=UTC)
"""The CRM export is taken after the demo's as-of date, so it holds events as_of must ignore."""
XLSX_CREATED = datetime(2026, 11, 1, tzinfo=UTC)

_DAY_US = 86_400_000_000
_HOUR_US = 3_600_000_000

ALL_REASONS: tuple[str, ...] = REASONS  # SPEC §3, in precedence order

# --- vendor designs --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramSpec:
    id: str
    lead_type: str
    cpl: str  # written into the YAML as is: exact cents
    monthly_volume: int


@dataclass(frozen=True)
class VendorSpec:
    """One vendor's contract terms and the behaviour the generator gives it."""

    id: str
    name: str
    contract_id: str
    role: str  # one line for the YAML header: what this vendor is in the sample
    prefix: str  # vendor_lead_id prefix
    programs: tuple[ProgramSpec, ...]
    term: tuple[str, str] = ("2026-01-01", "2026-12-31")
    countries: tuple[str, ...] | None = ("US", "CA", "GB")
    min_employees: int | None = 100
    max_employees: int | None = None
    job_levels: tuple[str, ...] | None = ("manager", "director", "vp", "c_level")
    industries: tuple[str, ...] | None = None
    required_fields: tuple[str, ...] = ("email", "company", "job_title")
    required_answers: tuple[str, ...] = ("q_timeline",)
    reject_free_email: bool = True
    require_consent: bool = True
    dedupe_days: int = 90
    columns: tuple[tuple[str, str], ...] = ()
    window_days: int = 30
    eligible_reasons: tuple[str, ...] = ALL_REASONS
    max_return_rate: str = "0.15"
    remedy: str = "credit"
    thresholds: tuple[tuple[str, str, str], ...] = (
        ("fill_rate", "min", "0.90"),
        ("invalid_rate", "max", "0.10"),
        ("sql_rate", "min", "0.08"),
        ("cost_per_sql", "max", "1200"),
    )
    sql_window_days: int = 90
    consecutive_breaches: int = 2
    # behaviour
    fill: float = 1.06  # delivered / ordered, per program-month (±3%)
    invalid: float = 0.08  # probability that a lead carries a designed defect
    attempt_mix: tuple[float, float, float, float] = (0.08, 0.25, 0.35, 0.32)  # 0, 1, 2-3, 4+
    sql_by_attempts: tuple[float, float, float, float] = (0.01, 0.07, 0.11, 0.13)
    layout: str = "monthly"  # monthly | nested | parquet | headers | xlsx | latin1 | root
    date_only: bool = False  # delivered_at written as a bare date
    accented_names: bool = False
    shouty_emails: bool = False  # some emails upper-cased or padded with spaces
    with_domain: bool = False  # files carry company_domain
    questions: tuple[str, ...] = ("q_timeline",)
    copies_people_of: str | None = None  # re-delivers this vendor's people (cross duplicates)


_P = ProgramSpec
SAMPLE_VENDORS: tuple[VendorSpec, ...] = (
    VendorSpec(
        id="northwind-syndication",
        name="Northwind Syndication Inc.",
        contract_id="NW-2026",
        role="on track: converts well above its SQL floor at a low cost per SQL",
        prefix="NW",
        programs=(
            _P("nw-cs-2026", "content_syndication", "85.00", 150),
            _P("nw-webinar-2026", "webinar", "60.00", 50),
        ),
        min_employees=200,
        job_levels=("director", "vp", "c_level"),
        thresholds=(
            ("fill_rate", "min", "0.95"),
            ("invalid_rate", "max", "0.08"),
            ("sql_rate", "min", "0.12"),
            ("cost_per_sql", "max", "900"),
        ),
        fill=1.10,
        invalid=0.035,
        attempt_mix=(0.04, 0.08, 0.38, 0.50),
        sql_by_attempts=(0.02, 0.10, 0.20, 0.30),
    ),
    VendorSpec(
        id="bluepeak-demand",
        name="BluePeak Demand LLC",
        contract_id="BP-2026",
        role="heading for replace: sales works its leads hard and they still do not convert",
        prefix="BP",
        programs=(_P("bp-hql-2026", "hql", "180.00", 80),),
        min_employees=500,
        required_answers=("q_timeline", "q_budget"),
        questions=("q_timeline", "q_budget"),
        window_days=14,
        thresholds=(
            ("fill_rate", "min", "0.90"),
            ("invalid_rate", "max", "0.10"),
            ("sql_rate", "min", "0.10"),
            ("cost_per_sql", "max", "2000"),
        ),
        sql_window_days=60,
        fill=1.02,
        invalid=0.06,
        attempt_mix=(0.02, 0.04, 0.20, 0.74),
        sql_by_attempts=(0.0, 0.02, 0.03, 0.045),
    ),
    VendorSpec(
        id="cascade-demand",
        name="Cascade Demand Partners",
        contract_id="CD-2026",
        role="execution-limited: its leads convert when sales works them four times or more",
        prefix="CD",
        programs=(_P("cd-cs-2026", "content_syndication", "65.00", 200),),
        industries=(
            "Software",
            "Financial Services",
            "Healthcare",
            "Manufacturing",
            "Retail",
            "Telecommunications",
        ),
        window_days=21,
        thresholds=(
            ("fill_rate", "min", "0.90"),
            ("invalid_rate", "max", "0.10"),
            ("sql_rate", "min", "0.12"),
            ("cost_per_sql", "max", "700"),
        ),
        fill=1.05,
        invalid=0.07,
        attempt_mix=(0.05, 0.45, 0.15, 0.35),
        sql_by_attempts=(0.0, 0.015, 0.07, 0.22),
        layout="nested",
    ),
    VendorSpec(
        id="summit-bant",
        name="Summit BANT Research",
        contract_id="SB-2026",
        role="under-fills: delivers about 70% of what was ordered",
        prefix="SB",
        programs=(_P("sb-bant-2026", "bant", "240.00", 40),),
        min_employees=1000,
        job_levels=("director", "vp", "c_level"),
        required_fields=("email", "company", "job_title", "phone"),
        required_answers=("q_timeline", "q_budget"),
        questions=("q_timeline", "q_budget"),
        window_days=10,
        remedy="replace",
        thresholds=(
            ("fill_rate", "min", "0.90"),
            ("invalid_rate", "max", "0.10"),
            ("sql_rate", "min", "0.15"),
            ("cost_per_sql", "max", "1800"),
        ),
        sql_window_days=75,
        fill=0.70,
        invalid=0.06,
        sql_by_attempts=(0.02, 0.12, 0.22, 0.30),
    ),
    VendorSpec(
        id="harbor-intent",
        name="Harbor Intent Data",
        contract_id="HI-2026",
        role="over-delivers: about 130% of the ordered volume, the excess over the cap",
        prefix="HI",
        programs=(_P("hi-intent-2026", "intent", "40.00", 250),),
        term=("2026-03-01", "2027-02-28"),
        countries=None,
        min_employees=500,
        job_levels=None,
        required_fields=("email", "company"),
        required_answers=(),
        require_consent=False,
        dedupe_days=60,
        window_days=7,
        eligible_reasons=(
            "malformed_email",
            "duplicate",
            "existing_contact",
            "suppressed",
            "free_email",
            "outside_icp",
            "missing_required",
        ),
        max_return_rate="0.10",
        thresholds=(
            ("invalid_rate", "max", "0.12"),
            ("sql_rate", "min", "0.05"),
            ("cost_per_sql", "max", "1000"),
        ),
        sql_window_days=60,
        fill=1.30,
        invalid=0.09,
        sql_by_attempts=(0.0, 0.03, 0.07, 0.10),
        layout="parquet",
    ),
    VendorSpec(
        id="meridian-b2b",
        name="Meridian B2B Media",
        contract_id="MB-2026",
        role="shares its audience with tristate-data: the same people reach us through both",
        prefix="MB",
        programs=(_P("mb-cs-2026", "content_syndication", "55.00", 150),),
        countries=("US", "CA"),
        with_domain=True,
        window_days=30,
        fill=1.05,
        invalid=0.06,
    ),
    VendorSpec(
        id="tristate-data",
        name="TriState Data Co.",
        contract_id="TS-2026",
        role="re-delivers meridian-b2b's people (cross-vendor duplicates); high invalid rate",
        prefix="TS",
        programs=(_P("ts-cs-2026", "content_syndication", "48.00", 120),),
        countries=("US", "CA"),
        dedupe_days=60,
        max_return_rate="0.10",
        fill=1.05,
        invalid=0.16,
        copies_people_of="meridian-b2b",
    ),
    VendorSpec(
        id="quorum-media",
        name="Quorum Media Group",
        contract_id="QM-2026",
        role="delivers in its own column headers, mapped through `columns`",
        prefix="QM",
        programs=(
            _P("qm-webinar-2026", "webinar", "35.00", 90),
            _P("qm-cs-2026", "content_syndication", "70.00", 60),
        ),
        term=("2026-02-01", "2027-01-31"),
        industries=(
            "Software",
            "Financial Services",
            "Healthcare",
            "Media",
            "Professional Services",
            "Telecommunications",
        ),
        dedupe_days=30,
        columns=(
            ("Lead ID", "vendor_lead_id"),
            ("Campaign", "program_id"),
            ("Delivered", "delivered_at"),
            ("Email Address", "email"),
            ("First Name", "first_name"),
            ("Last Name", "last_name"),
            ("Phone Number", "phone"),
            ("Company Name", "company"),
            ("Job Title", "job_title"),
            ("Seniority", "job_level"),
            ("Industry", "industry"),
            ("Country", "country"),
            ("Company Size", "employees"),
            ("Opt-In", "consent"),
            ("Purchase Timeline", "q_timeline"),
        ),
        window_days=15,
        fill=1.02,
        invalid=0.08,
        layout="headers",
        shouty_emails=True,
    ),
    VendorSpec(
        id="lumen-hql",
        name="Lumen HQL Services",
        contract_id="LH-2026",
        role="delivers XLSX workbooks",
        prefix="LH",
        programs=(_P("lh-hql-2026", "hql", "150.00", 60),),
        term=("2026-04-01", "2027-03-31"),
        min_employees=250,
        max_employees=10000,
        required_answers=("q_timeline", "q_budget"),
        questions=("q_timeline", "q_budget"),
        window_days=20,
        thresholds=(
            ("fill_rate", "min", "0.90"),
            ("invalid_rate", "max", "0.10"),
            ("sql_rate", "min", "0.10"),
            ("sal_rate", "min", "0.30"),
            ("cost_per_sql", "max", "1500"),
            ("pipeline_per_dollar", "min", "2.0"),
        ),
        fill=1.03,
        invalid=0.07,
        sql_by_attempts=(0.02, 0.08, 0.16, 0.24),
        layout="xlsx",
    ),
    VendorSpec(
        id="datenwerk-europe",
        name="Datenwerk Europe GmbH",
        contract_id="DW-2026",
        role="European vendor: Latin-1 (cp1252) CSV files with accented names",
        prefix="DW",
        programs=(_P("dw-cs-2026", "content_syndication", "95.00", 90),),
        countries=("DE", "FR", "ES", "NL", "AT", "CH", "GB"),
        min_employees=250,
        window_days=14,
        thresholds=(
            ("fill_rate", "min", "0.90"),
            ("invalid_rate", "max", "0.10"),
            ("sql_rate", "min", "0.08"),
            ("cost_per_sql", "max", "1600"),
        ),
        sql_window_days=75,
        fill=1.04,
        invalid=0.07,
        sql_by_attempts=(0.02, 0.09, 0.13, 0.16),
        layout="latin1",
        accented_names=True,
    ),
    VendorSpec(
        id="pipeline-partners",
        name="Pipeline Partners",
        contract_id="PP-2026",
        role="in the shared marketplace file at the root of data/deliveries/ (vendor_id column)",
        prefix="PP",
        programs=(_P("pp-bant-2026", "bant", "210.00", 30),),
        min_employees=500,
        required_answers=("q_timeline", "q_budget"),
        questions=("q_timeline", "q_budget"),
        window_days=30,
        remedy="replace",
        thresholds=(
            ("fill_rate", "min", "0.90"),
            ("sql_rate", "min", "0.12"),
            ("cost_per_sql", "max", "1800"),
        ),
        fill=0.97,
        invalid=0.06,
        sql_by_attempts=(0.02, 0.10, 0.18, 0.28),
        layout="root",
    ),
    VendorSpec(
        id="signal-intent",
        name="Signal Intent Networks",
        contract_id="SI-2026",
        role="in the shared marketplace file; dates without times; accepts free-mail addresses",
        prefix="SI",
        programs=(_P("si-intent-2026", "intent", "35.00", 120),),
        countries=None,
        min_employees=None,
        job_levels=None,
        required_fields=("email", "company"),
        required_answers=(),
        reject_free_email=False,
        require_consent=False,
        dedupe_days=45,
        window_days=10,
        thresholds=(
            ("invalid_rate", "max", "0.10"),
            ("sql_rate", "min", "0.05"),
            ("cost_per_sql", "max", "800"),
        ),
        sql_window_days=60,
        fill=1.04,
        invalid=0.07,
        sql_by_attempts=(0.0, 0.03, 0.07, 0.11),
        layout="root",
        date_only=True,
    ),
)
ROOT_FILE = "partner-marketplace-2026.csv"

# --- vocabularies ----------------------------------------------------------------------------

COUNTRIES = (
    "US", "CA", "GB", "IE", "DE", "FR", "NL", "ES", "IT", "SE", "DK", "AT", "CH", "BE",
    "AU", "NZ", "SG", "JP", "IN", "BR", "MX", "ZA", "AE", "PL",
)  # fmt: skip
ANY_COUNTRY_WEIGHTED = ("US", "US", "US", "GB", "CA", "DE", "FR", "AU", "NL", "IN", "BR", "SG")
JOB_LEVELS = ("individual", "manager", "director", "vp", "c_level")
TITLES = (
    ("Data Analyst", "Software Engineer", "Marketing Specialist", "Systems Administrator"),
    ("IT Manager", "Marketing Operations Manager", "Security Manager", "Finance Manager"),
    ("Director of IT", "Director, Demand Generation", "Director of Security", "Director of FP&A"),
    ("VP Engineering", "VP Marketing", "VP Information Security", "VP Finance"),
    ("Chief Information Officer", "Chief Technology Officer", "CMO", "Chief Financial Officer"),
)
INDUSTRIES = (
    "Software", "Financial Services", "Healthcare", "Manufacturing", "Retail",
    "Telecommunications", "Education", "Government", "Media", "Energy", "Logistics",
    "Professional Services",
)  # fmt: skip
FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Thomas", "Jessica", "Charles",
    "Sarah", "Christopher", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Betty",
    "Mark", "Sandra", "Steven", "Ashley", "Paul", "Kimberly", "Andrew", "Emily", "Joshua",
    "Donna", "Kevin", "Michelle", "Brian", "Carol", "George", "Amanda", "Timothy", "Melissa",
    "Ryan", "Deborah", "Jason", "Stephanie", "Jacob", "Rebecca", "Gary", "Sharon", "Nicholas",
    "Laura", "Eric", "Cynthia", "Priya", "Wei", "Aisha", "Kenji", "Olga", "Tomasz", "Fatima",
    "Arjun",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
    "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera",
    "Campbell", "Mitchell", "Carter", "Roberts", "Patel", "Kim", "Chen", "Singh", "Okafor",
    "Kowalski", "Novak", "Murphy", "Kelly", "Sullivan", "Bennett", "Hughes", "Price", "Foster",
    "Ward",
)  # fmt: skip
# Every character is in cp1252; the ASCII forms (for email addresses) are not in the lists above.
ACCENTED_FIRST = (
    ("José", "jose"), ("François", "francois"), ("Jürgen", "jurgen"), ("Søren", "soren"),
    ("Zoë", "zoe"), ("Renée", "renee"), ("Hélène", "helene"), ("Íñigo", "inigo"),
    ("Björn", "bjorn"), ("Ángel", "angel"), ("Agnès", "agnes"), ("Mónica", "monica"),
    ("Loïc", "loic"), ("Åsa", "asa"), ("Stéphane", "stephane"), ("Joël", "joel"),
)  # fmt: skip
ACCENTED_LAST = (
    ("Müller", "muller"), ("Gómez", "gomez"), ("Lefèvre", "lefevre"), ("Sørensen", "sorensen"),
    ("Großmann", "grossmann"), ("Núñez", "nunez"), ("Dupré", "dupre"), ("Jäger", "jager"),
    ("Peña", "pena"), ("Ólafsson", "olafsson"), ("Brändström", "brandstrom"), ("Côté", "cote"),
    ("Muñoz", "munoz"), ("Weiß", "weiss"), ("Ibáñez", "ibanez"), ("Løvgren", "lovgren"),
)  # fmt: skip
COMPANY_PREFIXES = (
    "Acme", "Apex", "Arbor", "Atlas", "Aurora", "Beacon", "Birch", "Bright", "Cedar", "Cobalt",
    "Copper", "Crest", "Delta", "Ember", "Evergreen", "Falcon", "Fern", "Frontier", "Granite",
    "Harbor", "Helix", "Horizon", "Iron", "Juniper", "Keystone", "Lakeside", "Lantern", "Maple",
    "Meadow", "Nimbus", "Northstar", "Oak", "Onyx", "Orchid", "Pinnacle", "Pioneer", "Prairie",
    "Quartz", "Redwood", "Ridge", "River", "Sable", "Sage", "Sierra", "Silver", "Solstice",
    "Spruce", "Summit", "Tidal", "Timber", "Trident", "Union", "Vale", "Vertex", "Vista",
    "Willow", "Zenith", "Alder", "Bluefin", "Canyon", "Dune", "Elm", "Glacier", "Hawthorn",
)  # fmt: skip
COMPANY_SUFFIXES = (
    "Analytics", "Systems", "Logistics", "Health", "Foods", "Labs", "Networks", "Capital",
    "Robotics", "Software", "Energy", "Bank", "Insurance", "Retail", "Media", "Telecom",
    "Manufacturing", "Pharma", "Consulting", "Security", "Cloud", "Partners", "Motors", "Air",
    "Devices", "Materials", "Biotech", "Holdings", "Payments", "Data", "Learning", "Freight",
    "Semiconductors", "Hospitality", "Realty", "Aerospace", "Chemicals", "Textiles", "Water",
    "Studios",
)  # fmt: skip
TLDS = ("com", "com", "com", "io", "net", "co")
CUSTOMER_DOMAINS = (
    ("Globex Corporation", "globex.com"),
    ("Initech", "initech.com"),
    ("Umbrella Health", "umbrellahealth.com"),
    ("Hooli", "hooli.com"),
    ("Soylent Foods", "soylentfoods.com"),
    ("Vandelay Industries", "vandelay.com"),
)
COMPETITOR_DOMAINS = (
    ("Leadsmith", "leadsmith.io"),
    ("Pipemetric", "pipemetric.com"),
    ("Funnelcraft", "funnelcraft.co"),
)
LISTED_COMPANIES = CUSTOMER_DOMAINS + COMPETITOR_DOMAINS
FREE_MAIL = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com")
TIMELINES = ("0-3 months", "3-6 months", "6-12 months", "12+ months")
BUDGETS = ("approved", "planned", "none")
JUNK_REASONS = ("junk", "fake", "student", "competitor", "no_such_person")
OTHER_DISQUALIFICATIONS = ("no_budget", "bad_timing", "not_decision_maker", "no_project")

# Designed defects: one per lead at most; each is the cause of one SPEC §3 reason.
DEFECTS = (
    "none",
    "malformed_email",
    "duplicate",
    "cross_duplicate",
    "existing_contact",
    "suppressed_email",
    "suppressed_domain",
    "free_email",
    "outside_country",
    "outside_employees",
    "outside_job_level",
    "outside_industry",
    "missing_field",
    "missing_answer",
    "no_consent",
    "bounced_email",
    "junk",
)
D = {name: code for code, name in enumerate(DEFECTS)}
_DEFECT_WEIGHTS = {
    "malformed_email": 1.0,
    "duplicate": 1.5,
    "cross_duplicate": 5.0,
    "existing_contact": 1.5,
    "suppressed_email": 0.6,
    "suppressed_domain": 0.6,
    "free_email": 1.0,
    "outside_country": 1.0,
    "outside_employees": 1.0,
    "outside_job_level": 1.0,
    "outside_industry": 1.0,
    "missing_field": 0.8,
    "missing_answer": 0.8,
    "no_consent": 0.8,
    "bounced_email": 1.0,
    "junk": 1.5,
}
MISSABLE_FIELDS = ("company", "job_title", "phone", "first_name", "last_name")
QUESTIONS = ("q_timeline", "q_budget")


# --- randomness ------------------------------------------------------------------------------


class _Draws:
    """Uniform [0, 1) columns from one seeded Mersenne Twister, read 4 bytes a value and kept
    to 24 bits, so a Float32 holds each exactly (half the memory of Float64 at 10M rows)."""

    def __init__(self, seed: int | str) -> None:
        self._random = random.Random(seed)  # str seeds are hashed with SHA-512: stable

    def uniform(self, n: int) -> pl.Series:
        raw = self._random.randbytes(4 * n)
        words = pa.Array.from_buffers(pa.uint32(), n, [None, pa.py_buffer(raw)])
        return (pl.Series(words) // 256).cast(pl.Float32) * 2.0**-24

    def add(self, frame: pl.DataFrame, *names: str) -> pl.DataFrame:
        return frame.with_columns(self.uniform(frame.height).alias(name) for name in names)

    def scalar(self) -> float:
        return self._random.random()


def _lookup(values: Sequence[object], index: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """values[index] for every row (null index -> null); a gather, ten times a hash lookup."""
    return pl.lit(pl.Series(values=list(values), dtype=dtype)).gather(index)


def _by(key: str, values: Sequence[object], dtype: pl.DataType) -> pl.Expr:
    """A per-vendor (or per-code) constant looked up by the small integer in `key`."""
    return _lookup(values, pl.col(key), dtype)


def _pick(values: Sequence[object], u: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """One of `values`, chosen by the uniform `u`."""
    index = (u * len(values)).floor().cast(pl.Int64).clip(0, len(values) - 1)
    return _lookup(values, index, dtype)


def _pick_per_vendor(lists: Sequence[Sequence[int]], u: pl.Expr) -> pl.Expr:
    """An element of the vendor's own list (codes), chosen by `u`; null when its list is empty."""
    flat = [code for codes in lists for code in codes]
    offsets, sizes, start = [], [], 0
    for codes in lists:
        offsets.append(start)
        sizes.append(len(codes))
        start += len(codes)
    if not flat:
        return pl.lit(None, pl.Int64())
    size = _by("v", sizes, pl.Int64())
    within = (u * size).floor().cast(pl.Int64).clip(0, size - 1)
    index = pl.when(size > 0).then(_by("v", offsets, pl.Int64()) + within)
    return _lookup(flat, index, pl.Int64())


def _cumulative(weights: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return [c / total for c in out]


def _bucket(u: pl.Expr, per_vendor_weights: Sequence[Sequence[float]]) -> pl.Expr:
    """Index of the category `u` falls in, with category weights per vendor (vectorised)."""
    cums = [_cumulative(w) for w in per_vendor_weights]
    parts = [
        (u >= _by("v", [c[k] for c in cums], pl.Float64())).cast(pl.Int8)
        for k in range(len(cums[0]) - 1)
    ]
    return pl.sum_horizontal(parts).cast(pl.Int8)


# --- the designed leads ----------------------------------------------------------------------


def _defect_weights(spec: VendorSpec, vendor_ids: Sequence[str]) -> list[float]:
    """Probability of each designed defect for this vendor; inapplicable ones get none."""
    applicable = {
        "cross_duplicate": spec.copies_people_of in vendor_ids,
        "free_email": spec.reject_free_email,
        "outside_country": spec.countries is not None,
        "outside_employees": spec.min_employees is not None or spec.max_employees is not None,
        "outside_job_level": spec.job_levels is not None,
        "outside_industry": spec.industries is not None,
        "missing_field": any(f in MISSABLE_FIELDS for f in spec.required_fields),
        "missing_answer": bool(spec.required_answers),
        "no_consent": spec.require_consent,
    }
    raw = {k: w * applicable.get(k, True) for k, w in _DEFECT_WEIGHTS.items()}
    total = sum(raw.values())
    return [1.0 - spec.invalid] + [spec.invalid * raw[name] / total for name in DEFECTS[1:]]


def _month_start(month: str) -> datetime:
    year, number = map(int, month.split("-"))
    return datetime(year, number, 1, tzinfo=UTC)


def _days_in_month(month: str) -> int:
    start = _month_start(month)
    following = datetime(
        start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=start.tzinfo
    )
    return (following - start).days


def _slots(
    vendors: Sequence[VendorSpec],
    months: Sequence[str],
    scale: float,
    draws: _Draws,
    total: int | None = None,
) -> pl.DataFrame:
    """One row per vendor x program x month with how many leads it delivers (tiny frame);
    with `total`, the biggest slot absorbs the rounding so the counts add up to it exactly."""
    rows = []
    for v, spec in enumerate(vendors):
        for p, program in enumerate(spec.programs):
            for month in months:
                jitter = 1.0 + 0.06 * (draws.scalar() - 0.5)
                count = round(program.monthly_volume * spec.fill * jitter * scale)
                start = _month_start(month)
                rows.append(
                    {
                        "v": v,
                        "p": p,
                        "m": months.index(month),
                        "count": count,
                        "start_us": int(start.timestamp()) * 1_000_000,
                        "days": _days_in_month(month),
                    }
                )
    if total is not None:
        biggest = max(rows, key=lambda row: row["count"])
        biggest["count"] += total - sum(row["count"] for row in rows)
    return pl.DataFrame(
        rows,
        schema={
            "v": pl.Int64,
            "p": pl.Int64,
            "m": pl.Int64,
            "count": pl.Int64,
            "start_us": pl.Int64,
            "days": pl.Int64,
        },
    )


def _company_count(leads: int) -> int:
    """About five leads a company on average, skewed so that big accounts get many."""
    return max(200, leads // 5)


def _designed_leads(
    vendors: Sequence[VendorSpec],
    slots: pl.DataFrame,
    draws: _Draws,
    first_company: int,
    group: tuple[int, int],
) -> pl.DataFrame:
    """Every lead as integer codes: who, when, for which program, with which defect. The
    leads' companies are codes `first_company` and up, shared with no other vendor group;
    `group` (number, count) interleaves the places groups take in the suppressed companies."""
    vendor_ids = [s.id for s in vendors]
    leads = (
        slots.with_columns(i=pl.int_ranges(0, pl.col("count")))
        .explode("i")
        .drop_nulls("i")
        .drop("i", "count")
    )
    day, second = draws.uniform(leads.height), draws.uniform(leads.height)
    business_second = (7 * 3600 + second * 11 * 3600).floor().cast(pl.Int64)
    # one Int64 sort key (vendor, second of the month): sorting narrow keeps 10M rows cheap
    leads = (
        leads.with_columns(
            t=pl.col("start_us")
            + (day * pl.col("days")).floor().cast(pl.Int64) * _DAY_US
            + business_second * 1_000_000,
        )
        .select("v", "p", "m", "t")
        .sort(pl.col("v") * 2**55 + pl.col("t") // 1_000_000, maintain_order=True)
    )
    first_of_vendor = leads.select(pl.col("v").search_sorted(pl.int_range(len(vendors))))
    leads = draws.add(leads, "u_defect", "u_company", "u_dup").with_columns(
        defect=_bucket(pl.col("u_defect"), [_defect_weights(s, vendor_ids) for s in vendors]),
        row=pl.int_range(pl.len()),
    )
    leads = leads.with_columns(
        seq=pl.col("row") - _lookup(first_of_vendor.to_series().to_list(), pl.col("v"), pl.Int64())
    )

    # People: a company (skewed: big accounts get many leads) and a place in it that no other
    # lead takes, so a person's email is unique unless a duplicate is designed.
    companies = _company_count(leads.height)
    leads = leads.with_columns(
        c=(pl.col("u_company") ** 1.3 * companies).floor().cast(pl.Int64).clip(0, companies - 1)
        + first_company
    ).with_columns(k=pl.int_range(pl.len()).over("c"))
    leads = leads.with_columns(accented=_by("v", [s.accented_names for s in vendors], pl.Boolean()))
    leads = draws.add(leads, "u_level", "u_title", "u_industry", "u_country", "u_employees")
    leads = draws.add(leads, "u_phone", "u_outside", "u_variant", "u_consent", "u_q1", "u_q2")
    leads = leads.with_columns(_clean_attributes(vendors))
    leads = _with_duplicates(leads, vendors)
    number, groups = group
    return (
        leads.with_columns(_defect_attributes(vendors))
        .with_columns(
            # a lead moved to a suppressed company takes a place there no one else has
            k=pl.when(pl.col("listed_ix").is_not_null())
            .then(pl.int_range(pl.len()).over("listed_ix") * groups + number)
            .otherwise(pl.col("k"))
        )
        .drop(
            "u_defect", "u_company", "u_dup", "u_level", "u_title", "u_industry", "u_country",
            "u_employees", "u_outside", "u_variant", "u_consent",
        )
    )  # fmt: skip


def _codes(values: Sequence[str] | None, vocabulary: Sequence[str]) -> list[int]:
    return [vocabulary.index(x) for x in (values if values is not None else vocabulary)]


def _clean_attributes(vendors: Sequence[VendorSpec]) -> list[pl.Expr]:
    """Attributes inside every vendor's ICP: what a lead looks like before its defect."""
    any_country = [COUNTRIES.index(c) for c in ANY_COUNTRY_WEIGHTED]
    countries = [_codes(s.countries, COUNTRIES) if s.countries else any_country for s in vendors]
    low = [float(s.min_employees or 20) for s in vendors]
    high = [float(s.max_employees or 60000) for s in vendors]
    ratio = _by("v", [h / lo for lo, h in zip(low, high, strict=True)], pl.Float64())
    employees = _by("v", low, pl.Float64()) * ratio ** pl.col("u_employees")
    level = _pick_per_vendor([_codes(s.job_levels, JOB_LEVELS) for s in vendors], pl.col("u_level"))
    return [
        _pick_per_vendor(countries, pl.col("u_country")).alias("country_ix"),
        ((employees / 10).round(0) * 10).cast(pl.Int64).clip(lower_bound=1).alias("employees"),
        level.alias("level_ix"),
        (level * 4 + (pl.col("u_title") * 4).floor().cast(pl.Int64)).alias("title_ix"),
        _pick_per_vendor(
            [_codes(s.industries, INDUSTRIES) for s in vendors], pl.col("u_industry")
        ).alias("industry_ix"),
        (pl.col("u_phone") * 10_000_000).floor().cast(pl.Int64).alias("phone_no"),
    ]


def _with_duplicates(leads: pl.DataFrame, vendors: Sequence[VendorSpec]) -> pl.DataFrame:
    """Designed duplicates take the person of an earlier clean lead: of the same vendor, or of
    the vendor whose people this one re-delivers, delivered 1 hour to 25 days before."""
    person = ["c", "k", "accented", "country_ix", "employees", "level_ix", "title_ix",
              "industry_ix", "phone_no"]  # fmt: skip
    gap_days = _by("v", [min(25, s.dedupe_days - 1) for s in vendors], pl.Float64())
    looking_back = (_HOUR_US + pl.col("u_dup") * gap_days * _DAY_US).cast(pl.Int64)
    source_v = _by(
        "v",
        [
            next((i for i, o in enumerate(vendors) if o.id == s.copies_people_of), -1)
            for s in vendors
        ],
        pl.Int64(),
    )
    wanted = (
        leads.filter(pl.col("defect").is_in([D["duplicate"], D["cross_duplicate"]]))
        .select(
            "row",
            source_v=pl.when(pl.col("defect") == D["cross_duplicate"])
            .then(source_v)
            .otherwise(pl.col("v")),
            at=pl.col("t") - looking_back,
        )
        .sort("source_v", "at", "row")
    )
    candidates = (
        leads.filter(pl.col("defect") == D["none"])
        .select(pl.col("v").alias("source_v"), pl.col("t").alias("at"), *person)
        .sort("source_v", "at")
    )
    found = wanted.join_asof(
        candidates, on="at", by="source_v", strategy="backward", check_sortedness=False
    ).select("row", *[pl.col(c).alias(f"dup_{c}") for c in person])
    leads = leads.join(found, on="row", how="left", maintain_order="left")
    is_dup = pl.col("dup_c").is_not_null()
    return leads.with_columns(
        *[pl.when(is_dup).then(pl.col(f"dup_{c}")).otherwise(pl.col(c)).alias(c) for c in person],
        # a duplicate with nobody earlier to copy is simply a clean lead
        defect=pl.when(pl.col("defect").is_in([D["duplicate"], D["cross_duplicate"]]) & ~is_dup)
        .then(pl.lit(D["none"], pl.Int8))
        .otherwise(pl.col("defect")),
    ).drop([f"dup_{c}" for c in person])


def _defect_attributes(vendors: Sequence[VendorSpec]) -> list[pl.Expr]:
    """Break each lead the way its defect says; other leads keep their clean attributes."""
    defect = pl.col("defect")
    u, w = pl.col("u_outside"), pl.col("u_variant")
    outside_countries = [
        [i for i in range(len(COUNTRIES)) if s.countries and COUNTRIES[i] not in s.countries]
        for s in vendors
    ]
    outside_levels = [
        [i for i in range(len(JOB_LEVELS)) if s.job_levels and JOB_LEVELS[i] not in s.job_levels]
        for s in vendors
    ]
    outside_industries = [
        [i for i in range(len(INDUSTRIES)) if s.industries and INDUSTRIES[i] not in s.industries]
        for s in vendors
    ]
    low = _by("v", [s.min_employees for s in vendors], pl.Int64())
    high = _by("v", [s.max_employees for s in vendors], pl.Int64())
    too_small = (low.cast(pl.Float64) * (0.05 + 0.85 * w)).floor().cast(pl.Int64).clip(1)
    too_big = (high.cast(pl.Float64) * (1.2 + 3 * w)).floor().cast(pl.Int64)
    missable = [
        [MISSABLE_FIELDS.index(f) + 1 for f in s.required_fields if f in MISSABLE_FIELDS]
        for s in vendors
    ]
    answers = [[QUESTIONS.index(q) + 1 for q in s.required_answers] for s in vendors]
    require_consent = _by("v", [s.require_consent for s in vendors], pl.Boolean())
    optional_consent = (
        pl.when(pl.col("u_consent") < 0.75).then(True).when(pl.col("u_consent") < 0.9).then(False)
    )
    return [
        pl.when(defect == D["outside_country"])
        .then(pl.when(u >= 0.25).then(_pick_per_vendor(outside_countries, w)))
        .otherwise(pl.col("country_ix"))
        .alias("country_ix"),
        pl.when(defect == D["outside_employees"])
        .then(
            pl.when(u < 0.15)
            .then(None)
            .when(low.is_not_null() & (high.is_null() | (u < 0.6)))
            .then(too_small)
            .otherwise(too_big)
        )
        .otherwise(pl.col("employees"))
        .alias("employees"),
        pl.when(defect == D["outside_job_level"])
        .then(pl.when(u >= 0.1).then(_pick_per_vendor(outside_levels, w)))
        .otherwise(pl.col("level_ix"))
        .alias("level_ix"),
        pl.when(defect == D["outside_job_level"])
        .then(
            pl.when(u >= 0.1).then(
                _pick_per_vendor(outside_levels, w) * 4
                + (pl.col("u_title") * 4).floor().cast(pl.Int64)
            )
        )
        .otherwise(pl.col("title_ix"))
        .alias("title_ix"),
        pl.when(defect == D["outside_industry"])
        .then(pl.when(u >= 0.1).then(_pick_per_vendor(outside_industries, w)))
        .otherwise(pl.col("industry_ix"))
        .alias("industry_ix"),
        pl.when(defect == D["missing_field"])
        .then(_pick_per_vendor(missable, u))
        .otherwise(0)
        .alias("blank_field"),
        pl.when(defect == D["missing_answer"])
        .then(_pick_per_vendor(answers, u))
        .otherwise(0)
        .alias("blank_answer"),
        pl.when(defect == D["no_consent"])
        .then(pl.when(u < 0.8).then(False))
        .when(require_consent)
        .then(True)
        .otherwise(optional_consent)
        .alias("consent"),
        # 1-5 malformed variants, 6 free mail, 0 the person's work address
        pl.when(defect == D["malformed_email"])
        .then(1 + (u * 5).floor().cast(pl.Int64).clip(0, 4))
        .when(defect == D["free_email"])
        .then(6)
        .when(~_by("v", [s.reject_free_email for s in vendors], pl.Boolean()) & (u < 0.06))
        .then(6)
        .otherwise(0)
        .alias("email_kind"),
        pl.when(defect == D["suppressed_domain"])
        .then((u * 9).floor().cast(pl.Int64).clip(0, 8))
        .alias("listed_ix"),
        pl.when(defect == D["junk"])
        .then((w * len(JUNK_REASONS)).floor().cast(pl.Int64).clip(0, len(JUNK_REASONS) - 1))
        .alias("junk_ix"),
    ]


# --- from codes to text ----------------------------------------------------------------------


def _company_table(companies: int) -> pl.DataFrame:
    """Name, domain and bare domain (no TLD) of every company code; the suppression lists'
    companies follow the generated ones, at codes `companies` and up."""
    n_pre, n_suf = len(COMPANY_PREFIXES), len(COMPANY_SUFFIXES)
    c = pl.int_range(companies, dtype=pl.Int64)
    prefix = _lookup(COMPANY_PREFIXES, c % n_pre, pl.String())
    suffix = _lookup(COMPANY_SUFFIXES, c // n_pre % n_suf, pl.String())
    branch = c // (n_pre * n_suf)
    numbered = pl.when(branch > 0).then((branch + 1).cast(pl.String)).otherwise(pl.lit(""))
    bare = (prefix + suffix).str.to_lowercase() + numbered
    generated = pl.select(
        name=prefix + " " + suffix + pl.when(branch > 0).then(" " + numbered).otherwise(pl.lit("")),
        domain=bare + "." + _lookup(TLDS, c % len(TLDS), pl.String()),
        bare=bare,
    )
    listed = pl.DataFrame(
        {
            "name": [n for n, _ in LISTED_COMPANIES],
            "domain": [d for _, d in LISTED_COMPANIES],
            "bare": [d.rsplit(".", 1)[0] for _, d in LISTED_COMPANIES],
        }
    )
    return pl.concat([generated, listed])


def _person_stages(table: pl.DataFrame) -> list[list[pl.Expr]]:
    """Names, company and email, in stages so each piece is computed once. The place k in
    company c maps to a name no one else there has: (c*7919 + k*2741) mod 2^n is one-to-one in
    k (2741 is odd), and every company has its own domain."""
    n_first, n_last = len(FIRST_NAMES), len(LAST_NAMES)
    a_first, a_last = len(ACCENTED_FIRST), len(ACCENTED_LAST)
    k, c, accented = pl.col("k"), pl.col("c"), pl.col("accented")
    company = (
        pl.when(pl.col("listed_ix").is_not_null())
        .then(pl.col("listed_ix") + table.height - len(LISTED_COMPANIES))
        .otherwise(c)
    )
    space = pl.when(accented).then(a_first * a_last).otherwise(n_first * n_last)
    slot = (company * 7919 + k * 2741) % space
    width = pl.when(accented).then(a_first).otherwise(n_first)
    first_names = [*FIRST_NAMES, *(pair[0] for pair in ACCENTED_FIRST)]
    last_names = [*LAST_NAMES, *(pair[0] for pair in ACCENTED_LAST)]
    first_ascii = [*(n.lower() for n in FIRST_NAMES), *(pair[1] for pair in ACCENTED_FIRST)]
    last_ascii = [*(n.lower() for n in LAST_NAMES), *(pair[1] for pair in ACCENTED_LAST)]
    stage_one = [
        (slot % width + pl.when(accented).then(n_first).otherwise(0)).alias("first_i"),
        (slot // width + pl.when(accented).then(n_last).otherwise(0)).alias("last_i"),
        pl.when(k >= space).then((k // space).cast(pl.String)).otherwise(pl.lit("")).alias("n"),
        company.alias("company_i"),
    ]
    first_i, last_i, company_i = pl.col("first_i"), pl.col("last_i"), pl.col("company_i")
    stage_two = [
        _lookup(first_names, first_i, pl.String()).alias("first_name"),
        _lookup(last_names, last_i, pl.String()).alias("last_name"),
        _lookup(first_ascii, first_i, pl.String()).alias("first_ascii"),
        _lookup(last_ascii, last_i, pl.String()).alias("last_ascii"),
        pl.lit(table["name"]).gather(company_i).alias("company_name"),
        pl.lit(table["domain"]).gather(company_i).alias("domain"),
    ]
    kind = pl.col("email_kind")
    # 1-5 malformed variants, 6 free mail, 0 the work address
    local = (
        pl.when(kind == 3)
        .then(pl.col("first_ascii") + " " + pl.col("last_ascii"))
        .when(kind == 5)
        .then(pl.lit(""))
        .otherwise(pl.col("first_ascii") + "." + pl.col("last_ascii") + pl.col("n"))
    )
    number = pl.when(kind == 6).then((c * 100_000 + k).cast(pl.String)).otherwise(pl.lit(""))
    separator = (
        pl.when(kind == 2)
        .then(pl.lit("."))
        .when(kind == 4)
        .then(pl.lit("@@"))
        .otherwise(pl.lit("@"))
    )
    domain = (
        pl.when(kind == 1)
        .then(pl.lit(table["bare"]).gather(company_i))
        .when(kind == 6)
        .then(_pick(FREE_MAIL, pl.col("u_mail"), pl.String()))
        .otherwise(pl.col("domain"))
    )
    return [stage_one, stage_two, [(local + number + separator + domain).alias("email")]]


def _deliveries(
    leads: pl.LazyFrame,
    vendors: Sequence[VendorSpec],
    months: Sequence[str],
    draws_mail: pl.Series,
    companies: pl.DataFrame,
    width: int,
) -> pl.LazyFrame:
    """The canonical delivery columns (typed), one row per designed lead, plus design columns."""
    vendor_id = _by("v", [s.id for s in vendors], pl.String())
    programs = [[p.id for p in s.programs] for s in vendors]
    max_programs = max(len(p) for p in programs)
    program_id = _lookup(
        [ps[p] if p < len(ps) else None for ps in programs for p in range(max_programs)],
        pl.col("v") * max_programs + pl.col("p"),
        pl.String(),
    )
    lead_id = (
        _by("v", [s.prefix for s in vendors], pl.String())
        + "-"
        + (pl.col("seq") + 1).cast(pl.String).str.zfill(width)
    )
    titles = [t for level in TITLES for t in level]
    leads = leads.with_columns(u_mail=draws_mail)
    blank = pl.col("blank_field")

    def unless_blank(expr: pl.Expr, name: str) -> pl.Expr:
        return pl.when(blank == MISSABLE_FIELDS.index(name) + 1).then(None).otherwise(expr)

    phone_optional = ~_by("v", ["phone" in s.required_fields for s in vendors], pl.Boolean())
    phone = (
        pl.when(phone_optional & (pl.col("u_phone") * 13 % 1 < 0.15))
        .then(None)
        .otherwise(
            "+1 "
            + (200 + pl.col("phone_no") // 10_000 % 800).cast(pl.String)
            + " 555 "
            + (pl.col("phone_no") % 10_000).cast(pl.String).str.zfill(4)
        )
    )
    timeline = _pick(TIMELINES, pl.col("u_q1"), pl.String())
    budget = _pick(BUDGETS, pl.col("u_q2"), pl.String())

    def answer(expr: pl.Expr, question: str) -> pl.Expr:
        asked = _by("v", [question in s.questions for s in vendors], pl.Boolean())
        required = _by("v", [question in s.required_answers for s in vendors], pl.Boolean())
        skipped = ~required & (pl.col("u_q1") * 7 % 1 < 0.15)
        gone = (pl.col("blank_answer") == QUESTIONS.index(question) + 1) | skipped | ~asked
        return pl.when(gone).then(None).otherwise(expr)

    for stage in _person_stages(companies):
        leads = leads.with_columns(stage)
    return leads.select(
        vendor_id.alias("vendor_id"),
        program_id.alias("program_id"),
        lead_id.alias("vendor_lead_id"),
        pl.from_epoch("t", time_unit="us").dt.replace_time_zone("UTC").alias("delivered_at"),
        pl.col("email"),
        unless_blank(pl.col("first_name"), "first_name").alias("first_name"),
        unless_blank(pl.col("last_name"), "last_name").alias("last_name"),
        unless_blank(phone, "phone").alias("phone"),
        unless_blank(pl.col("company_name"), "company").alias("company"),
        unless_blank(_lookup(titles, pl.col("title_ix"), pl.String()), "job_title").alias(
            "job_title"
        ),
        _lookup(INDUSTRIES, pl.col("industry_ix"), pl.String()).alias("industry"),
        pl.col("domain").alias("company_domain"),
        _lookup(COUNTRIES, pl.col("country_ix"), pl.String()).alias("country"),
        pl.col("employees"),
        _lookup(JOB_LEVELS, pl.col("level_ix"), pl.String()).alias("job_level"),
        pl.col("consent"),
        answer(timeline, "q_timeline").alias("q_timeline"),
        answer(budget, "q_budget").alias("q_budget"),
        # design columns, dropped before writing
        pl.col("v"),
        pl.col("t"),
        _lookup(months, pl.col("m"), pl.String()).alias("month"),
        pl.col("defect"),
        pl.col("junk_ix"),
        pl.col("seq"),
    )


# --- CRM outcomes ----------------------------------------------------------------------------


def _crm(
    deliveries: pl.DataFrame, vendors: Sequence[VendorSpec], draws: _Draws, first_id: int = 0
) -> pl.DataFrame:
    """One CRM record per person first delivered with a usable address (most of them), with
    outcomes drawn from the vendor's design and dated relative to the delivery."""
    origin = deliveries.filter(
        ~pl.col("defect").is_in([D["duplicate"], D["cross_duplicate"], D["malformed_email"]])
    ).select("v", "t", "defect", "junk_ix", "vendor_id", "vendor_lead_id", "email", "seq")
    origin = draws.add(origin, "u_exists", "u_created", "u_attempts", "u_count", "u_sql")
    origin = draws.add(origin, "u_days", "u_late", "u_sal", "u_opp", "u_won", "u_lost")
    origin = draws.add(origin, "u_amount", "u_gap", "u_status", "u_reason", "u_ref", "u_hour")
    origin = draws.add(origin, "u_file")
    defect = pl.col("defect")
    keeps_record = (
        defect.is_in([D["existing_contact"], D["bounced_email"], D["junk"]])
        | ((defect == D["none"]) & (pl.col("u_exists") < 0.96))
        | ((defect != D["none"]) & (pl.col("u_exists") < 0.9))
    )
    origin = origin.filter(keeps_record)
    t = pl.col("t")
    created = (
        pl.when(defect == D["existing_contact"])
        .then(t - ((30 + pl.col("u_created") * 870) * _DAY_US).cast(pl.Int64))
        .otherwise(t + (pl.col("u_created") * 3.2 * _DAY_US).cast(pl.Int64))
    )
    bucket = _bucket(pl.col("u_attempts"), [s.attempt_mix for s in vendors])
    worked = defect.is_in([D["none"], D["free_email"], D["outside_country"],
                           D["outside_employees"], D["outside_job_level"],
                           D["outside_industry"], D["missing_field"], D["missing_answer"],
                           D["no_consent"]])  # fmt: skip
    attempts = (
        pl.when(defect.is_in([D["suppressed_email"], D["suppressed_domain"]]))
        .then(0)
        .when(defect.is_in([D["bounced_email"], D["junk"]]))
        .then(1 + (pl.col("u_count") < 0.4).cast(pl.Int64))
        .when(bucket == 0)
        .then(0)
        .when(bucket == 1)
        .then(1)
        .when(bucket == 2)
        .then(2 + (pl.col("u_count") < 0.5).cast(pl.Int64))
        .otherwise(4 + (pl.col("u_count") * 6).floor().cast(pl.Int64))
    )
    sql_p = pl.sum_horizontal(
        [
            (bucket == b).cast(pl.Float64)
            * _by("v", [s.sql_by_attempts[b] for s in vendors], pl.Float64())
            for b in range(4)
        ]
    ) * pl.when(defect == D["none"]).then(1.0).otherwise(0.5)
    window = _by("v", [s.sql_window_days for s in vendors], pl.Int64())
    days_in = 5 + (pl.col("u_days") ** 1.4 * (window - 4).cast(pl.Float64)).floor().cast(pl.Int64)
    days_late = window + 1 + (pl.col("u_days") * 40).floor().cast(pl.Int64)
    days_to_sql = pl.when(pl.col("u_late") < 0.08).then(days_late).otherwise(days_in)
    delivery_day = t - t % _DAY_US
    sql_at = (delivery_day + days_to_sql * _DAY_US + (t % _DAY_US) // 2
              + (pl.col("u_hour") * 4 * _HOUR_US).cast(pl.Int64))  # fmt: skip
    is_sql = worked & (pl.col("u_sql") < sql_p)
    sal_p = (
        pl.when(pl.col("bucket") == 0)
        .then(0.0)
        .when(pl.col("bucket") == 1)
        .then(0.10)
        .when(bucket == 2)
        .then(0.22)
        .otherwise(0.30)
    )
    sal_after_sql = pl.col("created_us") + (
        (pl.col("sql_us") - pl.col("created_us")).cast(pl.Float64) * (0.2 + 0.6 * pl.col("u_sal"))
    ).cast(pl.Int64)
    frame = origin.with_columns(
        created_us=created,
        attempts=attempts,
        sql_us=pl.when(is_sql).then(sql_at),
        worked=worked,
        bucket=bucket,
    )
    frame = frame.with_columns(
        sal_us=pl.when(pl.col("sql_us").is_not_null())
        .then(sal_after_sql)
        .when(pl.col("worked") & (pl.col("attempts") > 0) & (pl.col("u_sal") < sal_p))
        .then(pl.col("created_us") + ((1 + pl.col("u_gap") * 30) * _DAY_US).cast(pl.Int64)),
        opp_us=pl.when(pl.col("sql_us").is_not_null() & (pl.col("u_opp") < 0.4)).then(
            pl.col("sql_us") + ((2 + pl.col("u_gap") * 30) * _DAY_US).cast(pl.Int64)
        ),
    ).with_columns(
        won_us=pl.when(pl.col("opp_us").is_not_null() & (pl.col("u_won") < 0.3)).then(
            pl.col("opp_us") + ((15 + pl.col("u_gap") * 75) * _DAY_US).cast(pl.Int64)
        ),
    )
    # The export cannot know the future: events after it have not happened yet.
    exported = int(CRM_EXPORTED_AT.timestamp()) * 1_000_000
    frame = frame.with_columns(
        pl.when(pl.col(c) <= exported).then(pl.col(c)).alias(c)
        for c in ("sal_us", "sql_us", "opp_us", "won_us")
    )
    u_status = pl.col("u_status")
    status = (
        pl.when(pl.col("won_us").is_not_null()).then(pl.lit("won"))
        .when(pl.col("opp_us").is_not_null() & (pl.col("u_lost") < 0.35)).then(pl.lit("lost"))
        .when(pl.col("opp_us").is_not_null()).then(pl.lit("opportunity"))
        .when(pl.col("sql_us").is_not_null()).then(pl.lit("sql"))
        .when(defect == D["junk"]).then(pl.lit("disqualified"))
        .when(defect == D["bounced_email"]).then(pl.lit("unresponsive"))
        .when(pl.col("sal_us").is_not_null())
        .then(pl.when(u_status < 0.6).then(pl.lit("working")).otherwise(pl.lit("nurture")))
        .when(pl.col("attempts") == 0).then(pl.lit("open"))
        .when(u_status < 0.45).then(pl.lit("working"))
        .when(u_status < 0.7).then(pl.lit("unresponsive"))
        .when(u_status < 0.9).then(pl.lit("nurture"))
        .otherwise(pl.lit("disqualified"))
    )  # fmt: skip
    frame = frame.with_columns(status=status)
    disqualified = (
        pl.when(defect == D["junk"])
        .then(_lookup(JUNK_REASONS, pl.col("junk_ix"), pl.String()))
        .when(pl.col("status") == "disqualified")
        .then(_pick(OTHER_DISQUALIFICATIONS, pl.col("u_reason"), pl.String()))
    )
    amount = (10 ** (3.9 + 1.4 * pl.col("u_amount")) / 500).round(0) * 500
    carries_reference = (pl.col("u_ref") < 0.25) & (defect != D["existing_contact"])

    def utc(col: str) -> pl.Expr:
        return pl.from_epoch(col, time_unit="us").dt.replace_time_zone("UTC")

    crm = frame.select(
        pl.col("email").str.strip_chars().str.to_lowercase().alias("email"),
        pl.when(carries_reference).then(pl.col("vendor_id")).alias("vendor_id"),
        pl.when(carries_reference).then(pl.col("vendor_lead_id")).alias("vendor_lead_id"),
        utc("created_us").alias("created_at"),
        pl.col("status"),
        utc("sal_us").alias("sal_at"),
        utc("sql_us").alias("sql_at"),
        utc("opp_us").alias("opportunity_at"),
        utc("won_us").alias("won_at"),
        pl.when(pl.col("opp_us").is_not_null())
        .then(amount.cast(pl.Float64))
        .alias("opportunity_amount"),
        pl.col("attempts").cast(pl.Int64),
        (defect == D["bounced_email"]).alias("email_bounced"),
        disqualified.alias("disqualified_reason"),
        pl.col("u_file"),
    ).sort("created_at", "email")
    crm_id = "C" + (pl.int_range(pl.len()) + first_id + 1).cast(pl.String).str.zfill(8)
    return crm.select("email", crm_id.alias("crm_id"), pl.exclude("email"))


CRM_COLUMNS = (
    "email", "crm_id", "vendor_id", "vendor_lead_id", "created_at", "status", "sal_at", "sql_at",
    "opportunity_at", "won_at", "opportunity_amount", "attempts", "email_bounced",
    "disqualified_reason",
)  # fmt: skip
DELIVERY_COLUMNS = (
    "vendor_id", "program_id", "vendor_lead_id", "delivered_at", "email", "first_name",
    "last_name", "phone", "company", "job_title", "industry", "company_domain", "country",
    "employees", "job_level", "consent", "q_timeline", "q_budget",
)  # fmt: skip


def _vendor_groups(vendors: Sequence[VendorSpec]) -> list[list[int]]:
    """Vendors that can be generated apart: each alone, except a vendor that re-delivers
    another's people, which goes with it. Groups share no companies, so no people."""
    groups: list[list[int]] = []
    for index, spec in enumerate(vendors):
        source = next(
            (g for g in groups for i in g if vendors[i].id == spec.copies_people_of), None
        )
        if source is None:
            groups.append([index])
        else:
            source.append(index)
    return groups


def _portfolio_parts(
    vendors: Sequence[VendorSpec],
    months: Sequence[str],
    scale: float,
    seed: int,
    total: int | None = None,
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """Deliveries (canonical typed columns plus design columns) and canonical CRM records,
    one vendor group at a time so 10 million leads never sit in memory at once."""
    slots = _slots(vendors, months, scale, _Draws(seed), total)
    groups = _vendor_groups(vendors)
    sizes = [int(slots.filter(pl.col("v").is_in(g))["count"].sum()) for g in groups]
    firsts = [sum(_company_count(n) for n in sizes[:i]) for i in range(len(groups))]
    companies = _company_table(sum(_company_count(n) for n in sizes))
    width = max(6, len(str(max(sizes))))
    crm_ids = 0
    for number, group in enumerate(groups):
        members = [vendors[i] for i in group]
        draws = _Draws(f"{seed}:{number}")
        local = slots.filter(pl.col("v").is_in(group)).with_columns(
            v=pl.col("v").replace_strict(group, list(range(len(group))))
        )
        leads = _designed_leads(members, local, draws, firsts[number], (number, len(groups)))
        deliveries = _deliveries(
            leads.lazy(), members, months, draws.uniform(leads.height), companies, width
        ).collect()
        del leads
        deliveries = deliveries.with_columns(email=_shouted(deliveries, members, draws))
        crm = _crm(deliveries, members, draws, crm_ids)
        crm_ids += crm.height
        yield deliveries.with_columns(pl.col("v").replace_strict(range(len(group)), group)), crm


def _portfolio(
    vendors: Sequence[VendorSpec], months: Sequence[str], seed: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The whole (small) portfolio in two frames."""
    parts = list(_portfolio_parts(vendors, months, 1.0, seed))
    return pl.concat([d for d, _ in parts]), pl.concat([c for _, c in parts])


def _shouted(deliveries: pl.DataFrame, vendors: Sequence[VendorSpec], draws: _Draws) -> pl.Series:
    """Some vendors send upper-cased or space-padded addresses (valid after trimming)."""
    u = draws.uniform(deliveries.height)
    shouty = _by("v", [s.shouty_emails for s in vendors], pl.Boolean())
    return deliveries.select(
        pl.when(shouty & (u < 0.10))
        .then(pl.col("email").str.to_uppercase())
        .when(shouty & (u < 0.13))
        .then(" " + pl.col("email") + " ")
        .otherwise(pl.col("email"))
    ).to_series()


def sample_frames(seed: int = DEFAULT_SEED) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The sample portfolio's deliveries (with design columns v, t, month, defect, junk_ix,
    seq) and canonical CRM frame, before they are split into files."""
    deliveries, crm = _portfolio(SAMPLE_VENDORS, SAMPLE_MONTHS, seed)
    return _with_quarantine_rows(deliveries), crm


def _with_quarantine_rows(deliveries: pl.DataFrame) -> pl.DataFrame:
    """Three rows that cannot be attributed (SPEC §3 quarantine): an unknown program, an
    impossible delivery date and an empty vendor_lead_id. delivered_text carries the written
    delivered_at so one of them can be garbage."""

    def first_clean(vendor_id: str, month: str) -> pl.Expr:
        chosen = (
            (pl.col("vendor_id") == vendor_id)
            & (pl.col("month") == month)
            & (pl.col("defect") == D["none"])
        )
        return chosen & (pl.col("seq") == pl.col("seq").filter(chosen).min())

    unknown_program = first_clean("meridian-b2b", "2026-09")
    bad_date = first_clean("tristate-data", "2026-08")
    no_lead_id = first_clean("summit-bant", "2026-06")
    return deliveries.with_columns(
        program_id=pl.when(unknown_program)
        .then(pl.lit("mb-cs-2026-pilot"))
        .otherwise(pl.col("program_id")),
        vendor_lead_id=pl.when(no_lead_id).then(pl.lit("")).otherwise(pl.col("vendor_lead_id")),
        delivered_text=pl.when(bad_date)
        .then(pl.lit("2026-08-32T10:14:00Z"))
        .otherwise(pl.col("delivered_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ")),
        quarantine=unknown_program | bad_date | no_lead_id,
    )


# --- contracts as YAML -----------------------------------------------------------------------


def _flow(values: Sequence[str] | None, quote: bool = False) -> str:
    if values is None:
        return "null"
    return "[" + ", ".join(f'"{v}"' if quote else v for v in values) + "]"


def _commented(line: str, comment: str) -> str:
    return f"{line:<40} # {comment}" if comment else line


def contract_yaml(spec: VendorSpec, seed: int, volume_scale: float = 1.0) -> str:
    """The contract as a person would write it: flow lists, comments on units and defaults."""
    lines = [
        f"# {spec.name}: {', '.join(sorted({p.lead_type for p in spec.programs}))}.",
        f"# Sample portfolio (scorecards.sample, seed {seed}): {spec.role}.",
        f'vendor: {{id: {spec.id}, name: "{spec.name}"}}',
        f"contract_id: {spec.contract_id}",
        f"term: {{start: {spec.term[0]}, end: {spec.term[1]}}}",
        "currency: USD",
        "programs:",
    ]
    for program in spec.programs:
        volume = max(1, round(program.monthly_volume * volume_scale))
        lines += [
            f"  - id: {program.id}",
            _commented(
                f"    lead_type: {program.lead_type}",
                "content_syndication | hql | bant | webinar | intent",
            ),
            _commented(f"    cpl: {program.cpl}", "USD per accepted lead"),
            _commented(f"    monthly_volume: {volume}", "ordered leads per calendar month"),
        ]
    lines += [
        "acceptance:",
        _commented(f"  countries: {_flow(spec.countries)}", "null = any country"),
        _commented(f"  min_employees: {_none(spec.min_employees)}", "null = no lower bound"),
        _commented(f"  max_employees: {_none(spec.max_employees)}", "null = no upper bound"),
        _commented(f"  job_levels: {_flow(spec.job_levels)}", "null = any level"),
        _commented(f"  industries: {_flow(spec.industries, quote=True)}", "null = any"),
        f"  required_fields: {_flow(spec.required_fields)}",
        _commented(
            f"  required_answers: {_flow(spec.required_answers)}",
            "custom questions that must be answered",
        ),
        f"  reject_free_email: {str(spec.reject_free_email).lower()}",
        f"  require_consent: {str(spec.require_consent).lower()}",
        _commented(
            f"  dedupe_days: {spec.dedupe_days}",
            "same person delivered again within N days = duplicate",
        ),
    ]
    if spec.columns:
        lines.append("columns:                                 # vendor headers -> canonical")
        lines += [f'  "{header}": {column}' for header, column in spec.columns]
    else:
        lines.append(_commented("columns: {}", "the vendor sends canonical headers"))
    lines += [
        "replacement:",
        _commented(
            f"  window_days: {spec.window_days}", "claims must be filed within N days of delivery"
        ),
        f"  eligible_reasons: {_flow(spec.eligible_reasons)}",
        _commented(
            f"  max_return_rate: {spec.max_return_rate}",
            "at most this share of a month's delivered leads",
        ),
        _commented(f"  remedy: {spec.remedy}", "credit | replace"),
        "thresholds:",
    ]
    lines += [f"  {metric}: {{{bound}: {limit}}}" for metric, bound, limit in spec.thresholds]
    lines += [
        _commented(
            f"sql_window_days: {spec.sql_window_days}",
            "an SQL counts if reached within N days of delivery",
        ),
        f"escalation: {{consecutive_breaches: {spec.consecutive_breaches}}}",
    ]
    return "\n".join(lines) + "\n"


def _none(value: int | None) -> str:
    return "null" if value is None else str(value)


# --- writing ---------------------------------------------------------------------------------


def _csv_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_csv(buffer, datetime_format="%Y-%m-%dT%H:%M:%SZ", float_precision=2)
    return buffer.getvalue()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _vendor_file_frame(rows: pl.DataFrame, spec: VendorSpec, with_vendor: bool) -> pl.DataFrame:
    """The columns this vendor sends, as text exactly as it writes them."""
    columns = [c for c in DELIVERY_COLUMNS if c in rows.columns]
    columns = [
        c
        for c in columns
        if (c != "vendor_id" or with_vendor)
        and (c != "company_domain" or spec.with_domain)
        and (not c.startswith("q_") or c in spec.questions)
    ]
    delivered = (
        pl.col("delivered_text").str.slice(0, 10) if spec.date_only else pl.col("delivered_text")
    )
    return rows.sort("t", "vendor_lead_id").select(
        [
            (delivered if c == "delivered_at" else pl.col(c)).cast(pl.String).alias(c)
            for c in columns
        ]
    )


def _write_xlsx(path: Path, frame: pl.DataFrame) -> None:
    """XLSX with a pinned creation date: xlsxwriter otherwise stamps the wall clock."""
    from xlsxwriter import Workbook  # dev dependency: only the generator writes XLSX

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(str(path), {"constant_memory": False})
    workbook.set_properties({"created": XLSX_CREATED.replace(tzinfo=None)})
    frame.write_excel(workbook=workbook, worksheet="Leads", autofilter=False)
    workbook.close()


def _write_deliveries(deliveries: pl.DataFrame, folder: Path) -> None:
    by_id = {s.id: s for s in SAMPLE_VENDORS}
    for spec in SAMPLE_VENDORS:
        if spec.layout == "root":
            continue
        vendor_rows = deliveries.filter(pl.col("vendor_id") == spec.id)
        for month in SAMPLE_MONTHS:
            rows = vendor_rows.filter(pl.col("month") == month)
            frame = _vendor_file_frame(rows, spec, with_vendor=False)
            base = folder / spec.id
            if spec.layout == "nested":
                _write(base / month[:4] / f"{month}.csv", _csv_bytes(frame))
            elif spec.layout == "headers":
                renamed = frame.rename({c: h for h, c in spec.columns if c in frame.columns})
                _write(base / f"{month}.csv", _csv_bytes(renamed))
            elif spec.layout == "latin1":
                text = _csv_bytes(frame).decode("utf-8")
                _write(base / f"{month}.csv", text.encode("cp1252"))
            elif spec.layout == "xlsx":
                _write_xlsx(base / f"{month}.xlsx", frame)
            elif spec.layout == "parquet":
                typed = rows.sort("t", "vendor_lead_id").select(
                    [c for c in frame.columns if c in rows.columns]
                )
                path = base / f"{month}.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                typed.write_parquet(path, statistics=False)
            else:
                _write(base / f"{month}.csv", _csv_bytes(frame))
    root_ids = [s.id for s in SAMPLE_VENDORS if s.layout == "root"]
    root_rows = deliveries.filter(pl.col("vendor_id").is_in(root_ids))
    parts = [
        _vendor_file_frame(root_rows.filter(pl.col("vendor_id") == vid), by_id[vid], True)
        for vid in root_ids
    ]
    root = pl.concat(parts, how="diagonal").sort("delivered_at", "vendor_id", "vendor_lead_id")
    _write(folder / ROOT_FILE, _csv_bytes(root))


def _suppressed_emails(deliveries: pl.DataFrame) -> pl.DataFrame:
    """The addresses designed to be on the do-not-contact list."""
    return deliveries.filter(pl.col("defect") == D["suppressed_email"]).select(
        pl.col("email").str.strip_chars().str.to_lowercase()
    )


def _suppression(suppressed_emails: pl.DataFrame) -> dict[str, pl.DataFrame]:
    do_not_contact = (
        suppressed_emails.vstack(
            pl.DataFrame(
                {"email": ["privacy.request@example.org", "unsubscribe.me@globalcorp.example"]}
            )
        )
        .unique()
        .sort("email")
    )
    return {
        "customers.csv": pl.DataFrame({"domain": [d for _, d in CUSTOMER_DOMAINS]}),
        "competitors.csv": pl.DataFrame({"domain": [d for _, d in COMPETITOR_DOMAINS]}),
        "do-not-contact.csv": do_not_contact,
    }


def _crm_exports(crm: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The CRM records split three ways: canonical, HubSpot export, Salesforce report."""
    part = pl.col("u_file")
    canonical = crm.filter(part < 0.45).drop("u_file")
    hubspot = crm.filter((part >= 0.45) & (part < 0.75)).drop("u_file")
    salesforce = crm.filter(part >= 0.75).drop("u_file")
    return {
        "outcomes.csv": canonical,
        "hubspot-contacts-export.csv": to_hubspot_export(hubspot),
        "salesforce-leads-report.csv": to_salesforce_export(salesforce),
    }


DATA_README = """\
# Sample data

Generated by `uv run python -m scorecards.sample --out . --seed {seed}`: do not edit by hand
(a test regenerates it and compares every byte). Twelve vendors deliver from 2026-04 to
2026-10; the contracts are in `contracts/`, one per vendor, each saying in its header what that
vendor is in the sample (on track, heading for replace, execution-limited, under-filling,
over-delivering, sharing people with another vendor, ...).

- `deliveries/<vendor_id>/<YYYY-MM>.csv`: the vendor is the folder. Also nested
  (`cascade-demand/2026/`), Parquet (`harbor-intent`), XLSX (`lumen-hql`), Latin-1 / cp1252
  (`datenwerk-europe`), the vendor's own headers mapped by its contract's `columns`
  (`quorum-media`), and `{root}` at the root with an explicit `vendor_id` column.
- Three rows cannot be attributed and are quarantined: an unknown program
  (meridian-b2b, 2026-09), an impossible delivered_at (tristate-data, 2026-08) and an empty
  vendor_lead_id (summit-bant, 2026-06).
- `crm/`: one record per person, split across a canonical `outcomes.csv`, a HubSpot contacts
  export and a Salesforce Lead report export. The export was taken on {exported}, so it holds
  SALs, SQLs and deals dated after the demo's as-of date, {as_of}.
- `suppression/`: existing customers and competitors (domains) and do-not-contact (emails).
"""


# contracts/portfolio.yaml (docs/CONTRACTS.md, "Portfolio settings"): the buyer every claim names
PORTFOLIO_YAML = """\
# Portfolio settings (docs/CONTRACTS.md, "Portfolio settings"): not a contract.
# The buyer block every replacement claim carries.
buyer:
  legal_name: "Northfield Analytics Inc."
  address:
    - "400 Harbor Street, Suite 1200"
    - "Boston, MA 02110"
    - "United States"
  contact: {name: "Dana Whitfield, Procurement", email: "dana.whitfield@northfield.example", phone: "+1 617 555 0142"}
  claims_email: "vendor-claims@northfield.example"
"""


def generate_sample(out: Path, seed: int = DEFAULT_SEED) -> None:
    """Write `out/contracts/*.yaml` and `out/data/` (deliveries, crm, suppression), replacing
    what an earlier generation wrote there."""
    deliveries, crm = sample_frames(seed)
    data = out / "data"
    for sub in ("deliveries", "crm", "suppression"):
        shutil.rmtree(data / sub, ignore_errors=True)
    contracts = out / "contracts"
    contracts.mkdir(parents=True, exist_ok=True)
    for old in contracts.glob("*.yaml"):
        old.unlink()
    for spec in SAMPLE_VENDORS:
        _write(contracts / f"{spec.id}.yaml", contract_yaml(spec, seed).encode())
    _write(contracts / "portfolio.yaml", PORTFOLIO_YAML.encode())
    _write_deliveries(deliveries, data / "deliveries")
    for name, frame in _crm_exports(crm).items():
        _write(data / "crm" / name, _csv_bytes(frame))
    for name, frame in _suppression(_suppressed_emails(deliveries)).items():
        _write(data / "suppression" / name, _csv_bytes(frame))
    readme = DATA_README.format(
        seed=seed,
        root=ROOT_FILE,
        exported=CRM_EXPORTED_AT.date().isoformat(),
        as_of=SAMPLE_AS_OF.isoformat(),
    )
    _write(data / "README.md", readme.encode())


def generate_benchmark(
    out: Path, leads: int, seed: int, *, months: Sequence[str] = BENCH_MONTHS
) -> None:
    """Write `out/deliveries.parquet` (canonical delivery columns with vendor_id),
    `out/crm.parquet` (canonical CRM columns), `out/suppression/*.csv` and `out/contracts/`:
    the sample's twelve vendors with every volume scaled so that exactly `leads` leads arrive
    in `months`. Same shape as the sample: every invalid reason, each lead type. Written one
    vendor group at a time, so memory stays near a fifth of the whole."""
    import pyarrow.parquet as pq

    ordered = sum(p.monthly_volume * s.fill for s in SAMPLE_VENDORS for p in s.programs)
    scale = leads / (ordered * len(months))
    out.mkdir(parents=True, exist_ok=True)
    delivery_schema = pa.schema(
        [(c, pa.timestamp("us", tz="UTC") if c == "delivered_at" else pa.large_string())
         for c in DELIVERY_COLUMNS]
    ).set(DELIVERY_COLUMNS.index("employees"), pa.field("employees", pa.int64())).set(
        DELIVERY_COLUMNS.index("consent"), pa.field("consent", pa.bool_())
    )  # fmt: skip
    crm_writer: pq.ParquetWriter | None = None
    suppressed = []
    with pq.ParquetWriter(out / "deliveries.parquet", delivery_schema) as delivery_writer:
        for deliveries, crm in _portfolio_parts(SAMPLE_VENDORS, months, scale, seed, leads):
            table = deliveries.select(DELIVERY_COLUMNS).to_arrow().cast(delivery_schema)
            delivery_writer.write_table(table)
            suppressed.append(_suppressed_emails(deliveries))
            crm_table = crm.select(CRM_COLUMNS).to_arrow()
            if crm_writer is None:
                crm_writer = pq.ParquetWriter(out / "crm.parquet", crm_table.schema)
            crm_writer.write_table(crm_table.cast(crm_writer.schema))
            del deliveries, crm, table, crm_table
    if crm_writer is not None:
        crm_writer.close()
    for name, frame in _suppression(pl.concat(suppressed)).items():
        _write(out / "suppression" / name, _csv_bytes(frame))
    contracts = out / "contracts"
    contracts.mkdir(exist_ok=True)
    for spec in SAMPLE_VENDORS:
        _write(contracts / f"{spec.id}.yaml", contract_yaml(spec, seed, scale).encode())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m scorecards.sample",
        description="Regenerate the sample portfolio (contracts/ and data/) or benchmark data.",
    )
    parser.add_argument("--out", type=Path, default=Path("."), help="folder to write into")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--bench", type=int, metavar="N", help="write N benchmark leads instead")
    args = parser.parse_args(argv)
    if args.bench is not None:
        generate_benchmark(args.out, args.bench, args.seed)
    else:
        generate_sample(args.out, args.seed)


if __name__ == "__main__":
    main()
