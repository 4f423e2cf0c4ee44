"""Collect the policy's YAML cases (policy/<id>/cases/*.yaml) as pytest tests."""

from __future__ import annotations

import pytest

from fuchi.drafting.cases import Case, load_cases, run_case
from fuchi.engines.evaluation import Evaluator
from fuchi.policy import default_policy_dir, load_policy

POLICY = load_policy(default_policy_dir())
CASES = load_cases(POLICY)


@pytest.fixture(scope="module")
def evaluator() -> Evaluator:
    return Evaluator(POLICY)


def test_cases_exist() -> None:
    assert len(CASES) >= 50


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Case, evaluator: Evaluator) -> None:
    result = run_case(evaluator, case)
    assert result.passed, "\n".join(result.failures)
