"""``fuchi convert``: between YAML, JSON, JSON Lines and Excel, evaluating the result gives the same results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from fuchi.cli import main

ROOT = Path(__file__).resolve().parents[1]
CITY = str(ROOT / "facts/city.yaml")
COMPANIES = str(ROOT / "facts/companies.yaml")


def fuchi(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert "Traceback" not in result.stderr
    return result


def results(*files: str) -> dict[str, Any]:
    r = fuchi("evaluate", *files, "--format", "json", "--workers", "0")
    assert r.exit_code == 0, r.stderr
    doc: dict[str, Any] = json.loads(r.stdout)
    return doc


@pytest.fixture(scope="module")
def original() -> dict[str, Any]:
    return results(CITY, COMPANIES)


@pytest.mark.parametrize("fmt", ["xlsx", "yaml", "json"])
def test_convert_is_lossless(tmp_path: Path, original: dict[str, Any], fmt: str) -> None:
    out = tmp_path / f"data.{fmt}"
    r = fuchi("convert", CITY, COMPANIES, "--to", fmt, "--output", str(out))
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    assert results(str(out)) == original
    back = tmp_path / "back.yaml"  # and back again, from the converted file
    assert fuchi("convert", str(out), "--to", "yaml", "-o", str(back)).exit_code == 0
    assert results(str(back)) == original


def test_convert_to_jsonl_holds_enterprises(tmp_path: Path, original: dict[str, Any]) -> None:
    out = tmp_path / "data.jsonl"
    r = fuchi("convert", COMPANIES, "--to", "jsonl", "-o", str(out))
    assert r.exit_code == 0, r.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == original["totals"]["companies"]
    assert results(CITY, str(out)) == original
    refused = fuchi("convert", CITY, COMPANIES, "--to", "jsonl", "-o", str(tmp_path / "c.jsonl"))
    assert refused.exit_code == 1
    assert "JSON Lines" in refused.stderr
    assert not (tmp_path / "c.jsonl").exists()


def test_exact_decimals_and_hostile_texts(tmp_path: Path) -> None:
    co = {
        "id": "E\u2028\u0085=1",
        "name": "2.10",
        "registered_in": "chongming",
        "industry_code": "6513",
        "revenue": {"2025": 10000000.07, "2026": 123456789012.34},
    }
    src = tmp_path / "in.json"
    src.write_text(json.dumps({"companies": [co]}, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out.yaml"
    assert fuchi("convert", str(src), "--to", "yaml", "-o", str(out)).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "123456789012.34" in text and "10000000.07" in text
    back = tmp_path / "back.json"
    assert fuchi("convert", str(out), "--to", "json", "-o", str(back)).exit_code == 0
    doc = json.loads(back.read_text(encoding="utf-8"))
    assert doc["companies"][0]["id"] == co["id"] and doc["companies"][0]["name"] == "2.10"


def test_invalid_input_is_not_converted(tmp_path: Path) -> None:
    src = tmp_path / "bad.json"
    src.write_text(json.dumps({"companies": [{"id": "B", "revenue": {"2026": -1}}]}), encoding="utf-8")
    out = tmp_path / "out.xlsx"
    r = fuchi("convert", str(src), "--to", "xlsx", "-o", str(out))
    assert r.exit_code == 1
    assert "revenue.2026" in r.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("fmt", "name", "needle"),
    [
        ("xlsx", "companies.yaml", "is the same file as FILES"),  # its own input: refused, left as it was
        ("yaml", "companies.yaml", "is the same file as FILES"),
        ("xlsx", "o.txt", "--to xlsx writes a .xlsx file"),
        ("jsonl", "o.json", "--to jsonl writes a .jsonl file"),
    ],
)
def test_convert_never_overwrites_an_input_and_writes_its_format_extension(
    tmp_path: Path, fmt: str, name: str, needle: str
) -> None:
    import shutil

    src = tmp_path / "companies.yaml"
    shutil.copy(COMPANIES, src)
    before = src.read_bytes()
    r = fuchi("convert", str(src), "--to", fmt, "--output", str(tmp_path / name))
    assert r.exit_code == 2
    assert needle in r.stderr
    assert src.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["companies.yaml"]


@pytest.mark.parametrize(
    ("pflops", "ok"),
    [
        ("123456789.123456", True),
        ("1234567890.123456", False),
        ("999999999999.999", True),
        ("999999999999.9999", False),
    ],
)
def test_a_number_beyond_15_significant_digits_is_refused_for_excel(tmp_path: Path, pflops: str, ok: bool) -> None:
    """Excel keeps 15 significant digits when a workbook is saved again: a 16th would change silently."""
    src = tmp_path / "b.jsonl"
    project = f'{{"id": "p", "year": 2026, "kind": "new", "pflops": {pflops}, "pue": 1, "cost": 1}}'
    src.write_text(f'{{"id": "A", "compute_projects": [{project}]}}\n', encoding="utf-8")
    out = tmp_path / "b.xlsx"
    r = fuchi("convert", str(src), "--to", "xlsx", "--output", str(out))
    if ok:
        assert r.exit_code == 0, r.stderr
    else:
        assert r.exit_code == 1 and "15 位有效数字" in r.stderr and pflops in r.stderr
        assert not out.exists()
