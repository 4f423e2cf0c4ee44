"""The compiled plans of a process, cached: compiled once per policy, parameters and recording.

Apart from the DuckDB engine (:mod:`fuchi.engines.sql`) so that choosing the engine (:func:`fuchi.engines.
resolve`, in the main process of a run with workers) compiles the plan without loading DuckDB and Arrow
there: the main process only reads, checks ids and writes.
"""

from __future__ import annotations

from collections.abc import Sequence

import clingo

from ..compiler import Plan, compile_policy
from ..policy import Policy
from .clingo import Recording

_PLANS: dict[tuple[str, str, tuple[clingo.Symbol, ...], str], Plan] = {}


def cached_plan(policy: Policy, params: Sequence[clingo.Symbol] | None, recording: Recording | None = None) -> Plan:
    """The compiled plan of a policy with these parameter facts (compiled once per process).

    Raises:
        CompileError: The policy is outside the compiler's fragment.
    """
    syms = tuple(policy.param_symbols() if params is None else params)
    key = (str(policy.root), policy.digest, syms, recording.key if recording is not None else "")
    plan = _PLANS.get(key)
    if plan is None:
        if len(_PLANS) > 64:
            _PLANS.clear()
        extra = recording.rules if recording is not None else ()
        plan = _PLANS[key] = compile_policy(policy, syms, extra=extra)
    return plan


__all__ = ["cached_plan"]
