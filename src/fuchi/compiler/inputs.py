"""The input predicates a policy declares in ``inputs.yaml`` (its schema), and the shapes of their arguments."""

from __future__ import annotations

import itertools

from ..policy import Policy
from .shapes import DECIMAL, INT, MONEY, STR, SYM, Fun, Shape

#: argument kind → shape (docs/numbers.md for money and decimals)
KINDS: dict[str, Shape] = {
    "company": Fun("c", (INT,)),
    "key": INT,
    "year": INT,
    "integer": INT,
    "string": STR,
    "constant": SYM,
    "money": MONEY,
    "decimal": DECIMAL,
    "none": SYM,
}


def input_shapes(policy: Policy) -> dict[tuple[str, int], list[tuple[Shape, ...]]]:
    """Every variant (tuple of argument shapes) of every input predicate the policy's schema declares.

    The kinds come from ``inputs.yaml`` (:meth:`fuchi.inputs.schema.Schema.predicates`): ``money|none`` is an
    amount that may be absent, giving two variants.
    """
    out: dict[tuple[str, int], list[tuple[Shape, ...]]] = {}
    for sig, kinds in policy.schema.predicates().items():
        options = [[KINDS[part] for part in k.split("|")] for k in kinds]
        out[sig] = [tuple(c) for c in itertools.product(*options)]
    return out


__all__ = ["KINDS", "input_shapes"]
