"""Policy test cases: named YAML cases beside the policy (``policy/<id>/cases/*.yaml``).

A case holds enterprises in the input contract's format, optional city figures, and the rows expected
(status, amount, payable year per enterprise, year and item), or the input error expected. The same
files are run by ``fuchi test`` and collected by pytest (tests/test_policy_cases.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..engines.evaluation import Evaluator, Row
from ..errors import InputError, PolicyError
from ..inputs import loader
from ..inputs.records import City, Company
from ..inputs.schema import Schema
from ..policy import Policy, yaml_problem

_EXPECT_KEYS = {"company", "year", "item", "status", "amount", "payable_year"}
_CASE_KEYS = {"name", "rulings", "city", "companies", "expect", "complete", "expect_error", "note", "parameters"}


@dataclass(frozen=True)
class Expectation:
    """One expected row; fields left None are not checked."""

    company: str
    year: int
    item: str
    status: str | None = None
    amount: int | None = None
    payable_year: int | None = None
    check_payable: bool = False


@dataclass
class Case:
    """One named case."""

    name: str
    file: str
    rulings: tuple[str, ...]
    city: Any
    companies: list[Any]
    expect: list[Expectation]
    complete: bool = False
    expect_error: str | None = None
    #: Parameter values replaced for this case only ("what if the list were shorter").
    parameters: dict[str, Any] = field(default_factory=dict)

    def data(self, schema: Schema | None = None) -> tuple[list[Company], City]:
        """Validate the case's enterprises and city figures as the loader does for files.

        Args:
            schema: The policy's declared inputs (default: the shipped policy's).

        Raises:
            InputError: The data breaks the contract (or two enterprises share an id).
        """
        where = f"{self.file}#{self.name}"
        city = loader.parse_city(self.city, where, schema) if self.city is not None else City()
        registry = loader.IdRegistry()
        companies = []
        for n, obj in enumerate(self.companies):
            co = loader.parse_company(obj, where, n, None, schema)
            registry.add(co)
            companies.append(co)
        return companies, city


@dataclass
class CaseResult:
    """The outcome of running one case."""

    case: Case
    failures: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every expectation held."""
        return not self.failures


def load_cases(policy: Policy) -> list[Case]:
    """Read every ``cases/*.yaml`` file of the policy.

    Raises:
        PolicyError: A case file is malformed or two cases share a name.

    """
    out: list[Case] = []
    names: dict[str, str] = {}
    for path in sorted((policy.root / "cases").glob("*.yaml")):
        rel = path.relative_to(policy.root).as_posix()
        try:
            # The strict loader keeps decimals exact (Decimal) and booleans strict, as for enterprise data.
            doc = yaml.load(path.read_text(encoding="utf-8"), Loader=loader.StrictLoader) or {}  # noqa: S506
        except yaml.YAMLError as exc:
            text, line = yaml_problem(exc)
            raise PolicyError(text, rel, line) from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("cases"), list):
            raise PolicyError("应为含 cases 列表的映射 / expected a mapping with a list `cases`", rel)
        for n, raw in enumerate(doc["cases"]):
            case = _case(raw, rel, n)
            if case.name in names:
                raise PolicyError(f"用例名称重复 / case name {case.name!r} is also used in {names[case.name]}", rel)
            names[case.name] = rel
            out.append(case)
    return out


def _case(raw: Any, rel: str, n: int) -> Case:
    if not isinstance(raw, dict) or "name" not in raw:
        raise PolicyError(f"cases[{n}]: 应为含 name 的映射 / expected a mapping with a name", rel)
    unknown = set(raw) - _CASE_KEYS
    if unknown:
        raise PolicyError(f"case {raw['name']!r}: 未知的键 / unknown keys {sorted(unknown)}", rel)
    expects = []
    for e in raw.get("expect") or []:
        if not isinstance(e, dict) or not {"company", "year", "item"} <= set(e) or set(e) - _EXPECT_KEYS:
            raise PolicyError(
                f"case {raw['name']!r}: expect 行须有 company、year、item / expect rows need company, year, item "
                f"and may have {sorted(_EXPECT_KEYS)}; got {e!r}",
                rel,
            )
        for key, kind in (("year", int), ("amount", int), ("payable_year", int), ("status", str)):
            value = e.get(key)
            if (value is not None or key == "year") and (not isinstance(value, kind) or isinstance(value, bool)):
                raise PolicyError(
                    f"case {raw['name']!r}: expect {key} 应为{'整数' if kind is int else '文本'} / expected "
                    f"{'an integer' if kind is int else 'a text'}, got {value!r}",
                    rel,
                )
        expects.append(
            Expectation(
                str(e["company"]),
                e["year"],
                str(e["item"]),
                e.get("status"),
                e.get("amount"),
                e.get("payable_year"),
                "payable_year" in e,
            )
        )
    return Case(
        name=str(raw["name"]),
        file=rel,
        rulings=tuple(str(r) for r in raw.get("rulings") or ()),
        city=raw.get("city"),
        companies=list(raw.get("companies") or []),
        expect=expects,
        complete=bool(raw.get("complete", False)),
        expect_error=raw.get("expect_error"),
        parameters=dict(raw.get("parameters") or {}),
    )


def run_case(evaluator: Evaluator, case: Case) -> CaseResult:
    """Run one case and compare with its expectations (with the case's parameter overrides, if any)."""
    result = CaseResult(case)
    if case.parameters:
        evaluator = Evaluator(evaluator.policy.with_parameters(case.parameters), engine=evaluator.engine_name)
    try:
        companies, city = case.data(evaluator.policy.schema)
        result.rows = evaluator.run(companies, city).rows
    except InputError as exc:
        if case.expect_error is None:
            result.failures.append(f"unexpected input error: {exc.message()}")
        elif case.expect_error not in exc.message():
            result.failures.append(f"expected an input error containing {case.expect_error!r}, got: {exc.message()}")
        return result
    if case.expect_error is not None:
        result.failures.append(f"expected an input error containing {case.expect_error!r}, but the data was accepted")
        return result
    got = {(r.company, r.year, r.item): r for r in result.rows}
    for e in case.expect:
        row = got.get((e.company, e.year, e.item))
        label = f"{e.company} {e.year} {e.item}"
        if row is None:
            result.failures.append(f"{label}: expected a row ({e.status}), got none")
            continue
        if e.status is not None and row.status != e.status:
            result.failures.append(f"{label}: expected status {e.status}, got {row.status} ({row.reason})")
        if e.amount is not None and row.amount != e.amount:
            result.failures.append(f"{label}: expected amount {e.amount:,}, got {row.amount:,} ({row.reason})")
        if e.check_payable and row.payable_year != e.payable_year:
            result.failures.append(f"{label}: expected payable year {e.payable_year}, got {row.payable_year}")
    if case.complete:
        expected = {(e.company, e.year, e.item) for e in case.expect}
        for key, row in got.items():
            if key not in expected:
                result.failures.append(
                    f"{row.company} {row.year} {row.item}: unexpected row {row.status} {row.amount:,} ({row.reason})"
                )
    return result


def case_file(policy: Policy, case: Case) -> Path:
    """The file a case came from."""
    return policy.root / case.file
