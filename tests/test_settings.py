"""contracts/portfolio.yaml: the buyer block of every claim, validated like a contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from scorecards.contracts import contract_problems
from scorecards.errors import ContractError
from scorecards.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]

GOOD = """\
buyer:
  legal_name: "Example Buyer Ltd"
  address: ["1 Main Street", "Springfield"]
  contact: {name: "Pat Buyer", email: "pat@buyer.example"}
  claims_email: "claims@buyer.example"
"""


def _folder(tmp_path: Path, text: str) -> Path:
    (tmp_path / "portfolio.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_the_sample_settings_load() -> None:
    settings = load_settings(ROOT / "contracts")
    assert settings is not None and settings.buyer is not None
    assert settings.buyer.legal_name == "Northfield Analytics Inc."
    assert settings.buyer.claims_email == "vendor-claims@northfield.example"


def test_no_settings_file_means_none(tmp_path: Path) -> None:
    assert load_settings(tmp_path) is None


def test_good_settings(tmp_path: Path) -> None:
    settings = load_settings(_folder(tmp_path, GOOD))
    assert settings is not None and settings.buyer is not None
    assert settings.buyer.address == ["1 Main Street", "Springfield"]
    assert settings.buyer.contact.phone is None


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        (GOOD.replace("claims@buyer.example", "not-an-address"), 5, "buyer.claims_email", "e-mail"),
        (GOOD.replace("  legal_name", "  legal_nam"), 2, "buyer.legal_nam", "not a known field"),
        (
            GOOD.replace('  address: ["1 Main Street", "Springfield"]\n', ""),
            1,
            "buyer.address",
            "required",
        ),
        (
            GOOD.replace('["1 Main Street", "Springfield"]', "[]"),
            3,
            "buyer.address",
            "at least one",
        ),
        (GOOD.replace('"Pat Buyer"', "42"), 4, "buyer.contact.name", "must be text"),
    ],
)
def test_bad_settings_are_one_sentence_with_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str, words: str
) -> None:
    folder = _folder(tmp_path, text)
    with pytest.raises(ContractError) as caught:
        load_settings(folder)
    problem = caught.value
    assert problem.file == str(folder / "portfolio.yaml")
    assert problem.line == line
    assert problem.field == field
    assert words in problem.message
    assert "\n" not in problem.sentence and problem.sentence.count(".") <= 3


def test_unsafe_yaml_is_refused_not_run(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "buyer: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(ContractError, match="not valid YAML"):
        load_settings(folder)


def test_check_reports_a_bad_settings_file(tmp_path: Path) -> None:
    folder = _folder(tmp_path, GOOD.replace("buyer:", "buyers:"))
    for contract in (ROOT / "tests" / "fixtures" / "contracts" / "spec-example").glob("*.yaml"):
        (folder / contract.name).write_text(contract.read_text(encoding="utf-8"), encoding="utf-8")
    problems = contract_problems(folder)
    assert [p.field for p in problems] == ["buyers"]
